/**
 * The `Idempotency` middleware (implemented by the server, `handlers/Idempotency.ts`), on the endpoints that
 * change releases: a request sent with an `Idempotency-Key` header is carried out once per team
 * and key. A retry of it (same method, path and body) within a day gets the first response again,
 * status and body, with `Idempotent-Replayed: true`; the key sent with another request is
 * `422 idempotency_key_reused`, and a retry while the first is still running is
 * `409 idempotency_key_in_flight` (try again in a moment). Requests without the header are carried
 * out as they come, as before.
 *
 * It runs after `TeamAccess`: only a caller allowed to make the request can replay its answer,
 * and keys are the team's.
 *
 * @since 0.1.0
 */
import { HttpApiMiddleware } from "effect/http-api"
import { CurrentTeam } from "./Access.ts"
import { BadRequest, Conflict, ServiceUnavailable, UnprocessableContent } from "./ApiError.ts"

/** The request header (header names are case-insensitive; Node gives them lower-cased). */
export const keyHeader = "idempotency-key"

/** The response header on a replayed answer. */
export const replayedHeader = "idempotent-replayed"

/** A key is 1 to 255 visible ASCII characters: a UUID is the usual choice. */
export const maxKeyLength = 255

export class Idempotency extends HttpApiMiddleware.Service<Idempotency, { requires: CurrentTeam }>()(
  "@canaryroll/api/Idempotency",
  { error: [BadRequest, Conflict, UnprocessableContent, ServiceUnavailable] }
) {}
