/**
 * A release's state: a pure fold (`evolve`) over its events. Nothing here is stored; it is
 * recomputed from the stream whenever a release is loaded.
 *
 * @since 0.1.0
 */
import type { Verdict } from "./HealthCheck.ts"
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

export interface Pause {
  /** `drift` when DriftDetected paused the release. */
  readonly cause: PauseCause | "drift"
  readonly reason: string
  readonly at: number
}

export interface ShiftRetry {
  readonly attempt: number
  /** Failures of Cloudflare itself (not rate limits) since the change last succeeded. */
  readonly failures: number
  readonly retryAt: number
  readonly error: string
}

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

export interface Release extends Definition {
  readonly status: Status
  readonly createdAt: number
  readonly startedAt: number | null
  /** When the release reached a terminal status. */
  readonly endedAt: number | null
  readonly stableVersionId: string | null
  readonly stepIndex: number
  readonly stepStartedAt: number | null
  /** When a person last resumed the release: nothing that was due before is due earlier than this. */
  readonly resumedAt: number | null
  /** When the current step's split was confirmed live; `null` while it still has to be applied. */
  readonly trafficAppliedAt: number | null
  /** The split the events say is live on Cloudflare: what drift detection compares against. */
  readonly liveSplit: TrafficSplit.TrafficSplit | null
  readonly lastWindowEnd: number | null
  readonly lastVerdict: Verdict | null
  readonly lastCheckAt: number | null
  readonly consecutiveFailures: number
  readonly rollback: { readonly reason: string; readonly startedAt: number } | null
  readonly shiftRetry: ShiftRetry | null
  readonly pause: Pause | null
  readonly endReason: string | null
}

/** Before ReleaseCreated: the stream is empty. */
export interface None {
  readonly status: "none"
}

export type ReleaseState = None | Release

export const initial: ReleaseState = { status: "none" }

export const exists = (state: ReleaseState): state is Release => state.status !== "none"

export const isTerminal = (state: ReleaseState): boolean =>
  state.status === "completed" || state.status === "rolled_back" || state.status === "failed" ||
  state.status === "cancelled"

export const currentStep = (release: Release): Step => release.plan.steps[release.stepIndex]!

export const isLastStep = (release: Release): boolean => release.stepIndex === release.plan.steps.length - 1

/** The split the current step asks for. */
export const targetSplit = (release: Release): TrafficSplit.TrafficSplit =>
  TrafficSplit.canaryAt(release.canaryVersionId, release.stableVersionId ?? "", currentStep(release).percentage)

const freshStep = {
  trafficAppliedAt: null,
  lastWindowEnd: null,
  lastVerdict: null,
  lastCheckAt: null,
  consecutiveFailures: 0,
  shiftRetry: null
} as const

export const evolve = (state: ReleaseState, event: ReleaseEvent): ReleaseState => {
  if (event._tag === "ReleaseCreated") {
    return {
      status: "pending",
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
      startedAt: null,
      endedAt: null,
      stableVersionId: null,
      stepIndex: 0,
      stepStartedAt: null,
      resumedAt: null,
      liveSplit: null,
      rollback: null,
      pause: null,
      endReason: null,
      ...freshStep
    }
  }
  if (!exists(state)) return state
  switch (event._tag) {
    case "ReleaseStarted":
      return {
        ...state,
        status: "in_progress",
        startedAt: event.at,
        stableVersionId: event.stableVersionId,
        liveSplit: event.liveDeployment.split
      }
    case "StepStarted":
      return { ...state, stepIndex: event.stepIndex, stepStartedAt: event.at, ...freshStep }
    case "TrafficShifted":
      return {
        ...state,
        liveSplit: event.split,
        trafficAppliedAt: event.stepIndex === state.stepIndex ? event.at : state.trafficAppliedAt,
        shiftRetry: null
      }
    case "TrafficShiftFailed":
      return {
        ...state,
        shiftRetry: {
          attempt: event.attempt,
          failures: (state.shiftRetry?.failures ?? 0) + (event.kind === "rate_limited" ? 0 : 1),
          retryAt: event.retryAt,
          error: event.error
        }
      }
    case "HealthChecked":
      return {
        ...state,
        lastWindowEnd: event.window.end,
        lastVerdict: event.verdict,
        lastCheckAt: event.at,
        consecutiveFailures: event.consecutiveFailures
      }
    case "Promoted":
      return state
    case "Paused":
      return { ...state, status: "paused", pause: { cause: event.cause, reason: event.reason, at: event.at } }
    case "DriftDetected":
      return {
        ...state,
        status: "paused",
        pause: {
          cause: "drift",
          reason: `live deployment ${event.observed.deploymentId} serves ${
            TrafficSplit.describe(event.observed.split)
          }, expected ${TrafficSplit.describe(event.expected)}`,
          at: event.at
        }
      }
    case "Resumed": {
      // The split a person accepted becomes the baseline; the step is re-applied from it unless
      // it already is the step's split, and checks start afresh.
      const resumed: Release = {
        ...state,
        status: "in_progress",
        pause: null,
        resumedAt: event.at,
        liveSplit: event.liveDeployment.split
      }
      const stepIsLive = TrafficSplit.equals(event.liveDeployment.split, targetSplit(resumed))
      return { ...resumed, ...freshStep, trafficAppliedAt: stepIsLive ? event.at : null }
    }
    case "RollbackStarted":
      return {
        ...state,
        status: "in_progress",
        pause: null,
        shiftRetry: null,
        rollback: { reason: event.reason, startedAt: event.at }
      }
    case "RolledBack":
      return {
        ...state,
        status: "rolled_back",
        endedAt: event.at,
        shiftRetry: null,
        liveSplit: TrafficSplit.whole(state.stableVersionId ?? ""),
        endReason: state.rollback?.reason ?? null
      }
    case "Completed":
      return { ...state, status: "completed", endedAt: event.at }
    case "Failed":
      return { ...state, status: "failed", endedAt: event.at, endReason: event.reason }
    case "Cancelled":
      return { ...state, status: "cancelled", endedAt: event.at, endReason: event.reason }
  }
}

export const fold = (events: Iterable<ReleaseEvent>, from: ReleaseState = initial): ReleaseState => {
  let state = from
  for (const event of events) state = evolve(state, event)
  return state
}
