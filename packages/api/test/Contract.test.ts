/**
 * The contract's own promises, without a server: errors carry a `_tag` while their bodies stay
 * `{ error, message }`; the one 503 tells a storage failure (with `Retry-After`) from the others;
 * query parameters are parsed into values, or refused with a message a person reads.
 */
import { assert, describe, it } from "@effect/vitest"
import { Result, Schema } from "effect"
import { ApiError, Schemas } from "../src/index.ts"

const decodeQuery = <S extends Schema.Codec<unknown, string>>(schema: S) => (text: string) =>
  Schema.decodeUnknownResult(schema)(text)

const messageOf = (result: Result.Result<unknown, Schema.SchemaError>) =>
  Result.isFailure(result) ? result.failure.message : "decoded"

describe("errors", () => {
  it("carry a _tag; the body is { error, message } only", () => {
    const refused = new ApiError.Conflict({ error: "invalid_state", message: "the release is over" })
    assert.strictEqual(refused._tag, "Conflict")
    assert.deepStrictEqual(Schema.encodeSync(ApiError.Conflict)(refused), { error: "invalid_state", message: "the release is over" })
  })

  it("503: a storage failure comes with Retry-After, Cloudflare's without; each decodes to its own tag", () => {
    const encode = Schema.encodeSync(ApiError.ServiceUnavailable)
    const decode = Schema.decodeSync(ApiError.ServiceUnavailable)
    const storage = encode(new ApiError.StorageUnavailable({ message: "the database is unavailable" }))
    assert.deepStrictEqual(storage, {
      body: { error: "unavailable", message: "the database is unavailable" },
      headers: { "retry-after": "5" }
    })
    const cloudflare = encode(new ApiError.Unavailable({ error: "cloudflare_unavailable", message: "Cloudflare is down" }))
    assert.deepStrictEqual(cloudflare, { body: { error: "cloudflare_unavailable", message: "Cloudflare is down" }, headers: {} })
    assert.strictEqual(decode(storage)._tag, "StorageUnavailable")
    assert.strictEqual(decode(cloudflare)._tag, "Unavailable")
  })
})

describe("query parameters", () => {
  it("status: a comma-separated list of known statuses", () => {
    const status = decodeQuery(Schemas.StatusList)
    assert.deepStrictEqual(status("pending, paused,"), Result.succeed(["pending", "paused"]))
    assert.include(messageOf(status("pending,bogus")), `unknown status "bogus"`)
  })

  it("limit: an integer from 1 to 200", () => {
    const limit = decodeQuery(Schemas.Limit)
    assert.deepStrictEqual(limit("20"), Result.succeed(20))
    for (const text of ["0", "201", "1.5", "ten"]) assert.isTrue(Result.isFailure(limit(text)), text)
    assert.include(messageOf(limit("201")), "must be an integer from 1 to 200, got 201")
  })

  it("actor: user:{id}, token:{id} or system", () => {
    const actor = decodeQuery(Schemas.Actor)
    assert.deepStrictEqual(actor("user:usr_1"), Result.succeed({ _tag: "User", id: "usr_1" }))
    assert.deepStrictEqual(actor("token:tok_1"), Result.succeed({ _tag: "Token", id: "tok_1" }))
    assert.deepStrictEqual(actor("system"), Result.succeed({ _tag: "System" }))
    assert.include(messageOf(actor("somebody")), "must be user:<id>, token:<id> or system")
  })

  it("from, to: ISO 8601 times as epoch milliseconds", () => {
    const time = decodeQuery(Schemas.Time)
    assert.deepStrictEqual(time("2026-11-26T10:00:00Z"), Result.succeed(Date.parse("2026-11-26T10:00:00Z")))
    assert.include(messageOf(time("yesterday")), "must be an ISO 8601 time")
  })
})
