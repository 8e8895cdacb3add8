/**
 * The Scheduler contract, run against every adapter: a release has at most one due time, which
 * `schedule` sets or replaces and `unschedule` removes; `due(now, limit)` returns the releases
 * due at or before `now`, earliest first, at most `limit`; `nextDueAt` is the earliest due time
 * of any scheduled release, due yet or not. `claim` leases due releases to one owner at a time;
 * `schedule` ends the lease, `renew` extends it, `release` gives it up, and an expired lease can
 * be claimed by anyone (a crashed process's work is recovered).
 *
 * `makeLayer` is called once per test and must give a scheduler with nothing scheduled.
 *
 * @since 0.1.0
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer, Option } from "effect"
import { Scheduler } from "../../src/index.ts"

/** 2026-01-01T00:00:00Z, in epoch milliseconds like every due time. */
const t0 = 1_767_225_600_000
const minutes = (n: number) => t0 + n * 60_000

export const suite = (name: string, makeLayer: () => Layer.Layer<Scheduler.Scheduler, unknown>) => {
  const test = <A, E>(title: string, body: () => Effect.Effect<A, E, Scheduler.Scheduler>) =>
    it.effect(title, () => body().pipe(Effect.provide(makeLayer(), { local: true })))

  describe(`Scheduler contract (${name})`, () => {
    test("a scheduled release is due from its due time on, not before", () =>
      Effect.gen(function*() {
        const scheduler = yield* Scheduler.Scheduler
        yield* scheduler.schedule("release-1", minutes(5))
        assert.deepStrictEqual(yield* scheduler.due(minutes(5) - 1, 10), [])
        assert.deepStrictEqual(yield* scheduler.due(minutes(5), 10), [{ releaseId: "release-1", dueAt: minutes(5) }])
        assert.deepStrictEqual(yield* scheduler.due(minutes(60), 10), [{ releaseId: "release-1", dueAt: minutes(5) }])
      }))

    test("due returns only due releases, earliest first, at most limit", () =>
      Effect.gen(function*() {
        const scheduler = yield* Scheduler.Scheduler
        yield* scheduler.schedule("release-c", minutes(3))
        yield* scheduler.schedule("release-later", minutes(30))
        yield* scheduler.schedule("release-a", minutes(1))
        yield* scheduler.schedule("release-d", minutes(4))
        yield* scheduler.schedule("release-b", minutes(2))
        assert.deepStrictEqual(yield* scheduler.due(minutes(10), 10), [
          { releaseId: "release-a", dueAt: minutes(1) },
          { releaseId: "release-b", dueAt: minutes(2) },
          { releaseId: "release-c", dueAt: minutes(3) },
          { releaseId: "release-d", dueAt: minutes(4) }
        ])
        assert.deepStrictEqual(yield* scheduler.due(minutes(10), 2), [
          { releaseId: "release-a", dueAt: minutes(1) },
          { releaseId: "release-b", dueAt: minutes(2) }
        ])
        assert.deepStrictEqual(yield* scheduler.due(minutes(0), 10), [])
      }))

    // `runDue` relies on this: a tick that fails leaves its release due, so the next run retries it.
    test("due does not consume: a release stays due until it is rescheduled or unscheduled", () =>
      Effect.gen(function*() {
        const scheduler = yield* Scheduler.Scheduler
        yield* scheduler.schedule("release-1", minutes(1))
        assert.lengthOf(yield* scheduler.due(minutes(1), 10), 1)
        assert.lengthOf(yield* scheduler.due(minutes(1), 10), 1)
      }))

    test("schedule replaces the release's due time, later or earlier", () =>
      Effect.gen(function*() {
        const scheduler = yield* Scheduler.Scheduler
        yield* scheduler.schedule("release-1", minutes(1))
        yield* scheduler.schedule("release-1", minutes(10))
        assert.deepStrictEqual(yield* scheduler.due(minutes(5), 10), [])
        assert.deepStrictEqual(yield* scheduler.due(minutes(10), 10), [{ releaseId: "release-1", dueAt: minutes(10) }])
        yield* scheduler.schedule("release-1", minutes(2))
        assert.deepStrictEqual(yield* scheduler.due(minutes(60), 10), [{ releaseId: "release-1", dueAt: minutes(2) }])
        assert.deepStrictEqual(yield* scheduler.nextDueAt, Option.some(minutes(2)))
      }))

    test("unschedule removes the release; unscheduling an unknown release is a no-op", () =>
      Effect.gen(function*() {
        const scheduler = yield* Scheduler.Scheduler
        yield* scheduler.schedule("release-1", minutes(1))
        yield* scheduler.schedule("release-2", minutes(2))
        yield* scheduler.unschedule("release-1")
        yield* scheduler.unschedule("release-unknown")
        assert.deepStrictEqual(yield* scheduler.due(minutes(60), 10), [{ releaseId: "release-2", dueAt: minutes(2) }])
        yield* scheduler.unschedule("release-2")
        assert.deepStrictEqual(yield* scheduler.due(minutes(60), 10), [])
        assert.deepStrictEqual(yield* scheduler.nextDueAt, Option.none())
      }))

    test("nextDueAt is the earliest due time, due yet or not, and follows schedule and unschedule", () =>
      Effect.gen(function*() {
        const scheduler = yield* Scheduler.Scheduler
        assert.deepStrictEqual(yield* scheduler.nextDueAt, Option.none())
        yield* scheduler.schedule("release-1", minutes(20))
        yield* scheduler.schedule("release-2", minutes(10))
        yield* scheduler.schedule("release-3", minutes(30))
        assert.deepStrictEqual(yield* scheduler.nextDueAt, Option.some(minutes(10)))
        yield* scheduler.unschedule("release-2")
        assert.deepStrictEqual(yield* scheduler.nextDueAt, Option.some(minutes(20)))
        yield* scheduler.schedule("release-3", minutes(5))
        assert.deepStrictEqual(yield* scheduler.nextDueAt, Option.some(minutes(5)))
      }))

    test("claim leases due releases to one owner; others cannot claim them until the lease ends", () =>
      Effect.gen(function*() {
        const scheduler = yield* Scheduler.Scheduler
        yield* scheduler.schedule("release-1", minutes(1))
        yield* scheduler.schedule("release-2", minutes(2))
        yield* scheduler.schedule("release-3", minutes(60))
        const now = minutes(5)
        assert.deepStrictEqual(yield* scheduler.claim("a", now, 10, 10_000), [
          { releaseId: "release-1", dueAt: minutes(1) },
          { releaseId: "release-2", dueAt: minutes(2) }
        ])
        assert.deepStrictEqual(yield* scheduler.claim("b", now + 1_000, 10, 10_000), [])
        // claiming looks, it does not consume
        assert.lengthOf(yield* scheduler.due(now, 10), 2)
        // an expired lease is anyone's
        assert.deepStrictEqual(
          (yield* scheduler.claim("b", now + 10_000, 10, 10_000)).map((d) => d.releaseId),
          ["release-1", "release-2"]
        )
      }))

    test("claim respects limit and takes the earliest first", () =>
      Effect.gen(function*() {
        const scheduler = yield* Scheduler.Scheduler
        for (let i = 5; i >= 1; i--) yield* scheduler.schedule(`release-${i}`, minutes(i))
        assert.deepStrictEqual((yield* scheduler.claim("a", minutes(10), 2, 10_000)).map((d) => d.releaseId), [
          "release-1",
          "release-2"
        ])
        assert.deepStrictEqual((yield* scheduler.claim("b", minutes(10), 10, 10_000)).map((d) => d.releaseId), [
          "release-3",
          "release-4",
          "release-5"
        ])
      }))

    test("the holder's schedule ends its lease: the next due time is claimable by anyone", () =>
      Effect.gen(function*() {
        const scheduler = yield* Scheduler.Scheduler
        yield* scheduler.schedule("release-1", minutes(1))
        yield* scheduler.claim("a", minutes(1), 10, 60_000)
        yield* scheduler.schedule("release-1", minutes(2), "a")
        assert.deepStrictEqual(yield* scheduler.claim("b", minutes(2), 10, 60_000), [
          { releaseId: "release-1", dueAt: minutes(2) }
        ])
      }))

    test("anyone else's schedule keeps the lease: a step still running is not handed to another", () =>
      Effect.gen(function*() {
        const scheduler = yield* Scheduler.Scheduler
        yield* scheduler.schedule("release-1", minutes(1))
        yield* scheduler.claim("a", minutes(1), 10, 60_000)
        // a person's request, handled elsewhere, makes the release due now
        yield* scheduler.schedule("release-1", minutes(1))
        yield* scheduler.schedule("release-1", minutes(1), "b")
        assert.deepStrictEqual(yield* scheduler.claim("b", minutes(1) + 1_000, 10, 60_000), [])
        assert.deepStrictEqual(yield* scheduler.due(minutes(1), 10), [{ releaseId: "release-1", dueAt: minutes(1) }])
        // once the lease has run out, anyone may claim it
        assert.deepStrictEqual((yield* scheduler.claim("b", minutes(2), 10, 60_000)).map((d) => d.releaseId), ["release-1"])
      }))

    test("renew extends only the owner's lease; release gives it up", () =>
      Effect.gen(function*() {
        const scheduler = yield* Scheduler.Scheduler
        yield* scheduler.schedule("release-1", minutes(1))
        yield* scheduler.schedule("release-2", minutes(1))
        const now = minutes(1)
        yield* scheduler.claim("a", now, 10, 10_000)
        yield* scheduler.renew("a", ["release-1"], now + 8_000, 10_000)
        yield* scheduler.renew("b", ["release-2"], now + 8_000, 10_000)
        // release-1 was renewed until now + 18 s; release-2's lease ended at now + 10 s
        assert.deepStrictEqual((yield* scheduler.claim("b", now + 12_000, 10, 10_000)).map((d) => d.releaseId), [
          "release-2"
        ])
        yield* scheduler.release("a", ["release-1"])
        assert.deepStrictEqual((yield* scheduler.claim("b", now + 12_000, 10, 10_000)).map((d) => d.releaseId), [
          "release-1"
        ])
      }))
  })
}
