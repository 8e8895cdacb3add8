/**
 * The release page's live updates: how long after a person acts the event shows on a page that
 * watches the release, when the page is on another server process than the one that appended it
 * (two servers on one database, in one Node process, each with its own pool, feed and poller).
 *
 * - `live.sse_event_shown`: from sending `POST deployments/{id}/pause` (or `resume`) to the
 *   second server until its event arrives on `GET deployments/{id}/events/stream` open on the
 *   first (the ReleaseFeed's default 250 ms poll). Target p50 ≤ 1 s.
 * - the peer, `live.polling_1s_event_shown`: the same, for a page that polls
 *   `GET deployments/{id}/events` every second instead (the page's fallback), in the same run.
 *
 * Method and figures: docs/benchmarks.md, "Live updates".
 */
import * as Simulator from "@canaryroll/cloudflare/simulator"
import { SecretBox, Server } from "@canaryroll/server"
import { Context, Effect, Layer, Redacted } from "effect"
import { HttpServer } from "effect/http"
import { randomBytes } from "node:crypto"
import { performance } from "node:perf_hooks"
import { setTimeout as delay } from "node:timers/promises"
import { clientOn, database, postgresServer } from "./BenchDatabase.ts"
import { median, report } from "./Measure.ts"

const json = async (url: string, method: string, body?: unknown, headers: Record<string, string> = {}) => {
  const response = await fetch(url, {
    method,
    headers: { ...headers, ...(body === undefined ? {} : { "content-type": "application/json" }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) })
  })
  const text = await response.text()
  if (!response.ok) throw new Error(`${method} ${url}: ${response.status} ${text}`)
  return { body: text === "" ? null : JSON.parse(text), headers: response.headers }
}

/** The versions of the release events arriving on an SSE stream, each with when it arrived. */
const watch = async (url: string, headers: Record<string, string>) => {
  const controller = new AbortController()
  const response = await fetch(url, { headers: { ...headers, accept: "text/event-stream" }, signal: controller.signal })
  if (!response.ok) throw new Error(`GET ${url}: ${response.status} ${await response.text()}`)
  const arrived = new Map<number, number>()
  let waiter: (() => void) | undefined
  void (async () => {
    const decoder = new TextDecoder()
    let buffer = ""
    try {
      for await (const chunk of response.body! as AsyncIterable<Uint8Array>) {
        const now = performance.now()
        buffer += decoder.decode(chunk, { stream: true })
        let end: number
        while ((end = buffer.indexOf("\n\n")) !== -1) {
          const block = buffer.slice(0, end)
          buffer = buffer.slice(end + 2)
          // A release event has an id line and no event line (heartbeats are `event: heartbeat`).
          const id = /^id: (\d+)$/m.exec(block)
          if (id !== null && !/^event: /m.test(block)) arrived.set(Number(id[1]), now)
        }
        waiter?.()
      }
    } catch {
      // Aborted at the end of the run.
    }
  })()
  const arrival = (version: number) =>
    new Promise<number>((resolve) => {
      const look = () => {
        const at = arrived.get(version)
        if (at !== undefined) resolve(at)
        else waiter = look
      }
      look()
    })
  return { arrival, close: () => controller.abort() }
}

export const run = async (samples: (full: number) => number) => {
  const program = Effect.gen(function*() {
    const serverUrl = yield* postgresServer("canaryroll-bench-live-")
    const serverClient = yield* Layer.build(clientOn(Redacted.value(serverUrl)))
    const url = yield* database(serverUrl, `canaryroll_live_bench_${randomBytes(4).toString("hex")}`).pipe(
      Effect.provideContext(serverClient)
    )
    const simulator = yield* Effect.acquireRelease(
      Effect.promise(() => Simulator.start({ analyticsDelayMs: 0 })),
      (simulator) => Effect.promise(() => simulator.close())
    )
    const seeded = Simulator.seed(simulator)
    const secrets = SecretBox.layerFromKey(randomBytes(32))
    const startServer = Effect.map(
      Layer.build(Server.layerHttp(0).pipe(Layer.provideMerge(Server.layerServices({
        client: clientOn(url),
        secrets,
        config: { cloudflareBaseUrl: simulator.baseUrl },
        notifications: { deliver: false }
      })))),
      (running) => HttpServer.formatAddress(Context.get(running, HttpServer.HttpServer).address)
    )
    const watching = yield* startServer
    const acting = yield* startServer
    return yield* Effect.promise(async () => {
      const signup = await json(`${acting}/api/auth/signup`, "POST", {
        email: "live@example.com",
        name: "Live",
        password: "correct horse battery staple"
      })
      const cookie = { cookie: signup.headers.get("set-cookie")!.split(";")[0]! }
      await json(`${acting}/api/teams`, "POST", { name: "Live", slug: "live" }, cookie)
      await json(`${acting}/api/teams/live/cloudflare/accounts/${seeded.accountId}`, "PUT", { apiToken: seeded.apiToken }, cookie)
      const script = seeded.scripts[0]!
      const worker = await json(`${acting}/api/teams/live/workers`, "POST", { accountId: seeded.accountId, scriptName: script.name }, cookie)
      const token = (await json(`${acting}/api/teams/live/tokens`, "POST", { name: "ci", role: "deploy" }, cookie)).body.token
      const auth = { authorization: `Bearer ${token}` }
      const base = `/api/teams/live/deployments`
      const release = (await json(`${acting}${base}/workers/${worker.body.id}/deployments`, "POST", {
        versionId: script.versions.at(-1)!.id,
        autoAdvance: false
      }, auth)).body.id
      await json(`${acting}${base}/${release}/start`, "POST", undefined, auth)
      let version = (await json(`${acting}${base}/${release}/events`, "GET", undefined, auth)).body.length as number
      let paused = false
      /** Pauses or resumes on the acting server: one event; returns its version and when the request was sent. */
      const act = async () => {
        const sent = performance.now()
        await json(`${acting}${base}/${release}/${paused ? "resume" : "pause"}`, "POST", undefined, auth)
        paused = !paused
        version += 1
        return { sent, version }
      }

      const stream = await watch(`${watching}${base}/${release}/events/stream?after=${version}`, auth)
      const shown: Array<number> = []
      try {
        for (let i = 0; i < samples(100); i++) {
          // At a random moment of the feed's poll, as a person's click comes: acting right after an
          // arrival would always land just after a poll and measure the whole interval.
          await delay(Math.random() * 500)
          const { sent, version } = await act()
          shown.push((await stream.arrival(version)) - sent)
        }
      } finally {
        stream.close()
      }

      // The peer: a page polling the events list every second on the watching server, on its own
      // rhythm; each action comes at a random moment of it, as a person's click does.
      let seen = 0
      let polling = true
      let onPoll: (() => void) | undefined
      const poller = (async () => {
        while (polling) {
          seen = ((await json(`${watching}${base}/${release}/events`, "GET", undefined, auth)).body as Array<unknown>).length
          onPoll?.()
          await delay(1_000)
        }
      })()
      const polled: Array<number> = []
      try {
        for (let i = 0; i < samples(40); i++) {
          await delay(Math.random() * 1_000)
          const { sent, version } = await act()
          await new Promise<void>((resolve) => {
            const look = () => (seen >= version ? resolve() : (onPoll = look))
            look()
          })
          polled.push(performance.now() - sent)
        }
      } finally {
        polling = false
        await poller
      }
      report({ name: "live.polling_1s_event_shown", timings: polled, perSecond: 1000 / median(polled), peer: null })
      report({
        name: "live.sse_event_shown",
        timings: shown,
        perSecond: 1000 / median(shown),
        peer: "live.polling_1s_event_shown",
        target: "p50 ≤ 1000 ms"
      }, { ratio: Math.round((median(shown) / median(polled)) * 100) / 100 })
    })
  })
  await Effect.runPromise(Effect.scoped(program))
}
