/**
 * "Needs attention", given a release's events: grouped by the state the release is in.
 */
import { assert, describe, it } from "@effect/vitest"
import { Actor, Attention, Plan, Release, type ReleaseEvent } from "../src/index.ts"

const t0 = Date.UTC(2026, 10, 26, 10, 0, 0)
const minute = 60_000
const system = Actor.system
const ada = Actor.user("usr_ada", "Ada")
const plan = Plan.make({
  steps: [{ percentage: 10, waitSeconds: 120 }, { percentage: 100, waitSeconds: 60 }],
  health: { intervalSeconds: 60, analyticsDelaySeconds: 0, minRequests: 10, failuresBeforeAction: 3 }
})
const healthy = { requests: 100, errors: 0 }
const failing = { requests: 100, errors: 30 }

const created = (autoAdvance: boolean): ReleaseEvent.ReleaseEvent => ({
  _tag: "ReleaseCreated", releaseId: "rel-1", teamId: "team", workerId: "wkr", accountId: "acc", scriptName: "api",
  canaryVersionId: "v2", planId: null, plan, autoAdvance, name: null, ticketUrl: null, actor: ada, at: t0
})
const running = (autoAdvance: boolean): ReadonlyArray<ReleaseEvent.ReleaseEvent> => [
  created(autoAdvance),
  { _tag: "ReleaseStarted", stableVersionId: "v1", liveDeployment: { deploymentId: "d1", split: [{ versionId: "v1", percentage: 100 }] }, actor: ada, at: t0 },
  { _tag: "StepStarted", stepIndex: 0, percentage: 10, actor: system, at: t0 },
  {
    _tag: "TrafficShifted", stepIndex: 0, deploymentId: "d2", reusedExisting: false, actor: system, at: t0,
    split: [{ versionId: "v2", percentage: 10 }, { versionId: "v1", percentage: 90 }]
  }
]
const check = (n: number, verdict: "healthy" | "unhealthy" | "inconclusive", consecutiveFailures = 0): ReleaseEvent.ReleaseEvent => ({
  _tag: "HealthChecked", stepIndex: 0, window: { start: t0 + (n - 1) * minute, end: t0 + n * minute },
  canary: verdict === "inconclusive" ? { requests: 2, errors: 0 } : verdict === "healthy" ? healthy : failing,
  stable: healthy, verdict, reasons: [], consecutiveFailures, actor: system, at: t0 + n * minute
})
const kinds = (events: ReadonlyArray<ReleaseEvent.ReleaseEvent>) => Attention.of(Release.fold(events)).map((item) => item.kind)

describe("Attention", () => {
  describe("nothing needs a person", () => {
    it("no release, a pending one, a healthy automatic one, an ended one", () => {
      assert.deepStrictEqual(Attention.of(Release.initial), [])
      assert.deepStrictEqual(kinds([created(true)]), [])
      assert.deepStrictEqual(kinds([...running(true), check(1, "healthy"), check(2, "healthy")]), [])
      assert.deepStrictEqual(
        kinds([...running(true), { _tag: "Cancelled", reason: "no", actor: ada, at: t0 + minute } as ReleaseEvent.ReleaseEvent]),
        []
      )
    })
  })

  describe("soaking", () => {
    it("a manual release whose step has soaked healthy waits for a person to advance; not before", () => {
      assert.deepStrictEqual(kinds([...running(false), check(1, "healthy")]), [], "half the soak")
      const items = Attention.of(Release.fold([...running(false), check(1, "healthy"), check(2, "healthy")]))
      assert.deepStrictEqual(items.map((item) => item.kind), ["awaiting_advance"])
      assert.include(items[0]!.message, "step 1 (10%)")
    })

    it("failed checks not yet enough to act say how many, and the limit", () => {
      const items = Attention.of(Release.fold([...running(true), check(1, "unhealthy", 1), check(2, "unhealthy", 2)]))
      assert.deepStrictEqual(items.map((item) => item.kind), ["failing_checks"])
      assert.include(items[0]!.message, "2 consecutive failed health checks")
      assert.include(items[0]!.message, "acts at 3")
      // A healthy check resets the count: nothing left to say.
      assert.deepStrictEqual(kinds([...running(true), check(1, "unhealthy", 1), check(2, "healthy")]), [])
    })

    it("a step analytics cannot judge, once the release said it is held, is stalled", () => {
      const stalled: ReleaseEvent.ReleaseEvent = {
        _tag: "Stalled", cause: "no_data", stepIndex: 0, since: t0, reason: "too little traffic", actor: system, at: t0 + 3 * minute
      }
      assert.deepStrictEqual(kinds([...running(true), check(1, "inconclusive"), check(2, "inconclusive")]), [], "not yet said")
      assert.deepStrictEqual(kinds([...running(true), check(1, "inconclusive"), check(2, "inconclusive"), stalled]), ["stalled"])
    })
  })

  describe("paused", () => {
    it("by a person, with the reason; by drift, as drift", () => {
      const paused = Attention.of(Release.fold([
        ...running(true),
        { _tag: "Paused", cause: "requested", reason: "checking the graphs", actor: ada, at: t0 + minute }
      ]))
      assert.deepStrictEqual(paused, [{ kind: "paused", message: "checking the graphs" }])
      const drift = Attention.of(Release.fold([
        ...running(true),
        {
          _tag: "DriftDetected", expected: [{ versionId: "v2", percentage: 10 }, { versionId: "v1", percentage: 90 }],
          observed: { deploymentId: "d9", split: [{ versionId: "v1", percentage: 100 }] }, actor: system, at: t0 + minute
        }
      ]))
      assert.deepStrictEqual(drift.map((item) => item.kind), ["drift"])
    })
  })
})
