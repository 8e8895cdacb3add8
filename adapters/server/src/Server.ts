/**
 * The reference server, assembled: the HTTP API (handlers, middlewares, OpenAPI document at
 * `/api/openapi.json`, docs page at `/api/docs`, the release and invitation pages), the storage
 * (Postgres by default, or every port's memory layer: `Options.storage`), Cloudflare, and the
 * notifier's delivery loops; `main.ts` adds the scheduler loop that steps releases. Several
 * processes may run it against one Postgres database.
 *
 * The outermost HTTP middleware keeps the API's promise that every error is JSON
 * `{ error, message }`: it refuses bodies over the limit (413), answers unknown routes (404), a
 * method a path does not have (405, with `Allow` read from the route table, see `Routes.ts`) and
 * unsupported content types (415) in that shape, and turns defects into 503 when storage is down
 * (500 otherwise, logged without request data). Before any handler runs it refuses cross-origin
 * requests made with the session cookie (403 `cross_origin`, see `security/RequestOrigin.ts`) and
 * any string holding NUL, naming the field (400; Postgres would refuse it, and Postgres' own
 * refusal of such text is a 400 too, never a 503). Every HTML answer leaves with a strict
 * Content-Security-Policy (the pages' own unless it set one).
 *
 * @since 0.1.0
 */
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
  Plans as PlansPort,
  ReleaseSummaries,
  Sessions,
  Storage as AppStorage,
  Teams as TeamsPort,
  Workers as WorkersPort
} from "@canaryroll/app"
import { type Channels, NotificationStore, Notifier, Redaction, SecretSealer } from "@canaryroll/notifier"
import * as Postgres from "@canaryroll/postgres"
import { NodeHttpServer } from "@effect/platform-node"
import { ByteSize, Cause, Effect, Layer, Option } from "effect"
import {
  FetchHttpClient,
  HttpIncomingMessage,
  HttpMethod,
  HttpRouter,
  HttpServerRequest,
  HttpServerResponse
} from "effect/http"
import { HttpApiBuilder } from "effect/http-api"
import type { PgClient } from "@effect/sql-pg"
import type { SqlClient } from "effect/sql"
import { HttpBody } from "effect/http"
import { createServer } from "node:http"
import { storageRetryAfterSeconds } from "@canaryroll/api/ApiError"
import { Api } from "./api/Api.ts"
import * as RequestErrors from "./api/RequestErrors.ts"
import * as Docs from "./pages/Docs.ts"
import * as Pages from "./pages/Pages.ts"
import * as Readiness from "./Readiness.ts"
import * as RequestBudget from "./RequestBudget.ts"
import * as Routes from "./Routes.ts"
import * as Access from "./handlers/Access.ts"
import * as Availability from "./handlers/Availability.ts"
import * as Accounts from "./handlers/Accounts.ts"
import * as Audit from "./handlers/Audit.ts"
import * as Deployments from "./handlers/Deployments.ts"
import * as Health from "./handlers/Health.ts"
import * as Idempotency from "./handlers/Idempotency.ts"
import * as Notifications from "./handlers/Notifications.ts"
import * as Plans from "./handlers/Plans.ts"
import * as Storage from "./handlers/Storage.ts"
import * as Teams from "./handlers/Teams.ts"
import * as Workers from "./handlers/Workers.ts"
import * as LoginThrottle from "./security/LoginThrottle.ts"
import * as IdempotencyKeys from "./IdempotencyKeys.ts"
import * as RequestOrigin from "./security/RequestOrigin.ts"
import * as SecretBox from "./security/SecretBox.ts"
import * as ServerConfig from "./ServerConfig.ts"
import * as CloudflareAccounts from "./store/CloudflareAccounts.ts"

const errorResponse = (status: number, error: string, message: string, headers?: Record<string, string>) =>
  HttpServerResponse.jsonUnsafe({ error, message }, headers === undefined ? { status } : { status, headers })

const openapiPath = "/api/openapi.json"

/** Every route the server has, read from the definitions it is built from (405's `Allow`, parameter names). */
export const routeTable = Routes.make([
  ...Routes.ofApi(Api),
  { method: "GET", path: openapiPath },
  { method: "GET", path: Docs.path },
  ...Pages.routes.map(({ method, path }) => ({ method, path }))
])

/** 404 for a path the server does not have; 405 with `Allow` for a method a path does not have. */
const noRoute = (method: string, url: string) => {
  const allowed = routeTable.allowed(url)
  if (allowed.length === 0) return describeStatus(404, method, url)
  return errorResponse(
    405,
    "method_not_allowed",
    `${method} is not allowed on ${url.split("?")[0]}; it allows ${allowed.join(", ")}`,
    { allow: allowed.join(", ") }
  )
}

const isJsonContentType = (contentType: string | undefined) =>
  contentType !== undefined && /^application\/json\s*(;|$)/i.test(contentType.trim())

/**
 * A string of the request (path parameter, query parameter, JSON body field) holding NUL, as a
 * 400 naming it; checked for routes that exist (others are 404 or 405 first). A body that is not
 * JSON is left to the endpoint's own decoding (400 `invalid_json`, 415).
 */
const nulCheck = (request: HttpServerRequest.HttpServerRequest) =>
  Effect.gen(function*() {
    const matched = routeTable.match(request.method, request.url)
    if (matched === undefined) return undefined
    let body: unknown = undefined
    if (HttpMethod.hasBody(request.method) && isJsonContentType(request.headers["content-type"])) {
      const text = yield* request.text
      try {
        body = JSON.parse(text)
      } catch {
        body = undefined
      }
    }
    const query = new URL(request.url, "http://localhost").searchParams
    return RequestErrors.nulField({ params: matched.params, query, body })
  })

/**
 * Postgres refusing text it cannot store: NUL (`22021` invalid byte sequence) or `\u0000` in JSON
 * (`22P05` unsupported Unicode escape sequence). The request guard stops these first; this is the
 * safety net for a string it could not see, answered 400 rather than 503.
 */
export const isUnstorableText = (error: unknown): boolean => {
  let current: unknown = error
  for (let depth = 0; depth < 6 && typeof current === "object" && current !== null; depth++) {
    const { code, message } = current as { code?: unknown; message?: unknown }
    if (code === "22021" || code === "22P05") return true
    if (typeof message === "string" && /invalid byte sequence|unsupported Unicode escape sequence/i.test(message)) return true
    const next = current as { reason?: unknown; cause?: unknown }
    current = next.reason !== undefined && next.reason !== current ? next.reason : next.cause
  }
  return false
}

const contentTypeOf = (response: HttpServerResponse.HttpServerResponse) =>
  response.headers["content-type"] ?? (response.body._tag === "Empty" ? undefined : response.body.contentType) ?? ""

/** An HTML answer without a policy of its own gets the pages' strict one. */
const withPagePolicy = (response: HttpServerResponse.HttpServerResponse) =>
  contentTypeOf(response).includes("text/html") && response.headers["content-security-policy"] === undefined
    ? HttpServerResponse.setHeaders(response, Pages.htmlHeaders())
    : response

const isJson = (response: HttpServerResponse.HttpServerResponse) =>
  response.body._tag !== "Empty" && (response.body.contentType ?? "").includes("json")

/** The generic JSON body for an error response that came without one. */
const describeStatus = (status: number, method: string, url: string) => {
  switch (status) {
    case 404:
      return errorResponse(404, "not_found", `no endpoint ${method} ${url.split("?")[0]}; see /api/openapi.json`)
    case 405:
      return errorResponse(405, "method_not_allowed", `${method} is not allowed on ${url.split("?")[0]}`)
    case 413:
      return errorResponse(413, "payload_too_large", "the request body is too large")
    case 415:
      return errorResponse(415, "unsupported_media_type", "send the request body as JSON (Content-Type: application/json)")
    default:
      return errorResponse(status, status >= 500 ? "internal" : "bad_request", `the request failed with status ${status}`)
  }
}

/**
 * An error's message may quote a URL (a Cloudflare or a channel error repeating what it was
 * called with): none leaves with its path, query or user info (`Redaction.text`).
 */
const redactErrorBody = (response: HttpServerResponse.HttpServerResponse) => {
  if (response.status < 400 || response.body._tag !== "Uint8Array" || !isJson(response)) return response
  const text = response.body.text ?? new TextDecoder().decode(response.body.body)
  const redacted = Redaction.text(text)
  return redacted === text ? response : HttpServerResponse.setBody(response, HttpBody.text(redacted, response.body.contentType))
}

/** Applied to every route: body limit, JSON error bodies, storage failures as 503. */
export const layerErrorBodies = HttpRouter.middleware((httpEffect) =>
  Effect.gen(function*() {
    const config = yield* ServerConfig.CurrentServerConfig
    const request = yield* HttpServerRequest.HttpServerRequest
    const length = Number(request.headers["content-length"] ?? "0")
    if (Number.isFinite(length) && length > config.maxBodyBytes) {
      return errorResponse(413, "payload_too_large", `the request body is ${length} bytes; the limit is ${config.maxBodyBytes}`)
    }
    const refusal = RequestOrigin.check(
      { method: request.method, headers: request.headers, cookies: request.cookies },
      config.publicUrl
    )
    if (refusal !== undefined) {
      const { error, message, status } = RequestOrigin.describe(refusal)
      return errorResponse(status, error, message)
    }
    const guarded = Effect.flatMap(
      nulCheck(request),
      (invalid) => invalid === undefined ? httpEffect : Effect.succeed(errorResponse(400, invalid.error, invalid.message))
    )
    const response = yield* guarded.pipe(
      Effect.provideService(HttpIncomingMessage.MaxBodySize, ByteSize.bytes(config.maxBodyBytes)),
      Effect.catchCause((cause) => {
        const failure = Option.getOrUndefined(Cause.findErrorOption(cause))
        const reason = (failure as { reason?: { _tag?: string } } | undefined)?.reason?._tag
        if (reason === "RouteNotFound") return Effect.succeed(noRoute(request.method, request.url))
        // A body without Content-Length (chunked) passes the check above and only hits the limit
        // while being read (MaxBodySize): the read fails with HttpServerError(RequestParseError
        // "BodyTooLarge"), which HttpApi's payload decoding turns into a defect (orDie). It must
        // be a 413 like the Content-Length case, not a 500.
        const tooLarge = [failure, Cause.squash(cause)].some((error) => {
          const parse = (error as { reason?: { _tag?: string; reason?: string } } | undefined)?.reason
          return parse?._tag === "RequestParseError" && parse.reason === "BodyTooLarge"
        })
        if (tooLarge) {
          return Effect.succeed(
            errorResponse(413, "payload_too_large", `the request body is over the limit of ${config.maxBodyBytes} bytes`)
          )
        }
        const defect = Cause.squash(cause)
        if (isUnstorableText(defect) || isUnstorableText(failure)) {
          return Effect.as(
            Effect.logWarning(`request ${request.method} ${request.url.split("?")[0]} carried text the database cannot store; answered 400`),
            errorResponse(400, "invalid_request", "request: a text field holds a character the database cannot store (NUL, \\u0000); remove it")
          )
        }
        if (Storage.isConstraintViolation(defect)) {
          return Effect.succeed(
            errorResponse(409, "conflict", "another request changed the same thing at the same time; reload and try again")
          )
        }
        if (Storage.isStorageFailure(defect) || Storage.isStorageFailure(failure)) {
          return Effect.as(
            Effect.logWarning("storage unavailable while serving a request", Redaction.text(Cause.pretty(cause))),
            // As the API declares its StorageUnavailable: a client knows when to ask again.
            errorResponse(503, "unavailable", "the database is unavailable; try again shortly", {
              "retry-after": String(storageRetryAfterSeconds)
            })
          )
        }
        if (Cause.hasInterruptsOnly(cause)) return Effect.failCause(cause)
        return Effect.as(
          Effect.logError(`request ${request.method} ${request.url.split("?")[0]} failed`, Redaction.text(Cause.pretty(cause))),
          errorResponse(500, "internal", "the server failed to handle the request; it was logged")
        )
      })
    )
    if (response.status >= 400 && !isJson(response)) return describeStatus(response.status, request.method, request.url)
    return withPagePolicy(redactErrorBody(response))
  }), { global: true })

/** The API's routes; needs the services listed in `layerServices`. */
export const layerRoutes = HttpApiBuilder.layer(Api, { openapiPath }).pipe(
  Layer.provide([
    Accounts.layerAuth,
    Health.layer,
    Accounts.layerMe,
    Teams.layer,
    Workers.layer,
    Plans.layer,
    Deployments.layer,
    Audit.layer,
    Notifications.layer
  ]),
  Layer.provide([
    Access.layerAuthentication,
    Access.layerTeamAccess,
    RequestErrors.layer,
    Idempotency.layer,
    Availability.layer
  ]),
  Layer.merge(Docs.layer(Api)),
  Layer.merge(Pages.layer),
  Layer.merge(layerErrorBodies)
)

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
  /** Cloudflare's limits (tests make them small). */
  readonly cloudflareLimits?: ApiBudget.Limits | undefined
  /**
   * Notifications. `deliver` (default true) runs the outbox consumer and the senders in this
   * process, so every server process shares the sending; tests under TestClock turn it off and
   * deliver when they choose (their clock would never wake the loops' polls). The rest tunes the
   * notifier (polls, concurrency, timeouts, retries).
   */
  readonly notifications?: Omit<Notifier.Options, "baseUrl"> | undefined
}

/** What the routes and the scheduler loop run on, whichever the storage. */
export type Services =
  | EventStore.EventStore
  | ActiveReleases.ActiveReleases
  | Outbox.Outbox
  | Scheduler.Scheduler
  | ReleaseSummaries.ReleaseSummaries
  | AuditLog.AuditLog
  | Readiness.Store
  | SecretBox.SecretBox
  | Credentials.CloudflareCredentials
  | ApiBudget.ApiBudget
  | RequestBudget.RequestBudget
  | TrafficRouter.TrafficRouter
  | WorkersApi.WorkersApi
  | HealthSource.HealthSource
  | ServerConfig.CurrentServerConfig
  | Channels.Channels
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

/** The services a storage gives (`layerServices` adds secrets, Cloudflare and the notifier). */
type StoragePorts =
  | EventStore.EventStore
  | ActiveReleases.ActiveReleases
  | Outbox.Outbox
  | Scheduler.Scheduler
  | ReleaseSummaries.ReleaseSummaries
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
    // People, sessions, teams and tokens (@canaryroll/app's directory ports).
    Postgres.PgPeople.layer,
    Postgres.PgSessions.layer,
    Postgres.PgTeams.layer,
    Postgres.PgApiTokens.layer,
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
  const cloudflare = Layer.mergeAll(
    WorkersTrafficRouter.layer(),
    AnalyticsHealthSource.layer(),
    RequestBudget.layer({ ...limits, share: share * RequestBudget.requestFraction })
  ).pipe(
    Layer.provideMerge(CloudflareAccounts.layerCredentials),
    Layer.provideMerge(ApiBudget.layer({ ...limits, share: share * (1 - RequestBudget.requestFraction) })),
    Layer.provide(FetchHttpClient.layer)
  )
  // Channel secrets are sealed with the server's SecretBox, bound to their channel and field.
  const notifications = Layer.unwrap(Effect.map(ServerConfig.CurrentServerConfig, (config) =>
    Notifier.layer({ ...options.notifications, baseUrl: config.publicUrl.replace(/\/+$/, "") }))).pipe(
      Layer.provide([Layer.effect(SecretSealer.SecretSealer, SecretBox.SecretBox), FetchHttpClient.layer])
    )
  // Said once at start-up: a secret key that cannot open the stored secrets (see Readiness).
  return Layer.mergeAll(cloudflare, notifications, Readiness.layerStartupReport).pipe(
    Layer.provideMerge(Layer.merge(storage, secrets)),
    Layer.provideMerge(ServerConfig.layer(options.config))
  )
}

/** The HTTP server on `port` (0: any free port) with the API. */
export const layerHttp = (port: number, host?: string) =>
  HttpRouter.serve(layerRoutes, { disableListenLog: true, disableLogger: true }).pipe(
    Layer.provideMerge(NodeHttpServer.layer(createServer, host === undefined ? { port } : { port, host }))
  )
