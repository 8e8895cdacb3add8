/**
 * Health assessment at its boundaries: limits compare exactly (integer arithmetic over whole
 * counts and thresholds of at most four decimals), reasons never read "x > x", and samples no one
 * can judge are inconclusive, never healthy.
 */
import { assert, describe, it } from "@effect/vitest"
import { HealthCheck, Plan } from "../src/index.ts"

const policy = (health: Plan.HealthPolicyInput) => Plan.make({ steps: [{ percentage: 100, waitSeconds: 0 }], health }).health

describe("HealthCheck.assess", () => {
  it("a canary exactly at maxErrorRate is healthy; one error more is unhealthy", () => {
    const limit = policy({ maxErrorRate: 0.05, minRequests: 1 })
    const atLimit = HealthCheck.assess(limit, { requests: 100, errors: 5 }, undefined)
    assert.strictEqual(atLimit.verdict, "healthy")
    assert.deepStrictEqual(atLimit.reasons, ["error rate 5.00% <= maxErrorRate (5.00%)"])
    const over = HealthCheck.assess(limit, { requests: 100, errors: 6 }, undefined)
    assert.strictEqual(over.verdict, "unhealthy")
    assert.deepStrictEqual(over.reasons, ["error rate 6.00% > maxErrorRate (5.00%)"])
  })

  it("every whole-percent pair exactly at maxErrorRateIncrease is healthy, and one point above is unhealthy", () => {
    const misjudged: Array<string> = []
    for (let stable = 0; stable <= 100; stable++) {
      for (let canary = stable; canary <= 100; canary++) {
        const increase = (canary - stable) / 100
        const stableSample = { requests: 100, errors: stable }
        const canarySample = { requests: 100, errors: canary }
        const atLimit = HealthCheck.assess(policy({ maxErrorRate: 1, maxErrorRateIncrease: increase, minRequests: 1 }), canarySample, stableSample)
        if (atLimit.verdict !== "healthy") misjudged.push(`${canary}% vs ${stable}% at limit ${increase}: ${atLimit.reasons.join("; ")}`)
        if (canary > stable) {
          const below = (canary - stable - 1) / 100
          const over = HealthCheck.assess(policy({ maxErrorRate: 1, maxErrorRateIncrease: below, minRequests: 1 }), canarySample, stableSample)
          if (over.verdict !== "unhealthy") misjudged.push(`${canary}% vs ${stable}% at limit ${below}: ${over.reasons.join("; ")}`)
        }
      }
    }
    assert.deepStrictEqual(misjudged, [])
  })

  it("5/100 against 2/100 with maxErrorRateIncrease 0.03 is healthy, and the reason shows no float noise", () => {
    const assessment = HealthCheck.assess(
      policy({ maxErrorRate: 1, maxErrorRateIncrease: 0.03, minRequests: 1 }),
      { requests: 100, errors: 5 },
      { requests: 100, errors: 2 }
    )
    assert.strictEqual(assessment.verdict, "healthy")
    assert.include(assessment.reasons[1], "error rate 5.00% vs stable 2.00%: increase 3.00% <= maxErrorRateIncrease (3.00%)")
  })

  it("a reason never prints the measured value and the limit alike when one exceeds the other", () => {
    // 3.001% > 3.00%: two decimals would print "3.00% > 3.00%"
    const assessment = HealthCheck.assess(policy({ maxErrorRate: 0.03, minRequests: 1 }), { requests: 100_000, errors: 3_001 }, undefined)
    assert.strictEqual(assessment.verdict, "unhealthy")
    assert.deepStrictEqual(assessment.reasons, ["error rate 3.001% > maxErrorRate (3.000%)"])
    for (const reason of assessment.reasons) {
      const match = /([\d.]+%) > \w+ \(([\d.]+%)\)/.exec(reason)
      assert.notStrictEqual(match?.[1], match?.[2], reason)
    }
  })

  it("NaN, infinite or negative samples, or more errors than requests, are inconclusive with a reason, never healthy", () => {
    const lenient = policy({ maxErrorRate: 1, minRequests: 0 })
    const invalid: ReadonlyArray<HealthCheck.VersionSample> = [
      { requests: Number.NaN, errors: 0 },
      { requests: 100, errors: Number.NaN },
      { requests: -5, errors: 0 },
      { requests: 100, errors: -1 },
      { requests: Number.POSITIVE_INFINITY, errors: 0 },
      { requests: 10, errors: 11 }
    ]
    for (const sample of invalid) {
      const assessment = HealthCheck.assess(lenient, sample, undefined)
      assert.strictEqual(assessment.verdict, "inconclusive", JSON.stringify(sample))
      assert.match(assessment.reasons[0]!, /analytics returned an invalid canary sample/)
    }
  })

  it("an invalid stable sample skips the comparison with a reason instead of judging against it", () => {
    const assessment = HealthCheck.assess(
      policy({ maxErrorRate: 0.05, maxErrorRateIncrease: 0.01, minRequests: 1 }),
      { requests: 100, errors: 1 },
      { requests: Number.NaN, errors: 0 }
    )
    assert.strictEqual(assessment.verdict, "healthy")
    assert.match(assessment.reasons[1]!, /stable comparison skipped: analytics returned an invalid stable sample \(requests NaN\)/)
  })
})
