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

/**
 * Declares the `Idempotency-Key` request header in the OpenAPI document (an endpoint `transform`
 * annotation: a middleware declares only its errors there). Reads ignore the key and every change
 * of the group carries a body, so the operations with a body are the ones that take it.
 */
export const declareKeyHeader = (operation: Record<string, any>): Record<string, any> =>
  operation.requestBody === undefined ? operation : {
    ...operation,
    parameters: [...(operation.parameters ?? []), {
      name: "Idempotency-Key",
      in: "header",
      required: false,
      description: "Makes a retry safe: the same request with the same key within a day gets the first answer again " +
        "(`Idempotent-Replayed: true`); the key with another request is 422, a retry while the first runs is 409.",
      schema: { type: "string", minLength: 1, maxLength: maxKeyLength, pattern: `^[\\x21-\\x7e]{1,${maxKeyLength}}$` }
    }]
  }

export class Idempotency extends HttpApiMiddleware.Service<Idempotency, { requires: CurrentTeam }>()(
  "@canaryroll/api/Idempotency",
  { error: [BadRequest, Conflict, UnprocessableContent, ServiceUnavailable] }
) {}
