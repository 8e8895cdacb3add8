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
 * How far back an unjudged window is asked again: beyond this, analytics have dropped the data
 * (a conservative bound under the retention of Cloudflare's adaptive Workers datasets), so the
 * gap is given up and the soak counts again from after it.
 */
export const analyticsRetentionMs = 7 * 24 * 60 * 60 * 1000

/**
 * Health windows end on multiples of the check interval (epoch-aligned), so every release in an
 * account with the same interval asks analytics about the same instants: one query per account
 * per interval can answer them all. A window is one interval long, except the first of a step,
 * which runs from the moment traffic went live to the first boundary at least an interval later,
 * and a window asked again, which starts where the unjudged data starts.
 */
export const nextWindowEnd = (release: Release.Release, soaking: Release.Soaking): number => {
  const interval = release.plan.health.intervalSeconds * 1000
  const start = soaking.checks.lastWindowEnd ?? soaking.trafficAppliedAt
  return Math.ceil((start + interval) / interval) * interval
}

/** When the next health check is due (its window's end plus the analytics delay), if checks run now. */
export const nextCheckAt = (release: Release.Release): number | undefined =>
  release.phase._tag === "Soaking"
    ? nextWindowEnd(release, release.phase) + release.plan.health.analyticsDelaySeconds * 1000
    : undefined

/**
 * When an automatic promotion is due, if one can happen without another check: healthy checks
 * cover the whole soak, and the analytics delay after the soak's end has passed.
 */
export const advanceAt = (release: Release.Release, soaking: Release.Soaking): number | undefined => {
  if (!release.autoAdvance || !Release.soakCovered(release, soaking)) return undefined
  const soakEnd = Release.soakEndsAt(release, soaking.run, soaking)
  return Math.max(soakEnd + release.plan.health.analyticsDelaySeconds * 1000, soaking.checks.lastCheckAt ?? 0)
}

const soakingAction = (release: Release.Release, soaking: Release.Soaking, now: number): NextAction => {
  const policy = release.plan.health
  const interval = policy.intervalSeconds * 1000
  const checkAt = nextWindowEnd(release, soaking) + policy.analyticsDelaySeconds * 1000
  const promoteAt = advanceAt(release, soaking)
  // A late wake-up (a process was down) judges the overdue windows before promoting on them.
  if (promoteAt !== undefined && promoteAt < checkAt && checkAt > now) {
    return { _tag: "Advance", at: promoteAt, fromStep: soaking.run.stepIndex }
  }
  // A late check judges everything analytics can show by now, still ending on a boundary; an
  // unjudged stretch is asked again from its start, as long as analytics still keep it.
  const latestEnd = Math.floor((now - policy.analyticsDelaySeconds * 1000) / interval) * interval
  const checks = soaking.checks
  const start = Math.max(
    checks.unjudgedSince ?? checks.lastWindowEnd ?? soaking.trafficAppliedAt,
    now - analyticsRetentionMs
  )
  const end = Math.max(nextWindowEnd(release, soaking), latestEnd)
  return { _tag: "CheckHealth", at: checkAt, window: { start, end } }
}

/**
 * `now` bounds the health window; due times are computed from the events alone. When a check and
 * a promotion fall due together the check goes first, so a promotion always rests on fresh data.
 */
export const nextAction = (state: Release.ReleaseState, now: number): NextAction => {
  if (!Release.exists(state)) return { _tag: "Wait", reason: "not_found" }
  const phase = state.phase
  switch (phase._tag) {
    case "Pending":
      return { _tag: "Wait", reason: "pending" }
    case "Paused":
      return { _tag: "Wait", reason: "paused" }
    case "Ended":
      return { _tag: "Wait", reason: "terminal" }
    case "RollingBack":
      return { _tag: "ApplyRollback", at: phase.dueAt, split: Split.whole(phase.run.stableVersionId) }
    case "Shifting":
      return {
        _tag: "ShiftTraffic",
        at: phase.dueAt,
        stepIndex: phase.run.stepIndex,
        split: Release.targetSplit(state, phase.run)
      }
    case "Soaking":
      return soakingAction(state, phase, now)
  }
}

/** The due time of an action, or `undefined` when it waits for a person. */
export const dueAt = (action: NextAction): number | undefined => action._tag === "Wait" ? undefined : action.at
