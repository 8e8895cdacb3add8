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
  switch (state.status) {
    case "none":
      return "the release does not exist"
    case "pending":
      return "the release has not started"
    case "in_progress":
      return "the release is in progress"
    case "paused":
      return `the release is paused (${(state as Release.Release).pause?.reason ?? "paused"})`
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
  const rollingBack = release.rollback !== null && !Release.isTerminal(release)

  switch (command._tag) {
    case "Start": {
      if (release.status === "cancelled") return notAllowed(release, "start")
      if (release.status !== "pending") return alreadyDone
      const split = command.liveDeployment.split
      if (split.length !== 1) {
        return reject(
          "deployment_in_progress",
          `the Worker's live deployment ${command.liveDeployment.deploymentId} already splits traffic (${
            TrafficSplit.describe(split)
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
      if (release.status === "completed") return alreadyDone
      if (rollingBack) return reject("invalid_state", "cannot advance: the release is rolling back")
      if (release.status !== "in_progress") return notAllowed(release, "advance")
      if (command.fromStep < release.stepIndex) return alreadyDone
      if (command.fromStep > release.stepIndex) {
        return reject("stale_step", `the release is at step ${release.stepIndex}, not ${command.fromStep}`)
      }
      if (release.trafficAppliedAt === null) {
        return reject("traffic_not_live", `traffic for step ${release.stepIndex} is not live yet`)
      }
      const automatic = Actor.isSystem(actor)
      if (automatic && !release.autoAdvance) {
        return reject("manual_advance_only", "this release waits for a person at each step")
      }
      const step = Release.currentStep(release)
      const soakEndsAt = release.trafficAppliedAt + step.waitSeconds * 1000
      if (automatic && at < soakEndsAt) {
        return reject("soak_not_elapsed", `step ${release.stepIndex} soaks until ${new Date(soakEndsAt).toISOString()}`)
      }
      if (release.lastVerdict !== "healthy" || release.consecutiveFailures > 0) {
        return reject(
          "not_healthy",
          release.lastVerdict === null
            ? `no health check has passed at step ${release.stepIndex} yet`
            : `the latest health check at step ${release.stepIndex} was ${release.lastVerdict}`
        )
      }
      if (Release.isLastStep(release)) return events({ _tag: "Completed", actor, at })
      const next = release.stepIndex + 1
      const percentage = release.plan.steps[next]!.percentage
      return events(
        { _tag: "Promoted", fromStep: release.stepIndex, toStep: next, percentage, actor, at },
        { _tag: "StepStarted", stepIndex: next, percentage, actor, at }
      )
    }

    case "Pause": {
      if (release.status === "paused") return alreadyDone
      if (release.status !== "in_progress") return notAllowed(release, "pause")
      if (rollingBack) return reject("invalid_state", "cannot pause: the release is rolling back")
      return events({ _tag: "Paused", cause: "requested", reason: command.reason, actor, at })
    }

    case "Resume": {
      if (release.status === "in_progress" && rollingBack) {
        return reject("invalid_state", "cannot resume: the release is rolling back")
      }
      if (release.status === "in_progress") return alreadyDone
      if (release.status !== "paused") return notAllowed(release, "resume")
      const known = new Set([release.canaryVersionId, release.stableVersionId])
      const stranger = command.liveDeployment.split.find((share) => share.percentage > 0 && !known.has(share.versionId))
      // A paused rollback resumes whatever is live: it puts the stable version back regardless.
      if (stranger !== undefined && release.rollback === null) {
        return reject(
          "unknown_live_version",
          `the live deployment serves version ${stranger.versionId}, which is neither the stable (${release.stableVersionId}) nor the canary (${release.canaryVersionId}); restore one of them or roll back`
        )
      }
      return events({ _tag: "Resumed", liveDeployment: command.liveDeployment, actor, at })
    }

    case "Rollback": {
      if (release.status === "rolled_back" || rollingBack) return alreadyDone
      if (release.status === "pending") {
        return reject("invalid_state", "cannot roll back: the release has not started; cancel it instead")
      }
      if (release.status !== "in_progress" && release.status !== "paused") return notAllowed(release, "roll back")
      return events({ _tag: "RollbackStarted", reason: command.reason, actor, at })
    }

    case "Cancel": {
      if (release.status === "cancelled") return alreadyDone
      if (release.status === "pending") return events({ _tag: "Cancelled", reason: command.reason, actor, at })
      if (release.status === "in_progress" || release.status === "paused") {
        return reject("invalid_state", "cannot cancel: the release has started; roll it back instead")
      }
      return notAllowed(release, "cancel")
    }

    case "RecordTrafficShift": {
      if (release.status !== "in_progress" && release.status !== "paused") return notAllowed(release, "record a traffic shift")
      if (rollingBack) return reject("invalid_state", "cannot record a step's traffic: the release is rolling back")
      if (command.stepIndex > release.stepIndex) {
        return reject("stale_step", `the release is at step ${release.stepIndex}, not ${command.stepIndex}`)
      }
      if (command.stepIndex < release.stepIndex || release.trafficAppliedAt !== null) return alreadyDone
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
      if (release.status === "rolled_back") return alreadyDone
      if (!rollingBack || (release.status !== "in_progress" && release.status !== "paused")) {
        return notAllowed(release, "record a rollback")
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

    case "ReportShiftFailure": {
      if (release.status !== "in_progress") return notAllowed(release, "record a traffic failure")
      const forRollback = command.purpose === "rollback"
      const underWay = forRollback ? rollingBack : !rollingBack && release.trafficAppliedAt === null
      if (!underWay) return reject("invalid_state", `no ${command.purpose} traffic change is under way`)
      const what = forRollback ? "rolling back" : `shifting traffic for step ${release.stepIndex}`
      // A step that cannot be carried out fails the release, unless the canary already serves
      // traffic from an earlier step: then the safe end is the stable version back at 100%.
      const canaryLive = TrafficSplit.percentageOf(release.liveSplit ?? [], release.canaryVersionId) > 0
      const giveUp = (reason: string): Decision =>
        canaryLive
          ? events({ _tag: "RollbackStarted", reason: `${reason}; rolling back`, actor, at })
          : events({ _tag: "Failed", reason, actor, at })
      switch (command.kind) {
        case "transient":
        case "rate_limited": {
          const attempt = (release.shiftRetry?.attempt ?? 0) + 1
          // Only Cloudflare failing counts toward giving up; being asked to wait never does.
          const failures = (release.shiftRetry?.failures ?? 0) + (command.kind === "transient" ? 1 : 0)
          if (!forRollback && command.kind === "transient" && failures >= maxShiftAttempts) {
            return giveUp(`Cloudflare kept failing while ${what} (${maxShiftAttempts} attempts): ${command.message}`)
          }
          const delay = command.retryAfterSeconds !== undefined
            ? retryAfterMs(release.releaseId, attempt, command.retryAfterSeconds)
            : backoffMs(release.releaseId, attempt)
          return events({
            _tag: "TrafficShiftFailed",
            purpose: command.purpose,
            attempt,
            kind: command.kind,
            error: command.message,
            retryAt: at + delay,
            actor,
            at
          })
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
          // status (resuming retries the rollback). A refused step fails the release.
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

    case "ReportDrift": {
      if (release.status === "paused" && release.pause?.cause === "drift") return alreadyDone
      if (release.status !== "in_progress") return notAllowed(release, "record drift")
      return events({ _tag: "DriftDetected", expected: command.expected, observed: command.observed, actor, at })
    }

    case "RecordHealthCheck": {
      // A window already judged is already done, whatever happened since (re-sent commands).
      if (release.lastWindowEnd !== null && command.window.end <= release.lastWindowEnd) return alreadyDone
      if (release.status !== "in_progress") return notAllowed(release, "record a health check")
      if (rollingBack) return reject("invalid_state", "cannot record a health check: the release is rolling back")
      if (release.trafficAppliedAt === null) {
        return reject("traffic_not_live", `traffic for step ${release.stepIndex} is not live yet`)
      }
      // A window from before this step's traffic went live (an earlier step, or before a resume)
      // says nothing about the current split.
      if (command.window.start < release.trafficAppliedAt) return alreadyDone
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
        ? release.consecutiveFailures + 1
        : release.consecutiveFailures
      const checked: ReleaseEvent = {
        _tag: "HealthChecked",
        stepIndex: release.stepIndex,
        window: command.window,
        canary: command.canary ?? null,
        stable: command.stable ?? null,
        verdict: assessment.verdict,
        reasons,
        consecutiveFailures,
        actor,
        at
      }
      if (!counts || consecutiveFailures < policy.failuresBeforeAction) return events(checked)
      const reason = `${consecutiveFailures} consecutive failed health checks (failuresBeforeAction ${policy.failuresBeforeAction}): ${
        reasons.join("; ")
      }`
      return policy.onFailure === "rollback"
        ? events(checked, { _tag: "RollbackStarted", reason, actor, at })
        : events(checked, { _tag: "Paused", cause: "unhealthy", reason, actor, at })
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
