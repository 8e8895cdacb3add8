/**
 * The Sessions contract, run against every adapter: a session is found by its secret hash until
 * it expires or is ended; its last use is stamped at most once per `lastSeenResolutionMs`;
 * ending every session of a person keeps the one named and never touches anyone else's; lists
 * hold only live sessions, the most recently started first; expired sessions are dropped when
 * their person starts a new one. Time comes from the `TestClock`, as the server's handlers take
 * it from their `Clock`.
 *
 * `makeLayer` is called once per test and must give an empty store. Sessions belong to the users
 * `user-ada` and `user-bo` (`users`): an adapter whose sessions reference a users table has them.
 *
 * @since 0.1.0 (moved from `@canaryroll/core/testing` in 0.2.0)
 */
import { assert, describe, it } from "@effect/vitest"
import { Clock, Effect, Option, type Layer } from "effect"
import { TestClock } from "effect/testing"
import { Sessions } from "../../src/index.ts"

/** The people the suite's sessions belong to. */
export const users = ["user-ada", "user-bo"] as const

/** 2026-01-01T00:00:00Z, in epoch milliseconds. */
const t0 = 1_767_225_600_000
const hour = 3_600_000

const hash = (name: string) => name.padEnd(64, "0")

export const suite = (name: string, makeLayer: () => Layer.Layer<Sessions.Sessions, unknown>) => {
  const test = <A, E>(title: string, body: () => Effect.Effect<A, E, Sessions.Sessions>) =>
    // The clock is set before the layer is built: a database client built at the TestClock's
    // epoch waits on timers that never fire.
    it.effect(title, () => Effect.andThen(TestClock.setTime(t0), body().pipe(Effect.provide(makeLayer(), { local: true }))))

  /** Starts a session of `userId` now, living for `hours`. */
  const start = (key: string, userId: string, options: { readonly hours?: number; readonly userAgent?: string | null } = {}) =>
    Effect.gen(function*() {
      const sessions = yield* Sessions.Sessions
      const now = yield* Clock.currentTimeMillis
      return yield* sessions.create({
        id: `session-${key}`,
        secretHash: hash(key),
        userId,
        expiresAt: now + (options.hours ?? 24) * hour,
        userAgent: options.userAgent === undefined ? "Mozilla/5.0 (test)" : options.userAgent
      }, now)
    })

  const touch = (key: string) =>
    Effect.gen(function*() {
      const sessions = yield* Sessions.Sessions
      return yield* sessions.touch(hash(key), yield* Clock.currentTimeMillis)
    })

  const listed = (userId: string) =>
    Effect.gen(function*() {
      const sessions = yield* Sessions.Sessions
      return (yield* sessions.list(userId, yield* Clock.currentTimeMillis)).map((session) => session.id)
    })

  describe(`Sessions contract (${name})`, () => {
    test("a new session is found by its secret hash, with what it was started with", () =>
      Effect.gen(function*() {
        const created = yield* start("a", "user-ada", { userAgent: "Firefox" })
        const expected: Sessions.Session = {
          id: "session-a",
          userId: "user-ada",
          createdAt: t0,
          lastSeenAt: t0,
          expiresAt: t0 + 24 * hour,
          userAgent: "Firefox"
        }
        assert.deepStrictEqual(created, expected)
        assert.deepStrictEqual(yield* touch("a"), Option.some(expected))
        assert.isTrue(Option.isNone(yield* touch("unknown")), "an unknown hash")
        const anonymous = yield* start("b", "user-ada", { userAgent: null })
        assert.isNull(anonymous.userAgent)
      }))

    test("a session is not found, listed or counted once it has expired", () =>
      Effect.gen(function*() {
        const sessions = yield* Sessions.Sessions
        yield* start("short", "user-ada", { hours: 1 })
        yield* start("long", "user-ada", { hours: 3 })
        yield* TestClock.adjust("1 hour")
        assert.isTrue(Option.isNone(yield* touch("short")), "expired exactly at expiresAt")
        assert.isTrue(Option.isSome(yield* touch("long")))
        assert.deepStrictEqual(yield* listed("user-ada"), ["session-long"])
        assert.strictEqual(yield* sessions.endAll("user-ada", { now: yield* Clock.currentTimeMillis }), 1, "only the live one counts")
      }))

    test("the last use is stamped at most once per resolution", () =>
      Effect.gen(function*() {
        yield* start("a", "user-ada")
        yield* TestClock.adjust(Sessions.lastSeenResolutionMs - 1)
        assert.strictEqual(Option.getOrThrow(yield* touch("a")).lastSeenAt, t0, "within the resolution: not rewritten")
        yield* TestClock.adjust(1)
        const stamped = t0 + Sessions.lastSeenResolutionMs
        assert.strictEqual(Option.getOrThrow(yield* touch("a")).lastSeenAt, stamped)
        yield* TestClock.adjust(30_000)
        assert.strictEqual(Option.getOrThrow(yield* touch("a")).lastSeenAt, stamped)
        const sessions = yield* Sessions.Sessions
        const [listedSession] = yield* sessions.list("user-ada", yield* Clock.currentTimeMillis)
        assert.strictEqual(listedSession?.lastSeenAt, stamped, "the list shows the stamp")
        assert.strictEqual(listedSession?.createdAt, t0, "the start stays")
      }))

    test("end ends one session", () =>
      Effect.gen(function*() {
        const sessions = yield* Sessions.Sessions
        yield* start("a", "user-ada")
        yield* start("b", "user-ada")
        assert.isTrue(yield* sessions.end(hash("a")))
        assert.isFalse(yield* sessions.end(hash("a")), "already ended")
        assert.isTrue(Option.isNone(yield* touch("a")))
        assert.isTrue(Option.isSome(yield* touch("b")))
      }))

    test("endAll ends every session of the person but the one kept, and nobody else's", () =>
      Effect.gen(function*() {
        const sessions = yield* Sessions.Sessions
        for (const key of ["a1", "a2", "a3"]) yield* start(key, "user-ada")
        yield* start("b1", "user-bo")
        const now = yield* Clock.currentTimeMillis
        assert.strictEqual(yield* sessions.endAll("user-ada", { now, except: "session-a2" }), 2)
        assert.isTrue(Option.isNone(yield* touch("a1")))
        assert.isTrue(Option.isSome(yield* touch("a2")), "the kept one")
        assert.isTrue(Option.isNone(yield* touch("a3")))
        assert.isTrue(Option.isSome(yield* touch("b1")), "another person's")
        assert.strictEqual(yield* sessions.endAll("user-ada", { now, except: "session-b1" }), 1, "except names only the person's own")
        assert.isTrue(Option.isNone(yield* touch("a2")))
        assert.isTrue(Option.isSome(yield* touch("b1")))
        assert.strictEqual(yield* sessions.endAll("user-ada", { now }), 0, "nothing left")
        assert.strictEqual(yield* sessions.endAll("user-bo", { now }), 1)
        assert.isTrue(Option.isNone(yield* touch("b1")))
      }))

    test("a person's list holds their live sessions, the most recently started first", () =>
      Effect.gen(function*() {
        yield* start("first", "user-ada")
        yield* TestClock.adjust("1 minute")
        yield* start("second", "user-ada")
        yield* start("theirs", "user-bo")
        yield* TestClock.adjust("1 minute")
        yield* start("third", "user-ada")
        assert.deepStrictEqual(yield* listed("user-ada"), ["session-third", "session-second", "session-first"])
        assert.deepStrictEqual(yield* listed("user-bo"), ["session-theirs"])
        assert.deepStrictEqual(yield* listed("user-nobody"), [])
      }))

    test("starting a session drops the person's expired ones", () =>
      Effect.gen(function*() {
        const sessions = yield* Sessions.Sessions
        yield* start("old", "user-ada", { hours: 1 })
        yield* start("theirs", "user-bo", { hours: 1 })
        yield* TestClock.adjust("2 hours")
        yield* start("new", "user-ada")
        // Back before the old one expired: had it been kept, it would be found again.
        yield* TestClock.setTime(t0)
        assert.isTrue(Option.isNone(yield* touch("old")), "dropped")
        assert.isTrue(Option.isSome(yield* touch("theirs")), "another person's expired session is left to its person")
        assert.isFalse(yield* sessions.end(hash("old")))
      }))
  })
}
