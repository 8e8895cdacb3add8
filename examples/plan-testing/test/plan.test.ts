/**
 * "Does my plan roll back a bad version quickly enough?" answered in a unit test: the harness runs
 * the real release logic against scripted traffic, and TestClock makes an hour take milliseconds.
 */
import { Plan } from "@canaryroll/core"
import { ErrorRate, Harness } from "@canaryroll/memory"
import { assert, describe, it } from "@effect/vitest"
import { Duration, Effect } from "effect"
import { checkoutPlan } from "../src/plan.ts"

const checkout = (canaryErrorRate: ErrorRate.ErrorRate) =>
  Effect.gen(function*() {
    const harness = yield* Harness.Harness
    const worker = yield* harness.addWorker({
      scriptName: "checkout",
      liveVersionId: "v41",
      requestsPerMinute: 20_000,
      errorRates: { v41: 0.002, v42: canaryErrorRate }
    })
    const releaseId = yield* harness.release({ worker, versionId: "v42", plan: checkoutPlan })
    const took = yield* harness.runUntilSettled("6 hours")
    return { status: (yield* harness.summary(releaseId)).status, took, harness, worker }
  }).pipe(Effect.provide(Harness.layer))

describe("the checkout plan", () => {
  it.effect("rolls back a version with 5% errors within 6 minutes, at 1% of traffic", () =>
    Effect.gen(function*() {
      const { status, took, harness, worker } = yield* checkout(0.05)
      assert.strictEqual(status, "rolled_back")
      assert.isTrue(Duration.isLessThanOrEqualTo(took, Duration.minutes(6)), `took ${Duration.format(took)}`)
      const canaryShares = harness.fleet.deployments(worker).map((d) => d.split.find((s) => s.versionId === "v42")?.percentage ?? 0)
      assert.strictEqual(Math.max(...canaryShares), 1, "the bad version never saw more than 1% of traffic")
    }))

  it.effect("catches a version that degrades after 30 minutes, before it reaches everyone", () =>
    Effect.gen(function*() {
      const { status, harness, worker } = yield* checkout(ErrorRate.stepAt("30 minutes", 0.002, 0.04))
      assert.strictEqual(status, "rolled_back")
      const canaryShares = harness.fleet.deployments(worker).map((d) => d.split.find((s) => s.versionId === "v42")?.percentage ?? 0)
      assert.strictEqual(Math.max(...canaryShares), 50)
    }))

  it.effect("ships a healthy version once every step's whole soak was judged: its soak plus the analytics delay", () =>
    Effect.gen(function*() {
      const { status, took } = yield* checkout(0.002)
      assert.strictEqual(status, "completed")
      const judged = Duration.seconds(
        Plan.totalWaitSeconds(checkoutPlan) + checkoutPlan.steps.length * checkoutPlan.health.analyticsDelaySeconds
      )
      assert.isTrue(Duration.isGreaterThanOrEqualTo(took, judged), `took ${Duration.format(took)}`)
      assert.isTrue(Duration.isLessThanOrEqualTo(took, Duration.sum(judged, Duration.minutes(5))), `took ${Duration.format(took)}`)
    }))
})
