/**
 * A whole server for integration tests: real Postgres (a fresh schema of the file's database),
 * real HTTP on loopback, the Cloudflare simulator in-process (seeded: one account, two Workers),
 * and every clock — the handlers', the scheduler's and the simulator's — on Effect's TestClock,
 * so a test steps releases with `runDue` and moves time with `TestClock.adjust`. Notifications
 * are sent when a test says so (`deliverDue`), to webhook receivers on loopback (`receiver`);
 * `start` with `clock: "live", deliveries: "background"` runs the notifier's loops as a server
 * process does, on the real clock.
 *
 * `startMemory` builds the same server on the memory layers of every port (no database at all);
 * `storages` names both factories, for suites that run on each (`describe` per storage).
 *
 * `Client` is a small fetch-based client, deliberately not Effect's typed one: the tests see the
 * exact statuses and bodies a GitHub Action or a curl user would.
 */
import { Orchestrator } from "@canaryroll/core"
import type { ApiBudget } from "@canaryroll/cloudflare"
import * as Simulator from "@canaryroll/cloudflare/simulator"
import { ChannelSender, DeliveryRecorder, DeliveryWorker, Mailer, SecretSealer } from "@canaryroll/notifier"
import * as Receiver from "@canaryroll/notifier/test-receiver"
import type * as TestDatabase from "@canaryroll/postgres/test-database"
import { Clock, Context, Effect, Layer, type Scope } from "effect"
import { FetchHttpClient, HttpServer } from "effect/http"
import { TestClock } from "effect/testing"
import type * as OutgoingMail from "../../src/mail/OutgoingMail.ts"
import * as LoginThrottle from "../../src/security/LoginThrottle.ts"
import * as PasswordHash from "../../src/security/PasswordHash.ts"
import * as SecretBox from "../../src/security/SecretBox.ts"
import * as Server from "../../src/Server.ts"
import * as ServerConfig from "../../src/ServerConfig.ts"

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

interface RunningBase {
  readonly url: string
  readonly client: Client
  readonly simulator: Simulator.Simulator
  readonly seeded: Simulator.Seeded
}

/** A server on Postgres: its SQL client is in the context (tests that read tables, see `Tables`). */
export interface PostgresRunning extends RunningBase {
  readonly storage: "postgres"
  readonly context: Context.Context<Server.Services | Server.PostgresServices | HttpServer.HttpServer>
}

/** A server on the memory layers. */
export interface MemoryRunning extends RunningBase {
  readonly storage: "memory"
  readonly context: Context.Context<Server.Services | HttpServer.HttpServer>
}

export type Running = PostgresRunning | MemoryRunning

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

export interface StartOptions {
  readonly analyticsDelayMs?: number
  /** `test` (default): every clock is the TestClock, set to `t0`; `live`: the real clock (`it.live`). */
  readonly clock?: "test" | "live"
  /**
   * `manual` (default): nothing is sent until the test calls `deliverDue`; `background`: the
   * notifier's loops run as in a server process, polling every 20 ms (with `clock: "live"`).
   */
  readonly deliveries?: "manual" | "background"
  /** Cloudflare's rate limits as the server's budgets see them (Cloudflare's own by default). */
  readonly cloudflareLimits?: ApiBudget.Limits
  /** Server settings over the tests' own (trusted proxies, sign-up mode, …). */
  readonly config?: Partial<ServerConfig.ServerConfig>
  /**
   * The database schema to use (`database.schema`), instead of a fresh one: two servers started
   * with the same schema are two processes on one database.
   */
  readonly schema?: string
  /** The server's secret box (one over `secretKey` by default): a server started with another key. */
  readonly secrets?: Layer.Layer<SecretBox.SecretBox, unknown>
  /** The server's outgoing mail (invitations), as `CANARYROLL_SMTP_URL` gives it; none by default. */
  readonly mail?: OutgoingMail.Settings
}

/** Starts a server on a fresh schema of `database`; everything stops with the scope. */
export const start = (
  database: TestDatabase.FileDatabase,
  options: StartOptions = {}
): Effect.Effect<PostgresRunning, unknown, Scope.Scope> =>
  Effect.gen(function*() {
    const started = yield* startOn<Server.Services | Server.PostgresServices>(options, (common) =>
      Server.layerServices({
        ...common,
        client: options.schema === undefined ? database.freshSchema() : database.schema(options.schema),
        schedulerClock: "effect"
      }))
    return { storage: "postgres", ...started } satisfies PostgresRunning
  })

/** Starts the same server on the memory layers of every port (`schema` does not apply). */
export const startMemory = (options: StartOptions = {}): Effect.Effect<MemoryRunning, unknown, Scope.Scope> =>
  Effect.gen(function*() {
    const started = yield* startOn(options, (common) => Server.layerServices({ ...common, storage: "memory" }))
    return { storage: "memory", ...started } satisfies MemoryRunning
  })

/** A way to start a test server, named for `describe`. */
export interface Storage {
  readonly name: string
  readonly start: (options?: StartOptions) => Effect.Effect<Running, unknown, Scope.Scope>
}

/** Postgres (on `database`) and memory: a suite run once per storage. */
export const storages = (database: TestDatabase.FileDatabase): ReadonlyArray<Storage> => [
  { name: "on Postgres", start: (options) => start(database, options) },
  { name: "on memory", start: startMemory }
]

const startOn = <S>(
  options: StartOptions,
  layerServices: (common: Omit<Server.Options, "storage">) => Layer.Layer<S, unknown>
) =>
  Effect.gen(function*() {
    if (options.clock !== "live") yield* TestClock.setTime(t0)
    const clock = yield* Clock.clockWith(Effect.succeed)
    const simulator = yield* Effect.acquireRelease(
      Effect.promise(() =>
        Simulator.start({ clock: () => clock.currentTimeMillisUnsafe(), analyticsDelayMs: options.analyticsDelayMs ?? 0 })
      ),
      (simulator) => Effect.promise(() => simulator.close())
    )
    const seeded = Simulator.seed(simulator)
    const services = layerServices({
      ...(options.cloudflareLimits === undefined ? {} : { cloudflareLimits: options.cloudflareLimits }),
      secrets: options.secrets ?? SecretBox.layerFromKey(secretKey),
      mail: options.mail,
      config: {
        cloudflareBaseUrl: simulator.baseUrl,
        passwordParameters: PasswordHash.testParameters,
        publicUrl: "http://canaryroll.test",
        // Every test signs its people up from 127.0.0.1; the sign-up throttle's own tests set it back.
        loginThrottle: { ...LoginThrottle.defaults, signup: { ...LoginThrottle.defaults.signup, freeFailures: 1_000 } },
        ...options.config
      },
      // The tests' receivers listen on loopback, a private address.
      notifications: options.deliveries === "background"
        ? {
          deliver: true,
          recorder: { pollInterval: "20 millis" },
          worker: { pollInterval: "20 millis" },
          sender: { allowPrivateAddresses: true }
        }
        : { deliver: false, sender: { allowPrivateAddresses: true } }
    })
    const context: Context.Context<S | HttpServer.HttpServer> = yield* Layer.build(
      Server.layerHttp(0).pipe(Layer.provideMerge(services))
    )
    const url = HttpServer.formatAddress(Context.get(context, HttpServer.HttpServer).address)
    return { url, client: makeClient(url), simulator, seeded, context }
  })

/** One scheduler pass: steps every due release once (what the loop does when it wakes). */
export const runDue = (running: Running): Effect.Effect<void> =>
  Orchestrator.runDue({ owner: "test", limit: 100 }).pipe(Effect.provideContext(running.context), Effect.orDie, Effect.asVoid)


/**
 * One notifier pass, what its loops do when they wake: records the deliveries owed for every
 * event in the outbox, then sends everything due (each attempt awaited and recorded). Returns
 * how many attempts were made. Sending is real HTTP; an attempt's timeout is on the TestClock,
 * so it cannot fire while the test does not move time.
 */
export const deliverDue = (running: Running): Effect.Effect<number> =>
  Effect.gen(function*() {
    const config = yield* ServerConfig.CurrentServerConfig
    const recorder = yield* DeliveryRecorder.make({ baseUrl: config.publicUrl })
    const worker = yield* DeliveryWorker.make()
    let recorded = 0
    do recorded = yield* recorder.runOnce; while (recorded > 0)
    return yield* worker.runDue
  }).pipe(
    Effect.provide(ChannelSender.layer({ allowPrivateAddresses: true }).pipe(
      Layer.provide([Mailer.layerSmtp, FetchHttpClient.layer, Layer.effect(SecretSealer.SecretSealer, SecretBox.SecretBox)])
    )),
    Effect.provideContext(running.context),
    Effect.orDie
  )

/** A webhook receiver on loopback for the scope: the notifier's own test receiver. */
export const receiver = Receiver.make
export type { Received } from "@canaryroll/notifier/test-receiver"
