/**
 * A release's state: a pure fold (`evolve`) over its events. Nothing here is stored; it is
 * recomputed from the stream whenever a release is loaded.
 *
 * The state is a tagged union of phases, so that every rule of the lifecycle is a case the
 * compiler checks: `Pending` (created, not started), `Shifting` (the current step's split still has
 * to go live), `Soaking` (the split is live and health checks judge it), `Paused` (waiting for a
 * person), `RollingBack` (the stable version must serve 100% again) and `Ended` (terminal). Every
 * phase after the start carries the `Run`: the stable version, the split the events say is live
 * and the current step.
 *
 * @since 0.1.0
 */
import type { Verdict, Window } from "./HealthCheck.ts"
import type { Plan, Step } from "./Plan.ts"
import type { PauseCause, ReleaseEvent } from "./ReleaseEvent.ts"
import * as TrafficSplit from "./TrafficSplit.ts"

export type Status = "pending" | "in_progress" | "paused" | "completed" | "rolled_back" | "failed" | "cancelled"

export const statuses: ReadonlyArray<Status> = [
  "pending",
  "in_progress",
  "paused",
  "completed",
  "rolled_back",
  "failed",
  "cancelled"
]

/** What a release is asked to do, fixed when it is created. */
export interface Definition {
  readonly releaseId: string
  readonly teamId: string
  readonly workerId: string
  readonly accountId: string
  readonly scriptName: string
  readonly canaryVersionId: string
  readonly planId: string | null
  /** The plan snapshot: editing the plan later never changes this release. */
  readonly plan: Plan
  readonly autoAdvance: boolean
  readonly name: string | null
  readonly ticketUrl: string | null
}

/** What every phase after the start knows. */
export interface Run {
  readonly startedAt: number
  /** Read from the live deployment when the release started: what a rollback restores. */
  readonly stableVersionId: string
  /** The split the events say is live on Cloudflare: what drift detection compares against. */
  readonly liveSplit: TrafficSplit.TrafficSplit
  readonly stepIndex: number
  readonly stepStartedAt: number
  /**
   * The end of the latest health window recorded for the current split (reset when a step starts
   * or the release resumes), as of when the release left `Soaking` (while soaking, the checks
   * hold it: see `lastWindowEnd`). A check re-sent up to it is already done.
   */
  readonly lastWindowEnd: number | null
}

/** A traffic change that failed and waits to be tried again. */
export interface ShiftRetry {
  readonly attempt: number
  /** Failures of Cloudflare itself (not rate limits) since the change last succeeded. */
  readonly failures: number
  /** When the first of these failures happened. */
  readonly since: number
  readonly error: string
}

/**
 * Why the stable version must serve 100% again. `failing`: a traffic change was given up; the
 * release ends `failed` if the stable version is found already serving everything (the canary
 * never served), `rolled_back` otherwise.
 */
export interface Rollback {
  readonly reason: string
  readonly startedAt: number
  readonly failing: boolean
}

/**
 * The health checks of the current step. Inconclusive windows are never consumed: the next check
 * asks again from `unjudgedSince`, widened to the next boundary, until analytics can judge it.
 * `coveredFrom`..`coveredUntil` is the span healthy checks cover with no unjudged gap longer than
 * one check interval; the soak counts only that span.
 */
export interface Checks {
  /** The end of the latest window recorded at this step. */
  readonly lastWindowEnd: number | null
  readonly unjudgedSince: number | null
  readonly coveredFrom: number
  readonly coveredUntil: number
  readonly lastVerdict: Verdict | null
  readonly lastCheckAt: number | null
  readonly consecutiveFailures: number
  /** A `Stalled` event was recorded for this step (people hear about a stall once per step). */
  readonly stalled: boolean
}

export interface Pending {
  readonly _tag: "Pending"
}

/** The current step's split is to be applied at `dueAt`. */
export interface Shifting {
  readonly _tag: "Shifting"
  readonly run: Run
  readonly dueAt: number
  readonly retry: ShiftRetry | null
}

/** The current step's split has been live since `trafficAppliedAt`. */
export interface Soaking {
  readonly _tag: "Soaking"
  readonly run: Run
  readonly trafficAppliedAt: number
  readonly checks: Checks
}

export interface Paused {
  readonly _tag: "Paused"
  readonly run: Run
  /** `drift` when DriftDetected paused the release. */
  readonly cause: PauseCause | "drift"
  readonly reason: string
  readonly at: number
  /** A rollback that was under way: resuming carries it on. */
  readonly rollback: Rollback | null
}

export interface RollingBack {
  readonly _tag: "RollingBack"
  readonly run: Run
  readonly rollback: Rollback
  readonly dueAt: number
  readonly retry: ShiftRetry | null
  /** A `Stalled` event said the rollback cannot reach Cloudflare (said once per rollback). */
  readonly stalled: boolean
}

export type Outcome = "completed" | "rolled_back" | "failed" | "cancelled"

export interface Ended {
  readonly _tag: "Ended"
  readonly outcome: Outcome
  readonly at: number
  readonly reason: string | null
  /** `null` when the release was cancelled before it started. */
  readonly run: Run | null
}

export type Phase = Pending | Shifting | Soaking | Paused | RollingBack | Ended

/** A phase in which the release has started and not ended. */
export type Active = Shifting | Soaking | Paused | RollingBack

export interface Release extends Definition {
  readonly createdAt: number
  readonly phase: Phase
  /** The API's word for the phase (derived from it in `statusOf`). */
  readonly status: Status
}

/** Before ReleaseCreated: the stream is empty. */
export interface None {
  readonly status: "none"
}

export type ReleaseState = None | Release

export const initial: ReleaseState = { status: "none" }

export const exists = (state: ReleaseState): state is Release => state.status !== "none"

export const statusOf = (phase: Phase): Status => {
  switch (phase._tag) {
    case "Pending":
      return "pending"
    case "Shifting":
    case "Soaking":
    case "RollingBack":
      return "in_progress"
    case "Paused":
      return "paused"
    case "Ended":
      return phase.outcome
  }
}

export const isTerminal = (state: ReleaseState): boolean => exists(state) && state.phase._tag === "Ended"

/** The run of a started release (`undefined` while pending or when cancelled before starting). */
export const runOf = (release: Release): Run | undefined =>
  release.phase._tag === "Pending" ? undefined : release.phase.run ?? undefined

/** The step the release is at (0 before it starts). */
export const stepIndex = (release: Release): number => runOf(release)?.stepIndex ?? 0

/** The split the events say is live (`null` before the release started). */
export const liveSplit = (release: Release): TrafficSplit.TrafficSplit | null => runOf(release)?.liveSplit ?? null

export const stepOf = (release: Release, run: Run): Step => release.plan.steps[run.stepIndex]!

export const isLastStepOf = (release: Release, run: Run): boolean => run.stepIndex === release.plan.steps.length - 1

/** The split step `run.stepIndex` asks for. */
export const targetSplit = (release: Release, run: Run): TrafficSplit.TrafficSplit =>
  TrafficSplit.canaryAt(release.canaryVersionId, run.stableVersionId, stepOf(release, run).percentage)

/** The split the release is heading for in this phase: its step's, or the stable version alone. */
export const intendedSplit = (release: Release, run: Run, rollingBack: boolean): TrafficSplit.TrafficSplit =>
  rollingBack ? TrafficSplit.whole(run.stableVersionId) : targetSplit(release, run)

/** When the soak of the current step ends, counted from where healthy coverage starts. */
export const soakEndsAt = (release: Release, run: Run, soaking: Soaking): number =>
  soaking.checks.coveredFrom + stepOf(release, run).waitSeconds * 1000

/**
 * Whether healthy checks cover the whole soak: `[coveredFrom, coveredFrom + waitSeconds]` judged
 * healthy with no unjudged gap longer than one interval, and nothing unjudged pending.
 */
export const soakCovered = (release: Release, soaking: Soaking): boolean =>
  soaking.checks.unjudgedSince === null &&
  soaking.checks.lastVerdict === "healthy" &&
  soaking.checks.consecutiveFailures === 0 &&
  soaking.checks.coveredUntil >= soakEndsAt(release, soaking.run, soaking)

const freshChecks = (trafficAppliedAt: number): Checks => ({
  lastWindowEnd: null,
  unjudgedSince: null,
  coveredFrom: trafficAppliedAt,
  coveredUntil: trafficAppliedAt,
  lastVerdict: null,
  lastCheckAt: null,
  consecutiveFailures: 0,
  stalled: false
})

const soakingFrom = (run: Run, at: number): Soaking => ({
  _tag: "Soaking",
  run,
  trafficAppliedAt: at,
  checks: freshChecks(at)
})

/** Folds one health check into the step's checks; see `Checks` for the coverage rule. */
export const evolveChecks = (
  checks: Checks,
  window: Window,
  verdict: Verdict,
  consecutiveFailures: number,
  at: number,
  intervalMs: number
): Checks => {
  const healthy = verdict === "healthy"
  // A gap longer than one interval before a healthy window (unjudged data given up, or a long
  // unhealthy stretch) breaks the coverage: the soak counts again from this window. An
  // inconclusive window is not consumed: the next check asks again from `unjudgedSince`.
  // (One object literal, not spreads: this runs for every check of every release.)
  const broken = healthy && window.start - checks.coveredUntil > intervalMs
  return {
    lastWindowEnd: window.end,
    unjudgedSince: verdict === "inconclusive" ? checks.unjudgedSince ?? window.start : null,
    coveredFrom: broken ? window.start : checks.coveredFrom,
    coveredUntil: healthy ? window.end : checks.coveredUntil,
    lastVerdict: verdict,
    lastCheckAt: at,
    consecutiveFailures,
    stalled: checks.stalled
  }
}

const withPhase = (release: Release, phase: Phase): Release => ({ ...release, phase, status: statusOf(phase) })

/**
 * The end of the latest health window recorded for the current split, whatever the phase: a
 * check re-sent up to it is already done. (Soaking keeps it in its checks, so that a check, the
 * most frequent event, allocates no new run; the run takes it when the release leaves Soaking.)
 */
export const lastWindowEnd = (release: Release): number | null => {
  const phase = release.phase
  return phase._tag === "Soaking" ? phase.checks.lastWindowEnd : runOf(release)?.lastWindowEnd ?? null
}

/** The run a phase after `Soaking` keeps: with the latest window the checks recorded. */
const runLeaving = (phase: Active): Run =>
  phase._tag === "Soaking" && phase.checks.lastWindowEnd !== phase.run.lastWindowEnd
    ? { ...phase.run, lastWindowEnd: phase.checks.lastWindowEnd }
    : phase.run

const withRun = (phase: Active, run: Run): Active => ({ ...phase, run })

const describeDrift = (event: Extract<ReleaseEvent, { readonly _tag: "DriftDetected" }>) =>
  `live deployment ${event.observed.deploymentId} serves ${TrafficSplit.describe(event.observed.split)}, expected ${
    TrafficSplit.describe(event.expected)
  }`

/** The phase after an event, for a release that has started (events the decider never emits there leave it as it is). */
const evolveActive = (release: Release, phase: Active, event: ReleaseEvent): Phase => {
  const run = phase.run
  switch (event._tag) {
    case "ReleaseCreated":
    case "ReleaseStarted":
    case "Promoted":
      return phase
    case "StepStarted":
      return {
        _tag: "Shifting",
        run: { ...run, stepIndex: event.stepIndex, stepStartedAt: event.at, lastWindowEnd: null },
        dueAt: event.at,
        retry: null
      }
    case "TrafficShifted": {
      const moved = { ...run, liveSplit: event.split }
      return phase._tag === "Shifting" && event.stepIndex === run.stepIndex
        ? soakingFrom(moved, event.at)
        : withRun(phase, moved)
    }
    case "TrafficShiftFailed": {
      if (phase._tag !== "Shifting" && phase._tag !== "RollingBack") return phase
      const failures = (phase.retry?.failures ?? 0) + (event.kind === "rate_limited" ? 0 : 1)
      const retry: ShiftRetry = { attempt: event.attempt, failures, since: phase.retry?.since ?? event.at, error: event.error }
      return { ...phase, retry, dueAt: event.retryAt }
    }
    case "HealthChecked":
      return phase._tag === "Soaking"
        ? {
          ...phase,
          checks: evolveChecks(
            phase.checks,
            event.window,
            event.verdict,
            event.consecutiveFailures,
            event.at,
            release.plan.health.intervalSeconds * 1000
          )
        }
        : phase
    case "Stalled":
      return phase._tag === "Soaking"
        ? { ...phase, checks: { ...phase.checks, stalled: true } }
        : phase._tag === "RollingBack"
        ? { ...phase, stalled: true }
        : phase
    case "Paused":
      return {
        _tag: "Paused",
        run: runLeaving(phase),
        cause: event.cause,
        reason: event.reason,
        at: event.at,
        rollback: phase._tag === "RollingBack" || phase._tag === "Paused" ? phase.rollback : null
      }
    case "DriftDetected":
      return {
        _tag: "Paused",
        run: runLeaving(phase),
        cause: "drift",
        reason: describeDrift(event),
        at: event.at,
        rollback: phase._tag === "RollingBack" || phase._tag === "Paused" ? phase.rollback : null
      }
    case "Resumed": {
      // The split a person accepted becomes the baseline; the step is re-applied from it unless
      // it already is the step's split, and checks start afresh. A paused rollback carries on.
      const resumed = { ...run, liveSplit: event.liveDeployment.split, lastWindowEnd: null }
      const rollback = phase._tag === "Paused" || phase._tag === "RollingBack" ? phase.rollback : null
      if (rollback !== null) {
        return { _tag: "RollingBack", run: resumed, rollback, dueAt: event.at, retry: null, stalled: false }
      }
      return TrafficSplit.equals(event.liveDeployment.split, targetSplit(release, resumed))
        ? soakingFrom(resumed, event.at)
        : { _tag: "Shifting", run: resumed, dueAt: event.at, retry: null }
    }
    case "RollbackStarted":
      return {
        _tag: "RollingBack",
        run: runLeaving(phase),
        rollback: { reason: event.reason, startedAt: event.at, failing: event.failing ?? false },
        dueAt: event.at,
        retry: null,
        stalled: false
      }
    case "RolledBack":
      return {
        _tag: "Ended",
        outcome: "rolled_back",
        at: event.at,
        reason: phase._tag === "RollingBack" || phase._tag === "Paused" ? phase.rollback?.reason ?? null : null,
        run: { ...runLeaving(phase), liveSplit: TrafficSplit.whole(run.stableVersionId) }
      }
    case "Completed":
      return { _tag: "Ended", outcome: "completed", at: event.at, reason: null, run: runLeaving(phase) }
    case "Failed":
      return { _tag: "Ended", outcome: "failed", at: event.at, reason: event.reason, run: runLeaving(phase) }
    case "Cancelled":
      return { _tag: "Ended", outcome: "cancelled", at: event.at, reason: event.reason, run: runLeaving(phase) }
  }
}

export const evolve = (state: ReleaseState, event: ReleaseEvent): ReleaseState => {
  if (event._tag === "ReleaseCreated") {
    const phase: Pending = { _tag: "Pending" }
    return {
      releaseId: event.releaseId,
      teamId: event.teamId,
      workerId: event.workerId,
      accountId: event.accountId,
      scriptName: event.scriptName,
      canaryVersionId: event.canaryVersionId,
      planId: event.planId,
      plan: event.plan,
      autoAdvance: event.autoAdvance,
      name: event.name,
      ticketUrl: event.ticketUrl,
      createdAt: event.at,
      phase,
      status: statusOf(phase)
    }
  }
  if (!exists(state)) return state
  const phase = state.phase
  switch (phase._tag) {
    case "Pending":
      switch (event._tag) {
        case "ReleaseStarted":
          return withPhase(state, {
            _tag: "Shifting",
            run: {
              startedAt: event.at,
              stableVersionId: event.stableVersionId,
              liveSplit: event.liveDeployment.split,
              stepIndex: 0,
              stepStartedAt: event.at,
              lastWindowEnd: null
            },
            dueAt: event.at,
            retry: null
          })
        case "Cancelled":
          return withPhase(state, { _tag: "Ended", outcome: "cancelled", at: event.at, reason: event.reason, run: null })
        default:
          return state
      }
    case "Ended":
      return state
    case "Shifting":
    case "Soaking":
    case "Paused":
    case "RollingBack":
      return withPhase(state, evolveActive(state, phase, event))
  }
}

export const fold = (events: Iterable<ReleaseEvent>, from: ReleaseState = initial): ReleaseState => {
  let state = from
  for (const event of events) state = evolve(state, event)
  return state
}
