import { assert, describe, it } from "@effect/vitest"
import { Result, Schema } from "effect"
import { Plan } from "../src/index.ts"

const failureOf = (input: unknown) => {
  const result = Plan.decode(input)
  assert.isTrue(Result.isFailure(result), "expected the plan to be rejected")
  return (result as Result.Failure<Plan.Plan, Plan.PlanInvalid>).failure
}

describe("Plan.decode", () => {
  it("accepts 1 → 10 → 50 → 100 and fills the health policy defaults", () => {
    const result = Plan.decode({
      steps: [
        { percentage: 1, waitSeconds: 300 },
        { percentage: 10, waitSeconds: 300 },
        { percentage: 50, waitSeconds: 600 },
        { percentage: 100, waitSeconds: 600 }
      ]
    })
    assert.isTrue(Result.isSuccess(result))
    const plan = (result as Result.Success<Plan.Plan, Plan.PlanInvalid>).success
    assert.deepStrictEqual(plan.health, {
      intervalSeconds: 60,
      failuresBeforeAction: 3,
      maxErrorRate: 0.01,
      minRequests: 100,
      onInconclusive: "hold",
      analyticsDelaySeconds: 60,
      onFailure: "rollback"
    })
    assert.strictEqual(Plan.totalWaitSeconds(plan), 1800)
  })

  it("accepts percentages with two decimals and a single 100% step", () => {
    assert.isTrue(Result.isSuccess(Plan.decode({ steps: [{ percentage: 0.25, waitSeconds: 0 }, { percentage: 100, waitSeconds: 0 }] })))
    assert.isTrue(Result.isSuccess(Plan.decode({ steps: [{ percentage: 100, waitSeconds: 604800 }] })))
  })

  it("names the step whose percentage does not increase", () => {
    const failure = failureOf({ steps: [{ percentage: 10, waitSeconds: 0 }, { percentage: 10, waitSeconds: 0 }, { percentage: 100, waitSeconds: 0 }] })
    assert.deepStrictEqual(failure.issues.map((i) => i.field), ["steps[1].percentage"])
    assert.match(failure.message, /steps\[1\]\.percentage: must be greater than the previous step's 10/)
  })

  it("requires the last step to be 100", () => {
    const failure = failureOf({ steps: [{ percentage: 10, waitSeconds: 0 }, { percentage: 50, waitSeconds: 0 }] })
    assert.deepStrictEqual(failure.issues, [{ field: "steps[1].percentage", message: "the last step must be 100, got 50" }])
  })

  it("rejects more than two decimals, out-of-range percentages and waits, naming each field", () => {
    const failure = failureOf({
      steps: [
        { percentage: -1, waitSeconds: 0 },
        { percentage: 12.345, waitSeconds: 604801 },
        { percentage: 100, waitSeconds: 1.5 }
      ]
    })
    const fields = failure.issues.map((i) => i.field)
    assert.deepStrictEqual(fields, ["steps[0].percentage", "steps[1].percentage", "steps[1].waitSeconds", "steps[2].waitSeconds"])
  })

  it("refuses at once what Cloudflare would refuse: below 0.01%, or more than two decimals however small the excess", () => {
    assert.match(failureOf({ steps: [{ percentage: 1e-11, waitSeconds: 0 }, { percentage: 100, waitSeconds: 0 }] }).message,
      /steps\[0\]\.percentage: must be 0 or between 0.01 and 100, got 1e-11/)
    assert.match(failureOf({ steps: [{ percentage: 50.000000000001, waitSeconds: 0 }, { percentage: 100, waitSeconds: 0 }] }).message,
      /steps\[0\]\.percentage: must have at most two decimals, got 50.000000000001/)
    assert.match(failureOf({ steps: [{ percentage: 0.005, waitSeconds: 0 }, { percentage: 100, waitSeconds: 0 }] }).message,
      /steps\[0\]\.percentage/)
    for (const ok of [0.01, 0.29, 33.33, 99.99]) {
      assert.isTrue(Result.isSuccess(Plan.decode({ steps: [{ percentage: ok, waitSeconds: 0 }, { percentage: 100, waitSeconds: 0 }] })), `${ok}`)
    }
  })

  it("keeps 0% as a first step (a smoke-test stage that serves nothing)", () => {
    assert.isTrue(Result.isSuccess(Plan.decode({ steps: [{ percentage: 0, waitSeconds: 60 }, { percentage: 100, waitSeconds: 0 }] })))
    const failure = failureOf({ steps: [{ percentage: 0, waitSeconds: 0 }, { percentage: 0, waitSeconds: 0 }, { percentage: 100, waitSeconds: 0 }] })
    assert.deepStrictEqual(failure.issues.map((i) => i.field), ["steps[1].percentage"])
  })

  it("keeps thresholds to four decimals, so that health math is exact", () => {
    const failure = failureOf({ steps: [{ percentage: 100, waitSeconds: 0 }], health: { maxErrorRate: 0.012345, maxErrorRateIncrease: 0.00001 } })
    assert.deepStrictEqual(failure.issues.map((i) => i.field), ["health.maxErrorRate", "health.maxErrorRateIncrease"])
    assert.match(failure.message, /at most 4 decimals/)
    assert.isTrue(Result.isSuccess(Plan.decode({ steps: [{ percentage: 100, waitSeconds: 0 }], health: { maxErrorRate: 0.0125 } })))
  })

  it("a plan recorded under the looser rules still decodes from its events (Plan.Stored)", () => {
    const recorded = {
      steps: [{ percentage: 1e-11, waitSeconds: 0 }, { percentage: 50.000000000001, waitSeconds: 0 }, { percentage: 100, waitSeconds: 60 }],
      health: { maxErrorRate: 0.012345 }
    }
    assert.isTrue(Result.isFailure(Plan.decode(recorded)))
    const stored = Schema.decodeUnknownSync(Plan.Stored)(recorded)
    assert.strictEqual(stored.steps[1]!.percentage, 50.000000000001)
    assert.strictEqual(stored.health.maxErrorRate, 0.012345)
  })

  it("rejects an empty plan and more than 20 steps", () => {
    assert.match(failureOf({ steps: [] }).message, /steps: must have between 1 and 20 steps, got 0/)
    const steps = Array.from({ length: 21 }, (_, i) => ({ percentage: i + 80, waitSeconds: 0 }))
    assert.match(failureOf({ steps }).message, /got 21/)
  })

  it("validates the health policy field by field", () => {
    const failure = failureOf({
      steps: [{ percentage: 100, waitSeconds: 0 }],
      health: { intervalSeconds: 5, failuresBeforeAction: 0, maxErrorRate: 1.5, onFailure: "explode" }
    })
    const fields = failure.issues.map((i) => i.field)
    assert.deepStrictEqual(fields, ["health.intervalSeconds", "health.failuresBeforeAction", "health.maxErrorRate", "health.onFailure"])
  })

  it("reports a missing or mistyped steps field", () => {
    assert.deepStrictEqual(failureOf({}).issues.map((i) => i.field), ["steps"])
    assert.deepStrictEqual(failureOf({ steps: "1,10,100" }).issues.map((i) => i.field), ["steps"])
  })
})
