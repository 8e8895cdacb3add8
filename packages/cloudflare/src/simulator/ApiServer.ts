/**
 * The request pipeline for `/client/v4`, in the order a call meets it: route (unknown → 404
 * 7003), count, injected fault, account id format, authentication, rate limit, account access,
 * handler; then an "applied then lost" fault may swallow the real answer. Faults come before
 * authentication because a failing edge or origin does not look at credentials either.
 */
import type { IncomingMessage, ServerResponse } from "node:http"
import { randomBytes } from "node:crypto"
import * as ApiRoutes from "./ApiRoutes.ts"
import type * as CallCounters from "./CallCounters.ts"
import * as Envelope from "./Envelope.ts"
import { type CodeOverrides, Rejection } from "./ErrorCatalogue.ts"
import type * as Faults from "./Faults.ts"
import * as Platform from "./Platform.ts"
import type * as RateLimiter from "./RateLimiter.ts"
import type { SimulatorClock } from "./SimulatorClock.ts"
import * as TokenAuth from "./TokenAuth.ts"

export const apiPrefix = "/client/v4"

/** Timers and held sockets, all released when the simulator closes. */
export interface Pending {
  readonly delay: (ms: number) => Promise<void>
  /** Keep the call unanswered: until the client gives up, or `holdMs`, then drop the socket. */
  readonly hold: (response: ServerResponse, holdMs?: number) => void
  readonly releaseAll: () => void
}

export const makePending = (): Pending => {
  const timers = new Set<NodeJS.Timeout>()
  const held = new Set<ServerResponse>()
  const after = (ms: number, action: () => void) => {
    const timer = setTimeout(() => {
      timers.delete(timer)
      action()
    }, ms)
    timers.add(timer)
  }
  return {
    delay: (ms) => new Promise((resolve) => after(ms, resolve)),
    hold: (response, holdMs) => {
      held.add(response)
      response.on("close", () => held.delete(response))
      if (holdMs !== undefined) after(holdMs, () => response.socket?.destroy())
    },
    releaseAll: () => {
      for (const timer of timers) clearTimeout(timer)
      timers.clear()
      for (const response of held) response.socket?.destroy()
      held.clear()
    }
  }
}

export interface Dependencies {
  readonly platform: Platform.Platform
  readonly clock: SimulatorClock
  readonly counters: CallCounters.CallCounters
  readonly faults: Faults.Faults
  readonly rateLimiter: RateLimiter.RateLimiter
  readonly codes: CodeOverrides
  readonly routes: ReadonlyArray<ApiRoutes.Route>
  readonly pending: Pending
  readonly onAnswer: (answer: Answer) => void
}

/** One answer of `/client/v4`, as `StartOptions.onAnswer` sees it. */
export interface Answer {
  readonly method: string
  /** The route template ("/accounts/:account_id/workers/scripts/:script_name/versions"); `null` for no route. */
  readonly template: string | null
  readonly status: number
  /** The JSON body, or the HTML page of an injected fault. */
  readonly body: unknown
  /** An injected fault made this answer: no route's own. */
  readonly fault: boolean
}

type Outgoing = ApiRoutes.Reply | { readonly status: number; readonly html: string; readonly headers?: Record<string, string> }

export const handle = async (
  request: IncomingMessage,
  response: ServerResponse,
  url: URL,
  deps: Dependencies
): Promise<void> => {
  const method = request.method ?? "GET"
  const path = url.pathname.slice(apiPrefix.length) || "/"
  const presented = TokenAuth.presented(request.headers)
  const found = ApiRoutes.match(deps.routes, method, path)
  const answer = (reply: Outgoing, template: string | null, fault: boolean) => {
    deps.onAnswer({ method, template, status: reply.status, body: "html" in reply ? reply.html : reply.body, fault })
    send(response, reply)
  }
  if (found === undefined) {
    deps.counters.rest(presented, `${method} ${path}`)
    return answer(Envelope.errorReply("noRoute", deps.codes), null, false)
  }
  const { route, params } = found
  if (route.api === "graphql") deps.counters.graphql(presented)
  else deps.counters.rest(presented, `${method} ${route.template}`)

  const fault = deps.faults.take(method, url.pathname)
  switch (fault?.kind) {
    case "status":
      return answer(faultReply(fault.status, route, deps, fault), route.template, true)
    case "timeout":
      return deps.pending.hold(response, fault.holdMs)
    case "latency":
      await deps.pending.delay(fault.latencyMs)
      break
    case "outOfBandDeployment":
      deps.platform.deployByHand(deps.platform.requireScript(fault.accountId, fault.scriptName), fault)
      break
  }

  const reply = await serve(route, params, request, url, path, deps).catch((error: unknown) => failureReply(error, deps))
  if (fault?.kind === "lost") {
    return fault.status === undefined
      ? deps.pending.hold(response, fault.holdMs)
      : answer(faultReply(fault.status, route, deps, {}), route.template, true)
  }
  answer(reply, route.template, false)
}

const serve = async (
  route: ApiRoutes.Route,
  params: Record<string, string>,
  request: IncomingMessage,
  url: URL,
  path: string,
  deps: Dependencies
): Promise<ApiRoutes.Reply> => {
  const accountId = params.account_id
  if (accountId !== undefined && !Platform.accountIdPattern.test(accountId)) {
    throw new Rejection(
      "invalidObjectIdentifier",
      `Could not route to ${apiPrefix}${path}, perhaps your object identifier is invalid?`
    )
  }
  const token = TokenAuth.authenticate(
    request.headers,
    deps.platform,
    route.access === "verify" ? "invalidApiToken" : "unknownToken"
  )
  const decision = deps.rateLimiter.take(token.value, route.api)
  if (!decision.allowed) {
    deps.counters.rateLimited(token.value)
    return rateLimited(route, decision, deps)
  }
  if (route.access === "account") TokenAuth.requireAccountAccess(token, accountId!)
  let body: Buffer | undefined
  const read = async () => (body ??= await readBody(request))
  const reply = await route.handle({
    params,
    query: url.searchParams,
    token,
    now: deps.clock.now(),
    json: async () => {
      const text = (await read()).toString("utf8")
      try {
        return JSON.parse(text) as unknown
      } catch {
        throw new Rejection("malformedJson")
      }
    },
    request: async () => {
      const headers = new Headers()
      for (const [name, value] of Object.entries(request.headers)) {
        for (const item of Array.isArray(value) ? value : value === undefined ? [] : [value]) headers.append(name, item)
      }
      return new Request(url.href, { method: request.method ?? "POST", headers, body: new Uint8Array(await read()) })
    }
  })
  return { ...reply, headers: { ...rateLimitHeaders(decision), ...reply.headers } }
}

const readBody = async (request: IncomingMessage): Promise<Buffer> => {
  const chunks: Array<Buffer> = []
  for await (const chunk of request) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks)
}

/** The current docs' headers: remaining budget and seconds until the window resets. */
const rateLimitHeaders = (decision: RateLimiter.Decision & { allowed: true }) => ({
  ratelimit: `"default";r=${decision.remaining};t=${decision.resetSeconds}`,
  "ratelimit-policy": `"default";q=${decision.limit.requests};w=${decision.limit.windowSeconds}`
})

const rateLimited = (
  route: ApiRoutes.Route,
  decision: RateLimiter.Decision & { allowed: false },
  deps: Dependencies
): ApiRoutes.Reply => {
  const headers = { "retry-after": String(decision.retryAfterSeconds) }
  if (route.api === "graphql") {
    return {
      status: 429,
      headers,
      body: graphqlError("rate limiter budget depleted, try again after 5 minutes", deps)
    }
  }
  const { status, body } = Envelope.errorReply(
    "rateLimited",
    deps.codes,
    `More than ${decision.limit.requests} requests per ${decision.limit.windowSeconds} seconds reached. Please wait and consider throttling your request speed`
  )
  return { status, body, headers }
}

const graphqlError = (message: string, deps: Dependencies) => ({
  data: null,
  errors: [{ message, path: null, extensions: { timestamp: new Date(deps.clock.now()).toISOString() } }]
})

const faultReply = (
  status: number,
  route: ApiRoutes.Route,
  deps: Dependencies,
  options: { readonly shouldRetry?: boolean; readonly html?: boolean }
): Outgoing => {
  const headers: Record<string, string> = options.shouldRetry === undefined
    ? {}
    : { "x-should-retry": String(options.shouldRetry) }
  if (options.html === true) {
    return {
      status,
      headers,
      html: `<html>\n<head><title>${status} ${statusText(status)}</title></head>\n<body>\n<center><h1>${status} ${
        statusText(status)
      }</h1></center>\n<hr><center>cloudflare</center>\n</body>\n</html>\n`
    }
  }
  if (route.api === "graphql") {
    const message = status === 503 ? "unable to execute query, please try again later" : "internal server error"
    return { status, headers, body: graphqlError(message, deps) }
  }
  const { body } = Envelope.errorReply("internalError", deps.codes)
  return { status, headers, body }
}

const statusText = (status: number) =>
  ({ 500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout" })[status] ??
    "Server Error"

const failureReply = (error: unknown, deps: Dependencies): ApiRoutes.Reply => {
  if (error instanceof Rejection) return Envelope.errorReply(error.error, deps.codes, error.detail)
  return Envelope.errorReply("internalError", deps.codes, error instanceof Error ? error.message : String(error))
}

/** A ray id per answer, as every Cloudflare response has. */
const rayId = () => `${randomBytes(8).toString("hex")}-SIM`

export const send = (response: ServerResponse, reply: Outgoing): void => {
  if (response.writableEnded || response.destroyed) return
  const isHtml = "html" in reply
  response.writeHead(reply.status, {
    "content-type": isHtml ? "text/html; charset=utf-8" : "application/json; charset=utf-8",
    "cf-ray": rayId(),
    ...reply.headers
  })
  response.end(isHtml ? reply.html : JSON.stringify(reply.body))
}
