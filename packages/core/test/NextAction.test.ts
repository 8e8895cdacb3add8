import { assert, describe, it } from "@effect/vitest"
import { Actor, NextAction, Plan, Release, type ReleaseEvent } from "../src/index.ts"

const t0 = Date.UTC(2026, 10, 26, 10, 0, 0)
const second = 1_000
const system = Actor.system
const plan = Plan.make({
  steps: [{ percentage: 10, waitSeconds: 270 }, { percentage: 100, waitSeconds: 60 }],
  health: { intervalSeconds: 60, analyticsDelaySeconds: 0, minRequests: 1 }
})
const sample = { requests: 100, errors: 0 }

const history: ReadonlyArray<ReleaseEvent.ReleaseEvent> = [
  {
    _tag: "ReleaseCreated", releaseId: "rel-1", teamId: "team", workerId: "wkr", accountId: "acc", scriptName: "api",
    canaryVersionId: "v2", planId: null, plan, autoAdvance: true, name: null, ticketUrl: null, actor: system, at: t0
  },
  { _tag: "ReleaseStarted", stableVersionId: "v1", liveDeployment: { deploymentId: "d1", split: [{ versionId: "v1", percentage: 100 }] }, actor: system, at: t0 },
  { _tag: "StepStarted", stepIndex: 0, percentage: 10, actor: system, at: t0 },
  {
    _tag: "TrafficShifted", stepIndex: 0, deploymentId: "d2", reusedExisting: false, actor: system, at: t0,
    split: [{ versionId: "v2", percentage: 10 }, { versionId: "v1", percentage: 90 }]
  },
  ...[1, 2, 3, 4].map((n): ReleaseEvent.ReleaseEvent => ({
    _tag: "HealthChecked", stepIndex: 0, window: { start: t0 + (n - 1) * 60 * second, end: t0 + n * 60 * second },
    canary: sample, stable: sample, verdict: "healthy", reasons: [], consecutiveFailures: 0, actor: system,
    at: t0 + n * 60 * second
  }))
]
const state = Release.fold(history)

describe("nextAction", () => {
  it("promotes once the soak is over and the latest check is healthy", () => {
    const action = NextAction.nextAction(state, t0 + 270 * second)
    assert.deepStrictEqual(action, { _tag: "Advance", at: t0 + 270 * second, fromStep: 0 })
  })

  it("after a late wake-up, judges the overdue windows before promoting on old data", () => {
    // the process was down from 4 to 15 minutes: the windows since the last check are unjudged
    const action = NextAction.nextAction(state, t0 + 900 * second)
    assert.strictEqual(action._tag, "CheckHealth")
    assert.deepStrictEqual((action as Extract<NextAction.NextAction, { _tag: "CheckHealth" }>).window, {
      start: t0 + 240 * second,
      end: t0 + 900 * second
    })
  })

  it("health windows end on interval boundaries, the first one at least an interval long", () => {
    const applied = t0 + 10 * second
    const shifted = Release.fold([
      ...history.slice(0, 3),
      { ...(history[3] as Extract<ReleaseEvent.ReleaseEvent, { _tag: "TrafficShifted" }>), at: applied }
    ])
    assert.strictEqual(NextAction.nextWindowEnd(shifted as Release.Release), t0 + 120 * second)
  })
})
