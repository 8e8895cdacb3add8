/**
 * The release summary: the `Deployment` shape of the HTTP API (and of the public GitHub Action's
 * contract), as a pure fold over events. Read models store it and update it event by event.
 *
 * @since 0.1.0
 */
import type { Status } from "./Release.ts"
import type { ReleaseEvent } from "./ReleaseEvent.ts"

export interface ReleaseSummary {
  readonly id: string
  readonly workerId: string
  readonly teamId: string
  readonly planId: string | null
  readonly cfVersionId: string
  readonly cfPreviousVersionId: string | null
  readonly status: Status
  readonly currentStep: number
  readonly currentPercentage: number
  readonly autoAdvance: boolean
  readonly name: string | null
  readonly ticketUrl: string | null
  readonly stepsSnapshot: ReadonlyArray<{ readonly percentage: number; readonly waitSeconds: number }>
  readonly statusReason: string | null
  /** Why the release is being (or was) rolled back, once a rollback started. */
  readonly rollbackReason: string | null
  readonly startedAt: string | null
  readonly completedAt: string | null
  readonly createdAt: string
  readonly updatedAt: string
}

const iso = (ms: number) => new Date(ms).toISOString()

/** Folds one event into the summary; `undefined` before ReleaseCreated. */
export const evolve = (summary: ReleaseSummary | undefined, event: ReleaseEvent): ReleaseSummary | undefined => {
  if (event._tag === "ReleaseCreated") {
    return {
      id: event.releaseId,
      workerId: event.workerId,
      teamId: event.teamId,
      planId: event.planId,
      cfVersionId: event.canaryVersionId,
      cfPreviousVersionId: null,
      status: "pending",
      currentStep: 0,
      currentPercentage: 0,
      autoAdvance: event.autoAdvance,
      name: event.name,
      ticketUrl: event.ticketUrl,
      stepsSnapshot: event.plan.steps.map((step) => ({ percentage: step.percentage, waitSeconds: step.waitSeconds })),
      statusReason: null,
      rollbackReason: null,
      startedAt: null,
      completedAt: null,
      createdAt: iso(event.at),
      updatedAt: iso(event.at)
    }
  }
  if (summary === undefined) return undefined
  const s = { ...summary, updatedAt: iso(event.at) }
  switch (event._tag) {
    case "ReleaseStarted":
      return { ...s, status: "in_progress", startedAt: iso(event.at), cfPreviousVersionId: event.stableVersionId }
    case "StepStarted":
      return { ...s, currentStep: event.stepIndex, statusReason: null }
    case "TrafficShifted":
      return {
        ...s,
        currentPercentage: event.split.find((share) => share.versionId === s.cfVersionId)?.percentage ?? 0
      }
    case "Paused":
      return { ...s, status: "paused", statusReason: event.reason }
    case "DriftDetected":
      return { ...s, status: "paused", statusReason: "drift detected: the live deployment changed outside CanaryRoll" }
    case "Resumed":
      // a release paused during its rollback resumes into the rollback
      return {
        ...s,
        status: "in_progress",
        statusReason: s.rollbackReason === null ? null : `rolling back: ${s.rollbackReason}`
      }
    case "RollbackStarted":
      return { ...s, status: "in_progress", statusReason: `rolling back: ${event.reason}`, rollbackReason: event.reason }
    case "RolledBack":
      return {
        ...s,
        status: "rolled_back",
        currentPercentage: 0,
        completedAt: iso(event.at),
        statusReason: s.rollbackReason
      }
    case "Completed":
      return { ...s, status: "completed", completedAt: iso(event.at) }
    case "Failed":
      return { ...s, status: "failed", completedAt: iso(event.at), statusReason: event.reason }
    case "Cancelled":
      return { ...s, status: "cancelled", completedAt: iso(event.at), statusReason: event.reason }
    case "Stalled":
      return { ...s, statusReason: event.reason }
    case "HealthChecked":
      // A judged check ends a hold for lack of data (the only reason a release in progress and
      // not rolling back shows).
      return event.verdict !== "inconclusive" && s.status === "in_progress" && s.rollbackReason === null
        ? { ...s, statusReason: null }
        : s
    case "Promoted":
    case "TrafficShiftFailed":
      return s
  }
}

export const project = (events: Iterable<ReleaseEvent>): ReleaseSummary | undefined => {
  let summary: ReleaseSummary | undefined
  for (const event of events) summary = evolve(summary, event)
  return summary
}
