import { assert, describe, it } from "@effect/vitest"
import type { Schemas } from "@canaryroll/api"
import * as ReleaseProgress from "../src/ReleaseProgress.ts"

const t0 = Date.parse("2026-11-26T10:00:00Z")
const at = (seconds: number) => new Date(t0 + seconds * 1000).toISOString()

const release = (overrides: Partial<Schemas.PublicDeployment> = {}): Schemas.PublicDeployment => ({
  id: "dep_1",
  workerId: "wrk_1",
  teamId: "team_1",
  planId: "plan_1",
  cfVersionId: "v2",
  cfPreviousVersionId: "v1",
  status: "in_progress",
  currentStep: 1,
  autoAdvance: true,
  name: null,
  ticketUrl: null,
  stepsSnapshot: [{ percentage: 10, waitSeconds: 60 }, { percentage: 50, waitSeconds: 120 }, { percentage: 100, waitSeconds: 60 }],
  startedAt: at(0),
  completedAt: null,
  createdAt: at(0),
  ...overrides
})

const event = (eventType: string, seconds: number, stepIndex: number | null, details: Record<string, unknown> = {}) => ({
  id: `e${seconds}`,
  deploymentId: "dep_1",
  eventType,
  stepIndex,
  percentage: null,
  details: { message: `${eventType} happened`, ...details },
  createdAt: at(seconds)
})

describe("ReleaseProgress", () => {
  it("counts the soak from the current step's traffic shift and keeps the last verdict", () => {
    const events = [
      event("TrafficShifted", 0, 0),
      event("HealthChecked", 50, 0, { verdict: "healthy", reasons: [] }),
      event("TrafficShifted", 70, 1),
      event("HealthChecked", 100, 1, { verdict: "unhealthy", reasons: ["error rate 20.00% > maxErrorRate (5.00%)"] })
    ]
    const progress = ReleaseProgress.of(release(), events, t0 + 100_000)
    assert.deepStrictEqual(
      { step: progress.step, steps: progress.steps, percentage: progress.percentage, soak: progress.soakLeftSeconds },
      { step: 2, steps: 3, percentage: 50, soak: 90 }
    )
    assert.strictEqual(progress.lastVerdict?.verdict, "unhealthy")
    assert.strictEqual(progress.lastEvent, "HealthChecked happened")
    assert.strictEqual(
      ReleaseProgress.describe(progress),
      "in progress · step 2/3 at 50% · soak 1m30s left · last check unhealthy (error rate 20.00% > maxErrorRate (5.00%))"
    )
  })

  it("has no soak before the step's traffic is live, and none once finished", () => {
    const pending = ReleaseProgress.of(release({ status: "pending", currentStep: 0 }), [], t0)
    assert.strictEqual(ReleaseProgress.describe(pending), "pending · step 1/3 at 0%")
    const done = ReleaseProgress.of(release({ status: "completed", currentStep: 2 }), [event("TrafficShifted", 0, 2)], t0)
    assert.strictEqual(ReleaseProgress.describe(done), "completed · step 3/3 at 100%")
    const rolledBack = ReleaseProgress.of(release({ status: "rolled_back" }), [event("TrafficShifted", 0, 1)], t0)
    assert.strictEqual(rolledBack.percentage, 0)
  })

  it("never counts below zero", () => {
    const late = ReleaseProgress.of(release(), [event("TrafficShifted", 0, 1)], t0 + 3_600_000)
    assert.strictEqual(late.soakLeftSeconds, 0)
  })

  const created = event("ReleaseCreated", 0, null, { plan: { steps: [], health: { intervalSeconds: 30, failuresBeforeAction: 4 } } })

  it("counts failed checks at the current step against the policy's limit, and says when the next check is due", () => {
    const events = [
      created,
      event("TrafficShifted", 0, 0),
      event("HealthChecked", 30, 0, { verdict: "unhealthy", reasons: ["old step"], consecutiveFailures: 3 }),
      event("TrafficShifted", 70, 1),
      event("HealthChecked", 100, 1, { verdict: "unhealthy", reasons: ["error rate 20% > 5%"], consecutiveFailures: 2 })
    ]
    const now = t0 + 110_000
    const progress = ReleaseProgress.of(release(), events, now)
    assert.deepStrictEqual(progress.failures, { count: 2, limit: 4 })
    assert.strictEqual(progress.nextCheckAt, at(130))
    assert.deepStrictEqual(progress.soak, { startedAt: at(70), endsAt: at(190), leftSeconds: 80 })
    assert.strictEqual(
      ReleaseProgress.describe(progress, now),
      "in progress · step 2/3 at 50% · soak 1m20s left · next check in 20s · last check unhealthy (error rate 20% > 5%) · failures 2/4"
    )
    // A new step starts with no failures (the previous step's count is not carried over).
    const fresh = ReleaseProgress.of(release(), events.slice(0, 4), t0 + 75_000)
    assert.deepStrictEqual(fresh.failures, { count: 0, limit: 4 })
    assert.strictEqual(fresh.nextCheckAt, at(100))
    assert.notInclude(ReleaseProgress.describe(fresh, t0 + 75_000), "failures")
    assert.include(ReleaseProgress.describe(fresh, t0 + 200_000), "next check due now")
  })

  it("says what holds a release: a person's pause, a drift, a stall for lack of data until a check judges the step", () => {
    const base = [created, event("TrafficShifted", 0, 1)]
    const pausedBy = ReleaseProgress.of(
      release({ status: "paused" }),
      [...base, event("Paused", 10, 1, { cause: "requested", reason: "checking the logs" })],
      t0 + 20_000
    )
    assert.deepInclude(pausedBy.hold, { kind: "paused", reason: "checking the logs" })
    assert.strictEqual(pausedBy.nextCheckAt, undefined)
    assert.strictEqual(ReleaseProgress.describe(pausedBy, t0 + 20_000), "paused · step 2/3 at 50% · paused: checking the logs")

    const drift = ReleaseProgress.of(
      release({ status: "paused" }),
      [...base, { ...event("DriftDetected", 10, 1), details: { message: "storefront's live deployment d2 serves v1 100%, expected v2 50%" } }],
      t0 + 20_000
    )
    assert.strictEqual(drift.hold?.kind, "drift")
    assert.include(ReleaseProgress.describe(drift), "paused by drift: storefront's live deployment d2 serves v1 100%")

    const stalledEvents = [...base, event("Stalled", 40, 1, { cause: "no_data", reason: "no analytics for the canary in 3 checks" })]
    const stalled = ReleaseProgress.of(release(), stalledEvents, t0 + 50_000)
    assert.deepInclude(stalled.hold, { kind: "stalled", cause: "no_data" })
    assert.include(ReleaseProgress.describe(stalled, t0 + 50_000), "held for lack of data: no analytics for the canary in 3 checks")
    assert.notInclude(ReleaseProgress.describe(stalled, t0 + 50_000), "next check")
    const judged = ReleaseProgress.of(
      release(),
      [...stalledEvents, event("HealthChecked", 60, 1, { verdict: "healthy", reasons: [], consecutiveFailures: 0 })],
      t0 + 65_000
    )
    assert.isUndefined(judged.hold)
  })

  it("takes the server's own reckoning when it gives one: soak, checks, next action, attention", () => {
    const now = t0 + 100_000
    const server = {
      phase: "soaking",
      stepIndex: 1,
      canaryPercentage: 50,
      autoAdvance: true,
      soak: { from: at(70), endsAt: at(190), coveredUntil: at(95), leftSeconds: 90, covered: false },
      checks: { lastVerdict: "unhealthy", lastCheckAt: at(95), consecutiveFailures: 2, failuresBeforeAction: 3 },
      next: { action: "check_health", at: at(105), waitingFor: null },
      attention: [{ kind: "failing_checks", message: "2 consecutive failed health checks at step 2 (50%); 3 roll back" }],
      now: at(100)
    } as const
    const events = [event("TrafficShifted", 70, 1), event("HealthChecked", 95, 1, { verdict: "unhealthy", reasons: ["error rate 20% > 5%"] })]
    const progress = ReleaseProgress.of(release(), events, now, server)
    assert.deepStrictEqual(progress.failures, { count: 2, limit: 3 })
    assert.strictEqual(progress.nextCheckAt, at(105))
    assert.deepStrictEqual(progress.soak, { startedAt: at(70), endsAt: at(190), leftSeconds: 90 })
    assert.isUndefined(progress.hold)
    assert.strictEqual(
      ReleaseProgress.describe(progress, now),
      "in progress · step 2/3 at 50% · soak 1m30s left · next check in 5s · last check unhealthy (error rate 20% > 5%) · failures 2/3"
    )
    const drifted = ReleaseProgress.of(release({ status: "paused" }), events, now, {
      ...server,
      phase: "paused",
      soak: null,
      checks: null,
      next: { action: "wait", at: null, waitingFor: "resume" },
      attention: [{ kind: "drift", message: "the live deployment changed outside CanaryRoll" }]
    })
    assert.deepInclude(drifted.hold, { kind: "drift", reason: "the live deployment changed outside CanaryRoll" })
    assert.strictEqual(ReleaseProgress.describe(drifted, now), "paused · step 2/3 at 50% · last check unhealthy (error rate 20% > 5%) · paused by drift: the live deployment changed outside CanaryRoll")
    const soaked = ReleaseProgress.of(release({ autoAdvance: false }), events, now, {
      ...server,
      next: { action: "wait", at: null, waitingFor: "advance" },
      attention: []
    })
    assert.include(ReleaseProgress.describe(soaked, now), "soaked: waiting for an advance")
  })
})

