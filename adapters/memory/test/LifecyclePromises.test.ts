/**
 * The lifecycle's promises, kept against adversarial worlds in the harness: Cloudflare losing
 * answers or staying away, analytics going dark while the canary fails, slow analytics. Every
 * assertion on traffic reads the fleet's actual live split, not what the events believe.
 */
import { Actor, Plan, TrafficRouter, TrafficSplit } from "@canaryroll/core"
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { ErrorRate, Harness } from "../src/index.ts"

const run = <A, E>(effect: Effect.Effect<A, E, Harness.Harness>) => effect.pipe(Effect.provide(Harness.layer))

const plan = (health: Plan.PlanInput["health"] = {}, steps?: Plan.PlanInput["steps"]) =>
  Plan.make({
    steps: steps ?? [{ percentage: 10, waitSeconds: 300 }, { percentage: 50, waitSeconds: 300 }, { percentage: 100, waitSeconds: 300 }],
    health: { intervalSeconds: 60, analyticsDelaySeconds: 0, minRequests: 50, maxErrorRate: 0.01, ...health }
  })

const setUp = (errorRates: Record<string, ErrorRate.ErrorRate> = {}) =>
  Effect.gen(function*() {
    const harness = yield* Harness.Harness
    const worker = yield* harness.addWorker({
      scriptName: "api",
      liveVersionId: "v1",
      requestsPerMinute: 6_000,
      errorRates: { v1: 0.001, v2: 0.001, ...errorRates }
    })
    return { harness, worker }
  })

const actualSplit = (harness: Harness.Harness["Service"], worker: TrafficRouter.WorkerTarget) => {
  const deployments = harness.fleet.deployments(worker)
  return deployments[deployments.length - 1]!.split
}

const transient = new TrafficRouter.TrafficRouterError({ kind: "transient", message: "503 Service Unavailable" })

const eventsOf = (harness: Harness.Harness["Service"], releaseId: string) =>
  Effect.map(harness.events(releaseId), (recorded) => recorded.map((r) => r.event))

describe("No terminal status while the canary may serve traffic", () => {
  it.effect("nine transient failures and a tenth that lands but loses its answer: rolled back, the stable version serves 100%", () =>
    run(Effect.gen(function*() {
      const { harness, worker } = yield* setUp()
      harness.fleet.failRouter(9, transient, { operation: "apply" })
      harness.fleet.failRouter(1, transient, { operation: "apply", afterWrite: true })
      const releaseId = yield* harness.release({ worker, versionId: "v2", plan: plan() })
      yield* harness.runUntilSettled("2 hours")

      const summary = yield* harness.summary(releaseId)
      assert.strictEqual(summary.status, "rolled_back")
      assert.deepStrictEqual(actualSplit(harness, worker), TrafficSplit.whole("v1"))
      const deployments = harness.fleet.deployments(worker).map((d) => TrafficSplit.describe(d.split))
      assert.deepStrictEqual(deployments, ["v1 100%", "v2 10% / v1 90%", "v1 100%"], "the lost 10% was found and taken off")
      assert.match(summary.statusReason ?? "", /Cloudflare kept failing while shifting traffic for step 0 \(10 attempts\)/)
    })))

  it.effect("ten transient failures that never landed: failed only once the stable version was read serving 100%", () =>
    run(Effect.gen(function*() {
      const { harness, worker } = yield* setUp()
      harness.fleet.failRouter(10, transient, { operation: "apply" })
      const releaseId = yield* harness.release({ worker, versionId: "v2", plan: plan() })
      yield* harness.runUntilSettled("2 hours")

      assert.strictEqual((yield* harness.summary(releaseId)).status, "failed")
      assert.deepStrictEqual(actualSplit(harness, worker), TrafficSplit.whole("v1"))
      const tags = (yield* eventsOf(harness, releaseId)).map((e) => e._tag)
      assert.deepStrictEqual(tags.slice(-2), ["RollbackStarted", "Failed"])
    })))

  it.effect("Cloudflare unreachable during a rollback: never failed, retried with backoff, held with a visible reason, said once", () =>
    run(Effect.gen(function*() {
      const { harness, worker } = yield* setUp()
      const releaseId = yield* harness.release({ worker, versionId: "v2", plan: plan() })
      yield* harness.runFor("2 minutes")
      assert.deepStrictEqual(actualSplit(harness, worker), TrafficSplit.canaryAt("v2", "v1", 10))

      harness.fleet.failRouter(12, transient)
      yield* harness.execute(releaseId, { _tag: "Rollback", actor: Actor.user("usr_ada", "Ada"), reason: "errors in checkout" })
      yield* harness.runFor("20 minutes")
      const held = yield* harness.summary(releaseId)
      assert.strictEqual(held.status, "in_progress")
      assert.match(held.statusReason ?? "", /^rollback pending: Cloudflare unreachable since \d{4}-\d\d-\d\dT.*503 Service Unavailable/)

      yield* harness.runUntilSettled("3 hours")
      const events = yield* eventsOf(harness, releaseId)
      assert.strictEqual((yield* harness.summary(releaseId)).status, "rolled_back")
      assert.deepStrictEqual(actualSplit(harness, worker), TrafficSplit.whole("v1"))
      assert.strictEqual(events.filter((e) => e._tag === "Stalled").length, 1, "people are told once")
      assert.isFalse(events.some((e) => e._tag === "Failed"))
    })))
})

describe("Missing data never counts toward a soak", () => {
  it.effect("analytics down for five minutes while the canary fails 50%: the outage is judged when analytics return, never promoted over", () =>
    run(Effect.gen(function*() {
      const { harness, worker } = yield* setUp({
        v2: ErrorRate.schedule([{ from: 0, rate: 0.5 }, { from: "5 minutes", rate: 0.001 }])
      })
      harness.fleet.failAnalytics(5)
      const releaseId = yield* harness.release({ worker, versionId: "v2", plan: plan() })
      yield* harness.runFor("30 minutes")

      const events = yield* eventsOf(harness, releaseId)
      const applied = events.find((e) => e._tag === "TrafficShifted")!.at
      const checks = events.flatMap((e) => e._tag === "HealthChecked" ? [e] : [])
      assert.deepStrictEqual(checks.slice(0, 5).map((c) => c.verdict), Array(5).fill("inconclusive"))
      // asked again from the start of the outage once analytics answer: the 50% errors are seen
      assert.deepStrictEqual(checks[5]!.window.start, applied)
      assert.strictEqual(checks[5]!.verdict, "unhealthy")
      const firstPromotion = events.find((e) => e._tag === "Promoted")
      assert.isDefined(firstPromotion)
      // the soak counts again from the first healthy window after the unhealthy stretch
      assert.isAtLeast(firstPromotion!.at - applied, 11 * 60_000)
      const stalls = events.filter((e) => e._tag === "Stalled")
      assert.strictEqual(stalls.length, 1)
      assert.match((stalls[0] as Extract<typeof stalls[number], { _tag: "Stalled" }>).reason, /held at step 1: no judged health data since/)
    })))

  it.effect("a 600 s soak with a 600 s analytics delay is promoted only once all 600 s are judged", () =>
    run(Effect.gen(function*() {
      const { harness, worker } = yield* setUp()
      const slow = plan({ analyticsDelaySeconds: 600 }, [{ percentage: 10, waitSeconds: 600 }, { percentage: 100, waitSeconds: 0 }])
      const releaseId = yield* harness.release({ worker, versionId: "v2", plan: slow })
      yield* harness.runUntilSettled("3 hours")

      const events = yield* eventsOf(harness, releaseId)
      const applied = events.find((e) => e._tag === "TrafficShifted")!.at
      const promoted = events.findIndex((e) => e._tag === "Promoted")
      const judgedBefore = events.slice(0, promoted).flatMap((e) => e._tag === "HealthChecked" ? [e] : [])
      assert.isAtLeast(judgedBefore.at(-1)!.window.end, applied + 600_000, "the whole soak was judged")
      assert.isAtLeast(events[promoted]!.at, applied + 1_200_000, "not before the soak's end plus the delay")
      assert.strictEqual((yield* harness.summary(releaseId)).status, "completed")
      assert.deepStrictEqual(actualSplit(harness, worker), TrafficSplit.whole("v2"))
    })))

  it.effect("a step held for lack of data says so in its status reason, once per step, and goes on when data comes", () =>
    run(Effect.gen(function*() {
      const { harness, worker } = yield* setUp()
      harness.fleet.failAnalytics(10)
      const releaseId = yield* harness.release({ worker, versionId: "v2", plan: plan() })
      yield* harness.runFor("6 minutes")
      const held = yield* harness.summary(releaseId)
      assert.strictEqual(held.currentStep, 0)
      assert.match(held.statusReason ?? "", /^held at step 1: no judged health data since .*analytics unavailable/)

      yield* harness.runUntilSettled("2 hours")
      assert.strictEqual((yield* harness.summary(releaseId)).status, "completed")
      const events = yield* eventsOf(harness, releaseId)
      assert.strictEqual(events.filter((e) => e._tag === "Stalled").length, 1)
    })))
})

describe("A 0% smoke-test step", () => {
  it.effect("puts the canary in the deployment at 0% (so version overrides reach it), holds for lack of data, and lets a person move on", () =>
    run(Effect.gen(function*() {
      const { harness, worker } = yield* setUp()
      const steps = [{ percentage: 0, waitSeconds: 300 }, { percentage: 50, waitSeconds: 300 }, { percentage: 100, waitSeconds: 300 }]
      const releaseId = yield* harness.release({ worker, versionId: "v2", plan: plan({}, steps) })
      yield* harness.runFor("20 minutes")

      assert.deepStrictEqual(actualSplit(harness, worker), [{ versionId: "v2", percentage: 0 }, { versionId: "v1", percentage: 100 }])
      const held = yield* harness.summary(releaseId)
      assert.strictEqual(held.status, "in_progress")
      assert.strictEqual(held.currentStep, 0)
      assert.match(held.statusReason ?? "", /held at step 1: no judged health data since/)

      yield* harness.execute(releaseId, { _tag: "Advance", actor: Actor.user("usr_ada", "Ada"), fromStep: 0 })
      yield* harness.runUntilSettled("2 hours")
      assert.strictEqual((yield* harness.summary(releaseId)).status, "completed")
      assert.deepStrictEqual(actualSplit(harness, worker), TrafficSplit.whole("v2"))
    })))
})
