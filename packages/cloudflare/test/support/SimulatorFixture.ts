/**
 * A simulator with one account, one token and (optionally) one Worker, plus the real `cloudflare`
 * SDK pointed at it. The SDK's fetch is wrapped to keep every raw response body, so a test can
 * check what the SDK returned *and* validate the JSON on the wire against Cloudflare's schemas.
 */
import Cloudflare from "cloudflare"
import { type Answer, type Simulator, start, type StartOptions } from "../../src/simulator/index.ts"

export interface Exchange {
  readonly method: string
  readonly url: string
  readonly status: number
  readonly headers: Headers
  readonly body: unknown
}

export interface Fixture {
  readonly sim: Simulator
  readonly accountId: string
  readonly apiToken: string
  readonly scriptName: string
  /** The Worker's first version, live at 100%. */
  readonly firstVersionId: string
  readonly client: Cloudflare
  /** Every answer the client received, oldest first. */
  readonly exchanges: Array<Exchange>
  /** Every answer the simulator gave, to any client, as it saw it (`onAnswer`): tests validate them against the schemas. */
  readonly answers: Array<Answer>
  readonly lastBody: () => unknown
  readonly clientWith: (options: { readonly apiToken?: string; readonly timeout?: number; readonly maxRetries?: number }) => Cloudflare
}

/** 2026-11-26T10:00:00Z: tests pin the clock here so timestamps and analytics are exact. */
export const t0 = Date.parse("2026-11-26T10:00:00Z")

export const setup = async (options: StartOptions & { readonly scriptName?: string } = {}): Promise<Fixture> => {
  const answers: Array<Answer> = []
  const sim = await start({
    ...options,
    onAnswer: (answer) => {
      answers.push(answer)
      options.onAnswer?.(answer)
    }
  })
  sim.setClock(t0)
  const account = sim.createAccount({ name: "Fixture" })
  const token = sim.createToken({ accountIds: [account.id] })
  const scriptName = options.scriptName ?? "storefront"
  const script = sim.createScript({ accountId: account.id, scriptName, requestsPerMinute: 600 })
  const exchanges: Array<Exchange> = []
  const recordingFetch: typeof fetch = async (input, init) => {
    const response = await fetch(input, init)
    const text = await response.clone().text()
    let body: unknown = text
    try {
      body = JSON.parse(text)
    } catch {
      // Not JSON (an HTML error page): keep the text.
    }
    exchanges.push({
      method: init?.method ?? "GET",
      url: String(input instanceof Request ? input.url : input),
      status: response.status,
      headers: response.headers,
      body
    })
    return response
  }
  const clientWith: Fixture["clientWith"] = (overrides) =>
    new Cloudflare({
      apiToken: overrides.apiToken ?? token.value,
      baseURL: sim.baseUrl,
      maxRetries: overrides.maxRetries ?? 0,
      ...(overrides.timeout === undefined ? {} : { timeout: overrides.timeout }),
      fetch: recordingFetch
    })
  return {
    sim,
    accountId: account.id,
    apiToken: token.value,
    scriptName,
    firstVersionId: script.versionId,
    client: clientWith({}),
    exchanges,
    answers,
    lastBody: () => exchanges.at(-1)?.body,
    clientWith
  }
}

/** Raw fetch against the simulator, for calls the SDK cannot make (no token, bad routes). */
export const call = async (
  sim: Simulator,
  path: string,
  init: { readonly method?: string; readonly token?: string; readonly headers?: Record<string, string>; readonly body?: unknown } = {}
) => {
  const response = await fetch(`${sim.baseUrl}${path}`, {
    method: init.method ?? "GET",
    headers: {
      ...(init.token === undefined ? {} : { authorization: `Bearer ${init.token}` }),
      ...(init.body === undefined ? {} : { "content-type": "application/json" }),
      ...init.headers
    },
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) })
  })
  return { status: response.status, headers: response.headers, body: (await response.json()) as any }
}

/** A module Worker as the SDK uploads it. Metadata goes as a JSON file part: see VersionUpload. */
export const moduleUpload = (metadata: Record<string, unknown>, source = "export default { fetch() { return new Response('ok') } }") => ({
  metadata: new File([JSON.stringify(metadata)], "metadata.json", { type: "application/json" }) as unknown as {
    main_module: string
  },
  files: [new File([source], "worker.js", { type: "application/javascript+module" })]
})
