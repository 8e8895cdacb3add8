/**
 * What a release needs next and when: the `resume(state)` of the decider pattern. A scheduler
 * (Postgres poller, Durable Object alarm, the in-memory harness) stores only the due time; the
 * action itself is always recomputed from the events, so a restart never loses or repeats work.
 *
 * @since 0.1.0
 */
import type { Window } from "./HealthCheck.ts"
import * as Release from "./Release.ts"
import type { TrafficSplit } from "./TrafficSplit.ts"
import * as Split from "./TrafficSplit.ts"

export type WaitReason = "not_found" | "pending" | "paused" | "terminal"

export type NextAction =
  /** Nothing will happen until a person acts (or ever, for a terminal release). */
  | { readonly _tag: "Wait"; readonly reason: WaitReason }
  /** Read the live deployment, then apply the current step's split (or detect drift). */
  | { readonly _tag: "ShiftTraffic"; readonly at: number; readonly stepIndex: number; readonly split: TrafficSplit }
  /** Query analytics for `window` and record the verdict. */
  | { readonly _tag: "CheckHealth"; readonly at: number; readonly window: Window }
  /** The soak is over and the latest check is healthy: promote (or complete at the last step). */
  | { readonly _tag: "Advance"; readonly at: number; readonly fromStep: number }
  /** Put the stable version back at 100%. */
  | { readonly _tag: "ApplyRollback"; readonly at: number; readonly split: TrafficSplit }

/**
 * Health windows end on multiples of the check interval (epoch-aligned), so every release in an
 * account with the same interval asks analytics about the same instants: one query per account
 * per interval can answer them all. A window is one interval long, except the first of a step,
 * which runs from the moment traffic went live to the first boundary at least an interval later.
 */
export const nextWindowEnd = (release: Release.Release): number | undefined => {
  if (release.trafficAppliedAt === null) return undefined
  const interval = release.plan.health.intervalSeconds * 1000
  const start = release.lastWindowEnd ?? release.trafficAppliedAt
  return Math.ceil((start + interval) / interval) * interval
}

/** When the next health check is due: its window's end plus the analytics delay. */
export const nextCheckAt = (release: Release.Release): number | undefined => {
  const end = nextWindowEnd(release)
  return end === undefined ? undefined : end + release.plan.health.analyticsDelaySeconds * 1000
}

/** When an automatic promotion is due, if one can happen without another check. */
export const advanceAt = (release: Release.Release): number | undefined => {
  if (!release.autoAdvance || release.trafficAppliedAt === null) return undefined
  if (release.lastVerdict !== "healthy" || release.consecutiveFailures > 0) return undefined
  return Math.max(release.trafficAppliedAt + Release.currentStep(release).waitSeconds * 1000, release.lastCheckAt ?? 0)
}

/**
 * `now` bounds the health window; due times are computed from the events alone. When a check and
 * a promotion fall due together the check goes first, so a promotion always rests on fresh data.
 */
export const nextAction = (state: Release.ReleaseState, now: number): NextAction => {
  if (!Release.exists(state)) return { _tag: "Wait", reason: "not_found" }
  if (Release.isTerminal(state)) return { _tag: "Wait", reason: "terminal" }
  if (state.status === "pending") return { _tag: "Wait", reason: "pending" }
  if (state.status === "paused") return { _tag: "Wait", reason: "paused" }
  const release = state
  const notBeforeResume = (at: number) => Math.max(at, release.resumedAt ?? at)
  if (release.rollback !== null) {
    return {
      _tag: "ApplyRollback",
      at: notBeforeResume(release.shiftRetry?.retryAt ?? release.rollback.startedAt),
      split: Split.whole(release.stableVersionId ?? "")
    }
  }
  if (release.trafficAppliedAt === null) {
    return {
      _tag: "ShiftTraffic",
      at: notBeforeResume(release.shiftRetry?.retryAt ?? release.stepStartedAt ?? release.startedAt ?? release.createdAt),
      stepIndex: release.stepIndex,
      split: Release.targetSplit(release)
    }
  }
  const checkAt = nextCheckAt(release)!
  const promoteAt = advanceAt(release)
  // A late wake-up (a process was down) judges the overdue windows before promoting on them.
  if (promoteAt !== undefined && promoteAt < checkAt && checkAt > now) {
    return { _tag: "Advance", at: promoteAt, fromStep: release.stepIndex }
  }
  // A late check judges everything analytics can show by now, still ending on a boundary.
  const interval = release.plan.health.intervalSeconds * 1000
  const latestEnd = Math.floor((now - release.plan.health.analyticsDelaySeconds * 1000) / interval) * interval
  const start = release.lastWindowEnd ?? release.trafficAppliedAt
  const end = Math.max(nextWindowEnd(release)!, latestEnd)
  return { _tag: "CheckHealth", at: checkAt, window: { start, end } }
}

/** The due time of an action, or `undefined` when it waits for a person. */
export const dueAt = (action: NextAction): number | undefined => action._tag === "Wait" ? undefined : action.at
