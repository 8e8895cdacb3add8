/**
 * The Node runtime, assembled: the application's routes (`@canaryroll/app/Application`: every
 * handler, the middlewares, the OpenAPI document, the docs and release pages) served by Node's
 * HTTP listener, over the storage (Postgres by default, or every port's memory layer:
 * `Options.storage`), the secret key (from the environment or the key file), Cloudflare and the
 * notifier's delivery loops; `main.ts` adds the scheduler loop that steps releases. Several
 * processes may run it against one Postgres database.
 *
 * @since 0.1.0
 */
import * as Application from "@canaryroll/app/Application"
import * as NotificationChannels from "@canaryroll/app/http/NotificationChannels"
import {
  AnalyticsHealthSource,
  ApiBudget,
  type Credentials,
  type WorkersApi,
  WorkersTrafficRouter
} from "@canaryroll/cloudflare"
import { ActiveReleases, EventStore, type HealthSource, Outbox, Scheduler, type TrafficRouter } from "@canaryroll/core"
import {
  ApiTokens,
  AuditLog,
  CloudflareAccounts as CloudflareAccountsPort,
  MemoryDirectory,
  People,
  InvitationMail,
  Plans as PlansPort,
  ReleaseFeed,
  ReleaseSummaries,
  Sessions,
  Storage as AppStorage,
  TeamTokenAccess,
  Teams as TeamsPort,
  Workers as WorkersPort
} from "@canaryroll/app"
import { Channels, NotificationStore, Notifier, SecretSealer } from "@canaryroll/notifier"
import * as Postgres from "@canaryroll/postgres"
import { NodeHttpServer } from "@effect/platform-node"
import { Effect, Layer, References } from "effect"
import { FetchHttpClient, HttpRouter, HttpServer } from "effect/http"
import type { PgClient } from "@effect/sql-pg"
import type { SqlClient } from "effect/sql"
import { createServer } from "node:http"
import * as Dashboard from "./Dashboard.ts"
import * as OutgoingMail from "./mail/OutgoingMail.ts"
import * as Readiness from "./Readiness.ts"
import * as RequestBudget from "@canaryroll/app/http/RequestBudget"
import * as LoginThrottle from "./security/LoginThrottle.ts"
import * as IdempotencyKeys from "./IdempotencyKeys.ts"
import * as SecretBox from "./security/SecretBox.ts"
import * as ServerConfig from "./ServerConfig.ts"
import * as CloudflareAccounts from "@canaryroll/app/http/store/CloudflareAccounts"
import * as HttpObservation from "./observability/HttpObservation.ts"
import * as MeteredPorts from "./observability/MeteredPorts.ts"
import * as ServerMetrics from "./observability/ServerMetrics.ts"

/** The application's route table, error-body middleware and routes (kept here for the server's tests and embedders). */
export const { isUnstorableText, layerErrorBodies, layerRoutes, routeTable } = Application

export interface Options {
  readonly config?: Partial<ServerConfig.ServerConfig> | undefined
  /**
   * Where the server keeps everything: `postgres` (default; the options below choose the
   * database), or `memory`: every port's memory layer, nothing kept past the process, one
   * process only (embedded use, tests). Cloudflare, notifications and secrets are the same on both.
   */
  readonly storage?: "postgres" | "memory" | undefined
  /** The database: `DATABASE_URL` or the embedded server by default (see `Postgres.layerClient`). */
  readonly postgres?: Postgres.Options | undefined
  /** A client to use instead (tests). */
  readonly client?: Layer.Layer<PgClient.PgClient | SqlClient.SqlClient, unknown> | undefined
  /** The scheduler's clock: the database's (default), or Effect's (tests under TestClock). */
  readonly schedulerClock?: Postgres.PgScheduler.ClockSource | undefined
  /** Where the secret key file lives when `CANARYROLL_SECRET_KEY` is not set (default `.canaryroll`). */
  readonly dataDirectory?: string | undefined
  /** A secret box to use instead of the environment's key (tests). */
  readonly secrets?: Layer.Layer<SecretBox.SecretBox, unknown> | undefined
  /** The share of Cloudflare's rate limits this process may use (default 0.5; 0.5 / N for N processes). */
  readonly budgetShare?: number | undefined
  /** How often the release pages' live streams read new events (`ReleaseFeed`; default 250 ms). */
  readonly liveFeed?: ReleaseFeed.Options | undefined
  /** Cloudflare's limits (tests make them small). */
  readonly cloudflareLimits?: ApiBudget.Limits | undefined
  /**
   * Notifications. `deliver` (default true) runs the outbox consumer and the senders in this
   * process, so every server process shares the sending; tests under TestClock turn it off and
   * deliver when they choose (their clock would never wake the loops' polls). The rest tunes the
   * notifier (polls, concurrency, timeouts, retries).
   */
  readonly notifications?: Omit<Notifier.Options, "baseUrl"> | undefined
  /**
   * The server's outgoing mail (invitations; `CANARYROLL_SMTP_URL`): without it, invitations are
   * not emailed and the admin passes the link on.
   */
  readonly mail?: OutgoingMail.Settings | undefined
}

/** What the routes and the scheduler loop run on, whichever the storage. */
export type Services =
  | StoragePorts
  | SecretBox.SecretBox
  | Credentials.CloudflareCredentials
  | ApiBudget.ApiBudget
  | RequestBudget.RequestBudget
  | TrafficRouter.TrafficRouter
  | WorkersApi.WorkersApi
  | HealthSource.HealthSource
  | ServerConfig.CurrentServerConfig
  | Channels.Channels
  | NotificationChannels.NotificationChannels
  | InvitationMail.InvitationMail
  | ServerMetrics.ServerMetrics

/** The services a storage gives (`layerServices` adds secrets, Cloudflare and the notifier). */
type StoragePorts =
  | EventStore.EventStore
  | ActiveReleases.ActiveReleases
  | Outbox.Outbox
  | Scheduler.Scheduler
  | ReleaseSummaries.ReleaseSummaries
  | ReleaseFeed.ReleaseFeed
  | AuditLog.AuditLog
  | Readiness.Store
  | NotificationStore.NotificationStore
  | Sessions.Sessions
  | People.People
  | TeamsPort.Teams
  | ApiTokens.ApiTokens
  | AppStorage.Transactions
  | LoginThrottle.LoginThrottle
  | IdempotencyKeys.IdempotencyKeys
  | CloudflareAccountsPort.CloudflareAccounts
  | WorkersPort.Workers
  | PlansPort.Plans
  | TeamTokenAccess.TeamTokenAccess

/** What the Postgres storage adds: its clients (for read models built on top) and its scheduler. */
export type PostgresServices = PgClient.PgClient | SqlClient.SqlClient | Postgres.PgScheduler.PgScheduler

/** The storage ports, each on its Postgres layer, over one client. */
const layerPostgresStorage = (options: Options) => {
  const client = options.client ?? Postgres.layerClient(options.postgres ?? {})
  return Layer.mergeAll(
    Postgres.layerPorts(),
    Postgres.PgScheduler.layer({ clock: options.schedulerClock ?? "database" }),
    // The read-model ports of @canaryroll/app on the rows the event store's hook keeps.
    Postgres.PgReleaseSummaries.layer,
    Postgres.PgAuditLog.layer,
    Postgres.PgReleaseFeed.layer(options.liveFeed),
    // People, sessions, teams and tokens (@canaryroll/app's directory ports).
    Postgres.PgPeople.layer,
    Postgres.PgSessions.layer,
    Postgres.PgTeams.layer,
    Postgres.PgApiTokens.layer,
    // A team token with its team and release in one query (the Authentication middleware's).
    Postgres.PgTeamTokenAccess.layer(),
    Postgres.PgTransactions.layer,
    Postgres.PgIdempotencyKeys.layer(),
    Postgres.PgCloudflareAccounts.layer,
    Postgres.PgWorkers.layer,
    Postgres.PgPlans.layer,
    Postgres.PgNotifications.layer,
    Readiness.layerPostgres,
    // Log-in counters in the database: every process on it counts the same failures.
    Layer.unwrap(Effect.map(ServerConfig.CurrentServerConfig, (config) => Postgres.PgLoginThrottle.layer(config.loginThrottle)))
  ).pipe(Layer.provide(Postgres.Migrations.layer), Layer.provideMerge(client))
}

/**
 * The storage ports, each on its memory layer: one memory EventStore under the outbox and the
 * read models (they fold its events), one set of directory tables (`MemoryDirectory`) under the
 * ports whose rules see each other's rows, and memory transactions over all of them.
 */
const layerMemoryStorage: Layer.Layer<StoragePorts, never, ServerConfig.CurrentServerConfig> = Layer.mergeAll(
  Outbox.layerMemory,
  ActiveReleases.layerMemory,
  Scheduler.layerMemory,
  ReleaseSummaries.layerMemory,
  ReleaseFeed.layerMemory(),
  AuditLog.layerMemory,
  Sessions.layerMemory,
  TeamsPort.layerMemory,
  ApiTokens.layerMemory,
  AppStorage.layerMemory,
  IdempotencyKeys.layerMemory(),
  CloudflareAccountsPort.layerMemory,
  WorkersPort.layerMemory,
  PlansPort.layerMemory,
  NotificationStore.layerMemory,
  Readiness.layerMemory,
  Layer.unwrap(Effect.map(ServerConfig.CurrentServerConfig, (config) => LoginThrottle.layerMemory(config.loginThrottle)))
).pipe(
  // The Authentication middleware's team-token lookup, over the ports above, as on Postgres.
  (ports) => TeamTokenAccess.layerMemory.pipe(Layer.provideMerge(ports)),
  Layer.provideMerge(Layer.mergeAll(EventStore.layerMemory, People.layerMemory)),
  Layer.provide(MemoryDirectory.layer)
)

/** Storage, secrets, Cloudflare and notifications: what the routes and the scheduler loop run on. */
export function layerServices(options: Options & { readonly storage: "memory" }): Layer.Layer<Services, unknown>
export function layerServices(
  options?: Options & { readonly storage?: "postgres" | undefined }
): Layer.Layer<Services | PostgresServices, unknown>
export function layerServices(options?: Options): Layer.Layer<Services, unknown>
export function layerServices(options: Options = {}): Layer.Layer<Services, unknown> {
  const storage: Layer.Layer<StoragePorts, unknown, ServerConfig.CurrentServerConfig> = options.storage === "memory"
    ? layerMemoryStorage
    : layerPostgresStorage(options)
  const secrets = options.secrets ?? SecretBox.layerFromEnvOrFile({ dataDirectory: options.dataDirectory })
  const limits = options.cloudflareLimits ?? ApiBudget.cloudflareLimits
  const share = options.budgetShare ?? 0.5
  // Both budgets counted (MeteredPorts): /metrics says what each token has left.
  const cloudflare = Layer.mergeAll(
    WorkersTrafficRouter.layer(),
    AnalyticsHealthSource.layer(),
    MeteredPorts.layerRequestBudget({ ...limits, share: share * RequestBudget.requestFraction })
  ).pipe(
    Layer.provideMerge(CloudflareAccounts.layerCredentials),
    Layer.provideMerge(MeteredPorts.layerApiBudget({ ...limits, share: share * (1 - RequestBudget.requestFraction) })),
    Layer.provide(FetchHttpClient.layer)
  )
  // Channel secrets are sealed with the server's SecretBox, bound to their channel and field.
  const notifications = Layer.unwrap(Effect.map(ServerConfig.CurrentServerConfig, (config) =>
    Notifier.layer({ ...options.notifications, baseUrl: config.publicUrl.replace(/\/+$/, "") }))).pipe(
      Layer.provide([Layer.effect(SecretSealer.SecretSealer, SecretBox.SecretBox), FetchHttpClient.layer])
    )
  // Said once at start-up: a secret key that cannot open the stored secrets (see Readiness).
  return Layer.mergeAll(
    cloudflare,
    // The application's notifications handlers see the notifier's Channels through their port.
    NotificationChannels.layerFrom(Channels.Channels).pipe(Layer.provideMerge(notifications)),
    Readiness.layerStartupReport,
    options.mail === undefined ? InvitationMail.layerUnconfigured : OutgoingMail.layer(options.mail)
  ).pipe(
    // The event store, scheduler and notification store everything above uses are the counted ones.
    Layer.provideMerge(Layer.merge(MeteredPorts.layerStorage(storage), secrets)),
    Layer.provideMerge(ServerConfig.layer(options.config)),
    Layer.provideMerge(ServerMetrics.layer)
  )
}

/**
 * The HTTP server on `port` (0: any free port) with the API; with `dashboard` (a built
 * dashboard's folder, see `Dashboard.ts`), the dashboard at `/` too (`pnpm start` serves it).
 */
export const layerHttp = (
  port: number,
  host?: string,
  options: { readonly dashboard?: string | undefined } & HttpObservation.Options = {}
) =>
  HttpRouter.serve(
    options.dashboard === undefined ? Application.layerRoutes : Layer.merge(Application.layerRoutes, Dashboard.layer(options.dashboard)),
    // Every request gets a request id and is counted; `/metrics` unless `serveMetrics: false`.
    { disableListenLog: true, disableLogger: true, middleware: HttpObservation.middleware(options) }
  ).pipe(
    Layer.provideMerge(NodeHttpServer.layer(createServer, host === undefined ? { port } : { port, host })),
    Layer.provide(Layer.succeed(References.TracerEnabled, false)),
    // Built after the listener, so released before it: open live streams end first, or the
    // listener's close would wait for them (they never end by themselves).
    (http) => Layer.provideMerge(endLiveStreamsFirst, http)
  )

/** Ends the release pages' live streams when the server stops (`ReleaseFeed.close`). */
const endLiveStreamsFirst = Layer.effectDiscard(
  Effect.gen(function*() {
    const feed = yield* ReleaseFeed.ReleaseFeed
    yield* Effect.addFinalizer(() => feed.close)
  })
)

/**
 * `GET /metrics` alone, on a listener of its own (`CANARYROLL_METRICS_PORT`): on a private
 * interface or network, away from the API's port that the internet reaches.
 */
export const layerMetricsHttp = (port: number, host?: string) =>
  Layer.unwrap(Effect.map(ServerMetrics.ServerMetrics, (metrics) => HttpServer.serve(HttpObservation.metricsOnly(metrics)))).pipe(
    Layer.provideMerge(NodeHttpServer.layer(createServer, host === undefined ? { port } : { port, host }))
  )
