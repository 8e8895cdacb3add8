/**
 * The release decider: `decide(command, state)` returns the events that happen, no events when
 * the command was already carried out (so re-sending is harmless), or a typed rejection with a
 * message a person understands. Read it as a table of (command, state) pairs.
 *
 * @since 0.1.0
 */
import { Result, Schema } from "effect"
import * as Actor from "./Actor.ts"
import * as HealthCheck from "./HealthCheck.ts"
import * as Release from "./Release.ts"
import type * as Command from "./ReleaseCommand.ts"
import type { ReleaseEvent } from "./ReleaseEvent.ts"
import * as TrafficSplit from "./TrafficSplit.ts"

export const RejectionCode = Schema.Literals([
  "not_found",
  "already_exists",
  "invalid_state",
  "traffic_not_live",
  "not_healthy",
  "soak_not_elapsed",
  "manual_advance_only",
  "version_already_live",
  "deployment_in_progress",
  "unknown_live_version",
  "stale_step"
])
export type RejectionCode = typeof RejectionCode.Type

export class ReleaseRejected extends Schema.TaggedError<ReleaseRejected>()("ReleaseRejected", {
  code: RejectionCode,
  message: Schema.String
}) {}

/** Forward traffic changes give up after this many transient failures; rollbacks never do. */
export const maxShiftAttempts = 10
const baseBackoffMs = 5_000
const maxBackoffMs = 5 * 60_000

type Decision = Result.Result<ReadonlyArray<ReleaseEvent>, ReleaseRejected>

const events = (...list: ReadonlyArray<ReleaseEvent>): Decision => Result.succeed(list)
const alreadyDone: Decision = Result.succeed([])
const reject = (code: RejectionCode, message: string): Decision => Result.fail(new ReleaseRejected({ code, message }))

const statusSentence = (state: Release.ReleaseState): string => {
  if (!Release.exists(state)) return "the release does not exist"
  const phase = state.phase
  switch (phase._tag) {
    case "Pending":
      return "the release has not started"
    case "Shifting":
    case "Soaking":
      return "the release is in progress"
    case "RollingBack":
      return "the release is rolling back"
    case "Paused":
      return phase.rollback === null
        ? `the release is paused (${phase.reason})`
        : `the release's rollback is paused (${phase.reason})`
    case "Ended":
      switch (phase.outcome) {
        case "completed":
          return "the release has completed"
        case "rolled_back":
          return "the release was rolled back"
        case "failed":
          return "the release failed"
        case "cancelled":
          return "the release was cancelled"
      }
  }
}

const notAllowed = (state: Release.ReleaseState, action: string): Decision =>
  state.status === "none"
    ? reject("not_found", "the release does not exist")
    : reject("invalid_state", `cannot ${action}: ${statusSentence(state)}`)

/**
 * A number in [0, 1] derived from the release id and the attempt: jitter, so that many releases
 * failing together do not retry together (the decider has no random source).
 */
const jitter = (releaseId: string, attempt: number): number => {
  let hash = attempt
  for (let i = 0; i < releaseId.length; i++) hash = (hash * 31 + releaseId.charCodeAt(i)) | 0
  return (Math.abs(hash) % 401) / 400
}

/** Exponential backoff, capped, times a jitter between 0.8 and 1.2. */
export const backoffMs = (releaseId: string, attempt: number): number => {
  const exponential = Math.min(maxBackoffMs, baseBackoffMs * 2 ** Math.max(0, attempt - 1))
  return Math.round(exponential * (0.8 + 0.4 * jitter(releaseId, attempt)))
}

/** Cloudflare's `retry-after`, never shortened, spread up to 20% later across releases. */
export const retryAfterMs = (releaseId: string, attempt: number, retryAfterSeconds: number): number =>
  Math.round(retryAfterSeconds * 1000 * (1 + 0.2 * jitter(releaseId, attempt)))

const iso = (ms: number) => new Date(ms).toISOString()

/** A rollback failing this many times in a row is said to be stalled (once; it is retried for ever). */
export const rollbackStallAfterFailures = 3

/** Whether a rollback is under way or paused mid-way: the canary must come off whatever else happens. */
const rollbackOf = (phase: Release.Phase): Release.Rollback | null =>
  phase._tag === "RollingBack" ? phase.rollback : phase._tag === "Paused" ? phase.rollback : null

type Advance = Command.Advance

/** Advance from a step whose split is live: the soak, health and (to complete) the live split decide. */
const advanceFromSoak = (release: Release.Release, soaking: Release.Soaking, command: Advance): Decision => {
  const { actor, now: at } = command
  const run = soaking.run
  const automatic = Actor.isSystem(actor)
  if (automatic && !release.autoAdvance) {
    return reject("manual_advance_only", "this release waits for a person at each step")
  }
  const checks = soaking.checks
  // A 0% step (a smoke-test stage) serves only version-override requests, often too few to judge:
  // a person may move on from it on their own judgement unless a check found it unhealthy.
  const smokeTestJudgedByPerson = !automatic && release.plan.steps[run.stepIndex]!.percentage === 0 &&
    checks.lastVerdict !== "unhealthy" && checks.consecutiveFailures === 0
  if (!smokeTestJudgedByPerson && (checks.lastVerdict !== "healthy" || checks.consecutiveFailures > 0)) {
    return reject(
      "not_healthy",
      checks.lastVerdict === null
        ? `no health check has passed at step ${run.stepIndex} yet`
        : `the latest health check at step ${run.stepIndex} was ${checks.lastVerdict}`
    )
  }
  if (automatic) {
    // Missing data never counts toward a soak: healthy checks must cover it without a gap.
    const soakEnd = Release.soakEndsAt(release, run, soaking)
    const delayMs = release.plan.health.analyticsDelaySeconds * 1000
    if (checks.unjudgedSince !== null) {
      return reject("soak_not_elapsed", `analytics have not judged step ${run.stepIndex} since ${iso(checks.unjudgedSince)}`)
    }
    if (checks.coveredUntil < soakEnd) {
      return reject(
        "soak_not_elapsed",
        `healthy checks cover step ${run.stepIndex} until ${iso(checks.coveredUntil)}; its soak needs them until ${iso(soakEnd)}`
      )
    }
    if (at < soakEnd + delayMs) {
      return reject("soak_not_elapsed", `step ${run.stepIndex} soaks until ${iso(soakEnd)} plus the analytics delay`)
    }
  }
  if (Release.isLastStepOf(release, run)) {
    // Completed means the canary serves 100%: the live deployment is read just before.
    const live = command.liveDeployment
    if (live === undefined) {
      return reject("invalid_state", "cannot complete without reading the live deployment first")
    }
    if (!TrafficSplit.equals(live.split, run.liveSplit)) {
      return events({ _tag: "DriftDetected", expected: run.liveSplit, observed: live, actor, at })
    }
    return events({ _tag: "Completed", actor, at })
  }
  const next = run.stepIndex + 1
  const percentage = release.plan.steps[next]!.percentage
  return events(
    { _tag: "Promoted", fromStep: run.stepIndex, toStep: next, percentage, actor, at },
    { _tag: "StepStarted", stepIndex: next, percentage, actor, at }
  )
}

const decideShiftFailure = (release: Release.Release, command: Command.ReportShiftFailure): Decision => {
  const { actor, now: at } = command
  const phase = release.phase
  if (release.status !== "in_progress") return notAllowed(release, "record a traffic failure")
  const forRollback = command.purpose === "rollback"
  const underWay = forRollback ? phase._tag === "RollingBack" : phase._tag === "Shifting"
  if (!underWay || (phase._tag !== "RollingBack" && phase._tag !== "Shifting")) {
    return reject("invalid_state", `no ${command.purpose} traffic change is under way`)
  }
  const run = phase.run
  const what = forRollback ? "rolling back" : `shifting traffic for step ${run.stepIndex}`
  // A step that cannot be carried out never ends the release while the canary may serve: the
  // rollback reads what is live first and ends `failed` only when the stable version serves 100%.
  const giveUp = (reason: string): Decision =>
    events({ _tag: "RollbackStarted", reason: `${reason}; restoring the stable version`, failing: true, actor, at })
  switch (command.kind) {
    case "transient":
    case "rate_limited": {
      const attempt = (phase.retry?.attempt ?? 0) + 1
      // Only Cloudflare failing counts toward giving up; being asked to wait never does.
      const failures = (phase.retry?.failures ?? 0) + (command.kind === "transient" ? 1 : 0)
      if (!forRollback && command.kind === "transient" && failures >= maxShiftAttempts) {
        return giveUp(`Cloudflare kept failing while ${what} (${maxShiftAttempts} attempts): ${command.message}`)
      }
      const delay = command.retryAfterSeconds !== undefined
        ? retryAfterMs(release.releaseId, attempt, command.retryAfterSeconds)
        : backoffMs(release.releaseId, attempt)
      const failed: ReleaseEvent = {
        _tag: "TrafficShiftFailed",
        purpose: command.purpose,
        attempt,
        kind: command.kind,
        error: command.message,
        retryAt: at + delay,
        actor,
        at
      }
      if (phase._tag === "RollingBack" && !phase.stalled && failures >= rollbackStallAfterFailures) {
        const since = phase.retry?.since ?? at
        return events(failed, {
          _tag: "Stalled",
          cause: "cloudflare_unreachable",
          stepIndex: run.stepIndex,
          since,
          reason: `rollback pending: Cloudflare unreachable since ${iso(since)} (${failures} attempts, retried with backoff): ${command.message}`,
          actor,
          at
        })
      }
      return events(failed)
    }
    case "credentials":
      return events({
        _tag: "Paused",
        cause: "credentials",
        reason: `Cloudflare rejected the credentials while ${what}: ${command.message}`,
        actor,
        at
      })
    case "permanent":
    case "not_found":
      // A refused rollback leaves the canary serving: that needs a person, not a terminal
      // status (resuming retries the rollback).
      return forRollback
        ? events({
          _tag: "Paused",
          cause: "rollback_refused",
          reason: `Cloudflare refused ${what}: ${command.message}; fix the Worker and resume to retry the rollback`,
          actor,
          at
        })
        : giveUp(`Cloudflare refused ${what}: ${command.message}`)
  }
}

/** A sample no one can judge (NaN, negative) is not stored as if it were a measurement. */
const usable = (sample: HealthCheck.VersionSample | undefined, label: string) =>
  sample === undefined || HealthCheck.invalidSampleReason(sample, label) !== undefined ? null : sample

const decideHealthCheck = (release: Release.Release, soaking: Release.Soaking, command: Command.RecordHealthCheck): Decision => {
  const { actor, now: at } = command
  const checks = soaking.checks
  const run = soaking.run
  // A window from before this step's traffic went live (an earlier step, or before a resume) says
  // nothing about the current split.
  if (command.window.start < soaking.trafficAppliedAt) return alreadyDone
  const policy = release.plan.health
  const assessment = HealthCheck.assess(policy, command.canary, command.stable)
  const reasons = command.canary === undefined && command.unavailableReason !== undefined
    ? [`analytics unavailable: ${command.unavailableReason}`]
    : assessment.reasons
  const counts = assessment.verdict === "unhealthy" ||
    (assessment.verdict === "inconclusive" && policy.onInconclusive === "fail")
  const consecutiveFailures = assessment.verdict === "healthy"
    ? 0
    : counts
    ? checks.consecutiveFailures + 1
    : checks.consecutiveFailures
  const checked: ReleaseEvent = {
    _tag: "HealthChecked",
    stepIndex: run.stepIndex,
    window: command.window,
    canary: usable(command.canary, "canary"),
    stable: usable(command.stable, "stable"),
    verdict: assessment.verdict,
    reasons,
    consecutiveFailures,
    actor,
    at
  }
  if (counts && consecutiveFailures >= policy.failuresBeforeAction) {
    const reason = `${consecutiveFailures} consecutive failed health checks (failuresBeforeAction ${policy.failuresBeforeAction}): ${
      reasons.join("; ")
    }`
    return policy.onFailure === "rollback"
      ? events(checked, { _tag: "RollbackStarted", reason, actor, at })
      : events(checked, { _tag: "Paused", cause: "unhealthy", reason, actor, at })
  }
  // Held for lack of data: said once per step, when more than one interval has gone unjudged.
  const unjudgedSince = checks.unjudgedSince ?? command.window.start
  if (
    assessment.verdict === "inconclusive" && !checks.stalled &&
    command.window.end - unjudgedSince > policy.intervalSeconds * 1000
  ) {
    return events(checked, {
      _tag: "Stalled",
      cause: "no_data",
      stepIndex: run.stepIndex,
      since: unjudgedSince,
      reason: `held at step ${run.stepIndex + 1}: no judged health data since ${iso(unjudgedSince)} (${
        reasons.join("; ")
      }); the soak counts only judged time`,
      actor,
      at
    })
  }
  return events(checked)
}

export const decide = (command: Command.ReleaseCommand, state: Release.ReleaseState): Decision => {
  const { actor, now: at } = command
  if (command._tag === "Create") {
    if (Release.exists(state)) {
      return state.releaseId === command.releaseId && state.canaryVersionId === command.canaryVersionId
        ? alreadyDone
        : reject("already_exists", `release ${state.releaseId} already exists`)
    }
    const { _tag, now, ...fields } = command
    return events({ _tag: "ReleaseCreated", ...fields, at })
  }
  if (!Release.exists(state)) return reject("not_found", "the release does not exist")
  const release = state
  const phase = release.phase
  const rollback = rollbackOf(phase)

  switch (command._tag) {
    case "Start": {
      // A release that ended is finished: starting it again is refused, whatever the outcome
      // (a new release is a new stream). Started and not ended: already done.
      if (phase._tag === "Ended") {
        return phase.run === null
          ? notAllowed(release, "start")
          : reject("invalid_state", `cannot start: ${statusSentence(release)}; create a new release to release again`)
      }
      if (phase._tag !== "Pending") return alreadyDone
      const split = command.liveDeployment.split.filter((share) => share.percentage > 0)
      if (split.length !== 1) {
        return reject(
          "deployment_in_progress",
          `the Worker's live deployment ${command.liveDeployment.deploymentId} already splits traffic (${
            TrafficSplit.describe(command.liveDeployment.split)
          }); finish or roll back that deployment first`
        )
      }
      const stable = split[0]!.versionId
      if (stable === release.canaryVersionId) {
        return reject("version_already_live", `version ${stable} already serves 100% of traffic`)
      }
      return events(
        { _tag: "ReleaseStarted", stableVersionId: stable, liveDeployment: command.liveDeployment, actor, at },
        { _tag: "StepStarted", stepIndex: 0, percentage: release.plan.steps[0]!.percentage, actor, at }
      )
    }

    case "Advance": {
      switch (phase._tag) {
        case "Ended":
          return phase.outcome === "completed" ? alreadyDone : notAllowed(release, "advance")
        case "RollingBack":
          return reject("invalid_state", "cannot advance: the release is rolling back")
        case "Pending":
        case "Paused":
          return notAllowed(release, "advance")
        case "Shifting":
        case "Soaking": {
          const current = phase.run.stepIndex
          if (command.fromStep < current) return alreadyDone
          if (command.fromStep > current) {
            return reject("stale_step", `the release is at step ${current}, not ${command.fromStep}`)
          }
          return phase._tag === "Shifting"
            ? reject("traffic_not_live", `traffic for step ${current} is not live yet`)
            : advanceFromSoak(release, phase, command)
        }
      }
    }

    case "Pause": {
      switch (phase._tag) {
        case "Paused":
          return alreadyDone
        case "RollingBack":
          return reject("invalid_state", "cannot pause: the release is rolling back")
        case "Shifting":
        case "Soaking":
          return events({ _tag: "Paused", cause: "requested", reason: command.reason, actor, at })
        case "Pending":
        case "Ended":
          return notAllowed(release, "pause")
      }
    }

    case "Resume": {
      switch (phase._tag) {
        case "RollingBack":
          return reject("invalid_state", "cannot resume: the release is rolling back")
        case "Shifting":
        case "Soaking":
          return alreadyDone
        case "Pending":
        case "Ended":
          return notAllowed(release, "resume")
        case "Paused": {
          const run = phase.run
          const known = new Set([release.canaryVersionId, run.stableVersionId])
          const stranger = command.liveDeployment.split.find((share) => share.percentage > 0 && !known.has(share.versionId))
          // A paused rollback resumes whatever is live: it puts the stable version back regardless.
          if (stranger !== undefined && phase.rollback === null) {
            return reject(
              "unknown_live_version",
              `the live deployment serves version ${stranger.versionId}, which is neither the stable (${run.stableVersionId}) nor the canary (${release.canaryVersionId}); restore one of them or roll back`
            )
          }
          return events({ _tag: "Resumed", liveDeployment: command.liveDeployment, actor, at })
        }
      }
    }

    case "Rollback": {
      if (rollback !== null) return alreadyDone
      switch (phase._tag) {
        case "Pending":
          return reject("invalid_state", "cannot roll back: the release has not started; cancel it instead")
        case "Ended":
          return phase.outcome === "rolled_back" ? alreadyDone : notAllowed(release, "roll back")
        case "Shifting":
        case "Soaking":
        case "Paused":
        case "RollingBack":
          return events({ _tag: "RollbackStarted", reason: command.reason, actor, at })
      }
    }

    case "Cancel": {
      switch (phase._tag) {
        case "Pending":
          return events({ _tag: "Cancelled", reason: command.reason, actor, at })
        case "Ended":
          return phase.outcome === "cancelled" ? alreadyDone : notAllowed(release, "cancel")
        case "Shifting":
        case "Soaking":
        case "Paused":
        case "RollingBack":
          return reject("invalid_state", "cannot cancel: the release has started; roll it back instead")
      }
    }

    case "RecordTrafficShift": {
      if (phase._tag === "Pending" || phase._tag === "Ended") return notAllowed(release, "record a traffic shift")
      if (rollback !== null) return reject("invalid_state", "cannot record a step's traffic: the release is rolling back")
      const run = phase.run
      if (command.stepIndex > run.stepIndex) {
        return reject("stale_step", `the release is at step ${run.stepIndex}, not ${command.stepIndex}`)
      }
      if (command.stepIndex < run.stepIndex) return alreadyDone
      // Soaking: already recorded. Paused: recorded only if it changes what the events say is live.
      if (phase._tag === "Soaking") return alreadyDone
      if (phase._tag === "Paused" && TrafficSplit.equals(run.liveSplit, command.deployment.split)) return alreadyDone
      return events({
        _tag: "TrafficShifted",
        stepIndex: command.stepIndex,
        deploymentId: command.deployment.deploymentId,
        split: command.deployment.split,
        reusedExisting: command.reusedExisting,
        actor,
        at
      })
    }

    case "RecordRollback": {
      if (phase._tag === "Ended" && (phase.outcome === "rolled_back" || phase.outcome === "failed")) return alreadyDone
      if (rollback === null) return notAllowed(release, "record a rollback")
      // Given up on a step and found the stable version already serving everything: the canary
      // never served, so nothing was rolled back; the release failed.
      if (rollback.failing && command.reusedExisting && command.replaced === undefined) {
        return events({ _tag: "Failed", reason: rollback.reason, actor, at })
      }
      return events({
        _tag: "RolledBack",
        deploymentId: command.deployment.deploymentId,
        reusedExisting: command.reusedExisting,
        ...(command.replaced === undefined ? {} : { replaced: command.replaced }),
        actor,
        at
      })
    }

    case "ReportShiftFailure":
      return decideShiftFailure(release, command)

    case "ReportDrift": {
      switch (phase._tag) {
        case "Paused":
          return phase.cause === "drift" ? alreadyDone : notAllowed(release, "record drift")
        case "RollingBack":
          // A rollback restores the stable version whatever is live (and says what it replaced).
          return reject("invalid_state", "cannot record drift: the release is rolling back")
        case "Shifting":
        case "Soaking":
          return events({ _tag: "DriftDetected", expected: command.expected, observed: command.observed, actor, at })
        case "Pending":
        case "Ended":
          return notAllowed(release, "record drift")
      }
    }

    case "RecordHealthCheck": {
      // A window already judged is already done, whatever happened since (re-sent commands).
      const judgedUntil = Release.lastWindowEnd(release)
      if (judgedUntil !== null && command.window.end <= judgedUntil) return alreadyDone
      switch (phase._tag) {
        case "Soaking":
          return decideHealthCheck(release, phase, command)
        case "Shifting":
          return reject("traffic_not_live", `traffic for step ${phase.run.stepIndex} is not live yet`)
        case "RollingBack":
          return reject("invalid_state", "cannot record a health check: the release is rolling back")
        case "Pending":
        case "Paused":
        case "Ended":
          return notAllowed(release, "record a health check")
      }
    }
  }
}

/** The decider as a record, the shape event-sourcing tools expect. */
export const decider = {
  decide,
  evolve: Release.evolve,
  initialState: Release.initial,
  isTerminal: Release.isTerminal
} as const
