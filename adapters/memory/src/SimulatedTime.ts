/**
 * Drives the orchestrator through simulated time: every scheduled step runs exactly at its due
 * time, and `TestClock` jumps from one due time to the next. It works over any ports (memory,
 * the Cloudflare simulator), which is how the harness and the Cloudflare integration tests share
 * one notion of "let an hour pass".
 *
 * @since 0.1.0
 */
import { Orchestrator, Scheduler } from "@canaryroll/core"
import { Clock, Duration, Effect, Option } from "effect"
import type { TestClock } from "effect/testing"

/** Guards against a release that keeps acting without time passing. */
export const maxStepsPerInstant = 10_000

/** Moves the test clock; simulated time cannot run on a live clock. */
export const moveClockTo = (time: number) =>
  Effect.withFiber((fiber) => {
    const clock = fiber.getRef(Clock.Clock) as Partial<TestClock.TestClock>
    return typeof clock.setTime === "function"
      ? clock.setTime(time)
      : Effect.die(new Error("simulated time needs TestClock: use it.effect, or provide TestClock.layer()"))
  })

/** How far time moves when a release is due but leased (a failed step waiting for its lease). */
export const leaseWaitStepMs = 1_000

/**
 * The next instant worth running: the next due time, or, when something is due already but was
 * not claimable (its lease has not run out), a little later.
 */
const nextInstant = (nextDueAt: number, now: number) => nextDueAt > now ? nextDueAt : now + leaseWaitStepMs

/** Runs everything due now, again and again, until nothing is due at this instant. */
export const drainNow: Effect.Effect<void, Orchestrator.Infrastructure, Orchestrator.Services> = Effect.gen(function*() {
  for (let i = 0; i < maxStepsPerInstant; i++) {
    const ran = yield* Orchestrator.runDue({ limit: 1_000 })
    if (ran === 0) return
  }
  return yield* Effect.die(new Error(`releases kept acting at the same instant ${maxStepsPerInstant} times`))
})

/** Moves the clock to `end` (epoch ms), running every due step at its due time. */
export const runTo = (end: number): Effect.Effect<void, Orchestrator.Infrastructure, Orchestrator.Services> =>
  Effect.gen(function*() {
    const scheduler = yield* Scheduler.Scheduler
    while (true) {
      yield* drainNow
      const next = yield* scheduler.nextDueAt
      const now = yield* Clock.currentTimeMillis
      if (Option.isNone(next) || next.value > end || now >= end) break
      yield* moveClockTo(Math.min(nextInstant(next.value, now), end))
    }
    if ((yield* Clock.currentTimeMillis) < end) yield* moveClockTo(end)
    yield* drainNow
  })

export const runFor = (
  duration: Duration.Input
): Effect.Effect<void, Orchestrator.Infrastructure, Orchestrator.Services> =>
  Effect.flatMap(Clock.currentTimeMillis, (now) => runTo(now + Duration.toMillis(Duration.fromInputUnsafe(duration))))

/**
 * Runs until nothing is scheduled (every release terminal, pending or waiting for a person) or
 * `limit` has passed; returns how long that took.
 */
export const runUntilSettled = (
  limit: Duration.Input
): Effect.Effect<Duration.Duration, Orchestrator.Infrastructure, Orchestrator.Services> =>
  Effect.gen(function*() {
    const scheduler = yield* Scheduler.Scheduler
    const start = yield* Clock.currentTimeMillis
    const end = start + Duration.toMillis(Duration.fromInputUnsafe(limit))
    while (true) {
      yield* drainNow
      const next = yield* scheduler.nextDueAt
      if (Option.isNone(next) || next.value > end) break
      yield* moveClockTo(nextInstant(next.value, yield* Clock.currentTimeMillis))
    }
    return Duration.millis((yield* Clock.currentTimeMillis) - start)
  })
