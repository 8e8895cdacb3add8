/**
 * SchedulerLoop: what a server process runs to step releases on a shared Postgres. One fiber
 * calls `Orchestrator.runDue` (claim, step with renewed leases, reschedule) for as long as
 * anything is due, then sleeps until the earliest of:
 * - the moment something may become claimable (`PgScheduler.nextClaimableIn`, measured with
 *   the database's clock, so a process whose clock is off does not oversleep);
 * - a `NOTIFY` from `PgScheduler.schedule` (something became due sooner) or from leases given up;
 * - the safety poll (default 1 s), for a notification lost while the listener was reconnecting
 *   or to a narrow race between a schedule and a claim committing at once.
 *
 * Clocks: claims follow the database's clock, but the orchestrator decides what a release needs
 * with the process's `Clock`. A process whose clock is behind the database's by d may claim a
 * release that is not due yet by its own clock; the tick then only reschedules it, and the loop
 * looks again at once, so it spins for at most d. Keep the servers' clocks synchronised (NTP).
 *
 * Every wake-up only makes the loop look, so a spurious one costs a query, never a wrong step.
 * A failed query (database down or restarting) is logged and retried with capped exponential
 * backoff: reconnecting is the pool's job (`@effect/sql-pg` replaces dead connections on the next
 * checkout), and the listener re-subscribes by itself, waking the loop since it may have missed
 * a notification. Steps interrupted by an outage keep their lease until it ends and are then
 * recovered by whichever process claims them first.
 *
 * Closing the scope shuts down gracefully: no more claims, running steps get `shutdownTimeoutMs`
 * to finish (then they are interrupted; steps are idempotent), and every lease this owner still
 * holds is given up so that other processes take those releases at once instead of after the
 * lease.
 *
 * @since 0.1.0
 */
import { Orchestrator, Scheduler } from "@canaryroll/core"
import { PgClient } from "@effect/sql-pg"
import { Cause, Clock, Context, Deferred, Duration, Effect, Fiber, Layer, Option, Queue, type Scope, SubscriptionRef } from "effect"
import { randomBytes } from "node:crypto"
import * as os from "node:os"
import { PgScheduler } from "./PgScheduler.ts"

export interface Options {
  /** Who holds the leases. Default: hostname, pid and a random suffix (see `makeOwner`). */
  readonly owner?: string | undefined
  /** Releases claimed per run (default 100). */
  readonly limit?: number | undefined
  /** Lease length, renewed while a step runs (default `Scheduler.defaultLeaseMs`, 10 s). */
  readonly leaseMs?: number | undefined
  /** Releases stepped at once (default 16). */
  readonly concurrency?: number | undefined
  /** The longest the loop sleeps without looking (default 1,000 ms). */
  readonly safetyPollMs?: number | undefined
  /**
   * The longest one `runDue` may take before its steps are interrupted (default 300,000 ms): a
   * step that hangs must not wedge the loop. Their leases are then no longer renewed, so those
   * releases are retried, here or elsewhere, once the leases end.
   */
  readonly runTimeoutMs?: number | undefined
  /** How long a graceful shutdown waits for running steps before interrupting them (default 10,000 ms). */
  readonly shutdownTimeoutMs?: number | undefined
  /** The longest pause between attempts while the database fails (default 5,000 ms; the first is 100 ms). */
  readonly maxBackoffMs?: number | undefined
}

export type Phase = "starting" | "stepping" | "sleeping" | "backing_off" | "stopping" | "stopped"

/** What the loop is doing, for health endpoints and tests. */
export interface State {
  readonly phase: Phase
  /** Whether the `LISTEN` is in place; while it is not, only the safety poll and due times wake the loop. */
  readonly listening: boolean
  /** Failed attempts in a row (0 once the database answers again). */
  readonly failures: number
  readonly lastError: string | null
  /** Releases claimed since the start. */
  readonly claimed: number
}

export class SchedulerLoop extends Context.Service<SchedulerLoop, {
  readonly owner: string
  /** The loop's state and its changes (`SubscriptionRef.changes`). */
  readonly state: SubscriptionRef.SubscriptionRef<State>
  /** Makes the loop look now, as a notification would. */
  readonly wake: Effect.Effect<void>
}>()("@canaryroll/postgres/SchedulerLoop") {}

/** `hostname:pid:random`: readable in `release_schedule.lease_owner`, unique across restarts. */
export const makeOwner = (): string => `${os.hostname()}:${process.pid}:${randomBytes(4).toString("hex")}`

/** After a look that claimed nothing although something looked claimable (another claimer holds its row lock). */
const contendedPauseMs = 5
const firstBackoffMs = 100

const describe = (error: unknown): string =>
  typeof error === "object" && error !== null && "message" in error ? String(error.message) : String(error)

/**
 * Starts the loop in the current scope; it stops gracefully when the scope closes. Needs the
 * Orchestrator's ports (with `PgScheduler.layer` as the Scheduler) and the `PgClient` to listen on.
 */
export const start = (
  options: Options = {}
): Effect.Effect<
  SchedulerLoop["Service"],
  never,
  Scope.Scope | Orchestrator.Services | PgScheduler | PgClient.PgClient
> =>
  Effect.gen(function*() {
    const owner = options.owner ?? makeOwner()
    const limit = options.limit ?? 100
    const leaseMs = options.leaseMs ?? Scheduler.defaultLeaseMs
    const concurrency = options.concurrency ?? 16
    const safetyPollMs = options.safetyPollMs ?? 1_000
    const shutdownTimeoutMs = options.shutdownTimeoutMs ?? 10_000
    const runTimeoutMs = options.runTimeoutMs ?? 300_000
    const maxBackoffMs = options.maxBackoffMs ?? 5_000

    const pgScheduler = yield* PgScheduler
    const pg = yield* PgClient.PgClient
    const state = yield* SubscriptionRef.make<State>({
      phase: "starting",
      listening: false,
      failures: 0,
      lastError: null,
      claimed: 0
    })
    const update = (f: (s: State) => State) => SubscriptionRef.update(state, f)
    const phase = (phase: Phase) => update((s) => ({ ...s, phase }))

    // At most one pending wake-up: several notifications before the loop looks are one look.
    const wakeUps = yield* Queue.dropping<void>(1)
    const wake = Queue.offer(wakeUps, undefined).pipe(Effect.asVoid)
    const stop = yield* Deferred.make<void>()
    const stopping = () => Deferred.isDoneUnsafe(stop)

    const backoff = (failures: number) =>
      Duration.millis(
        Math.min(maxBackoffMs, firstBackoffMs * 2 ** Math.min(failures - 1, 16)) * (0.8 + Math.random() * 0.4)
      )

    /** Logs, counts and waits out a failed attempt; only a shutdown cuts the wait short. */
    const failed = (what: string, cause: Cause.Cause<unknown>) =>
      Effect.gen(function*() {
        const message = describe(Cause.squash(cause))
        const { failures } = yield* SubscriptionRef.updateAndGet(state, (s) => ({
          ...s,
          phase: "backing_off" as const,
          failures: s.failures + 1,
          lastError: `${what}: ${message}`
        }))
        yield* Effect.logWarning(`scheduler loop ${owner}: ${what} failed (${failures} in a row); retrying`, message)
        yield* Effect.raceFirst(Effect.sleep(backoff(failures)), Deferred.await(stop))
      })

    /** One look: step what is due; returns how long to sleep, 0 to look again at once. */
    const look = Effect.gen(function*() {
      yield* Queue.clear(wakeUps) // whatever woke us is covered by this look
      yield* phase("stepping")
      const run = yield* Orchestrator.runDue({ owner, limit, leaseMs, concurrency }).pipe(
        Effect.timeoutOption(Duration.millis(runTimeoutMs))
      )
      if (Option.isNone(run)) {
        yield* Effect.logWarning(
          `scheduler loop ${owner}: steps still running after ${runTimeoutMs} ms were interrupted; ` +
            `their releases are retried when their leases end`
        )
      }
      const claimed = Option.getOrElse(run, () => 0)
      yield* update((s) => ({ ...s, failures: 0, lastError: null, claimed: s.claimed + claimed }))
      if (claimed > 0) return 0 // more may have fallen due while these ran
      const wait = yield* pgScheduler.nextClaimableIn(yield* Clock.currentTimeMillis)
      if (Option.isNone(wait)) return safetyPollMs
      if (wait.value <= 0) return contendedPauseMs
      return Math.min(safetyPollMs, Math.ceil(wait.value))
    })

    const loop = Effect.gen(function*() {
      while (!stopping()) {
        const sleepMs = yield* look.pipe(
          // Interruption is a shutdown: let it through. Anything else (an outage, a bug in a
          // step) must not end the loop.
          Effect.catchCause((cause) =>
            Cause.hasInterruptsOnly(cause)
              ? Effect.failCause(cause)
              : failed("looking for due releases", cause).pipe(Effect.as(0))
          )
        )
        if (stopping() || sleepMs === 0) continue
        yield* phase("sleeping")
        yield* Effect.raceAll([Effect.sleep(Duration.millis(sleepMs)), Queue.take(wakeUps), Deferred.await(stop)])
      }
    })

    // The listener re-subscribes after any failure, and wakes the loop whenever it starts
    // listening again: a notification may have been sent while it was not.
    let listenFailures = 0
    const listenOnce = Effect.scoped(Effect.gen(function*() {
      const notifications = yield* pg.listen(pgScheduler.channel)
      listenFailures = 0
      yield* update((s) => ({ ...s, listening: true }))
      yield* wake
      return yield* Queue.take(notifications).pipe(Effect.andThen(wake), Effect.forever)
    }))
    const listener = Effect.gen(function*() {
      while (true) {
        yield* listenOnce.pipe(
          Effect.catchCause((cause) =>
            Cause.hasInterruptsOnly(cause) ? Effect.failCause(cause) : Effect.gen(function*() {
              yield* update((s) => ({ ...s, listening: false }))
              yield* Effect.logWarning(
                `scheduler loop ${owner}: LISTEN ${pgScheduler.channel} lost; subscribing again`,
                describe(Cause.squash(cause))
              )
              yield* Effect.sleep(backoff(++listenFailures))
            })
          )
        )
      }
    })

    const listenerFiber = yield* Effect.forkDetach(listener)
    const loopFiber = yield* Effect.forkDetach(loop)
    yield* Effect.logDebug(`scheduler loop started as ${owner}`)

    yield* Effect.addFinalizer(() =>
      Effect.gen(function*() {
        yield* Deferred.succeed(stop, undefined)
        yield* phase("stopping")
        const finished = yield* Fiber.await(loopFiber).pipe(Effect.timeoutOption(Duration.millis(shutdownTimeoutMs)))
        if (Option.isNone(finished)) {
          yield* Effect.logWarning(
            `scheduler loop ${owner}: steps still running after ${shutdownTimeoutMs} ms, interrupting them`
          )
          yield* Fiber.interrupt(loopFiber)
        }
        yield* Fiber.interrupt(listenerFiber)
        const released = yield* pgScheduler.releaseAll(owner).pipe(
          Effect.timeoutOption(Duration.millis(shutdownTimeoutMs)),
          Effect.catch((error) =>
            Effect.logWarning(`scheduler loop ${owner}: could not give up its leases; they end by themselves`, error.message)
              .pipe(Effect.as(Option.none()))
          )
        )
        if (Option.isSome(released) && released.value.length > 0) {
          yield* Effect.logInfo(`scheduler loop ${owner}: gave up ${released.value.length} lease(s) on shutdown`)
        }
        yield* update((s) => ({ ...s, phase: "stopped", listening: false }))
      })
    )

    return SchedulerLoop.of({ owner, state, wake })
  })

/** The loop as a layer: starts when built, shuts down gracefully when released. */
export const layer = (
  options: Options = {}
): Layer.Layer<SchedulerLoop, never, Orchestrator.Services | PgScheduler | PgClient.PgClient> =>
  Layer.effect(SchedulerLoop, start(options))
