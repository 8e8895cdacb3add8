/**
 * Where a release stands, for a person watching it: the step and its percentage, how long the
 * soak at this step has left, and the last health verdict. Read from the release and its events
 * (the soak starts when the step's traffic shift went live), at a time the caller passes in.
 *
 * @since 0.1.0
 */
import type { Schemas } from "@canaryroll/api"

export interface ReleaseProgress {
  readonly status: Schemas.Status
  /** 1-based, as people count steps. */
  readonly step: number
  readonly steps: number
  readonly percentage: number
  /** Seconds until the soak at this step is over; undefined before the step's traffic is live. */
  readonly soakLeftSeconds: number | undefined
  readonly lastVerdict: { readonly verdict: string; readonly reasons: ReadonlyArray<string>; readonly at: string } | undefined
  /** The newest event's sentence (what the audit log shows). */
  readonly lastEvent: string | undefined
}

const stringList = (value: unknown): ReadonlyArray<string> =>
  Array.isArray(value) ? value.filter((item): item is string => typeof item === "string") : []

export const of = (
  release: Schemas.PublicDeployment,
  events: ReadonlyArray<Schemas.DeploymentEvent>,
  now: number
): ReleaseProgress => {
  const stepIndex = Math.min(release.currentStep, Math.max(0, release.stepsSnapshot.length - 1))
  const step = release.stepsSnapshot[stepIndex]
  const live = events.findLast((event) => event.eventType === "TrafficShifted" && event.stepIndex === stepIndex)
  const soakLeftSeconds = release.status === "in_progress" && live !== undefined && step !== undefined
    ? Math.max(0, Math.ceil((Date.parse(live.createdAt) + step.waitSeconds * 1000 - now) / 1000))
    : undefined
  const check = events.findLast((event) => event.eventType === "HealthChecked")
  const verdict = check?.details.verdict
  const newest = events.at(-1)?.details.message
  const started = release.status !== "pending" && live !== undefined
  return {
    status: release.status,
    step: stepIndex + 1,
    steps: release.stepsSnapshot.length,
    // After a rollback or cancel the canary serves nothing, whatever step it reached.
    percentage: release.status === "completed"
      ? 100
      : release.status === "rolled_back" || release.status === "cancelled" || !started
      ? 0
      : step?.percentage ?? 0,
    soakLeftSeconds,
    lastVerdict: check === undefined || typeof verdict !== "string"
      ? undefined
      : { verdict, reasons: stringList(check.details.reasons), at: check.createdAt },
    lastEvent: typeof newest === "string" ? newest : undefined
  }
}

const duration = (seconds: number) =>
  seconds >= 3600
    ? `${Math.floor(seconds / 3600)}h${String(Math.floor((seconds % 3600) / 60)).padStart(2, "0")}m`
    : seconds >= 60
    ? `${Math.floor(seconds / 60)}m${String(seconds % 60).padStart(2, "0")}s`
    : `${seconds}s`

/** One line, e.g. `in progress · step 2/3 at 50% · soak 0m14s left · last check healthy`. */
export const describe = (progress: ReleaseProgress): string =>
  [
    progress.status.replace("_", " "),
    `step ${progress.step}/${progress.steps} at ${progress.percentage}%`,
    ...(progress.soakLeftSeconds === undefined ? [] : [`soak ${duration(progress.soakLeftSeconds)} left`]),
    ...(progress.lastVerdict === undefined
      ? []
      : [`last check ${progress.lastVerdict.verdict}${
        progress.lastVerdict.verdict === "healthy" || progress.lastVerdict.reasons.length === 0
          ? ""
          : ` (${progress.lastVerdict.reasons.join("; ")})`
      }`])
  ].join(" · ")
