/**
 * Decider specs for a release: given the events so far, when a command arrives, then exactly these
 * events, nothing (already done) or a rejection. Grouped by the state the release starts from;
 * every state answers every command.
 */
import { assert, describe, it } from "@effect/vitest"
import { Actor, Plan, ReleaseDecider } from "../src/index.ts"
import type { HealthCheck, ReleaseCommand, ReleaseEvent, TrafficSplit } from "../src/index.ts"
import { given } from "./support/DeciderSpec.ts"

type Event<Tag extends ReleaseEvent.ReleaseEventType> = Extract<ReleaseEvent.ReleaseEvent, { readonly _tag: Tag }>
type History = ReadonlyArray<ReleaseEvent.ReleaseEvent>
type Command = ReleaseCommand.ReleaseCommand

// ---------------------------------------------------------------------------------------------
// Time. Step k's traffic goes live at liveAt(k), an hour after the previous step's; its n-th health
// check covers the n-th minute after that and is recorded one minute later (the analytics delay).

const t0 = 1_700_000_000_000 // 2023-11-14T22:13:20.000Z
const minute = 60_000
const hour = 60 * minute
const startedAt = t0 + minute
const liveAt = (step: number) => t0 + step * hour + 2 * minute
const windowOf = (step: number, n: number): HealthCheck.Window => ({
  start: liveAt(step) + n * minute,
  end: liveAt(step) + (n + 1) * minute
})
const checkedAt = (step: number, n: number) => liveAt(step) + (n + 2) * minute
/** When a command arrives unless a spec says otherwise: after every given event. */
const now = t0 + 5 * hour

// ---------------------------------------------------------------------------------------------
// Who, what, where.

const alice = Actor.user("user-1", "Alice")
const ci = Actor.token("token-1", "ci")
const system = Actor.system

const STABLE = "v-stable"
const CANARY = "v-canary"
const HOTFIX = "v-hotfix"

const steps = [
  { percentage: 10, waitSeconds: 300 },
  { percentage: 50, waitSeconds: 300 },
  { percentage: 100, waitSeconds: 600 }
]
/** Default policy: 3 failures before acting, 1% errors, 100 requests for a verdict, inconclusive holds, failure rolls back. */
const plan = Plan.make({ steps })
const pausingPlan = Plan.make({ steps, health: { onFailure: "pause" } })
const strictPlan = Plan.make({ steps, health: { onInconclusive: "fail" } })

const stableOnly: TrafficSplit.TrafficSplit = [{ versionId: STABLE, percentage: 100 }]
const stableLive: TrafficSplit.ActiveDeployment = { deploymentId: "dep-stable", split: stableOnly }
const stepDeployments: ReadonlyArray<TrafficSplit.ActiveDeployment> = [
  { deploymentId: "dep-10", split: [{ versionId: CANARY, percentage: 10 }, { versionId: STABLE, percentage: 90 }] },
  { deploymentId: "dep-50", split: [{ versionId: CANARY, percentage: 50 }, { versionId: STABLE, percentage: 50 }] },
  { deploymentId: "dep-100", split: [{ versionId: CANARY, percentage: 100 }] }
]
const deploymentAt = (step: number) => stepDeployments[step]!
/** Someone ran `wrangler versions deploy` by hand. */
const handDeployed: TrafficSplit.ActiveDeployment = { deploymentId: "dep-hand", split: [{ versionId: HOTFIX, percentage: 100 }] }
const restored: TrafficSplit.ActiveDeployment = { deploymentId: "dep-restore", split: stableOnly }

const healthy: HealthCheck.VersionSample = { requests: 1_000, errors: 2 }
const failing: HealthCheck.VersionSample = { requests: 1_000, errors: 50 }
const quiet: HealthCheck.VersionSample = { requests: 40, errors: 0 }
const stableSample: HealthCheck.VersionSample = { requests: 9_000, errors: 9 }
const sampleFor = { healthy, unhealthy: failing, inconclusive: quiet } as const
const reasonsFor = {
  healthy: ["error rate 0.20% <= maxErrorRate (1.00%)"],
  unhealthy: ["error rate 5.00% > maxErrorRate (1.00%)"],
  inconclusive: ["requests 40 < minRequests (100)"]
} as const

// ---------------------------------------------------------------------------------------------
// Events, as stored.

const releaseCreated = (overrides: Partial<Event<"ReleaseCreated">> = {}): Event<"ReleaseCreated"> => ({
  _tag: "ReleaseCreated",
  releaseId: "rel-1",
  teamId: "team-1",
  workerId: "worker-1",
  accountId: "account-1",
  scriptName: "checkout",
  canaryVersionId: CANARY,
  planId: "plan-1",
  plan,
  autoAdvance: true,
  name: "checkout 2.4",
  ticketUrl: "https://tickets.example.com/REL-42",
  actor: alice,
  at: t0,
  ...overrides
})
const created = releaseCreated()
const started: Event<"ReleaseStarted"> = {
  _tag: "ReleaseStarted",
  stableVersionId: STABLE,
  liveDeployment: stableLive,
  actor: alice,
  at: startedAt
}
const stepStarted = (stepIndex: number, actor = system, at = liveAt(stepIndex) - minute): Event<"StepStarted"> => ({
  _tag: "StepStarted",
  stepIndex,
  percentage: steps[stepIndex]!.percentage,
  actor,
  at
})
const trafficShifted = (stepIndex: number, at = liveAt(stepIndex), reusedExisting = false): Event<"TrafficShifted"> => ({
  _tag: "TrafficShifted",
  stepIndex,
  deploymentId: deploymentAt(stepIndex).deploymentId,
  split: deploymentAt(stepIndex).split,
  reusedExisting,
  actor: system,
  at
})
const shiftFailed = (attempt: number, purpose: ReleaseEvent.ShiftPurpose = "step"): Event<"TrafficShiftFailed"> => ({
  _tag: "TrafficShiftFailed",
  purpose,
  attempt,
  error: "503 Service Unavailable",
  retryAt: liveAt(0) + attempt * minute,
  actor: system,
  at: liveAt(0) + (attempt - 1) * minute
})
const shiftFailures = (count: number, purpose: ReleaseEvent.ShiftPurpose = "step") =>
  Array.from({ length: count }, (_, i) => shiftFailed(i + 1, purpose))
const healthChecked = (
  step: number,
  n: number,
  verdict: HealthCheck.Verdict,
  consecutiveFailures: number
): Event<"HealthChecked"> => ({
  _tag: "HealthChecked",
  stepIndex: step,
  window: windowOf(step, n),
  canary: sampleFor[verdict],
  stable: stableSample,
  verdict,
  reasons: reasonsFor[verdict],
  consecutiveFailures,
  actor: system,
  at: checkedAt(step, n)
})
const promoted = (fromStep: number, actor = system, at = liveAt(fromStep + 1) - minute): Event<"Promoted"> => ({
  _tag: "Promoted",
  fromStep,
  toStep: fromStep + 1,
  percentage: steps[fromStep + 1]!.percentage,
  actor,
  at
})
const pausedByAlice: Event<"Paused"> = {
  _tag: "Paused",
  cause: "requested",
  reason: "watching the dashboards",
  actor: alice,
  at: liveAt(0) + 10 * minute
}
const driftDetected: Event<"DriftDetected"> = {
  _tag: "DriftDetected",
  expected: stableOnly,
  observed: handDeployed,
  actor: system,
  at: liveAt(0)
}
const pausedForCredentials: Event<"Paused"> = {
  _tag: "Paused",
  cause: "credentials",
  reason: "Cloudflare rejected the credentials while shifting traffic for step 0: 10000: Authentication error",
  actor: system,
  at: liveAt(0)
}
const rollbackStarted: Event<"RollbackStarted"> = {
  _tag: "RollbackStarted",
  reason: "checkout errors in the canary",
  actor: alice,
  at: liveAt(0) + 10 * minute
}
const rolledBack: Event<"RolledBack"> = {
  _tag: "RolledBack",
  deploymentId: restored.deploymentId,
  reusedExisting: false,
  actor: system,
  at: liveAt(0) + 11 * minute
}
const completed: Event<"Completed"> = { _tag: "Completed", actor: system, at: liveAt(2) + 10 * minute }
const failed: Event<"Failed"> = {
  _tag: "Failed",
  reason: "Cloudflare refused shifting traffic for step 0: 10007: Worker not found",
  actor: system,
  at: liveAt(0)
}
const cancelled: Event<"Cancelled"> = { _tag: "Cancelled", reason: "wrong canary version", actor: alice, at: t0 + 30 * minute }

// ---------------------------------------------------------------------------------------------
// The histories each describe block starts from.

const pending: History = [created]
const awaitingTraffic: History = [created, started, stepStarted(0, alice, startedAt)]
const stepping: History = [...awaitingTraffic, trafficShifted(0)]
const steppingHealthy: History = [...stepping, healthChecked(0, 0, "healthy", 0)]
const atStep1: History = [...steppingHealthy, promoted(0), stepStarted(1), trafficShifted(1)]
const atLastStep: History = [
  ...atStep1,
  healthChecked(1, 0, "healthy", 0),
  promoted(1),
  stepStarted(2),
  trafficShifted(2)
]
const rollingBack: History = [...steppingHealthy, rollbackStarted]
const pausedRequested: History = [...steppingHealthy, pausedByAlice]
const pausedDrift: History = [...awaitingTraffic, driftDetected]
const pausedCredentials: History = [...awaitingTraffic, pausedForCredentials]
const completedRelease: History = [...atLastStep, healthChecked(2, 0, "healthy", 0), completed]
const rolledBackRelease: History = [...rollingBack, rolledBack]
const failedRelease: History = [...awaitingTraffic, failed]
const cancelledRelease: History = [created, cancelled]

/** The same history for a release created with other settings (plan, autoAdvance). */
const withRelease = (overrides: Partial<Event<"ReleaseCreated">>, history: History): History => [
  releaseCreated(overrides),
  ...history.slice(1)
]

// ---------------------------------------------------------------------------------------------
// Commands, as people and the orchestrator send them.

const create = (overrides: Partial<ReleaseCommand.Create> = {}): ReleaseCommand.Create => ({
  _tag: "Create",
  releaseId: "rel-1",
  teamId: "team-1",
  workerId: "worker-1",
  accountId: "account-1",
  scriptName: "checkout",
  canaryVersionId: CANARY,
  planId: "plan-1",
  plan,
  autoAdvance: true,
  name: "checkout 2.4",
  ticketUrl: "https://tickets.example.com/REL-42",
  actor: alice,
  now: t0,
  ...overrides
})
const start = (liveDeployment = stableLive): ReleaseCommand.Start => ({
  _tag: "Start",
  liveDeployment,
  actor: alice,
  now: startedAt
})
const advance = (fromStep: number, actor: Actor.Actor = alice, at = now): ReleaseCommand.Advance => ({
  _tag: "Advance",
  fromStep,
  actor,
  now: at
})
const pause: ReleaseCommand.Pause = { _tag: "Pause", reason: "watching the dashboards", actor: alice, now }
const resume = (liveDeployment: TrafficSplit.ActiveDeployment): ReleaseCommand.Resume => ({
  _tag: "Resume",
  liveDeployment,
  actor: alice,
  now
})
const rollback: ReleaseCommand.Rollback = { _tag: "Rollback", reason: "checkout errors in the canary", actor: alice, now }
const cancel: ReleaseCommand.Cancel = { _tag: "Cancel", reason: "wrong canary version", actor: alice, now }
const recordTrafficShift = (stepIndex: number, reusedExisting = false): ReleaseCommand.RecordTrafficShift => ({
  _tag: "RecordTrafficShift",
  stepIndex,
  deployment: deploymentAt(stepIndex),
  reusedExisting,
  actor: system,
  now
})
const recordRollback = (reusedExisting = false): ReleaseCommand.RecordRollback => ({
  _tag: "RecordRollback",
  deployment: restored,
  reusedExisting,
  actor: system,
  now
})
const failureMessages: Record<ReleaseCommand.ShiftFailureKind, string> = {
  transient: "503 Service Unavailable",
  rate_limited: "429 Too Many Requests",
  permanent: "10021: the version split is invalid",
  not_found: "10007: Worker not found",
  credentials: "10000: Authentication error"
}
const reportShiftFailure = (
  kind: ReleaseCommand.ShiftFailureKind,
  options: { readonly purpose?: ReleaseEvent.ShiftPurpose; readonly retryAfterSeconds?: number } = {}
): ReleaseCommand.ReportShiftFailure => ({
  _tag: "ReportShiftFailure",
  purpose: options.purpose ?? "step",
  kind,
  message: failureMessages[kind],
  retryAfterSeconds: options.retryAfterSeconds,
  actor: system,
  now
})
/** One failure report of every kind, for states that refuse them all alike. */
const everyShiftFailure = (purpose: ReleaseEvent.ShiftPurpose = "step"): ReadonlyArray<ReleaseCommand.ReportShiftFailure> => [
  reportShiftFailure("transient", { purpose }),
  reportShiftFailure("rate_limited", { purpose, retryAfterSeconds: 30 }),
  reportShiftFailure("permanent", { purpose }),
  reportShiftFailure("not_found", { purpose }),
  reportShiftFailure("credentials", { purpose })
]
const reportDrift = (expected: TrafficSplit.TrafficSplit = stableOnly): ReleaseCommand.ReportDrift => ({
  _tag: "ReportDrift",
  expected,
  observed: handDeployed,
  actor: system,
  now
})
const recordHealthCheck = (
  step: number,
  n: number,
  canary: HealthCheck.VersionSample | undefined
): ReleaseCommand.RecordHealthCheck => ({
  _tag: "RecordHealthCheck",
  window: windowOf(step, n),
  canary,
  stable: stableSample,
  actor: system,
  now: checkedAt(step, n)
})

// ---------------------------------------------------------------------------------------------
// Refusals shared by several states: "cannot <action>: <why the state forbids it>".

const actions: Record<Exclude<Command["_tag"], "Create">, string> = {
  Start: "start",
  Advance: "advance",
  Pause: "pause",
  Resume: "resume",
  Rollback: "roll back",
  Cancel: "cancel",
  RecordTrafficShift: "record a traffic shift",
  RecordRollback: "record a rollback",
  ReportShiftFailure: "record a traffic failure",
  ReportDrift: "record drift",
  RecordHealthCheck: "record a health check"
}

const label = (command: Command): string =>
  command._tag === "ReportShiftFailure" ? `ReportShiftFailure (${command.purpose}, ${command.kind})` : command._tag

/** Each command is refused as `invalid_state` with "cannot <action>: <why>…". */
const refusesEach = (history: History, why: string, commands: ReadonlyArray<Exclude<Command, ReleaseCommand.Create>>) => {
  for (const command of commands) {
    it(`refuses ${label(command)}: ${why}`, () =>
      given(history).when(command).thenRejects("invalid_state", new RegExp(`^cannot ${actions[command._tag]}: ${why}`)))
  }
}

// =============================================================================================

describe("ReleaseDecider", () => {
  describe("none (no events yet)", () => {
    it("Create records ReleaseCreated with the plan snapshot", () => given([]).when(create()).then([created]))

    const commands: ReadonlyArray<Command> = [
      start(),
      advance(0),
      pause,
      resume(stableLive),
      rollback,
      cancel,
      recordTrafficShift(0),
      recordRollback(),
      ...everyShiftFailure(),
      reportDrift(),
      recordHealthCheck(0, 0, healthy)
    ]
    for (const command of commands) {
      it(`rejects ${label(command)}: not_found`, () =>
        given([]).when(command).thenRejects("not_found", /the release does not exist/))
    }
  })

  describe("pending", () => {
    it("Create again is already done", () => given(pending).when(create()).thenNothing())
    it("Create with another release id is rejected", () =>
      given(pending).when(create({ releaseId: "rel-2" })).thenRejects("already_exists", /release rel-1 already exists/))
    it("Create with another canary version is rejected", () =>
      given(pending).when(create({ canaryVersionId: "v-other" })).thenRejects("already_exists", /release rel-1 already exists/))

    it("Start records the stable version from the live deployment and starts step 0", () =>
      given(pending).when(start()).then([started, stepStarted(0, alice, startedAt)]))
    it("Start is rejected while the live deployment already splits traffic", () =>
      given(pending).when(start(deploymentAt(1))).thenRejects(
        "deployment_in_progress",
        /live deployment dep-50 already splits traffic \(v-canary 50% \/ v-stable 50%\); finish or roll back that deployment first/
      ))
    it("Start is rejected when the canary already serves 100%", () =>
      given(pending).when(start(deploymentAt(2))).thenRejects(
        "version_already_live",
        /version v-canary already serves 100% of traffic/
      ))

    it("Rollback is rejected: nothing to roll back, cancel instead", () =>
      given(pending).when(rollback).thenRejects("invalid_state", /cannot roll back: the release has not started; cancel it instead/))
    it("Cancel records Cancelled", () =>
      given(pending).when(cancel).then([{ _tag: "Cancelled", reason: "wrong canary version", actor: alice, at: now }]))

    refusesEach(pending, "the release has not started", [
      advance(0),
      pause,
      resume(stableLive),
      recordTrafficShift(0),
      recordRollback(),
      ...everyShiftFailure(),
      reportDrift(),
      recordHealthCheck(0, 0, healthy)
    ])
  })

  describe("in_progress", () => {
    describe("awaiting traffic shift (step 0 started, its split not live yet)", () => {
      it("Create again is already done", () => given(awaitingTraffic).when(create()).thenNothing())
      it("Start again is already done", () => given(awaitingTraffic).when(start()).thenNothing())

      it("Advance is rejected until the step's traffic is live", () =>
        given(awaitingTraffic).when(advance(0)).thenRejects("traffic_not_live", /traffic for step 0 is not live yet/))
      it("Advance from a step the release has not reached is stale", () =>
        given(awaitingTraffic).when(advance(1)).thenRejects("stale_step", /the release is at step 0, not 1/))

      it("Pause records Paused (requested)", () =>
        given(awaitingTraffic).when(pause).then([
          { _tag: "Paused", cause: "requested", reason: "watching the dashboards", actor: alice, at: now }
        ]))
      it("Resume is already done: the release is not paused", () =>
        given(awaitingTraffic).when(resume(stableLive)).thenNothing())
      it("Rollback records RollbackStarted", () =>
        given(awaitingTraffic).when(rollback).then([
          { _tag: "RollbackStarted", reason: "checkout errors in the canary", actor: alice, at: now }
        ]))
      it("Cancel is rejected: a started release is rolled back instead", () =>
        given(awaitingTraffic).when(cancel).thenRejects(
          "invalid_state",
          /cannot cancel: the release has started; roll it back instead/
        ))

      it("RecordTrafficShift records the step's split as live", () =>
        given(awaitingTraffic).when(recordTrafficShift(0)).then([trafficShifted(0, now)]))
      it("RecordTrafficShift of a split found already live records reusedExisting", () =>
        given(awaitingTraffic).when(recordTrafficShift(0, true)).then([trafficShifted(0, now, true)]))
      it("RecordTrafficShift for a step the release has not reached is stale", () =>
        given(awaitingTraffic).when(recordTrafficShift(1)).thenRejects("stale_step", /the release is at step 0, not 1/))
      it("RecordRollback is rejected: no rollback is under way", () =>
        given(awaitingTraffic).when(recordRollback()).thenRejects("invalid_state", /^cannot record a rollback/))

      describe("ReportShiftFailure (step)", () => {
        const retry = (
          attempt: number,
          error: string,
          retryAt: number,
          kind: "transient" | "rate_limited" = "transient"
        ): Event<"TrafficShiftFailed"> => ({
          _tag: "TrafficShiftFailed",
          purpose: "step",
          attempt,
          kind,
          error,
          retryAt,
          actor: system,
          at: now
        })

        it("transient: retries after a jittered backoff", () =>
          given(awaitingTraffic).when(reportShiftFailure("transient")).then([
            retry(1, "503 Service Unavailable", now + ReleaseDecider.backoffMs("rel-1", 1))
          ]))
        it("transient: counts the attempts since the last successful shift", () =>
          given([...awaitingTraffic, ...shiftFailures(2)]).when(reportShiftFailure("transient")).then([
            retry(3, "503 Service Unavailable", now + ReleaseDecider.backoffMs("rel-1", 3))
          ]))
        it("rate_limited: retries after Cloudflare's retryAfterSeconds", () =>
          given(awaitingTraffic).when(reportShiftFailure("rate_limited", { retryAfterSeconds: 30 })).then([
            retry(1, "429 Too Many Requests", now + ReleaseDecider.retryAfterMs("rel-1", 1, 30), "rate_limited")
          ]))
        it("rate_limited without retryAfterSeconds: retries after the backoff", () =>
          given(awaitingTraffic).when(reportShiftFailure("rate_limited")).then([
            retry(1, "429 Too Many Requests", now + ReleaseDecider.backoffMs("rel-1", 1), "rate_limited")
          ]))
        it("permanent: gives up, reading what is live before the release may fail (a failing rollback)", () =>
          given(awaitingTraffic).when(reportShiftFailure("permanent")).then([
            {
              _tag: "RollbackStarted",
              reason: "Cloudflare refused shifting traffic for step 0: 10021: the version split is invalid; restoring the stable version",
              failing: true,
              actor: system,
              at: now
            }
          ]))
        it("not_found: gives up the same way", () =>
          given(awaitingTraffic).when(reportShiftFailure("not_found")).then([
            {
              _tag: "RollbackStarted",
              reason: "Cloudflare refused shifting traffic for step 0: 10007: Worker not found; restoring the stable version",
              failing: true,
              actor: system,
              at: now
            }
          ]))
        it("credentials: the release pauses until a person fixes them", () =>
          given(awaitingTraffic).when(reportShiftFailure("credentials")).then([{ ...pausedForCredentials, at: now }]))

        it(`max attempts: the ${ReleaseDecider.maxShiftAttempts - 1}th transient failure still retries`, () =>
          given([...awaitingTraffic, ...shiftFailures(ReleaseDecider.maxShiftAttempts - 2)])
            .when(reportShiftFailure("transient"))
            .then([
              retry(
                ReleaseDecider.maxShiftAttempts - 1,
                "503 Service Unavailable",
                now + ReleaseDecider.backoffMs("rel-1", ReleaseDecider.maxShiftAttempts - 1)
              )
            ]))
        it(`max attempts: the ${ReleaseDecider.maxShiftAttempts}th transient failure gives up: never \`failed\` before reading what is live`, () =>
          given([...awaitingTraffic, ...shiftFailures(ReleaseDecider.maxShiftAttempts - 1)])
            .when(reportShiftFailure("transient"))
            .then([
              {
                _tag: "RollbackStarted",
                reason:
                  "Cloudflare kept failing while shifting traffic for step 0 (10 attempts): 503 Service Unavailable; restoring the stable version",
                failing: true,
                actor: system,
                at: now
              }
            ]))
        describe("after giving up (a failing rollback)", () => {
          const givenUp: History = [...awaitingTraffic, {
            _tag: "RollbackStarted",
            reason: "Cloudflare kept failing while shifting traffic for step 0 (10 attempts): 503; restoring the stable version",
            failing: true,
            actor: system,
            at: liveAt(0)
          }]
          it("the stable version found already serving everything: the canary never served, the release failed", () =>
            given(givenUp).when(recordRollback(true)).then([
              {
                _tag: "Failed",
                reason: "Cloudflare kept failing while shifting traffic for step 0 (10 attempts): 503; restoring the stable version",
                actor: system,
                at: now
              }
            ]))
          it("the canary found serving (a lost answer had landed): it is taken off and the release rolled back", () =>
            given(givenUp).when(recordRollback(false)).then([{ ...rolledBack, at: now }]))
          it("a hand-made deployment found live and replaced: rolled back, never failed", () =>
            given(givenUp).when({ ...recordRollback(true), replaced: handDeployed }).then([
              { ...rolledBack, reusedExisting: true, replaced: handDeployed, at: now }
            ]))
          it("RecordRollback again after Failed is already done", () =>
            given([...givenUp, { ...failed, reason: "given up" }]).when(recordRollback(true)).thenNothing())
        })

        it("a refused step after the canary already serves traffic rolls back instead of failing", () =>
          given([...steppingHealthy, promoted(0), stepStarted(1)]).when(reportShiftFailure("permanent")).then([
            {
              _tag: "RollbackStarted",
              reason: "Cloudflare refused shifting traffic for step 1: 10021: the version split is invalid; restoring the stable version",
              failing: true,
              actor: system,
              at: now
            }
          ]))
        it("rate limits never count toward giving up: after many, one transient failure still retries", () =>
          given([
            ...awaitingTraffic,
            ...Array.from({ length: 2 * ReleaseDecider.maxShiftAttempts }, (_, i) => ({
              ...shiftFailed(i + 1),
              kind: "rate_limited" as const
            }))
          ]).when(reportShiftFailure("transient")).then([
            retry(
              2 * ReleaseDecider.maxShiftAttempts + 1,
              "503 Service Unavailable",
              now + ReleaseDecider.backoffMs("rel-1", 2 * ReleaseDecider.maxShiftAttempts + 1)
            )
          ]))
        it("retry-after is never shortened, and spread up to 20% later across releases", () => {
          for (const releaseId of ["rel-1", "rel-2", "a-much-longer-release-id"]) {
            const delay = ReleaseDecider.retryAfterMs(releaseId, 1, 60)
            assert.isTrue(delay >= 60_000 && delay <= 72_000, `${releaseId}: ${delay} ms`)
          }
          assert.notStrictEqual(ReleaseDecider.retryAfterMs("rel-1", 1, 60), ReleaseDecider.retryAfterMs("rel-2", 1, 60))
        })

        it("the backoff doubles from 5 s, within ±20% jitter, capped at 5 minutes", () => {
          for (let attempt = 1; attempt <= 12; attempt++) {
            const nominal = Math.min(5 * minute, 5_000 * 2 ** (attempt - 1))
            const delay = ReleaseDecider.backoffMs("rel-1", attempt)
            assert.isTrue(delay >= 0.8 * nominal && delay <= 1.2 * nominal, `attempt ${attempt}: ${delay} ms`)
          }
        })
      })
      for (const command of everyShiftFailure("rollback")) {
        it(`${label(command)} is rejected: no rollback is under way`, () =>
          given(awaitingTraffic).when(command).thenRejects("invalid_state", /no rollback traffic change is under way/))
      }

      it("ReportDrift records DriftDetected (the release pauses)", () =>
        given(awaitingTraffic).when(reportDrift()).then([
          { _tag: "DriftDetected", expected: stableOnly, observed: handDeployed, actor: system, at: now }
        ]))
      it("RecordHealthCheck is rejected until the step's traffic is live", () =>
        given(awaitingTraffic).when(recordHealthCheck(0, 0, healthy)).thenRejects(
          "traffic_not_live",
          /traffic for step 0 is not live yet/
        ))
    })

    describe("stepping (step 0 live, checking health)", () => {
      it("Create again is already done", () => given(stepping).when(create()).thenNothing())
      it("Start again is already done", () => given(stepping).when(start()).thenNothing())

      describe("Advance", () => {
        const soakEnds = liveAt(0) + 5 * minute
        /** Healthy checks cover the whole 5-minute soak of step 0. */
        const steppingSoaked: History = [...stepping, ...[0, 1, 2, 3, 4].map((n) => healthChecked(0, n, "healthy", 0))]
        const afterDelay = soakEnds + minute

        it("automatic: healthy checks cover the soak and the analytics delay has passed: promotes", () =>
          given(steppingSoaked).when(advance(0, system, afterDelay)).then([
            promoted(0, system, afterDelay),
            stepStarted(1, system, afterDelay)
          ]))
        it("automatic: rejected when healthy checks cover only part of the soak", () =>
          given(steppingHealthy).when(advance(0, system, afterDelay)).thenRejects(
            "soak_not_elapsed",
            /healthy checks cover step 0 until 2023-11-14T22:16:20.000Z; its soak needs them until 2023-11-14T22:20:20.000Z/
          ))
        it("automatic: rejected before the analytics delay after the soak has passed", () =>
          given(steppingSoaked).when(advance(0, system, afterDelay - 1)).thenRejects(
            "soak_not_elapsed",
            /step 0 soaks until 2023-11-14T22:20:20.000Z plus the analytics delay/
          ))
        it("automatic: an unjudged window asked again and judged healthy counts toward the soak", () =>
          given([
            ...stepping,
            healthChecked(0, 0, "healthy", 0),
            healthChecked(0, 1, "inconclusive", 0),
            // asked again from the unjudged window's start, widened to the next boundary
            { ...healthChecked(0, 2, "healthy", 0), window: { start: windowOf(0, 1).start, end: windowOf(0, 2).end } },
            healthChecked(0, 3, "healthy", 0),
            healthChecked(0, 4, "healthy", 0)
          ]).when(advance(0, system, afterDelay)).then([promoted(0, system, afterDelay), stepStarted(1, system, afterDelay)]))
        it("automatic: never over an unjudged gap longer than one interval: the soak counts again after it", () =>
          given([
            ...stepping,
            healthChecked(0, 0, "healthy", 0),
            healthChecked(0, 1, "inconclusive", 0),
            healthChecked(0, 2, "inconclusive", 0),
            healthChecked(0, 3, "healthy", 0),
            healthChecked(0, 4, "healthy", 0),
            healthChecked(0, 5, "healthy", 0)
          ]).when(advance(0, system, afterDelay + minute)).thenRejects(
            "soak_not_elapsed",
            /healthy checks cover step 0 until 2023-11-14T22:21:20.000Z; its soak needs them until 2023-11-14T22:23:20.000Z/
          ))
        it("automatic: rejected while a window waits to be judged", () =>
          given([...steppingSoaked, healthChecked(0, 5, "inconclusive", 0)]).when(advance(0, system, afterDelay + minute))
            .thenRejects("not_healthy", /the latest health check at step 0 was inconclusive/))
        it("automatic: rejected when the release waits for a person (autoAdvance off)", () =>
          given(withRelease({ autoAdvance: false }, steppingHealthy)).when(advance(0, system, soakEnds)).thenRejects(
            "manual_advance_only",
            /this release waits for a person at each step/
          ))
        it("automatic: rejected when the latest check was inconclusive, even after the soak", () =>
          given([...steppingHealthy, healthChecked(0, 1, "inconclusive", 0)]).when(advance(0, system, soakEnds))
            .thenRejects("not_healthy", /the latest health check at step 0 was inconclusive/))
        it("by a person: needs no soak, only a healthy latest check", () =>
          given(steppingHealthy).when(advance(0, alice, soakEnds - minute)).then([
            promoted(0, alice, soakEnds - minute),
            stepStarted(1, alice, soakEnds - minute)
          ]))
        it("by a token, with autoAdvance off: promotes", () =>
          given(withRelease({ autoAdvance: false }, steppingHealthy)).when(advance(0, ci)).then([
            promoted(0, ci, now),
            stepStarted(1, ci, now)
          ]))
        it("rejected before any health check", () =>
          given(stepping).when(advance(0)).thenRejects("not_healthy", /no health check has passed at step 0 yet/))
        it("rejected when the latest check was unhealthy", () =>
          given([...steppingHealthy, healthChecked(0, 1, "unhealthy", 1)]).when(advance(0)).thenRejects(
            "not_healthy",
            /the latest health check at step 0 was unhealthy/
          ))
        it("rejected when the latest check was inconclusive: inconclusive never counts as healthy", () =>
          given([...steppingHealthy, healthChecked(0, 1, "inconclusive", 0)]).when(advance(0)).thenRejects(
            "not_healthy",
            /the latest health check at step 0 was inconclusive/
          ))
        it("from a step the release has not reached is stale", () =>
          given(steppingHealthy).when(advance(1)).thenRejects("stale_step", /the release is at step 0, not 1/))
        it("from a step already left is already done", () => given(atStep1).when(advance(0)).thenNothing())

        const lastStepSoaked: History = [
          ...atLastStep,
          ...Array.from({ length: 10 }, (_, n) => healthChecked(2, n, "healthy", 0))
        ]
        const completesAt = liveAt(2) + 11 * minute
        const completing = (liveDeployment: TrafficSplit.ActiveDeployment | undefined, actor = system) => ({
          ...advance(2, actor, completesAt),
          liveDeployment
        })
        it("at the last step, after its own soak covered by healthy checks, completes when the canary serves 100%", () =>
          given(lastStepSoaked).when(completing(deploymentAt(2)))
            .then([{ _tag: "Completed", actor: system, at: completesAt }]))
        it("at the last step, a hand-made deployment found before completing is drift, never Completed", () =>
          given(lastStepSoaked).when(completing(handDeployed)).then([
            { _tag: "DriftDetected", expected: deploymentAt(2).split, observed: handDeployed, actor: system, at: completesAt }
          ]))
        it("at the last step, a person's Advance checks the live deployment too", () =>
          given([...atLastStep, healthChecked(2, 0, "healthy", 0)]).when(completing(handDeployed, alice)).then([
            { _tag: "DriftDetected", expected: deploymentAt(2).split, observed: handDeployed, actor: alice, at: completesAt }
          ]))
        it("at the last step, completing without reading the live deployment is refused", () =>
          given(lastStepSoaked).when(completing(undefined)).thenRejects(
            "invalid_state",
            /cannot complete without reading the live deployment first/
          ))
        it("at the last step, automatic, waits for the last step's soak", () =>
          given([...atLastStep, healthChecked(2, 0, "healthy", 0)]).when(completing(deploymentAt(2)))
            .thenRejects("soak_not_elapsed", /its soak needs them until 2023-11-15T00:25:20.000Z/))
        it("at the last step, needs a healthy check before Completed", () =>
          given(atLastStep).when(advance(2)).thenRejects("not_healthy", /no health check has passed at step 2 yet/))
      })

      it("Pause records Paused (requested)", () =>
        given(steppingHealthy).when(pause).then([{ ...pausedByAlice, at: now }]))
      it("Resume is already done: the release is not paused", () =>
        given(steppingHealthy).when(resume(deploymentAt(0))).thenNothing())
      it("Rollback records RollbackStarted", () =>
        given(steppingHealthy).when(rollback).then([{ ...rollbackStarted, at: now }]))
      it("Cancel is rejected: a started release is rolled back instead", () =>
        given(steppingHealthy).when(cancel).thenRejects("invalid_state", /cannot cancel: the release has started; roll it back instead/))

      it("RecordTrafficShift for the live step is already done", () =>
        given(stepping).when(recordTrafficShift(0)).thenNothing())
      it("RecordTrafficShift for a step already left is already done", () =>
        given(atStep1).when(recordTrafficShift(0)).thenNothing())
      it("RecordTrafficShift for a step the release has not reached is stale", () =>
        given(stepping).when(recordTrafficShift(1)).thenRejects("stale_step", /the release is at step 0, not 1/))
      it("RecordRollback is rejected: no rollback is under way", () =>
        given(stepping).when(recordRollback()).thenRejects("invalid_state", /^cannot record a rollback/))

      // The step's split is already live, so no step traffic change can have failed: a late report
      // must not fail, pause or reschedule a healthy release.
      for (const command of everyShiftFailure("step")) {
        it(`${label(command)} is rejected: the step's traffic is already live`, () =>
          given(steppingHealthy).when(command).thenRejects("invalid_state", /no step traffic change is under way/))
      }
      for (const command of everyShiftFailure("rollback")) {
        it(`${label(command)} is rejected: no rollback is under way`, () =>
          given(steppingHealthy).when(command).thenRejects("invalid_state", /no rollback traffic change is under way/))
      }

      it("ReportDrift records DriftDetected (the release pauses)", () =>
        given(stepping).when(reportDrift(deploymentAt(0).split)).then([
          { _tag: "DriftDetected", expected: deploymentAt(0).split, observed: handDeployed, actor: system, at: now }
        ]))

      describe("RecordHealthCheck", () => {
        const twoUnhealthy: History = [...stepping, healthChecked(0, 0, "unhealthy", 1), healthChecked(0, 1, "unhealthy", 2)]
        const analyticsDown: ReleaseCommand.RecordHealthCheck = {
          ...recordHealthCheck(0, 2, undefined),
          stable: undefined,
          unavailableReason: "GraphQL API timed out"
        }
        const unavailable: Event<"HealthChecked"> = {
          ...healthChecked(0, 2, "inconclusive", 2),
          canary: null,
          stable: null,
          reasons: ["analytics unavailable: GraphQL API timed out"]
        }

        it("a healthy check records HealthChecked with no failures", () =>
          given(stepping).when(recordHealthCheck(0, 0, healthy)).then([healthChecked(0, 0, "healthy", 0)]))
        it("a sample no one can judge (NaN) is inconclusive with its reason, and is not stored as a measurement", () =>
          given(stepping).when(recordHealthCheck(0, 0, { requests: Number.NaN, errors: 0 })).then([
            {
              ...healthChecked(0, 0, "inconclusive", 0),
              canary: null,
              reasons: ["analytics returned an invalid canary sample (requests NaN)"]
            }
          ]))
        it("the first inconclusive window is recorded alone; the next one, leaving two intervals unjudged, says the step is held (Stalled, once)", () => {
          const quietFirst: History = [...stepping, healthChecked(0, 0, "inconclusive", 0)]
          given(stepping).when(recordHealthCheck(0, 0, quiet)).then([healthChecked(0, 0, "inconclusive", 0)])
          // asked again from the unjudged start, widened to the next boundary
          const widened = { start: windowOf(0, 0).start, end: windowOf(0, 1).end }
          given(quietFirst).when({ ...recordHealthCheck(0, 1, quiet), window: widened }).then([
            { ...healthChecked(0, 1, "inconclusive", 0), window: widened },
            {
              _tag: "Stalled",
              cause: "no_data",
              stepIndex: 0,
              since: windowOf(0, 0).start,
              reason: "held at step 1: no judged health data since 2023-11-14T22:15:20.000Z (requests 40 < minRequests (100)); the soak counts only judged time",
              actor: system,
              at: checkedAt(0, 1)
            }
          ])
          const stalled: History = [
            ...quietFirst,
            { ...healthChecked(0, 1, "inconclusive", 0), window: widened },
            {
              _tag: "Stalled",
              cause: "no_data",
              stepIndex: 0,
              since: windowOf(0, 0).start,
              reason: "held",
              actor: system,
              at: checkedAt(0, 1)
            }
          ]
          const wider = { start: windowOf(0, 0).start, end: windowOf(0, 2).end }
          given(stalled).when({ ...recordHealthCheck(0, 2, quiet), window: wider }).then([
            { ...healthChecked(0, 2, "inconclusive", 0), window: wider }
          ])
        })
        it("a first unhealthy check counts one failure and does nothing else", () =>
          given(steppingHealthy).when(recordHealthCheck(0, 1, failing)).then([healthChecked(0, 1, "unhealthy", 1)]))
        it("three unhealthy checks in a row roll back", () =>
          given(twoUnhealthy).when(recordHealthCheck(0, 2, failing)).then([
            healthChecked(0, 2, "unhealthy", 3),
            {
              _tag: "RollbackStarted",
              reason: "3 consecutive failed health checks (failuresBeforeAction 3): error rate 5.00% > maxErrorRate (1.00%)",
              actor: system,
              at: checkedAt(0, 2)
            }
          ]))
        it("three unhealthy checks in a row pause instead when onFailure is pause (cause unhealthy)", () =>
          given(withRelease({ plan: pausingPlan }, twoUnhealthy)).when(recordHealthCheck(0, 2, failing)).then([
            healthChecked(0, 2, "unhealthy", 3),
            {
              _tag: "Paused",
              cause: "unhealthy",
              reason: "3 consecutive failed health checks (failuresBeforeAction 3): error rate 5.00% > maxErrorRate (1.00%)",
              actor: system,
              at: checkedAt(0, 2)
            }
          ]))
        it("two unhealthy then a healthy check reset the count", () =>
          given(twoUnhealthy).when(recordHealthCheck(0, 2, healthy)).then([healthChecked(0, 2, "healthy", 0)]))
        it("after a reset, the next unhealthy check counts from one again", () =>
          given([...twoUnhealthy, healthChecked(0, 2, "healthy", 0)]).when(recordHealthCheck(0, 3, failing)).then([
            healthChecked(0, 3, "unhealthy", 1)
          ]))
        it("inconclusive (too few requests) holds the count: no reset, no rollback", () =>
          given(twoUnhealthy).when(recordHealthCheck(0, 2, quiet)).then([healthChecked(0, 2, "inconclusive", 2)]))
        it("inconclusive (analytics unavailable) holds the count and says why", () =>
          given(twoUnhealthy).when(analyticsDown).then([unavailable]))
        it("analytics without a stated reason: inconclusive, no analytics for the canary", () =>
          given(twoUnhealthy).when({ ...analyticsDown, unavailableReason: undefined }).then([
            { ...unavailable, reasons: ["no analytics for the canary in this window"] }
          ]))
        it("inconclusive after a healthy check is recorded as inconclusive, never as healthy", () =>
          given(steppingHealthy).when(recordHealthCheck(0, 1, quiet)).then([healthChecked(0, 1, "inconclusive", 0)]))
        it("with onInconclusive fail, inconclusive counts: two unhealthy then too few requests roll back", () =>
          given(withRelease({ plan: strictPlan }, twoUnhealthy)).when(recordHealthCheck(0, 2, quiet)).then([
            healthChecked(0, 2, "inconclusive", 3),
            {
              _tag: "RollbackStarted",
              reason: "3 consecutive failed health checks (failuresBeforeAction 3): requests 40 < minRequests (100)",
              actor: system,
              at: checkedAt(0, 2)
            }
          ]))
        it("with onInconclusive fail, unavailable analytics count as a failure", () =>
          given(withRelease({ plan: strictPlan }, steppingHealthy)).when(analyticsDown).then([
            { ...unavailable, consecutiveFailures: 1 }
          ]))
        it("re-sending the same window is already done", () =>
          given(steppingHealthy).when(recordHealthCheck(0, 0, healthy)).thenNothing())
        it("an older window is already done, even with another verdict", () =>
          given([...steppingHealthy, healthChecked(0, 1, "healthy", 0)]).when(recordHealthCheck(0, 0, failing)).thenNothing())
      })
    })

    describe("rolling back", () => {
      it("Create again is already done", () => given(rollingBack).when(create()).thenNothing())
      it("Start again is already done", () => given(rollingBack).when(start()).thenNothing())

      it("Advance is rejected: the release is rolling back", () =>
        given(rollingBack).when(advance(0)).thenRejects("invalid_state", /^cannot advance: the release is rolling back/))
      it("Pause is rejected: the release is rolling back", () =>
        given(rollingBack).when(pause).thenRejects("invalid_state", /^cannot pause: the release is rolling back/))
      it("Resume is rejected: a rollback is not resumed into the steps", () =>
        given(rollingBack).when(resume(deploymentAt(0))).thenRejects(
          "invalid_state",
          /^cannot resume: the release is rolling back/
        ))
      it("Rollback again is already done", () => given(rollingBack).when(rollback).thenNothing())
      it("Cancel is rejected", () =>
        given(rollingBack).when(cancel).thenRejects("invalid_state", /^cannot cancel: the release has started/))

      it("RecordTrafficShift is rejected: the release is rolling back", () =>
        given(rollingBack).when(recordTrafficShift(0)).thenRejects(
          "invalid_state",
          /cannot record a step's traffic: the release is rolling back/
        ))
      it("RecordRollback records RolledBack", () =>
        given(rollingBack).when(recordRollback()).then([{ ...rolledBack, at: now }]))
      it("RecordRollback of a stable deployment found already live records reusedExisting", () =>
        given(rollingBack).when(recordRollback(true)).then([{ ...rolledBack, reusedExisting: true, at: now }]))

      describe("ReportShiftFailure (rollback)", () => {
        const retry = (
          attempt: number,
          error: string,
          retryAt: number,
          kind: "transient" | "rate_limited" = "transient"
        ): Event<"TrafficShiftFailed"> => ({
          _tag: "TrafficShiftFailed",
          purpose: "rollback",
          attempt,
          kind,
          error,
          retryAt,
          actor: system,
          at: now
        })

        it("transient: retries after a jittered backoff", () =>
          given(rollingBack).when(reportShiftFailure("transient", { purpose: "rollback" })).then([
            retry(1, "503 Service Unavailable", now + ReleaseDecider.backoffMs("rel-1", 1))
          ]))
        it("rate_limited: retries after Cloudflare's retryAfterSeconds", () =>
          given(rollingBack).when(reportShiftFailure("rate_limited", { purpose: "rollback", retryAfterSeconds: 120 })).then([
            retry(1, "429 Too Many Requests", now + ReleaseDecider.retryAfterMs("rel-1", 1, 120), "rate_limited")
          ]))
        const stalled = (failures: number): Event<"Stalled"> => ({
          _tag: "Stalled",
          cause: "cloudflare_unreachable",
          stepIndex: 0,
          since: shiftFailed(1).at,
          reason: `rollback pending: Cloudflare unreachable since 2023-11-14T22:15:20.000Z (${failures} attempts, retried with backoff): 503 Service Unavailable`,
          actor: system,
          at: now
        })
        it(`the ${ReleaseDecider.rollbackStallAfterFailures}rd failure in a row says the rollback is stalled (once), and retries`, () =>
          given([...rollingBack, ...shiftFailures(ReleaseDecider.rollbackStallAfterFailures - 1, "rollback")])
            .when(reportShiftFailure("transient", { purpose: "rollback" }))
            .then([
              retry(3, "503 Service Unavailable", now + ReleaseDecider.backoffMs("rel-1", 3)),
              stalled(3)
            ]))
        it("a rollback never gives up, whatever the number of attempts, and says it is stalled only once", () =>
          given([
            ...rollingBack,
            ...shiftFailures(3, "rollback"),
            { ...stalled(3), at: shiftFailed(3).at },
            ...shiftFailures(ReleaseDecider.maxShiftAttempts, "rollback").slice(3)
          ])
            .when(reportShiftFailure("transient", { purpose: "rollback" }))
            .then([
              retry(
                ReleaseDecider.maxShiftAttempts + 1,
                "503 Service Unavailable",
                now + ReleaseDecider.backoffMs("rel-1", ReleaseDecider.maxShiftAttempts + 1)
              )
            ]))
        it("credentials: the release pauses, still rolling back", () =>
          given(rollingBack).when(reportShiftFailure("credentials", { purpose: "rollback" })).then([
            {
              _tag: "Paused",
              cause: "credentials",
              reason: "Cloudflare rejected the credentials while rolling back: 10000: Authentication error",
              actor: system,
              at: now
            }
          ]))
        it("permanent: the release pauses for a person, because the canary still serves", () =>
          given(rollingBack).when(reportShiftFailure("permanent", { purpose: "rollback" })).then([
            {
              _tag: "Paused",
              cause: "rollback_refused",
              reason:
                "Cloudflare refused rolling back: 10021: the version split is invalid; fix the Worker and resume to retry the rollback",
              actor: system,
              at: now
            }
          ]))
        it("not_found: the release pauses for a person", () =>
          given(rollingBack).when(reportShiftFailure("not_found", { purpose: "rollback" })).then([
            {
              _tag: "Paused",
              cause: "rollback_refused",
              reason: "Cloudflare refused rolling back: 10007: Worker not found; fix the Worker and resume to retry the rollback",
              actor: system,
              at: now
            }
          ]))
      })
      for (const command of everyShiftFailure("step")) {
        it(`${label(command)} is rejected: no step traffic change is under way`, () =>
          given(rollingBack).when(command).thenRejects("invalid_state", /no step traffic change is under way/))
      }

      it("ReportDrift is rejected: a rollback restores the stable version whatever is live (RolledBack says what it replaced)", () =>
        given(rollingBack).when(reportDrift(deploymentAt(0).split)).thenRejects(
          "invalid_state",
          /cannot record drift: the release is rolling back/
        ))
      it("RecordHealthCheck is rejected: the release is rolling back", () =>
        given(rollingBack).when(recordHealthCheck(0, 1, healthy)).thenRejects(
          "invalid_state",
          /cannot record a health check: the release is rolling back/
        ))
    })
  })

  describe("paused", () => {
    /** The live deployment serves a version that is neither stable nor canary. */
    const foreignSplit: TrafficSplit.ActiveDeployment = {
      deploymentId: "dep-hand-split",
      split: [{ versionId: CANARY, percentage: 10 }, { versionId: HOTFIX, percentage: 90 }]
    }
    const unknownVersion =
      /the live deployment serves version v-hotfix, which is neither the stable \(v-stable\) nor the canary \(v-canary\)/
    const resumed = (liveDeployment: TrafficSplit.ActiveDeployment): Event<"Resumed"> => ({
      _tag: "Resumed",
      liveDeployment,
      actor: alice,
      at: now
    })

    describe("requested (by a person, at step 0 with traffic live)", () => {
      it("Create again is already done", () => given(pausedRequested).when(create()).thenNothing())
      it("Start again is already done", () => given(pausedRequested).when(start()).thenNothing())
      it("Pause again is already done", () => given(pausedRequested).when(pause).thenNothing())
      it("Resume from the step's own split records Resumed", () =>
        given(pausedRequested).when(resume(deploymentAt(0))).then([resumed(deploymentAt(0))]))
      it("Resume with a foreign version live is rejected", () =>
        given(pausedRequested).when(resume(foreignSplit)).thenRejects("unknown_live_version", unknownVersion))
      it("Rollback records RollbackStarted", () =>
        given(pausedRequested).when(rollback).then([{ ...rollbackStarted, at: now }]))
      it("Cancel is rejected: a started release is rolled back instead", () =>
        given(pausedRequested).when(cancel).thenRejects("invalid_state", /cannot cancel: the release has started; roll it back instead/))
      it("RecordTrafficShift for the live step is already done", () =>
        given(pausedRequested).when(recordTrafficShift(0)).thenNothing())
      it("Advance is rejected, naming why the release is paused", () =>
        given(pausedRequested).when(advance(0)).thenRejects(
          "invalid_state",
          /^cannot advance: the release is paused \(watching the dashboards\)/
        ))
      refusesEach(pausedRequested, "the release is paused", [
        recordRollback(),
        ...everyShiftFailure(),
        reportDrift(deploymentAt(0).split),
        recordHealthCheck(0, 1, healthy)
      ])
    })

    describe("drift (someone deployed by hand before step 0's shift)", () => {
      it("Create again is already done", () => given(pausedDrift).when(create()).thenNothing())
      it("Start again is already done", () => given(pausedDrift).when(start()).thenNothing())
      it("Pause is already done", () => given(pausedDrift).when(pause).thenNothing())
      it("Resume while the hand-deployed version is live is rejected", () =>
        given(pausedDrift).when(resume(handDeployed)).thenRejects("unknown_live_version", unknownVersion))
      it("Resume after a person restored the stable version records Resumed", () =>
        given(pausedDrift).when(resume(restored)).then([resumed(restored)]))
      it("Resume ignores a foreign version at 0%: it serves nothing", () => {
        const drained = { deploymentId: "dep-drained", split: [{ versionId: STABLE, percentage: 100 }, { versionId: HOTFIX, percentage: 0 }] }
        given(pausedDrift).when(resume(drained)).then([resumed(drained)])
      })
      it("Rollback records RollbackStarted", () =>
        given(pausedDrift).when(rollback).then([{ ...rollbackStarted, at: now }]))
      it("Cancel is rejected: a started release is rolled back instead", () =>
        given(pausedDrift).when(cancel).thenRejects("invalid_state", /cannot cancel: the release has started; roll it back instead/))
      it("RecordTrafficShift records the step's split: the fact is kept, the release stays paused", () =>
        given(pausedDrift).when(recordTrafficShift(0)).then([trafficShifted(0, now)]))
      it("ReportDrift again is already done", () => given(pausedDrift).when(reportDrift()).thenNothing())
      it("Advance is rejected, naming the drift", () =>
        given(pausedDrift).when(advance(0)).thenRejects(
          "invalid_state",
          /^cannot advance: the release is paused \(live deployment dep-hand serves v-hotfix 100%, expected v-stable 100%\)/
        ))
      refusesEach(pausedDrift, "the release is paused", [
        recordRollback(),
        ...everyShiftFailure(),
        recordHealthCheck(0, 0, healthy)
      ])
    })

    describe("credentials (Cloudflare rejected them during step 0's shift)", () => {
      it("Create again is already done", () => given(pausedCredentials).when(create()).thenNothing())
      it("Start again is already done", () => given(pausedCredentials).when(start()).thenNothing())
      it("Pause is already done", () => given(pausedCredentials).when(pause).thenNothing())
      it("Resume records Resumed", () =>
        given(pausedCredentials).when(resume(stableLive)).then([resumed(stableLive)]))
      it("Resume with a foreign version live is rejected", () =>
        given(pausedCredentials).when(resume(foreignSplit)).thenRejects("unknown_live_version", unknownVersion))
      it("Rollback records RollbackStarted", () =>
        given(pausedCredentials).when(rollback).then([{ ...rollbackStarted, at: now }]))
      it("Cancel is rejected: a started release is rolled back instead", () =>
        given(pausedCredentials).when(cancel).thenRejects("invalid_state", /cannot cancel: the release has started; roll it back instead/))
      it("RecordTrafficShift records the step's split: the fact is kept, the release stays paused", () =>
        given(pausedCredentials).when(recordTrafficShift(0)).then([trafficShifted(0, now)]))
      it("Advance is rejected, naming the credentials", () =>
        given(pausedCredentials).when(advance(0)).thenRejects(
          "invalid_state",
          /^cannot advance: the release is paused \(Cloudflare rejected the credentials while shifting traffic for step 0/
        ))
      refusesEach(pausedCredentials, "the release is paused", [
        recordRollback(),
        ...everyShiftFailure(),
        reportDrift(),
        recordHealthCheck(0, 0, healthy)
      ])
    })
  })

  describe("completed", () => {
    it("Create again is already done", () => given(completedRelease).when(create()).thenNothing())
    it("Start is refused: a finished release is not started again (create a new one)", () =>
      given(completedRelease).when(start()).thenRejects("invalid_state", /^cannot start: the release has completed; create a new release to release again/))
    it("Advance from the last step is already done", () => given(completedRelease).when(advance(2)).thenNothing())
    it("Advance from an earlier step is already done", () => given(completedRelease).when(advance(0)).thenNothing())
    refusesEach(completedRelease, "the release has completed", [
      pause,
      resume(deploymentAt(2)),
      rollback,
      cancel,
      recordTrafficShift(2),
      recordRollback(),
      ...everyShiftFailure(),
      reportDrift(deploymentAt(2).split),
      recordHealthCheck(2, 1, healthy)
    ])
  })

  describe("rolled_back", () => {
    it("Create again is already done", () => given(rolledBackRelease).when(create()).thenNothing())
    it("Start is refused: a finished release is not started again (create a new one)", () =>
      given(rolledBackRelease).when(start()).thenRejects("invalid_state", /^cannot start: the release was rolled back; create a new release to release again/))
    it("Rollback again is already done", () => given(rolledBackRelease).when(rollback).thenNothing())
    it("RecordRollback again is already done", () => given(rolledBackRelease).when(recordRollback()).thenNothing())
    refusesEach(rolledBackRelease, "the release was rolled back", [
      advance(0),
      pause,
      resume(stableLive),
      cancel,
      recordTrafficShift(0),
      ...everyShiftFailure(),
      ...everyShiftFailure("rollback"),
      reportDrift(),
      recordHealthCheck(0, 1, healthy)
    ])
  })

  describe("failed", () => {
    it("Create again is already done", () => given(failedRelease).when(create()).thenNothing())
    it("Start is refused: a finished release is not started again (create a new one)", () =>
      given(failedRelease).when(start()).thenRejects("invalid_state", /^cannot start: the release failed; create a new release to release again/))
    it("RecordRollback is already done: a failed release leaves the stable version at 100%", () =>
      given(failedRelease).when(recordRollback()).thenNothing())
    refusesEach(failedRelease, "the release failed", [
      advance(0),
      pause,
      resume(stableLive),
      rollback,
      cancel,
      recordTrafficShift(0),
      ...everyShiftFailure(),
      reportDrift(),
      recordHealthCheck(0, 0, healthy)
    ])
  })

  describe("cancelled", () => {
    it("Create again is already done", () => given(cancelledRelease).when(create()).thenNothing())
    it("Cancel again is already done", () => given(cancelledRelease).when(cancel).thenNothing())
    refusesEach(cancelledRelease, "the release was cancelled", [
      start(),
      advance(0),
      pause,
      resume(stableLive),
      rollback,
      recordTrafficShift(0),
      recordRollback(),
      ...everyShiftFailure(),
      reportDrift(),
      recordHealthCheck(0, 0, healthy)
    ])
  })
})
