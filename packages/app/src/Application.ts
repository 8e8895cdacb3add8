/**
 * The CanaryRoll application, runtime-neutral: the HTTP API (every handler group of
 * `@canaryroll/api`, its middlewares, the OpenAPI document at `/api/openapi.json`, the docs page at
 * `/api/docs`, the release and invitation pages) over the ports and Web APIs only. A runtime (the
 * Node server in `adapters/server`, a Worker) serves `layerRoutes` and provides the ports, the
 * secret box, Cloudflare, the notification channels, the invitation mail (`mail/InvitationMail`)
 * and `CurrentServerConfig`.
 *
 * The outermost HTTP middleware keeps the API's promise that every error is JSON
 * `{ error, message }`: it refuses bodies over the limit (413), answers unknown routes (404), a
 * method a path does not have (405, with `Allow` read from the route table, see `http/Routes.ts`)
 * and unsupported content types (415) in that shape, and turns defects into 500 (logged without
 * request data); storage being down is not a defect but the API's typed `StorageUnavailable` (503
 * with `Retry-After`), which handlers map from their ports' errors (`http/Storage.ts`). Before any handler runs it refuses
 * cross-origin requests made with the session cookie (403 `cross_origin`, see
 * `http/RequestOrigin.ts`) and any string holding NUL, naming the field (400; Postgres would refuse
 * it, and Postgres' own refusal of such text is a 400 too, never a 503). Every HTML answer leaves
 * with a strict Content-Security-Policy (the pages' own unless it set one).
 *
 * @since 0.1.0
 */
import { Api } from "@canaryroll/api/Api"
import * as RequestErrors from "@canaryroll/api/RequestErrors"
// In scope so that the declaration of the routes' type (the ports the handlers need) can name them.
import type { WorkersApi } from "@canaryroll/cloudflare"
import type { ActiveReleases, EventStore, HealthSource, Scheduler, TrafficRouter } from "@canaryroll/core"
import * as Redaction from "@canaryroll/notifier/Redaction"
import { ByteSize, Cause, Effect, Layer, Option } from "effect"
import { HttpBody, HttpIncomingMessage, HttpMethod, HttpRouter, HttpServerRequest, HttpServerResponse } from "effect/http"
import { HttpApiBuilder } from "effect/http-api"
import * as Access from "./http/Access.ts"
import * as Accounts from "./http/Accounts.ts"
import * as Audit from "./http/Audit.ts"
import * as Availability from "./http/Availability.ts"
import * as Deployments from "./http/Deployments.ts"
import * as Docs from "./http/Docs.ts"
import * as Health from "./http/Health.ts"
import * as Idempotency from "./http/Idempotency.ts"
import * as Dashboard from "./http/Dashboard.ts"
import * as Live from "./http/Live.ts"
import * as Notifications from "./http/Notifications.ts"
import * as Pages from "./http/Pages.ts"
import * as Plans from "./http/Plans.ts"
import * as RequestOrigin from "./http/RequestOrigin.ts"
import * as Routes from "./http/Routes.ts"
import * as ServerConfig from "./http/ServerConfig.ts"
import * as Storage from "./http/Storage.ts"
import * as Teams from "./http/Teams.ts"
import * as Workers from "./http/Workers.ts"

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
    // A path or query parameter holds NUL only percent-encoded: Node's parser answers a request
    // line with a raw NUL 400 itself. So a request with neither `%00` nor a JSON body (every GET,
    // the polled one included) has nothing to check, and is not routed or parsed a second time.
    const jsonBody = HttpMethod.hasBody(request.method) && isJsonContentType(request.headers["content-type"])
    if (!jsonBody && !request.url.includes("%00")) return undefined
    const matched = routeTable.match(request.method, request.url)
    if (matched === undefined) return undefined
    let body: unknown = undefined
    if (jsonBody) {
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

/** Postgres refusing text it cannot store, answered 400 below (see `http/Storage.ts`). */
export const isUnstorableText = Storage.isUnstorableText

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

/** Applied to every route: body limit, JSON error bodies, what is left of defects (400, 409, 500). */
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

/** The API's routes; needs the ports and services a runtime provides (the server's `layerServices`). */
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
    Notifications.layer,
    Live.layer,
    Dashboard.layer
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
