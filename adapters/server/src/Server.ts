/**
 * The reference server, assembled: the HTTP API (handlers, middlewares, OpenAPI document at
 * `/api/openapi.json`, docs page at `/api/docs`, the release and invitation pages), the Postgres
 * storage, Cloudflare, and the notifier's delivery loops; `main.ts` adds the scheduler loop that
 * steps releases. Several processes may run it against one database.
 *
 * The outermost HTTP middleware keeps the API's promise that every error is JSON
 * `{ error, message }`: it refuses bodies over the limit (413), answers unknown routes (404) and
 * unsupported content types (415) in that shape, and turns defects into 503 when storage is down
 * (500 otherwise, logged without request data).
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
import type { EventStore, HealthSource, Outbox, Scheduler, TrafficRouter } from "@canaryroll/core"
import { type Channels, type NotificationStore, Notifier, Redaction, SecretSealer } from "@canaryroll/notifier"
import * as Postgres from "@canaryroll/postgres"
import { NodeHttpServer } from "@effect/platform-node"
import { ByteSize, Cause, Effect, Layer, Option } from "effect"
import { FetchHttpClient, HttpIncomingMessage, HttpRouter, HttpServerRequest, HttpServerResponse } from "effect/http"
import { HttpApiBuilder, HttpApiScalar } from "effect/http-api"
import type { PgClient } from "@effect/sql-pg"
import type { SqlClient } from "effect/sql"
import { HttpBody } from "effect/http"
import { createServer } from "node:http"
import { Api } from "./api/Api.ts"
import * as RequestErrors from "./api/RequestErrors.ts"
import * as Pages from "./pages/Pages.ts"
import * as RequestBudget from "./RequestBudget.ts"
import * as Access from "./handlers/Access.ts"
import * as Accounts from "./handlers/Accounts.ts"
import * as Audit from "./handlers/Audit.ts"
import * as Deployments from "./handlers/Deployments.ts"
import * as Notifications from "./handlers/Notifications.ts"
import * as Plans from "./handlers/Plans.ts"
import * as Storage from "./handlers/Storage.ts"
import * as Teams from "./handlers/Teams.ts"
import * as Workers from "./handlers/Workers.ts"
import * as SecretBox from "./security/SecretBox.ts"
import * as ServerConfig from "./ServerConfig.ts"
import * as CloudflareAccounts from "./store/CloudflareAccounts.ts"

const errorResponse = (status: number, error: string, message: string) =>
  HttpServerResponse.jsonUnsafe({ error, message }, { status })

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
    const response = yield* httpEffect.pipe(
      Effect.provideService(HttpIncomingMessage.MaxBodySize, ByteSize.bytes(config.maxBodyBytes)),
      Effect.catchCause((cause) => {
        const failure = Option.getOrUndefined(Cause.findErrorOption(cause))
        const reason = (failure as { reason?: { _tag?: string } } | undefined)?.reason?._tag
        if (reason === "RouteNotFound") return Effect.succeed(describeStatus(404, request.method, request.url))
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
        if (Storage.isConstraintViolation(defect)) {
          return Effect.succeed(
            errorResponse(409, "conflict", "another request changed the same thing at the same time; reload and try again")
          )
        }
        if (Storage.isStorageFailure(defect) || Storage.isStorageFailure(failure)) {
          return Effect.as(
            Effect.logWarning("storage unavailable while serving a request", Redaction.text(Cause.pretty(cause))),
            errorResponse(503, "unavailable", "the database is unavailable; try again shortly")
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
    return redactErrorBody(response)
  }), { global: true })

/** The API's routes; needs the services listed in `layerServices`. */
export const layerRoutes = HttpApiBuilder.layer(Api, { openapiPath: "/api/openapi.json" }).pipe(
  Layer.provide([
    Accounts.layerAuth,
    Accounts.layerHealth,
    Accounts.layerMe,
    Teams.layer,
    Workers.layer,
    Plans.layer,
    Deployments.layer,
    Audit.layer,
    Notifications.layer
  ]),
  Layer.provide([Access.layerAuthentication, Access.layerTeamAccess, RequestErrors.layer]),
  Layer.merge(HttpApiScalar.layer(Api, { path: "/api/docs" })),
  Layer.merge(Pages.layer),
  Layer.merge(layerErrorBodies)
)

export interface Options {
  readonly config?: Partial<ServerConfig.ServerConfig> | undefined
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

export type Services =
  | EventStore.EventStore
  | Outbox.Outbox
  | Scheduler.Scheduler
  | Postgres.PgScheduler.PgScheduler
  | Postgres.PgReleaseSummaries.PgReleaseSummaries
  | Postgres.PgAuditLog.PgAuditLog
  | PgClient.PgClient
  | SqlClient.SqlClient
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

/** Storage, secrets, Cloudflare and notifications: what the routes and the scheduler loop run on. */
export const layerServices = (options: Options = {}): Layer.Layer<Services, unknown> => {
  const client = options.client ?? Postgres.layerClient(options.postgres ?? {})
  const storage = Layer.mergeAll(
    Postgres.layerPorts(),
    Postgres.PgScheduler.layer({ clock: options.schedulerClock ?? "database" }),
    Postgres.PgReleaseSummaries.layer,
    Postgres.PgAuditLog.layer
  ).pipe(Layer.provide(Postgres.Migrations.layer), Layer.provideMerge(client))
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
      Layer.provideMerge(Postgres.PgNotifications.layer),
      Layer.provide([Layer.effect(SecretSealer.SecretSealer, SecretBox.SecretBox), FetchHttpClient.layer])
    )
  return Layer.merge(cloudflare, notifications).pipe(
    Layer.provideMerge(Layer.merge(storage, secrets)),
    Layer.provideMerge(ServerConfig.layer(options.config))
  )
}

/** The HTTP server on `port` (0: any free port) with the API. */
export const layerHttp = (port: number, host?: string) =>
  HttpRouter.serve(layerRoutes, { disableListenLog: true, disableLogger: true }).pipe(
    Layer.provideMerge(NodeHttpServer.layer(createServer, host === undefined ? { port } : { port, host }))
  )
