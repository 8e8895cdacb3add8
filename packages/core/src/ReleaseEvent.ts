/**
 * The facts of a release, in the past tense. They are the audit log and the only source of truth:
 * state, summaries and schedules are folds over them.
 *
 * STORAGE FORMAT: these shapes are persisted (Postgres `events.data`, Durable Object storage) and
 * must stay readable forever. Never rename a tag or a field, never change a field's meaning. Add an
 * optional field, or a new event, or an upcaster, and record the change in docs/events.md.
 * Times are epoch milliseconds (UTC); `actor` says who acted.
 *
 * @since 0.1.0
 */
import { Schema } from "effect"
import { Actor } from "./Actor.ts"
import { VersionSample, Verdict, Window } from "./HealthCheck.ts"
import * as Plan from "./Plan.ts"
import { ActiveDeployment, TrafficSplit } from "./TrafficSplit.ts"

const common = {
  actor: Actor,
  at: Schema.Finite
}

/** A release was requested; it waits as `pending` until started. Holds the plan snapshot. */
export const ReleaseCreated = Schema.TaggedStruct("ReleaseCreated", {
  releaseId: Schema.String,
  teamId: Schema.String,
  workerId: Schema.String,
  accountId: Schema.String,
  scriptName: Schema.String,
  canaryVersionId: Schema.String,
  planId: Schema.NullOr(Schema.String),
  /** Stored under `Plan.Stored`, looser than what people may send today: old streams still decode. */
  plan: Plan.Stored,
  autoAdvance: Schema.Boolean,
  name: Schema.NullOr(Schema.String),
  ticketUrl: Schema.NullOr(Schema.String),
  ...common
})

/** The release started; `stableVersionId` was read from the Worker's live Cloudflare deployment. */
export const ReleaseStarted = Schema.TaggedStruct("ReleaseStarted", {
  stableVersionId: Schema.String,
  liveDeployment: ActiveDeployment,
  ...common
})

/** A step began: its split is to be applied next. */
export const StepStarted = Schema.TaggedStruct("StepStarted", {
  stepIndex: Schema.Int,
  percentage: Schema.Finite,
  ...common
})

/** The step's split is live on Cloudflare (`reusedExisting`: it already was, nothing was created). */
export const TrafficShifted = Schema.TaggedStruct("TrafficShifted", {
  stepIndex: Schema.Int,
  deploymentId: Schema.String,
  split: TrafficSplit,
  reusedExisting: Schema.Boolean,
  ...common
})

export const ShiftPurpose = Schema.Literals(["step", "rollback"])
export type ShiftPurpose = typeof ShiftPurpose.Type

/**
 * A traffic change hit a transient Cloudflare failure; it is retried at `retryAt`. `kind` says
 * whether Cloudflare failed (`transient`, which counts toward giving up) or asked us to wait
 * (`rate_limited`, including CanaryRoll's own API budget, which never does); absent means
 * `transient` (events written before the field existed).
 */
export const TrafficShiftFailed = Schema.TaggedStruct("TrafficShiftFailed", {
  purpose: ShiftPurpose,
  attempt: Schema.Int,
  kind: Schema.optionalKey(Schema.Literals(["transient", "rate_limited"])),
  error: Schema.String,
  retryAt: Schema.Finite,
  ...common
})

/** One health check over `window`: what analytics measured and what the policy concluded. */
export const HealthChecked = Schema.TaggedStruct("HealthChecked", {
  stepIndex: Schema.Int,
  window: Window,
  canary: Schema.NullOr(VersionSample),
  stable: Schema.NullOr(VersionSample),
  verdict: Verdict,
  reasons: Schema.Array(Schema.String),
  consecutiveFailures: Schema.Int,
  ...common
})

/** The release moved on to the next step, automatically or by a person. */
export const Promoted = Schema.TaggedStruct("Promoted", {
  fromStep: Schema.Int,
  toStep: Schema.Int,
  percentage: Schema.Finite,
  ...common
})

/** `rollback_refused`: Cloudflare refused to restore the stable version; a person must look. */
export const PauseCause = Schema.Literals(["requested", "unhealthy", "credentials", "rollback_refused"])
export type PauseCause = typeof PauseCause.Type

export const Paused = Schema.TaggedStruct("Paused", {
  cause: PauseCause,
  reason: Schema.String,
  ...common
})

/** The release resumed from `liveDeployment`, the split a person accepted as the new baseline. */
export const Resumed = Schema.TaggedStruct("Resumed", {
  liveDeployment: ActiveDeployment,
  ...common
})

/**
 * The stable version is to serve 100% again. `failing` (absent means false): a traffic change was
 * given up; the release ends `failed` if the stable version is found already serving everything
 * (the canary never served), `rolled_back` if the canary had to be taken off.
 */
export const RollbackStarted = Schema.TaggedStruct("RollbackStarted", {
  reason: Schema.String,
  failing: Schema.optionalKey(Schema.Boolean),
  ...common
})

/** `no_data`: analytics cannot judge the step; `cloudflare_unreachable`: a rollback keeps failing. */
export const StallCause = Schema.Literals(["no_data", "cloudflare_unreachable"])
export type StallCause = typeof StallCause.Type

/**
 * The release is held by something outside it since `since`: analytics that cannot judge the
 * current step (the soak does not count what was not judged), or Cloudflare failing a rollback
 * (retried with backoff, never given up). Recorded once per step, or once per rollback, so people
 * hear about it once; the release carries on by itself when the cause goes away.
 */
export const Stalled = Schema.TaggedStruct("Stalled", {
  cause: StallCause,
  stepIndex: Schema.Int,
  since: Schema.Finite,
  reason: Schema.String,
  ...common
})

/**
 * The stable version serves 100% again. `replaced` is the live deployment the rollback replaced
 * when it was not what the events said (a hand-made change): a rollback restores the safe state
 * whatever is live, but never silently.
 */
export const RolledBack = Schema.TaggedStruct("RolledBack", {
  deploymentId: Schema.String,
  reusedExisting: Schema.Boolean,
  replaced: Schema.optionalKey(ActiveDeployment),
  ...common
})

export const Completed = Schema.TaggedStruct("Completed", {
  ...common
})

export const Failed = Schema.TaggedStruct("Failed", {
  reason: Schema.String,
  ...common
})

export const Cancelled = Schema.TaggedStruct("Cancelled", {
  reason: Schema.NullOr(Schema.String),
  ...common
})

/** The live deployment was not what the events say (someone deployed by hand); the release paused. */
export const DriftDetected = Schema.TaggedStruct("DriftDetected", {
  expected: TrafficSplit,
  observed: ActiveDeployment,
  ...common
})

export const ReleaseEvent = Schema.Union([
  ReleaseCreated,
  ReleaseStarted,
  StepStarted,
  TrafficShifted,
  TrafficShiftFailed,
  HealthChecked,
  Promoted,
  Paused,
  Resumed,
  RollbackStarted,
  RolledBack,
  Completed,
  Failed,
  Cancelled,
  DriftDetected,
  Stalled
]).pipe(Schema.toTaggedUnion("_tag"))
export type ReleaseEvent = typeof ReleaseEvent.Type
export type ReleaseEventType = ReleaseEvent["_tag"]

/** The JSON form stored by adapters; decode with `Schema.decodeUnknownSync(ReleaseEvent.Json)`. */
export const Json = Schema.fromJsonString(ReleaseEvent)

export const eventTypes: ReadonlyArray<ReleaseEventType> = ReleaseEvent.members.map((member) => member.fields._tag.schema.literal)

/** Terminal events: exactly one of them ends every release. */
export const isTerminalEvent = (event: ReleaseEvent): boolean =>
  event._tag === "Completed" || event._tag === "RolledBack" || event._tag === "Failed" || event._tag === "Cancelled"
