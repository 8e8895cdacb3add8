/**
 * The IdempotencyKeys contract (see the port's module doc), run against every layer: a key is
 * acquired once, replays its response to the same request and refuses another one; a running
 * request holds it until its lease ends; a released key is free again; keys are per team; a key
 * is forgotten a day after its first use. Time is the `TestClock`'s, passed in as the server's
 * middleware passes its `Clock`.
 *
 * `makeLayer` is called once per test and must give an empty store.
 *
 * @since 0.2.0
 */
import { assert, describe, it } from "@effect/vitest"
import { Clock, Effect, type Layer } from "effect"
import { TestClock } from "effect/testing"
import * as IdempotencyKeys from "../../src/directory/IdempotencyKeys.ts"

/** 2026-01-01T00:00:00Z, in epoch milliseconds. */
const t0 = 1_767_225_600_000

const advance = { teamId: "team-a", key: "key-1", fingerprint: "advance-from-0" }
const answer = { status: 200, body: "{\"id\":\"dep_1\",\"currentStep\":1}" }

export const suite = (name: string, makeLayer: () => Layer.Layer<IdempotencyKeys.IdempotencyKeys, unknown>) => {
  const test = <A, E>(title: string, body: () => Effect.Effect<A, E, IdempotencyKeys.IdempotencyKeys>) =>
    // The clock is set before the layer is built: a database client built at the TestClock's
    // epoch waits on timers that never fire.
    it.effect(title, () => Effect.andThen(TestClock.setTime(t0), body().pipe(Effect.provide(makeLayer(), { local: true }))))

  const claim = (request: IdempotencyKeys.KeyRequest) =>
    Effect.gen(function*() {
      const keys = yield* IdempotencyKeys.IdempotencyKeys
      return yield* keys.claim(request, yield* Clock.currentTimeMillis)
    })

  /** Claims a key that must be free, and returns its holder. */
  const acquire = (request: IdempotencyKeys.KeyRequest) =>
    Effect.map(claim(request), (claimed) => {
      if (claimed._tag !== "Acquired") return assert.fail(`expected the key to be acquired, got ${claimed._tag}`)
      return { teamId: request.teamId, key: request.key, claimId: claimed.claimId }
    })

  const complete = (holder: IdempotencyKeys.Holder, response: IdempotencyKeys.StoredResponse) =>
    IdempotencyKeys.IdempotencyKeys.use((keys) => keys.complete(holder, response))
  const release = (holder: IdempotencyKeys.Holder) => IdempotencyKeys.IdempotencyKeys.use((keys) => keys.release(holder))

  describe(`IdempotencyKeys contract (${name})`, () => {
    test("a new key is acquired; once completed, the same request replays its response", () =>
      Effect.gen(function*() {
        const holder = yield* acquire(advance)
        yield* complete(holder, answer)
        assert.deepStrictEqual(yield* claim(advance), { _tag: "Replay", response: answer })
        assert.deepStrictEqual(yield* claim(advance), { _tag: "Replay", response: answer }, "as often as it is asked")
      }))

    test("an empty body is remembered as such", () =>
      Effect.gen(function*() {
        yield* complete(yield* acquire(advance), { status: 204, body: "" })
        assert.deepStrictEqual(yield* claim(advance), { _tag: "Replay", response: { status: 204, body: "" } })
      }))

    test("the key with another request is a mismatch, completed or still running", () =>
      Effect.gen(function*() {
        const running = yield* acquire(advance)
        assert.deepStrictEqual(yield* claim({ ...advance, fingerprint: "pause" }), { _tag: "Mismatch" })
        yield* complete(running, answer)
        assert.deepStrictEqual(yield* claim({ ...advance, fingerprint: "pause" }), { _tag: "Mismatch" })
        assert.deepStrictEqual(yield* claim(advance), { _tag: "Replay", response: answer }, "the mismatch changed nothing")
      }))

    test("a running request holds the key until its lease ends; then a retry takes it over", () =>
      Effect.gen(function*() {
        const first = yield* acquire(advance)
        assert.deepStrictEqual(yield* claim(advance), { _tag: "InFlight" })
        yield* TestClock.adjust(IdempotencyKeys.leaseMs - 1)
        assert.deepStrictEqual(yield* claim(advance), { _tag: "InFlight" })
        yield* TestClock.adjust(1)
        const second = yield* acquire(advance)
        assert.notStrictEqual(second.claimId, first.claimId)
        // The first holder, back from the dead, changes nothing any more.
        yield* complete(first, { status: 409, body: "{}" })
        yield* release(first)
        assert.deepStrictEqual(yield* claim(advance), { _tag: "InFlight" })
        yield* complete(second, answer)
        assert.deepStrictEqual(yield* claim(advance), { _tag: "Replay", response: answer })
      }))

    test("an expired lease is not taken over by another request", () =>
      Effect.gen(function*() {
        yield* acquire(advance)
        yield* TestClock.adjust(IdempotencyKeys.leaseMs)
        assert.deepStrictEqual(yield* claim({ ...advance, fingerprint: "pause" }), { _tag: "Mismatch" })
      }))

    test("a released key is free again; completing it twice keeps the first response", () =>
      Effect.gen(function*() {
        yield* release(yield* acquire(advance))
        const holder = yield* acquire(advance)
        yield* complete(holder, answer)
        yield* complete(holder, { status: 500, body: "{}" })
        yield* release(holder)
        assert.deepStrictEqual(yield* claim(advance), { _tag: "Replay", response: answer }, "a completed key is not released")
      }))

    test("keys are per team: team B's key of the same name is another key", () =>
      Effect.gen(function*() {
        yield* complete(yield* acquire(advance), answer)
        const teamB = yield* acquire({ ...advance, teamId: "team-b" })
        assert.deepStrictEqual(yield* claim({ ...advance, teamId: "team-b" }), { _tag: "InFlight" })
        yield* complete(teamB, { status: 409, body: "{\"error\":\"invalid_state\"}" })
        assert.deepStrictEqual(yield* claim(advance), { _tag: "Replay", response: answer })
        assert.deepStrictEqual(yield* claim({ ...advance, teamId: "team-b" }), {
          _tag: "Replay",
          response: { status: 409, body: "{\"error\":\"invalid_state\"}" }
        })
      }))

    test("a key is kept 24 hours after its first use, then forgotten", () =>
      Effect.gen(function*() {
        yield* complete(yield* acquire(advance), answer)
        yield* TestClock.adjust(IdempotencyKeys.retentionMs - 1)
        assert.deepStrictEqual(yield* claim(advance), { _tag: "Replay", response: answer })
        assert.deepStrictEqual(yield* claim({ ...advance, fingerprint: "pause" }), { _tag: "Mismatch" })
        yield* TestClock.adjust(1)
        // Forgotten: the key may now name any request, and it starts a new day.
        const again = yield* acquire({ ...advance, fingerprint: "pause" })
        yield* complete(again, { status: 200, body: "{}" })
        yield* TestClock.adjust(IdempotencyKeys.retentionMs - 1)
        assert.deepStrictEqual(yield* claim({ ...advance, fingerprint: "pause" }), { _tag: "Replay", response: { status: 200, body: "{}" } })
      }))

    test("a key never completed is forgotten after 24 hours too", () =>
      Effect.gen(function*() {
        yield* acquire(advance)
        yield* TestClock.adjust(IdempotencyKeys.retentionMs)
        yield* acquire({ ...advance, fingerprint: "pause" })
      }))

    test("requests racing for a new key: exactly one acquires it", () =>
      Effect.gen(function*() {
        const claims = yield* Effect.all(Array.from({ length: 8 }, () => claim(advance)), { concurrency: "unbounded" })
        assert.deepStrictEqual(
          claims.map((claimed) => claimed._tag).sort(),
          ["Acquired", ...Array.from({ length: 7 }, () => "InFlight")]
        )
      }))
  })
}
