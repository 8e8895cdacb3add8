/**
 * The orchestrator runs one step of a release: load the events, fold, ask `nextAction`, perform
 * its one side effect if due, decide the resulting command, append with the expected version,
 * and schedule the next due time. A version conflict means someone else acted in between: reload
 * and recompute. Side effects are idempotent (a split that is already live is recorded, not
 * deployed again), so a crash between the side effect and the append is harmless.
 *
 * @since 0.1.0
 */
import { Clock, Effect, Fiber, Schema } from "effect"
import { ActiveReleases, type ActiveReleasesUnavailable } from "./ActiveReleases.ts"
import * as Actor from "./Actor.ts"
import { EventStore, type EventStoreUnavailable, type RecordedEvent } from "./EventStore.ts"
import { HealthSource } from "./HealthSource.ts"
import * as NextAction from "./NextAction.ts"
import type * as PersonCommand from "./PersonCommand.ts"
import * as Release from "./Release.ts"
import type * as Command from "./ReleaseCommand.ts"
import * as ReleaseDecider from "./ReleaseDecider.ts"
import type { ReleaseEvent } from "./ReleaseEvent.ts"
import { defaultLeaseMs, Scheduler, type SchedulerUnavailable } from "./Scheduler.ts"
import { TrafficRouter, type TrafficRouterError, type WorkerTarget } from "./TrafficRouter.ts"
import * as TrafficSplit from "./TrafficSplit.ts"

export type Services = EventStore | Scheduler | TrafficRouter | HealthSource | ActiveReleases
export type Infrastructure = EventStoreUnavailable | SchedulerUnavailable | ActiveReleasesUnavailable

/**
 * A claim on a Worker by a release still `pending` this long is taken for a start that died
 * half-way (the claim is made before the start is recorded), and may be taken over.
 */
export const abandonedClaimMs = 2 * 60_000

/** How long a release waits after a step whose outcome the decider refused, before trying again. */
export const rejectedStepBackoffMs = 30_000

/** How many times a step is recomputed after version conflicts before giving up for this wake-up. */
export const maxConflictRetries = 8

export class ReleaseBusy extends Schema.TaggedError<ReleaseBusy>()("ReleaseBusy", {
  releaseId: Schema.String,
  message: Schema.String
}) {}

export interface Loaded {
  readonly state: Release.ReleaseState
  readonly version: number
  readonly events: ReadonlyArray<RecordedEvent>
}

export const load = Effect.fnUntraced(function*(releaseId: string) {
  const store = yield* EventStore
  const events = yield* store.readStream(releaseId)
  return {
    state: Release.fold(events.map((recorded) => recorded.event)),
    version: events.length,
    events
  } satisfies Loaded
})

const targetOf = (release: Release.Release): WorkerTarget => ({
  accountId: release.accountId,
  scriptName: release.scriptName
})

/**
 * Keeps the scheduler in line with what the release needs next. `owner` is the lease holder
 * when a claimed step reschedules (ending its lease); a person's request passes none.
 */
const reschedule = Effect.fnUntraced(function*(
  releaseId: string,
  state: Release.ReleaseState,
  now: number,
  owner: string | undefined
) {
  const scheduler = yield* Scheduler
  const next = NextAction.nextAction(state, now)
  const dueAt = NextAction.dueAt(next)
  if (dueAt !== undefined || owner === undefined) {
    // A person's request never removes the row another process may be stepping: a due time of
    // now makes the holder (or, after its lease, anyone) look again and find nothing to do.
    return yield* scheduler.schedule(releaseId, dueAt ?? now, owner)
  }
  yield* scheduler.unschedule(releaseId)
  // `state` may be stale: a person's start or resume can append, and schedule the release,
  // between our read and the delete, which would leave a running release with no due time at
  // all. So a release read as pending or paused is read again after the delete: whoever appended
  // later also scheduled after it. One that ended stays ended, and one not created yet waits for
  // its start, which schedules it.
  if (next._tag !== "Wait" || (next.reason !== "pending" && next.reason !== "paused")) return
  const latest = yield* load(releaseId)
  const latestDueAt = NextAction.dueAt(NextAction.nextAction(latest.state, now))
  if (latestDueAt !== undefined) yield* scheduler.schedule(releaseId, latestDueAt, owner)
})

const freeWorker = Effect.fnUntraced(function*(release: Release.Release) {
  const active = yield* ActiveReleases
  yield* active.free(release.workerId, release.releaseId)
})

/**
 * Claims the release's Worker: at most one release is in progress or paused per Worker. A holder
 * that ended, no longer exists, or is a start that died half-way (pending for longer than
 * `abandonedClaimMs`) is replaced; any other holder makes this a `WorkerBusy`.
 */
const claimWorker = Effect.fnUntraced(function*(release: Release.Release, now: number) {
  const active = yield* ActiveReleases
  yield* active.claim(release.workerId, release.releaseId, now).pipe(
    Effect.catchTag("WorkerBusy", (busy) =>
      Effect.gen(function*() {
        const holder = (yield* load(busy.holder)).state
        const abandoned = !Release.exists(holder) || Release.isTerminal(holder) ||
          (holder.status === "pending" && now - busy.since > abandonedClaimMs)
        if (!abandoned) return yield* busy
        yield* active.claim(release.workerId, release.releaseId, now, { replacing: busy.holder })
      }))
  )
})

/**
 * Runs `attempt` against freshly loaded state and appends what it decides; on a version conflict
 * the whole attempt, side effect included, is recomputed from the newer events.
 */
const decideAndAppend = <E, R>(
  releaseId: string,
  attempt: (loaded: Loaded, now: number) => Effect.Effect<Command.ReleaseCommand | undefined, E, R>,
  owner?: string
) =>
  Effect.gen(function*() {
    const store = yield* EventStore
    for (let round = 0; round <= maxConflictRetries; round++) {
      const loaded = yield* load(releaseId)
      const now = yield* Clock.currentTimeMillis
      const command = yield* attempt(loaded, now)
      if (command === undefined) return { loaded, appended: [] as ReadonlyArray<ReleaseEvent>, state: loaded.state }
      const decision = ReleaseDecider.decide(command, loaded.state)
      if (decision._tag === "Failure") return yield* decision.failure
      const events = decision.success
      if (events.length > 0) {
        const appended = yield* store.append(releaseId, loaded.version, events).pipe(
          Effect.catchTag("StreamVersionConflict", () => Effect.succeed(undefined))
        )
        if (appended === undefined) continue
      }
      const state = Release.fold(events, loaded.state)
      // A release that ended gives its Worker back (if this fails, the ended holder is replaced
      // by the next release that claims the Worker).
      if (events.length > 0 && Release.isTerminal(state) && Release.exists(state)) {
        yield* freeWorker(state)
      }
      // A person's request that changed nothing leaves the schedule as it is: a no-op on a
      // terminal release must not put it back on the scheduler.
      if (events.length > 0 || owner !== undefined) yield* reschedule(releaseId, state, now, owner)
      return { loaded, appended: events, state }
    }
    return yield* new ReleaseBusy({
      releaseId,
      message: `release ${releaseId} kept changing while this step ran (${maxConflictRetries} conflicts); it will be retried`
    })
  })

export type CreateInput = Omit<Command.Create, "_tag" | "now">

/** Records a new release; it waits as `pending` until started. */
export const create = Effect.fnUntraced(function*(input: CreateInput) {
  const { state } = yield* decideAndAppend(input.releaseId, (_, now) => Effect.succeed({ ...input, _tag: "Create", now }))
  return state as Release.Release
})

/**
 * What a person (or token) may ask, from the table of person commands (`PersonCommand`); the
 * orchestrator adds the time and any Cloudflare reads.
 */
export type PersonRequest = PersonCommand.Request

/** Whether advancing from `fromStep` would complete the release (it soaks at the last step). */
const completes = (release: Release.Release, fromStep: number): boolean =>
  release.phase._tag === "Soaking" && release.phase.run.stepIndex === fromStep &&
  Release.isLastStepOf(release, release.phase.run)

/** Carries out a person's request and returns the release as it now stands. */
export const execute = Effect.fnUntraced(function*(releaseId: string, request: PersonRequest) {
  const router = yield* TrafficRouter
  // Starting (or resuming) holds the Worker: claimed before the command, given back if the
  // release did not start after all.
  if (request._tag === "Start" || request._tag === "Resume") {
    const { state: before } = yield* load(releaseId)
    const holds = Release.exists(before) &&
      (request._tag === "Start" ? before.status === "pending" : before.status === "paused")
    if (holds && Release.exists(before)) {
      yield* claimWorker(before, yield* Clock.currentTimeMillis)
      return yield* carryOut(releaseId, request, router, 0).pipe(
        Effect.tapError(() =>
          Effect.gen(function*() {
            const { state: after } = yield* load(releaseId)
            if (request._tag === "Start" && Release.exists(after) && after.status === "pending") yield* freeWorker(after)
          }).pipe(Effect.ignore)
        )
      )
    }
  }
  // "Advance from the step I am looking at": fixed once, so that a conflict's recomputation or a
  // retried request never advances a step the person did not see.
  const fromStep = request._tag === "Advance"
    ? request.fromStep ?? (yield* Effect.map(load(releaseId), ({ state }) => Release.exists(state) ? Release.stepIndex(state) : 0))
    : 0
  return yield* carryOut(releaseId, request, router, fromStep)
})

const carryOut = (releaseId: string, request: PersonRequest, router: TrafficRouter["Service"], fromStep: number) =>
  Effect.gen(function*() {
  const { state } = yield* decideAndAppend(releaseId, (loaded, now) =>
    Effect.gen(function*(): Effect.fn.Return<Command.ReleaseCommand, TrafficRouterError> {
      const { actor } = request
      const release = loaded.state
      switch (request._tag) {
        case "Start":
        case "Resume": {
          // Only read Cloudflare when the command can matter; "already done" needs no call.
          const needsRead = Release.exists(release) &&
            (request._tag === "Start" ? release.status === "pending" : release.status === "paused")
          const liveDeployment = needsRead && Release.exists(release)
            ? yield* router.readActive(targetOf(release))
            : { deploymentId: "", split: [] }
          return { _tag: request._tag, liveDeployment, actor, now }
        }
        case "Advance": {
          // Completing needs the live deployment: the canary must really serve 100%.
          const liveDeployment = Release.exists(release) && completes(release, fromStep)
            ? yield* router.readActive(targetOf(release))
            : undefined
          return { _tag: "Advance", fromStep, liveDeployment, actor, now }
        }
        case "Pause":
          return { _tag: "Pause", reason: request.reason ?? `paused by ${Actor.describe(actor)}`, actor, now }
        case "Rollback":
          return { _tag: "Rollback", reason: request.reason ?? `rollback requested by ${Actor.describe(actor)}`, actor, now }
        case "Cancel":
          return { _tag: "Cancel", reason: request.reason ?? null, actor, now }
      }
    }))
  // The request was decided against an existing release (a missing one is rejected): a Release.
  return state as Release.Release
})

export interface TickResult {
  readonly action: NextAction.NextAction["_tag"] | "NotDue"
  readonly events: ReadonlyArray<ReleaseEvent>
  readonly state: Release.ReleaseState
}

const shiftMessage = (release: Release.Release, stepIndex: number) =>
  `CanaryRoll release ${release.releaseId}: step ${stepIndex + 1}/${release.plan.steps.length} (${
    release.plan.steps[stepIndex]!.percentage
  }% to ${release.canaryVersionId})`

const routerFailure = (purpose: "step" | "rollback", error: TrafficRouterError, now: number): Command.ReportShiftFailure => ({
  _tag: "ReportShiftFailure",
  purpose,
  kind: error.kind,
  message: error.message,
  retryAfterSeconds: error.retryAfterSeconds,
  actor: Actor.system,
  now
})

/** Performs the due action's side effect and returns the command that records its outcome. */
const perform = (release: Release.Release, action: NextAction.NextAction, now: number) =>
  Effect.gen(function*(): Effect.fn.Return<
    Command.ReleaseCommand | undefined,
    TrafficRouterError,
    TrafficRouter | HealthSource
  > {
    const router = yield* TrafficRouter
    const target = targetOf(release)
    const actor = Actor.system
    const run = Release.runOf(release)
    // Every action but Wait comes from a phase after the start, which has a run.
    if (run === undefined) return undefined
    const liveSplit = run.liveSplit
    switch (action._tag) {
      case "Wait":
        return undefined
      case "Advance": {
        // Check drift before completing, as before any traffic change: a release completes only
        // when the canary really serves 100%. A failed read is retried after a pause (tick).
        const liveDeployment = completes(release, action.fromStep) ? yield* router.readActive(target) : undefined
        return { _tag: "Advance", fromStep: action.fromStep, liveDeployment, actor, now }
      }
      case "ShiftTraffic": {
        // Set, then verify: read first so that a retry finds its own earlier deployment and a
        // hand-made deployment is reported instead of overwritten.
        return yield* router.readActive(target).pipe(
          Effect.flatMap((active): Effect.Effect<Command.ReleaseCommand, TrafficRouterError> => {
            if (TrafficSplit.equals(active.split, action.split)) {
              return Effect.succeed({
                _tag: "RecordTrafficShift",
                stepIndex: action.stepIndex,
                deployment: active,
                reusedExisting: true,
                actor,
                now
              })
            }
            if (!TrafficSplit.equals(active.split, liveSplit)) {
              return Effect.succeed({ _tag: "ReportDrift", expected: liveSplit, observed: active, actor, now })
            }
            return router.apply(target, action.split, { message: shiftMessage(release, action.stepIndex) }).pipe(
              // ...then verify: read the live deployment back. Someone deploying by hand in
              // between is drift; a failed read-back leaves the apply's own answer.
              Effect.flatMap((applied) =>
                router.readActive(target).pipe(Effect.option, Effect.map((readBack) => readBack._tag === "Some" ? readBack.value : applied))
              ),
              Effect.map((live): Command.ReleaseCommand =>
                TrafficSplit.equals(live.split, action.split)
                  ? {
                    _tag: "RecordTrafficShift",
                    stepIndex: action.stepIndex,
                    deployment: live,
                    reusedExisting: false,
                    actor,
                    now
                  }
                  : { _tag: "ReportDrift", expected: action.split, observed: live, actor, now }
              )
            )
          }),
          Effect.catchTag("TrafficRouterError", (error) => Effect.succeed(routerFailure("step", error, now)))
        )
      }
      case "ApplyRollback": {
        // A rollback restores the stable version whatever is live: it is the safe state.
        return yield* router.readActive(target).pipe(
          Effect.flatMap((active) => {
            if (TrafficSplit.equals(active.split, action.split)) {
              return Effect.succeed({ deployment: active, reusedExisting: true })
            }
            const handMade = !TrafficSplit.equals(active.split, liveSplit)
            return router.apply(target, action.split, {
              message: `CanaryRoll release ${release.releaseId}: rollback to ${run.stableVersionId}`
            }).pipe(
              Effect.map((deployment) => ({ deployment, reusedExisting: false, ...(handMade ? { replaced: active } : {}) }))
            )
          }),
          Effect.map((outcome): Command.ReleaseCommand => ({ _tag: "RecordRollback", ...outcome, actor, now })),
          Effect.catchTag("TrafficRouterError", (error) => Effect.succeed(routerFailure("rollback", error, now)))
        )
      }
      case "CheckHealth": {
        // Verify the split before judging it: a hand-made deployment would otherwise go unnoticed
        // until the next traffic change, and the checks would be judging the wrong traffic.
        const active = yield* router.readActive(target).pipe(Effect.option)
        if (active._tag === "Some" && !TrafficSplit.equals(active.value.split, liveSplit)) {
          return { _tag: "ReportDrift", expected: liveSplit, observed: active.value, actor, now }
        }
        const health = yield* HealthSource
        const canaryId = release.canaryVersionId
        const stableId = run.stableVersionId
        return yield* health.sample({ target, window: action.window, versionIds: [canaryId, stableId] }).pipe(
          Effect.map((samples): Command.ReleaseCommand => ({
            _tag: "RecordHealthCheck",
            window: action.window,
            canary: samples.get(canaryId),
            stable: samples.get(stableId),
            actor,
            now
          })),
          Effect.catchTag("HealthSourceUnavailable", (error) =>
            Effect.succeed<Command.ReleaseCommand>({
              _tag: "RecordHealthCheck",
              window: action.window,
              canary: undefined,
              stable: undefined,
              unavailableReason: error.message,
              actor,
              now
            }))
        )
      }
    }
  })

/** Who holds leases when no owner is named: a single process. */
export const defaultOwner = "local"

/**
 * Runs the release's next action if it is due, and schedules the one after, ending `owner`'s
 * lease. Calling it when nothing is due only refreshes the schedule.
 */
export const tick = Effect.fnUntraced(function*(releaseId: string, owner: string = defaultOwner) {
  let action: TickResult["action"] = "NotDue"
  const outcome = yield* decideAndAppend(releaseId, (loaded, now) => {
    const state = loaded.state
    const next = NextAction.nextAction(state, now)
    const due = NextAction.dueAt(next)
    if (!Release.exists(state) || due === undefined || due > now) {
      action = "NotDue"
      return Effect.succeed(undefined)
    }
    action = next._tag
    // Stamped after the side effect: a split is live from when Cloudflare answered, not from
    // before a slow call, so the soak and the first health window never start early.
    return perform(state, next, now).pipe(
      Effect.flatMap((command): Effect.Effect<Command.ReleaseCommand | undefined> =>
        command !== undefined && (command._tag === "RecordTrafficShift" || command._tag === "RecordRollback")
          ? Effect.map(Clock.currentTimeMillis, (answeredAt): Command.ReleaseCommand => ({ ...command, now: answeredAt }))
          : Effect.succeed(command)
      )
    )
  }, owner).pipe(
    // A rejected system command means the state moved under us in a way the retry loop did not
    // see; a failed read before completing leaves nothing to record. The next wake-up recomputes
    // from the events, so record nothing now.
    Effect.catchTag(["ReleaseRejected", "TrafficRouterError"], (rejection) =>
      Effect.gen(function*() {
        yield* Effect.logWarning(`release ${releaseId}: ${rejection.message}`)
        const loaded = yield* load(releaseId)
        // Back off rather than spin on a due time that already passed.
        const scheduler = yield* Scheduler
        yield* scheduler.schedule(releaseId, (yield* Clock.currentTimeMillis) + rejectedStepBackoffMs, owner)
        return { loaded, appended: [] as ReadonlyArray<ReleaseEvent>, state: loaded.state }
      }))
  )
  if (action === "NotDue") {
    yield* reschedule(releaseId, outcome.state, yield* Clock.currentTimeMillis, owner)
  }
  return { action, events: outcome.appended, state: outcome.state } satisfies TickResult
})

export interface RunOptions {
  /** Who holds the leases: one id per process (default `"local"`). */
  readonly owner?: string | undefined
  /** At most this many releases per run (default 100). */
  readonly limit?: number | undefined
  /** How long a claim lasts unless renewed (default `Scheduler.defaultLeaseMs`). */
  readonly leaseMs?: number | undefined
  /** How many releases step at once (default 16). */
  readonly concurrency?: number | undefined
  /**
   * A step still running after this long is abandoned (default 2 minutes): its lease runs out
   * and the release is retried, instead of one hung call holding up the whole batch.
   */
  readonly stepTimeoutMs?: number | undefined
}

/**
 * Claims the releases due now and ticks each, renewing the leases while the steps run; returns
 * how many were claimed. A step that fails keeps its lease until it expires, and is then due
 * again for any process: that is how a crashed or stuck process's work is recovered.
 */
export const runDue = Effect.fnUntraced(function*(options: RunOptions = {}) {
  const scheduler = yield* Scheduler
  const owner = options.owner ?? defaultOwner
  const leaseMs = options.leaseMs ?? defaultLeaseMs
  const claimed = yield* scheduler.claim(owner, yield* Clock.currentTimeMillis, options.limit ?? 100, leaseMs)
  if (claimed.length === 0) return 0
  const running = new Set(claimed.map((entry) => entry.releaseId))
  const renewing = yield* Effect.forkChild(
    Effect.gen(function*() {
      yield* Effect.sleep(leaseMs / 3)
      yield* scheduler.renew(owner, [...running], yield* Clock.currentTimeMillis, leaseMs)
    }).pipe(
      // a failed renewal (a database blip) must not end the renewing: the next one may succeed
      Effect.ignore,
      Effect.forever
    )
  )
  yield* Effect.forEach(
    claimed,
    (entry) =>
      tick(entry.releaseId, owner).pipe(
        Effect.timeoutOrElse({
          duration: options.stepTimeoutMs ?? 120_000,
          orElse: () => Effect.logWarning(`release ${entry.releaseId}: step timed out, retried when its lease ends`)
        }),
        Effect.catch((error) => Effect.logWarning(`release ${entry.releaseId}: step failed, retried when its lease ends`, error)),
        Effect.ensuring(Effect.sync(() => running.delete(entry.releaseId))),
        // Every line the step logs names its release (a field of its own in JSON logs).
        Effect.annotateLogs("releaseId", entry.releaseId)
      ),
    { concurrency: options.concurrency ?? 16, discard: true }
  )
  yield* Fiber.interrupt(renewing)
  return claimed.length
})
