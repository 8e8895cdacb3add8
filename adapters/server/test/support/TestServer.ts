/**
 * A whole server for integration tests: real Postgres (a fresh schema of the file's database),
 * real HTTP on loopback, the Cloudflare simulator in-process (seeded: one account, two Workers),
 * and every clock — the handlers', the scheduler's and the simulator's — on Effect's TestClock,
 * so a test steps releases with `runDue` and moves time with `TestClock.adjust`.
 *
 * `Client` is a small fetch-based client, deliberately not Effect's typed one: the tests see the
 * exact statuses and bodies a GitHub Action or a curl user would.
 */
import { Orchestrator } from "@canaryroll/core"
import * as Simulator from "@canaryroll/cloudflare/simulator"
import type * as TestDatabase from "@canaryroll/postgres/test-database"
import { Clock, Context, Effect, Layer, type Scope } from "effect"
import { HttpServer } from "effect/http"
import { TestClock } from "effect/testing"
import * as PasswordHash from "../../src/security/PasswordHash.ts"
import * as SecretBox from "../../src/security/SecretBox.ts"
import * as Server from "../../src/Server.ts"

export const t0 = Date.parse("2026-11-26T10:00:00.000Z")

export const secretKey = new Uint8Array(32).fill(7)

export interface Response {
  readonly status: number
  readonly body: any
  readonly headers: Headers
}

export interface Client {
  readonly request: (
    method: string,
    path: string,
    options?: { readonly body?: unknown; readonly raw?: string; readonly token?: string; readonly cookie?: string; readonly headers?: Record<string, string> }
  ) => Effect.Effect<Response>
}

export interface Running {
  readonly url: string
  readonly client: Client
  readonly simulator: Simulator.Simulator
  readonly seeded: Simulator.Seeded
  readonly context: Context.Context<Server.Services | HttpServer.HttpServer>
}

export const makeClient = (url: string): Client => ({
  request: (method, path, options = {}) =>
    Effect.promise(async () => {
      const headers: Record<string, string> = { ...options.headers }
      if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`
      if (options.cookie !== undefined) headers.cookie = options.cookie
      let body: string | undefined
      if (options.raw !== undefined) body = options.raw
      else if (options.body !== undefined) body = JSON.stringify(options.body)
      if (body !== undefined) headers["content-type"] ??= "application/json"
      const response = await fetch(`${url}${path}`, { method, headers, ...(body === undefined ? {} : { body }) })
      const text = await response.text()
      let parsed: unknown = text
      try {
        parsed = text === "" ? null : JSON.parse(text)
      } catch {
        // Not JSON: the test sees the text.
      }
      return { status: response.status, body: parsed, headers: response.headers }
    })
})

/** Starts a server on a fresh schema of `database`; everything stops with the scope. */
export const start = (
  database: TestDatabase.FileDatabase,
  options: { readonly analyticsDelayMs?: number } = {}
): Effect.Effect<Running, unknown, Scope.Scope> =>
  Effect.gen(function*() {
    yield* TestClock.setTime(t0)
    const clock = yield* Clock.clockWith(Effect.succeed)
    const simulator = yield* Effect.acquireRelease(
      Effect.promise(() =>
        Simulator.start({ clock: () => clock.currentTimeMillisUnsafe(), analyticsDelayMs: options.analyticsDelayMs ?? 0 })
      ),
      (simulator) => Effect.promise(() => simulator.close())
    )
    const seeded = Simulator.seed(simulator)
    const services = Server.layerServices({
      client: database.freshSchema(),
      schedulerClock: "effect",
      secrets: SecretBox.layerFromKey(secretKey),
      config: { cloudflareBaseUrl: simulator.baseUrl, passwordParameters: PasswordHash.testParameters, publicUrl: "http://canaryroll.test" }
    })
    const context = yield* Layer.build(Server.layerHttp(0).pipe(Layer.provideMerge(services)))
    const url = HttpServer.formatAddress(Context.get(context, HttpServer.HttpServer).address)
    return { url, client: makeClient(url), simulator, seeded, context } satisfies Running
  })

/** One scheduler pass: steps every due release once (what the loop does when it wakes). */
export const runDue = (running: Running): Effect.Effect<void> =>
  Orchestrator.runDue({ owner: "test", limit: 100 }).pipe(Effect.provideContext(running.context), Effect.orDie, Effect.asVoid)

