/**
 * The Scheduler contract, run against every adapter: a release has at most one due time, which
 * `schedule` sets or replaces and `unschedule` removes; `due(now, limit)` returns the releases
 * due at or before `now`, earliest first, at most `limit`; `nextDueAt` is the earliest due time
 * of any scheduled release, due yet or not.
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
  })
}
