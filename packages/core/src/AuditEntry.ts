/**
 * The audit log: one entry per event, saying who did what and when in one human sentence, with
 * the event's facts as details. A pure fold, because a sentence may need earlier facts (which
 * version the release carries, what the stable version was).
 *
 * @since 0.1.0
 */
import * as Actor from "./Actor.ts"
import type { ReleaseEvent, ReleaseEventType } from "./ReleaseEvent.ts"
import * as TrafficSplit from "./TrafficSplit.ts"

export interface AuditEntry {
  readonly id: string
  readonly releaseId: string
  readonly teamId: string
  readonly workerId: string
  readonly type: ReleaseEventType
  readonly actor: Actor.Actor
  readonly at: number
  readonly stepIndex: number | null
  readonly percentage: number | null
  readonly sentence: string
  readonly details: ReleaseEvent
}

/** What earlier events tell the sentence of a later one. */
export interface Context {
  readonly releaseId: string
  readonly teamId: string
  readonly workerId: string
  readonly scriptName: string
  readonly canaryVersionId: string
  readonly stableVersionId: string | null
  readonly stepIndex: number
  readonly percentage: number
}

export const evolveContext = (context: Context | undefined, event: ReleaseEvent): Context | undefined => {
  if (event._tag === "ReleaseCreated") {
    return {
      releaseId: event.releaseId,
      teamId: event.teamId,
      workerId: event.workerId,
      scriptName: event.scriptName,
      canaryVersionId: event.canaryVersionId,
      stableVersionId: null,
      stepIndex: 0,
      percentage: 0
    }
  }
  if (context === undefined) return undefined
  switch (event._tag) {
    case "ReleaseStarted":
      return { ...context, stableVersionId: event.stableVersionId }
    case "StepStarted":
      return { ...context, stepIndex: event.stepIndex, percentage: event.percentage }
    default:
      return context
  }
}

const pct = (n: number) => `${n}%`
const rate = (n: number) => `${(n * 100).toFixed(2)}%`

/** One line, in the past tense, starting with who acted. */
export const sentence = (context: Context, event: ReleaseEvent): string => {
  const who = Actor.describe(event.actor)
  const worker = context.scriptName
  switch (event._tag) {
    case "ReleaseCreated":
      return `${who} created a release of ${worker} version ${event.canaryVersionId} (${event.plan.steps.map((s) => pct(s.percentage)).join(" → ")}, ${
        event.autoAdvance ? "automatic" : "manual"
      } advance)`
    case "ReleaseStarted":
      return `${who} started the release of ${worker} version ${context.canaryVersionId} over stable version ${event.stableVersionId}`
    case "StepStarted":
      return `${who} began step ${event.stepIndex + 1} (${pct(event.percentage)}) of ${worker}`
    case "TrafficShifted":
      return `${who} ${event.reusedExisting ? "found already live" : "deployed"} ${TrafficSplit.describe(event.split)} on ${worker} (deployment ${event.deploymentId})`
    case "TrafficShiftFailed":
      return `${who} could not change ${worker}'s traffic (attempt ${event.attempt}, retrying at ${new Date(event.retryAt).toISOString()}): ${event.error}`
    case "HealthChecked": {
      const measured = event.canary === null
        ? "no data"
        : `${event.canary.requests} requests, error rate ${rate(event.canary.requests > 0 ? event.canary.errors / event.canary.requests : 0)}`
      return `${who} found ${worker} at ${pct(context.percentage)} ${event.verdict} (${measured}; ${event.reasons.join("; ")})`
    }
    case "Promoted":
      return `${who} promoted ${worker} version ${context.canaryVersionId} to ${pct(event.percentage)} (step ${event.toStep + 1})`
    case "Paused":
      return `${who} paused the release of ${worker}: ${event.reason}`
    case "Resumed":
      return `${who} resumed the release of ${worker} from ${TrafficSplit.describe(event.liveDeployment.split)}`
    case "RollbackStarted":
      return `${who} started rolling back ${worker} to version ${context.stableVersionId ?? "(unknown)"}: ${event.reason}`
    case "RolledBack":
      return `${who} rolled ${worker} back: version ${context.stableVersionId ?? "(unknown)"} serves 100% (deployment ${event.deploymentId})${
        event.replaced === undefined
          ? ""
          : `, replacing deployment ${event.replaced.deploymentId} (${TrafficSplit.describe(event.replaced.split)}) made outside CanaryRoll`
      }`
    case "Completed":
      return `${who} completed the release: ${worker} version ${context.canaryVersionId} serves 100%`
    case "Failed":
      return `The release of ${worker} failed: ${event.reason}`
    case "Cancelled":
      return `${who} cancelled the release of ${worker}${event.reason === null ? "" : `: ${event.reason}`}`
    case "DriftDetected":
      return `${who} paused the release: ${worker}'s live deployment ${event.observed.deploymentId} serves ${
        TrafficSplit.describe(event.observed.split)
      }, expected ${TrafficSplit.describe(event.expected)}`
    case "Stalled":
      return `${who} found the release of ${worker} held: ${event.reason}`
  }
}

/** `id` is the event's id in the store (`streamId:version`). */
export const fromEvent = (context: Context, id: string, event: ReleaseEvent): AuditEntry => ({
  id,
  releaseId: context.releaseId,
  teamId: context.teamId,
  workerId: context.workerId,
  type: event._tag,
  actor: event.actor,
  at: event.at,
  stepIndex: event._tag === "ReleaseCreated" ? null : context.stepIndex,
  percentage: event._tag === "ReleaseCreated" ? null : context.percentage,
  sentence: sentence(context, event),
  details: event
})

/** The audit entries of one release's stream, in order. */
export const project = (
  events: Iterable<{ readonly id: string; readonly event: ReleaseEvent }>
): ReadonlyArray<AuditEntry> => {
  const entries: Array<AuditEntry> = []
  let context: Context | undefined
  for (const { id, event } of events) {
    context = evolveContext(context, event)
    if (context !== undefined) entries.push(fromEvent(context, id, event))
  }
  return entries
}
