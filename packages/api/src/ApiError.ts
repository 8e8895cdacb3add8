/**
 * The API's errors. Every error body is `{ error, message }`: `error` a stable code a program can
 * switch on, `message` a sentence a person understands (naming the field when input is wrong).
 * That is also what the public `canaryroll/action@v1` reads (`message`, else `error`).
 *
 * One class per HTTP status; the code narrows it (`invalid_plan`, `release_rejected`, …). Each
 * carries a `_tag` (a class field, so the body stays `{ error, message }`): clients built with
 * `HttpApiClient` tell them apart with `Effect.catchTag`.
 *
 * 503 is one response for the whole API (`ServiceUnavailable`), declared by the `Availability`
 * middleware every group passes: `StorageUnavailable` (the storage could not answer; it comes with
 * `Retry-After`) or `Unavailable` (Cloudflare, or a release busy elsewhere).
 *
 * @since 0.1.0
 */
import { Schema } from "effect"
import { HttpApiMiddleware, HttpApiSchema } from "effect/http-api"

const fields = { error: Schema.String, message: Schema.String }

/** The status each error is answered with: the annotations below read it, and so do clients. */
export const status = {
  BadRequest: 400,
  Unauthorized: 401,
  Forbidden: 403,
  NotFound: 404,
  Conflict: 409,
  PayloadTooLarge: 413,
  UnprocessableContent: 422,
  TooManyRequests: 429,
  BadGateway: 502,
  Unavailable: 503,
  StorageUnavailable: 503,
  NotReady: 503
} as const

/** 400: the request is malformed or a field is invalid; nothing was changed. */
export class BadRequest extends Schema.Error<BadRequest>("BadRequest")(fields, { httpApiStatus: status.BadRequest }) {
  readonly _tag = "BadRequest"
}

/** 401: no valid credentials (token, or session cookie). */
export class Unauthorized
  extends Schema.Error<Unauthorized>("Unauthorized")(fields, { httpApiStatus: status.Unauthorized })
{
  readonly _tag = "Unauthorized"
}

/** 403: known caller, not allowed (the message names the role needed). */
export class Forbidden extends Schema.Error<Forbidden>("Forbidden")(fields, { httpApiStatus: status.Forbidden }) {
  readonly _tag = "Forbidden"
}

/** 404: no such thing in this team, or the caller may not know that it exists. */
export class NotFound extends Schema.Error<NotFound>("NotFound")(fields, { httpApiStatus: status.NotFound }) {
  readonly _tag = "NotFound"
}

/** 409: the request conflicts with the current state (a release already finished, a slug taken). */
export class Conflict extends Schema.Error<Conflict>("Conflict")(fields, { httpApiStatus: status.Conflict }) {
  readonly _tag = "Conflict"
}

/** 413: the request body is larger than the server accepts. */
export class PayloadTooLarge
  extends Schema.Error<PayloadTooLarge>("PayloadTooLarge")(fields, { httpApiStatus: status.PayloadTooLarge })
{
  readonly _tag = "PayloadTooLarge"
}

/** 422: the request is well-formed but cannot be taken as it is (an `Idempotency-Key` reused for another request). */
export class UnprocessableContent extends Schema.Error<UnprocessableContent>("UnprocessableContent")(fields, {
  httpApiStatus: status.UnprocessableContent
}) {
  readonly _tag = "UnprocessableContent"
}

/** 429: too many attempts (log-ins). */
export class TooManyRequests
  extends Schema.Error<TooManyRequests>("TooManyRequests")(fields, { httpApiStatus: status.TooManyRequests })
{
  readonly _tag = "TooManyRequests"
}

/** 502: Cloudflare answered with something unusable (or refused our credentials while checking). */
export class BadGateway extends Schema.Error<BadGateway>("BadGateway")(fields, { httpApiStatus: status.BadGateway }) {
  readonly _tag = "BadGateway"
}

/** 503: a dependency other than storage (Cloudflare, a release busy elsewhere) is unavailable for now. */
export class Unavailable
  extends Schema.Error<Unavailable>("Unavailable")(fields, { httpApiStatus: status.Unavailable })
{
  readonly _tag = "Unavailable"
}

/** How long a client should wait before asking again after a `StorageUnavailable`, in seconds. */
export const storageRetryAfterSeconds = 5

/**
 * 503 `{ error: "unavailable", message }` with `Retry-After: 5`: the storage could not answer
 * (database down, connection lost). Nothing the caller did; the same request may work later.
 */
export class StorageUnavailable extends Schema.Error<StorageUnavailable>("StorageUnavailable")({
  message: Schema.String
}) {
  readonly _tag = "StorageUnavailable"
  readonly error = "unavailable"
}

/** The body and headers of every 503 but `/api/ready`'s. */
const ServiceUnavailableBody = Schema.Struct(fields).annotate({
  // The name the 503 body had before `StorageUnavailable` joined it: the OpenAPI document keeps it.
  identifier: "UnavailableEncoded",
  description: "Unavailable",
  httpApiStatus: status.Unavailable
})

/**
 * The API's one 503 response, `{ error, message }`: a `StorageUnavailable` (code `unavailable`,
 * with `Retry-After`) or an `Unavailable` (any other code). One schema, because a response with
 * headers cannot share its status with another response.
 */
export const ServiceUnavailable = Schema.Union([StorageUnavailable, Unavailable]).pipe(
  HttpApiSchema.encodeToWithHeaders({
    body: ServiceUnavailableBody,
    headers: { "retry-after": Schema.optional(Schema.String) }
  }, {
    decode: ({ body }) =>
      body.error === "unavailable" ? new StorageUnavailable({ message: body.message }) : new Unavailable(body),
    encode: (error) =>
      error._tag === "StorageUnavailable"
        ? { body: { error: error.error, message: error.message }, headers: { "retry-after": String(storageRetryAfterSeconds) } }
        : { body: { error: error.error, message: error.message }, headers: {} }
  })
)

/**
 * Declares the API's 503 on every endpoint (it is applied to the whole API): any handler may fail
 * with `StorageUnavailable` or `Unavailable`. A server implements it by turning its storage's
 * failures into `StorageUnavailable`.
 */
export class Availability extends HttpApiMiddleware.Service<Availability>()("@canaryroll/api/Availability", {
  error: ServiceUnavailable
}) {}

/** One check of `/api/ready`: what was checked, whether it passed, and what was found. */
export const ReadinessCheck = Schema.Struct({
  name: Schema.Literals(["database", "migrations", "secrets"]),
  ok: Schema.Boolean,
  message: Schema.String
})
export type ReadinessCheck = typeof ReadinessCheck.Type

/** 503 from `/api/ready`: the server runs but cannot serve yet; `checks` says which check failed. */
export class NotReady extends Schema.Error<NotReady>("NotReady")({ ...fields, checks: Schema.Array(ReadinessCheck) }, {
  httpApiStatus: status.NotReady
}) {
  readonly _tag = "NotReady"
}

/** 404 for a thing of the current team (or of a team the caller may not see). */
export const notFound = (what: string, id: string) =>
  new NotFound({ error: "not_found", message: `${what} ${JSON.stringify(id)} was not found in this team` })

/** 400 for one field of the request: the message starts with the field's name. */
export const invalidField = (field: string, message: string) =>
  new BadRequest({ error: "invalid_request", message: `${field}: ${message}` })
