/**
 * The API's errors. Every error body is `{ error, message }`: `error` a stable code a program can
 * switch on, `message` a sentence a person understands (naming the field when input is wrong).
 * That is also what the public `canaryroll/action@v1` reads (`message`, else `error`).
 *
 * One class per HTTP status; the code narrows it (`invalid_plan`, `release_rejected`, …).
 *
 * @since 0.1.0
 */
import { Schema } from "effect"

const fields = { error: Schema.String, message: Schema.String }

/** 400: the request is malformed or a field is invalid; nothing was changed. */
export class BadRequest extends Schema.Error<BadRequest>("BadRequest")(fields, { httpApiStatus: 400 }) {}

/** 401: no valid credentials (token, or session cookie). */
export class Unauthorized extends Schema.Error<Unauthorized>("Unauthorized")(fields, { httpApiStatus: 401 }) {}

/** 403: known caller, not allowed (the message names the role needed). */
export class Forbidden extends Schema.Error<Forbidden>("Forbidden")(fields, { httpApiStatus: 403 }) {}

/** 404: no such thing in this team, or the caller may not know that it exists. */
export class NotFound extends Schema.Error<NotFound>("NotFound")(fields, { httpApiStatus: 404 }) {}

/** 409: the request conflicts with the current state (a release already finished, a slug taken). */
export class Conflict extends Schema.Error<Conflict>("Conflict")(fields, { httpApiStatus: 409 }) {}

/** 413: the request body is larger than the server accepts. */
export class PayloadTooLarge extends Schema.Error<PayloadTooLarge>("PayloadTooLarge")(fields, { httpApiStatus: 413 }) {}

/** 422: the request is well-formed but cannot be taken as it is (an `Idempotency-Key` reused for another request). */
export class UnprocessableContent extends Schema.Error<UnprocessableContent>("UnprocessableContent")(fields, { httpApiStatus: 422 }) {}

/** 429: too many attempts (log-ins). */
export class TooManyRequests extends Schema.Error<TooManyRequests>("TooManyRequests")(fields, { httpApiStatus: 429 }) {}

/** 502: Cloudflare answered with something unusable (or refused our credentials while checking). */
export class BadGateway extends Schema.Error<BadGateway>("BadGateway")(fields, { httpApiStatus: 502 }) {}

/** 503: a dependency (the database, Cloudflare) is unavailable for now; retrying later may work. */
export class Unavailable extends Schema.Error<Unavailable>("Unavailable")(fields, { httpApiStatus: 503 }) {}

/** One check of `/api/ready`: what was checked, whether it passed, and what was found. */
export const ReadinessCheck = Schema.Struct({
  name: Schema.Literals(["database", "migrations", "secrets"]),
  ok: Schema.Boolean,
  message: Schema.String
})
export type ReadinessCheck = typeof ReadinessCheck.Type

/** 503 from `/api/ready`: the server runs but cannot serve yet; `checks` says which check failed. */
export class NotReady extends Schema.Error<NotReady>("NotReady")({ ...fields, checks: Schema.Array(ReadinessCheck) }, {
  httpApiStatus: 503
}) {}

/** 404 for a thing of the current team (or of a team the caller may not see). */
export const notFound = (what: string, id: string) =>
  new NotFound({ error: "not_found", message: `${what} ${JSON.stringify(id)} was not found in this team` })

/** 400 for one field of the request: the message starts with the field's name. */
export const invalidField = (field: string, message: string) =>
  new BadRequest({ error: "invalid_request", message: `${field}: ${message}` })
