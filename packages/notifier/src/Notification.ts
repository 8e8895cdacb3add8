/**
 * A notification: what one release event tells people, in a form every channel renders its own
 * way (Slack blocks, a Discord embed, a Google Chat card, an email, a webhook body). It is built
 * once, when the event is turned into deliveries, and stored with them, so a retry an hour later
 * says exactly what the first attempt said.
 *
 * Building it needs what earlier events said (the Worker's script name, the stable version, the
 * step, the last health check): `ReleaseFacts` is that fold, over the release's stream up to the
 * event, like the audit log's context.
 *
 * @since 0.1.0
 */
import { Actor, AuditEntry, HealthCheck, type ReleaseEvent, ReleaseSummary, TrafficSplit } from "@canaryroll/core"
import * as NotificationEvent from "./NotificationEvent.ts"

/** How a message is coloured: Discord's embed colour, the email's accent. */
export type Outcome = "info" | "success" | "warning" | "danger"

/** The canary's error rate measured by a health check, against the policy's limit. */
export interface Measurement {
  readonly requests: number
  readonly errorRate: number
  readonly maxErrorRate: number
}

export interface Notification {
  /** The event's id in the store (`releaseId:version`); `test:…` for a test message. */
  readonly eventId: string
  /** What channels subscribe to; `test` for a test message. */
  readonly name: NotificationEvent.EventName | "test"
  /** The core event's tag, for webhook consumers that want the precise fact. */
  readonly type: ReleaseEvent.ReleaseEventType
  readonly at: number
  readonly actor: Actor.Actor
  /** One short line: the message's heading. */
  readonly title: string
  /** The audit log's sentence for the event. */
  readonly sentence: string
  /** Why, when there is a why: a pause, a failed check, a rollback, a failure, a cancellation, drift. Never blank. */
  readonly reason: string | null
  readonly measurement: Measurement | null
  readonly outcome: Outcome
  readonly teamId: string
  readonly releaseId: string
  readonly workerId: string
  readonly scriptName: string
  readonly canaryVersionId: string
  readonly stableVersionId: string | null
  /** The current step, counted from 1 for people; 0 before the release started. */
  readonly step: number
  readonly stepCount: number
  readonly percentage: number
  /** The release page: `{baseUrl}/teams/{teamId}/deployments/{releaseId}`. */
  readonly releaseUrl: string
  readonly release: ReleaseSummary.ReleaseSummary
  readonly details: ReleaseEvent.ReleaseEvent
  readonly test: boolean
}

/** What earlier events of a release tell a notification about a later one. */
export interface ReleaseFacts {
  readonly context: AuditEntry.Context
  readonly summary: ReleaseSummary.ReleaseSummary
  readonly maxErrorRate: number
  /** The latest health check with a canary sample, for a rollback's or a pause's measurement. */
  readonly lastMeasurement: Measurement | null
}

export const evolveFacts = (facts: ReleaseFacts | undefined, event: ReleaseEvent.ReleaseEvent): ReleaseFacts | undefined => {
  const context = AuditEntry.evolveContext(facts?.context, event)
  const summary = ReleaseSummary.evolve(facts?.summary, event)
  if (context === undefined || summary === undefined) return undefined
  const maxErrorRate = event._tag === "ReleaseCreated" ? event.plan.health.maxErrorRate : facts?.maxErrorRate ?? 0
  const lastMeasurement = event._tag === "HealthChecked" && event.canary !== null
    ? { requests: event.canary.requests, errorRate: HealthCheck.errorRate(event.canary), maxErrorRate }
    : event._tag === "StepStarted" || event._tag === "ReleaseCreated"
    ? null
    : facts?.lastMeasurement ?? null
  return { context, summary, maxErrorRate, lastMeasurement }
}

/** The facts after `events`, in stream order. */
export const foldFacts = (events: Iterable<ReleaseEvent.ReleaseEvent>): ReleaseFacts | undefined => {
  let facts: ReleaseFacts | undefined
  for (const event of events) facts = evolveFacts(facts, event)
  return facts
}

/** The release page for people, as the GitHub Action's contract names it. */
export const releaseUrl = (baseUrl: string, teamIdOrSlug: string, releaseId: string): string =>
  `${baseUrl.replace(/\/+$/, "")}/teams/${encodeURIComponent(teamIdOrSlug)}/deployments/${encodeURIComponent(releaseId)}`

const pct = (n: number) => `${n}%`

const title = (facts: ReleaseFacts, event: ReleaseEvent.ReleaseEvent): string => {
  const worker = facts.context.scriptName
  switch (event._tag) {
    case "ReleaseCreated":
      return `Release of ${worker} created`
    case "ReleaseStarted":
      return `Release of ${worker} started`
    case "Promoted":
      return `${worker} advanced to ${pct(event.percentage)} (step ${event.toStep + 1} of ${facts.summary.stepsSnapshot.length})`
    case "Paused":
      return `Release of ${worker} paused`
    case "Resumed":
      return `Release of ${worker} resumed`
    case "HealthChecked":
      return `${worker} failed a health check at ${pct(facts.context.percentage)}`
    case "RollbackStarted":
      return event.failing === true ? `Release of ${worker} gave up: restoring the stable version` : `Rolling back ${worker}`
    case "RolledBack":
      return `${worker} rolled back`
    case "Completed":
      return `${worker} released: version ${facts.context.canaryVersionId} serves 100%`
    case "Failed":
      return `Release of ${worker} failed`
    case "Cancelled":
      return `Release of ${worker} cancelled`
    case "DriftDetected":
      return `Drift detected on ${worker}: release paused`
    case "Stalled":
      return event.cause === "no_data"
        ? `Release of ${worker} held: no health data at ${pct(facts.context.percentage)}`
        : `Rollback of ${worker} pending: Cloudflare unreachable`
    case "StepStarted":
    case "TrafficShifted":
    case "TrafficShiftFailed":
      return `Release of ${worker}: ${event._tag}`
  }
}

/** Blank text is no text: a reason of `""` (the API accepts one) would be an empty Discord field, which Discord refuses. */
const present = (text: string | null): string | null => text === null || text.trim() === "" ? null : text

const reason = (facts: ReleaseFacts, event: ReleaseEvent.ReleaseEvent): string | null => present(reasonText(facts, event))

const reasonText = (facts: ReleaseFacts, event: ReleaseEvent.ReleaseEvent): string | null => {
  switch (event._tag) {
    case "Paused":
    case "RollbackStarted":
    case "Failed":
    case "Stalled":
      return event.reason
    case "Cancelled":
      return event.reason
    case "HealthChecked": {
      const reasons = event.reasons.filter((text) => present(text) !== null)
      return reasons.length === 0 ? null : reasons.join("; ")
    }
    case "RolledBack":
      return facts.summary.rollbackReason
    case "DriftDetected":
      return `the live deployment ${event.observed.deploymentId} serves ${TrafficSplit.describe(event.observed.split)}, ` +
        `expected ${TrafficSplit.describe(event.expected)}`
    default:
      return null
  }
}

const outcome = (event: ReleaseEvent.ReleaseEvent): Outcome => {
  switch (event._tag) {
    case "Completed":
      return "success"
    case "RolledBack":
    case "Failed":
      return "danger"
    case "Paused":
    case "HealthChecked":
    case "RollbackStarted":
    case "DriftDetected":
    case "Stalled":
      return "warning"
    default:
      return "info"
  }
}

/** Events whose message shows the measured error rate against the limit. */
const measured = (event: ReleaseEvent.ReleaseEvent): boolean =>
  event._tag === "HealthChecked" || event._tag === "RollbackStarted" || event._tag === "RolledBack" ||
  (event._tag === "Paused" && event.cause === "unhealthy")

/**
 * The notification of `event`, given the facts folded up to and including it; `undefined` when
 * nobody is told about this event.
 */
export const fromEvent = (
  options: { readonly baseUrl: string },
  facts: ReleaseFacts,
  eventId: string,
  event: ReleaseEvent.ReleaseEvent
): Notification | undefined => {
  const name = NotificationEvent.classify(event)
  if (name === undefined) return undefined
  const { context, summary } = facts
  return {
    eventId,
    name,
    type: event._tag,
    at: event.at,
    actor: event.actor,
    title: title(facts, event),
    sentence: AuditEntry.sentence(context, event),
    reason: reason(facts, event),
    measurement: measured(event) ? facts.lastMeasurement : null,
    outcome: outcome(event),
    teamId: context.teamId,
    releaseId: context.releaseId,
    workerId: context.workerId,
    scriptName: context.scriptName,
    canaryVersionId: context.canaryVersionId,
    stableVersionId: context.stableVersionId,
    step: summary.status === "pending" ? 0 : context.stepIndex + 1,
    stepCount: summary.stepsSnapshot.length,
    percentage: event._tag === "RolledBack" ? 0 : context.percentage,
    releaseUrl: releaseUrl(options.baseUrl, context.teamId, context.releaseId),
    release: summary,
    details: event,
    test: false
  }
}

/**
 * What "send a test message" sends: a completed release of an example Worker, marked as a test,
 * so a channel shows exactly what a real message looks like.
 */
export const test = (options: { readonly baseUrl: string; readonly teamId: string; readonly id: string; readonly at: number }): Notification => {
  const releaseId = "example-release"
  const created: ReleaseEvent.ReleaseEvent = {
    _tag: "ReleaseCreated",
    releaseId,
    teamId: options.teamId,
    workerId: "example-worker",
    accountId: "example-account",
    scriptName: "example-worker",
    canaryVersionId: "version-canary",
    planId: null,
    plan: {
      steps: [{ percentage: 10, waitSeconds: 600 }, { percentage: 100, waitSeconds: 600 }],
      health: {
        intervalSeconds: 60,
        failuresBeforeAction: 3,
        maxErrorRate: 0.01,
        minRequests: 100,
        onInconclusive: "hold",
        analyticsDelaySeconds: 60,
        onFailure: "rollback"
      }
    },
    autoAdvance: true,
    name: "Test message",
    ticketUrl: null,
    actor: Actor.system,
    at: options.at
  }
  const started: ReleaseEvent.ReleaseEvent = {
    _tag: "ReleaseStarted",
    stableVersionId: "version-stable",
    liveDeployment: { deploymentId: "example-deployment", split: TrafficSplit.whole("version-stable") },
    actor: Actor.system,
    at: options.at
  }
  const lastStep: ReleaseEvent.ReleaseEvent = { _tag: "StepStarted", stepIndex: 1, percentage: 100, actor: Actor.system, at: options.at }
  const completed: ReleaseEvent.ReleaseEvent = { _tag: "Completed", actor: Actor.system, at: options.at }
  const facts = foldFacts([created, started, lastStep, completed])!
  const notification = fromEvent({ baseUrl: options.baseUrl }, facts, `test:${options.id}`, completed)!
  return { ...notification, name: "test", title: `Test message from CanaryRoll: ${notification.title}`, test: true }
}

/**
 * The facts every message shows, as label and value, in reading order. A fact whose value is
 * blank is left out (platforms refuse empty fields), even in a notification stored before reasons
 * were trimmed to `null`.
 */
export const facts = (notification: Notification): ReadonlyArray<{ readonly label: string; readonly value: string }> =>
  allFacts(notification).filter(({ value }) => present(value) !== null)

const allFacts = (notification: Notification): ReadonlyArray<{ readonly label: string; readonly value: string }> => {
  const lines: Array<{ label: string; value: string }> = [
    { label: "Worker", value: notification.scriptName },
    {
      label: "Versions",
      value: notification.stableVersionId === null
        ? `${notification.canaryVersionId} (canary)`
        : `${notification.canaryVersionId} (canary) over ${notification.stableVersionId} (stable)`
    },
    {
      label: "Step",
      value: notification.step === 0
        ? `not started (${notification.stepCount} steps)`
        : `${notification.step} of ${notification.stepCount} at ${pct(notification.percentage)}`
    }
  ]
  if (notification.measurement !== null) lines.push({ label: "Measured", value: describeMeasurement(notification.measurement) })
  if (notification.reason !== null) lines.push({ label: "Reason", value: notification.reason })
  lines.push({ label: "By", value: Actor.describe(notification.actor) })
  return lines
}

const rate = (n: number) => `${(n * 100).toFixed(2)}%`

/** `error rate 5.20% over 1200 requests (limit 1.00%)`: the measured value against the limit. */
export const describeMeasurement = (measurement: Measurement): string =>
  `error rate ${rate(measurement.errorRate)} over ${measurement.requests} requests (limit ${rate(measurement.maxErrorRate)})`
