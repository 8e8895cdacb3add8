/**
 * The `Idempotency` middleware (declared in `api/Idempotency.ts`) over the `IdempotencyKeys`
 * port.
 *
 * A request is identified by its fingerprint: a SHA-256 of its method, its endpoint, its path
 * parameters (the team by id, so a retry through the slug is the same request) and its body as
 * canonical JSON (keys sorted, no spacing; an empty body is `null`), so a client that re-encodes
 * the same body differently is still retrying.
 *
 * What is remembered is the outcome of the request itself, the same on any retry: a success, or
 * a refusal of the request (400, 404, 409). Anything else (Cloudflare or the database being
 * unavailable, a 5xx, a body that does not decode) releases the key, so a retry runs afresh:
 * either nothing was done, or the release's own rules make doing it again harmless (an advance
 * names the step it moves on from; the rest are "already done" when repeated). The endpoints are
 * uninterruptible (see `Deployments.ts`), so a client hanging up does not leave a key
 * held by a request that stopped half-way.
 *
 * @since 0.1.0
 */
import { Cause, Clock, Effect, Exit, Layer, Option, Schema, SchemaAST } from "effect"
import { HttpRouter, HttpServerRequest, HttpServerResponse } from "effect/http"
import { sha256 } from "@noble/hashes/sha2.js"
import { Hex } from "effect/encoding"
import { CurrentTeam } from "@canaryroll/api/Access"
import { BadRequest, Conflict, NotFound, StorageUnavailable, UnprocessableContent } from "@canaryroll/api/ApiError"
import { Idempotency, keyHeader, maxKeyLength, replayedHeader } from "@canaryroll/api/Idempotency"
import * as IdempotencyKeys from "../directory/IdempotencyKeys.ts"

const safeMethods: ReadonlySet<string> = new Set(["GET", "HEAD", "OPTIONS"])

const keyPattern = new RegExp(`^[\\x21-\\x7e]{1,${maxKeyLength}}$`)

/** The refusals a retry would get again: remembered and replayed like successes. */
const replayedRefusals = [BadRequest, NotFound, Conflict] as const

const statusOf = (schema: Schema.Top): number | undefined => SchemaAST.resolveAt<number>("httpApiStatus")(schema.ast)

/** JSON with object keys sorted at every level, so equal bodies give equal text. */
const canonicalJson = (text: string): string => {
  if (text.trim() === "") return "null"
  const sorted = (value: unknown): unknown =>
    Array.isArray(value)
      ? value.map(sorted)
      : typeof value === "object" && value !== null
      ? Object.fromEntries(
        Object.keys(value).sort().map((key) => [key, sorted((value as Record<string, unknown>)[key])])
      )
      : value
  try {
    return JSON.stringify(sorted(JSON.parse(text)))
  } catch {
    // Not JSON: the request will be refused as such; its bytes identify it.
    return text
  }
}

export const fingerprint = (request: {
  readonly method: string
  readonly endpointPath: string
  readonly params: Readonly<Record<string, string | undefined>>
  readonly body: string
}): string => {
  const params = Object.keys(request.params).sort().map((name) => [name, request.params[name] ?? null])
  // Synchronous SHA-256 in plain JavaScript (WebCrypto's digest is async); same hex as before.
  const text = JSON.stringify([request.method, request.endpointPath, params, canonicalJson(request.body)])
  return Hex.encode(sha256(new TextEncoder().encode(text)))
}

/** What to remember of a request's outcome, if anything (see the module doc). */
const toStored = Effect.fnUntraced(function*(
  exit: Exit.Exit<HttpServerResponse.HttpServerResponse, unknown>
): Effect.fn.Return<IdempotencyKeys.StoredResponse | undefined> {
  if (Exit.isSuccess(exit)) {
    const response = exit.value
    if (response.status >= 500) return undefined
    const body = response.body
    if (body._tag === "Empty") return { status: response.status, body: "" }
    if (body._tag === "Uint8Array" && body.contentType.includes("json")) {
      return { status: response.status, body: new TextDecoder().decode(body.body) }
    }
    return undefined
  }
  const error = Cause.findErrorOption(exit.cause)
  if (Option.isNone(error) || Cause.hasDies(exit.cause) || Cause.hasInterrupts(exit.cause)) return undefined
  for (const schema of replayedRefusals) {
    const status = statusOf(schema)
    if (status === undefined || !Schema.is(schema)(error.value)) continue
    const encoded = yield* Schema.encodeUnknownEffect(schema)(error.value).pipe(Effect.option)
    return Option.isSome(encoded) ? { status, body: JSON.stringify(encoded.value) } : undefined
  }
  return undefined
})

const replay = (response: IdempotencyKeys.StoredResponse) => {
  const headers = { [replayedHeader]: "true" }
  return response.body === ""
    ? HttpServerResponse.empty({ status: response.status, headers })
    : HttpServerResponse.text(response.body, { status: response.status, contentType: "application/json", headers })
}

// The API's storage failure: 503 `unavailable` with Retry-After.
const unavailable = () => new StorageUnavailable({ message: "the database is unavailable; try again shortly" })

export const layer = Layer.effect(
  Idempotency,
  Effect.gen(function*() {
    const keys = yield* IdempotencyKeys.IdempotencyKeys
    return Idempotency.of((httpEffect, { endpoint }) =>
      Effect.gen(function*() {
        const request = yield* HttpServerRequest.HttpServerRequest
        const key = request.headers[keyHeader]
        if (safeMethods.has(request.method) || key === undefined) return yield* httpEffect
        if (!keyPattern.test(key)) {
          return yield* new BadRequest({
            error: "invalid_request",
            message: `Idempotency-Key: must be 1 to ${maxKeyLength} visible ASCII characters without spaces (a UUID, for instance)`
          })
        }
        const { team } = yield* CurrentTeam
        // The body is read once and kept: the endpoint decodes the same text afterwards. A body
        // that cannot be read fails the endpoint the same way; there is nothing to remember.
        const body = yield* Effect.option(request.text)
        if (Option.isNone(body)) return yield* httpEffect
        const params = { ...(yield* HttpRouter.params), team: team.id }
        const claimRequest = {
          teamId: team.id,
          key,
          fingerprint: fingerprint({ method: request.method, endpointPath: endpoint.path, params, body: body.value })
        }
        const claimed = yield* keys.claim(claimRequest, yield* Clock.currentTimeMillis).pipe(Effect.mapError(unavailable))
        switch (claimed._tag) {
          case "Replay":
            return replay(claimed.response)
          case "InFlight":
            return yield* new Conflict({
              error: "idempotency_key_in_flight",
              message: "a request with this Idempotency-Key is still being carried out; send it again in a moment for its answer"
            })
          case "Mismatch":
            return yield* new UnprocessableContent({
              error: "idempotency_key_reused",
              message:
                "Idempotency-Key: this key was used for another request (another endpoint, release or body) in the last 24 hours; use a new key for a new request"
            })
          case "Acquired": {
            const holder = { teamId: team.id, key, claimId: claimed.claimId }
            const exit = yield* Effect.exit(httpEffect)
            const stored = yield* toStored(exit)
            // The answer goes out whatever happens to the key: at worst a retry runs afresh.
            yield* (stored === undefined ? keys.release(holder) : keys.complete(holder, stored)).pipe(
              Effect.catch((error) => Effect.logWarning(`could not record the idempotency key's outcome: ${error.message}`))
            )
            return yield* exit
          }
        }
      })
    )
  })
)
