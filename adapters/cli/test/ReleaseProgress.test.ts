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
})
