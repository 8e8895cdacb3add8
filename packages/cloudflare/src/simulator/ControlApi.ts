/**
 * The control API under `/__sim`, outside Cloudflare's `/client/v4`: the simulator's in-process
 * control methods as JSON endpoints, for a process that only knows the URL (the sandbox, a demo,
 * a test in another language). Each POST body is the method's argument; answers are the method's
 * result (or `{ ok: true }`), and a refused operation is a 400 `{ error }`. No authentication:
 * this is a test double on loopback.
 */
import type { IncomingMessage, ServerResponse } from "node:http"
import type { Control } from "./Simulator.ts"

export const prefix = "/__sim"

type Operation = (body: any, control: Control) => unknown

/** "METHOD /path" → operation. Kept flat so the README table can be checked against it. */
const operations: Readonly<Record<string, Operation>> = {
  "GET /state": (_, control) => control.state(),
  "POST /accounts": (body, control) => control.createAccount(body ?? {}),
  "POST /tokens": (body, control) => control.createToken(body),
  "POST /scripts": (body, control) => control.createScript(body),
  "POST /versions": (body, control) => control.createVersion(body),
  "POST /error-rate": (body, control) => control.setErrorRate(body),
  "POST /request-rate": (body, control) => control.setRequestRate(body),
  "POST /deployments": (body, control) => control.deployOutOfBand(body),
  "POST /active-deployment": (body, control) => control.activeDeployment(body) ?? null,
  "GET /faults": (_, control) => control.armedFaults(),
  "POST /faults": (body, control) => control.injectFault(body),
  "DELETE /faults": (_, control) => control.clearFaults(),
  "GET /counters": (_, control) => control.counters(),
  "DELETE /counters": (_, control) => control.resetCounters(),
  "DELETE /rate-limits": (_, control) => control.resetRateLimits(),
  "POST /analytics-delay": (body, control) => control.setAnalyticsDelay(body?.ms),
  "GET /clock": (_, control) => clockOf(control),
  /** `{ "set": epochMs | ISO string }` pins the clock; `{ "advanceMs": n }` moves it. */
  "POST /clock": (body, control) => {
    if (body?.set !== undefined) control.setClock(body.set)
    if (body?.advanceMs !== undefined) control.advanceClock(body.advanceMs)
    return clockOf(control)
  },
  "DELETE /clock": (_, control) => {
    control.releaseClock()
    return clockOf(control)
  }
}

const clockOf = (control: Control) => {
  const state = control.state()
  return { now: state.now, epochMs: control.now(), pinned: state.clockPinned }
}

const reply = (response: ServerResponse, status: number, body: unknown) => {
  response.writeHead(status, { "content-type": "application/json; charset=utf-8" })
  response.end(JSON.stringify(body))
}

export const handle = async (
  request: IncomingMessage,
  response: ServerResponse,
  url: URL,
  control: Control
): Promise<void> => {
  const key = `${request.method ?? "GET"} ${url.pathname.slice(prefix.length) || "/"}`
  const operation = operations[key]
  if (operation === undefined) return reply(response, 404, { error: `no control operation ${key}` })
  const chunks: Array<Buffer> = []
  for await (const chunk of request) chunks.push(chunk as Buffer)
  const text = Buffer.concat(chunks).toString("utf8")
  let body: unknown
  try {
    body = text.trim() === "" ? undefined : JSON.parse(text)
  } catch {
    return reply(response, 400, { error: "the body must be JSON" })
  }
  try {
    const result = operation(body, control)
    reply(response, 200, result === undefined ? { ok: true } : result)
  } catch (error) {
    reply(response, 400, { error: error instanceof Error ? error.message : String(error) })
  }
}
