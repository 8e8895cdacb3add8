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
const checked = (n: number, verdict: "healthy" | "inconclusive", window = {
  start: t0 + (n - 1) * 60 * second,
  end: t0 + n * 60 * second
}): ReleaseEvent.ReleaseEvent => ({
  _tag: "HealthChecked", stepIndex: 0, window, canary: sample, stable: sample, verdict, reasons: [],
  consecutiveFailures: 0, actor: system, at: window.end
})
const soakingOf = (release: Release.ReleaseState): Release.Soaking => {
  assert.isTrue(Release.exists(release) && release.phase._tag === "Soaking")
  return (release as Release.Release).phase as Release.Soaking
}

describe("nextAction", () => {
  it("promotes once healthy checks cover the whole soak, not when the soak's time has merely passed", () => {
    // four healthy minutes of a 270 s soak: the fifth window must be judged first
    assert.deepStrictEqual(NextAction.nextAction(state, t0 + 270 * second), {
      _tag: "CheckHealth",
      at: t0 + 300 * second,
      window: { start: t0 + 240 * second, end: t0 + 300 * second }
    })
    const covered = Release.fold([...history, checked(5, "healthy")])
    assert.deepStrictEqual(NextAction.nextAction(covered, t0 + 300 * second), { _tag: "Advance", at: t0 + 300 * second, fromStep: 0 })
  })

  it("an inconclusive window is asked again, widened to the next boundary; the soak waits for it", () => {
    const held = Release.fold([...history, checked(5, "inconclusive")])
    assert.deepStrictEqual(NextAction.nextAction(held, t0 + 300 * second), {
      _tag: "CheckHealth",
      at: t0 + 360 * second,
      window: { start: t0 + 240 * second, end: t0 + 360 * second }
    })
    const judged = Release.fold([...history, checked(5, "inconclusive"), checked(6, "healthy", { start: t0 + 240 * second, end: t0 + 360 * second })])
    assert.deepStrictEqual(NextAction.nextAction(judged, t0 + 360 * second), { _tag: "Advance", at: t0 + 360 * second, fromStep: 0 })
  })

  it("an unjudged window older than the analytics retention is given up: the window starts at the retention's edge", () => {
    const held = Release.fold([...history, checked(5, "inconclusive")])
    const later = t0 + NextAction.analyticsRetentionMs + 3_600 * second
    const action = NextAction.nextAction(held, later)
    assert.strictEqual(action._tag, "CheckHealth")
    assert.strictEqual((action as Extract<NextAction.NextAction, { _tag: "CheckHealth" }>).window.start, later - NextAction.analyticsRetentionMs)
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
    assert.strictEqual(NextAction.nextWindowEnd(shifted as Release.Release, soakingOf(shifted)), t0 + 120 * second)
  })
})
