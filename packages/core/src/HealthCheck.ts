/**
 * Health assessment, a pure function: the canary's sample against the policy's limits and
 * against the stable version's sample from the same window. Reasons name the limit and the
 * measured value, so a rollback explains itself ("error rate 5.20% > maxErrorRate 1.00%").
 *
 * @since 0.1.0
 */
import { Schema } from "effect"
import type { HealthPolicy } from "./Plan.ts"

/** What analytics measured for one version over a window. */
export const VersionSample = Schema.Struct({
  requests: Schema.Finite,
  errors: Schema.Finite,
  cpuTimeP50Ms: Schema.optionalKey(Schema.Finite),
  cpuTimeP99Ms: Schema.optionalKey(Schema.Finite)
})
export type VersionSample = typeof VersionSample.Type

/** A half-open time window `[start, end)` in epoch milliseconds. */
export const Window = Schema.Struct({
  start: Schema.Finite,
  end: Schema.Finite
})
export type Window = typeof Window.Type

export const Verdict = Schema.Literals(["healthy", "unhealthy", "inconclusive"])
export type Verdict = typeof Verdict.Type

export interface Assessment {
  readonly verdict: Verdict
  readonly reasons: ReadonlyArray<string>
}

export const errorRate = (sample: VersionSample): number => sample.requests > 0 ? sample.errors / sample.requests : 0

/**
 * Why a sample from a health source cannot be judged, or `undefined` when it can. Sources are
 * outside the core's control (an analytics bug, a bad proration): NaN, infinite or negative
 * counts, or more errors than requests, are inconclusive, never healthy.
 */
const isBadCount = (value: unknown): boolean => typeof value !== "number" || !Number.isFinite(value) || value < 0

export const invalidSampleReason = (sample: VersionSample, label: string): string | undefined => {
  if (isBadCount(sample.requests)) return `analytics returned an invalid ${label} sample (requests ${String(sample.requests)})`
  if (isBadCount(sample.errors)) return `analytics returned an invalid ${label} sample (errors ${String(sample.errors)})`
  return Math.round(sample.errors) > Math.round(sample.requests)
    ? `analytics returned an invalid ${label} sample (${sample.errors} errors > ${sample.requests} requests)`
    : undefined
}

/** Thresholds have at most four decimals: as whole ten-thousandths they compare exactly. */
const thresholdScale = 10_000n
const thresholdUnits = (threshold: number): bigint => BigInt(Math.round(threshold * Number(thresholdScale)))
/** Counts are whole requests; a source's prorated fractions are rounded. */
const whole = (count: number): bigint => BigInt(Math.round(count))

/** `errors / requests > threshold`, in integers (cross-multiplied). */
const rateExceeds = (errors: bigint, requests: bigint, threshold: number): boolean =>
  errors * thresholdScale > thresholdUnits(threshold) * requests

/**
 * A rate as a percentage with two decimals, or as many more as it takes to tell the measured value
 * from the limit when they differ (`equal` comes from the exact comparison, not from floats): a
 * reason never reads "3.00% > 3.00%", and an exact tie never reads "3.0000000000000004%".
 */
const show = (value: number, decimals: number) => `${(value * 100).toFixed(decimals)}%`

const percentages = (measured: number, limit: number, equal: boolean): readonly [string, string] => {
  if (equal) return [show(limit, 2), show(limit, 2)]
  for (let decimals = 2; decimals <= 12; decimals++) {
    const pair = [show(measured, decimals), show(limit, decimals)] as const
    if (pair[0] !== pair[1]) return pair
  }
  return [`${show(measured, 12)} (${measured > limit ? "above" : "below"} the limit)`, show(limit, 12)]
}

/**
 * Judges one check. `canary` undefined means analytics had nothing to say (unavailable): that is
 * inconclusive, never healthy and never unhealthy. Limits are compared exactly: a canary exactly
 * at `maxErrorRate`, or exactly `maxErrorRateIncrease` above the stable version, is healthy.
 */
export const assess = (
  policy: HealthPolicy,
  canary: VersionSample | undefined,
  stable: VersionSample | undefined
): Assessment => {
  if (canary === undefined) {
    return { verdict: "inconclusive", reasons: ["no analytics for the canary in this window"] }
  }
  const invalid = invalidSampleReason(canary, "canary")
  if (invalid !== undefined) return { verdict: "inconclusive", reasons: [invalid] }
  const canaryErrors = Math.round(canary.errors)
  const canaryRequests = Math.round(canary.requests)
  if (canaryRequests === 0 || canaryRequests < policy.minRequests) {
    return {
      verdict: "inconclusive",
      reasons: [`requests ${canary.requests} < minRequests (${policy.minRequests})`]
    }
  }
  const reasons: Array<string> = []
  let unhealthy = false
  const canaryRate = canaryErrors / canaryRequests
  // Exact in doubles while every product stays a safe integer; BigInt otherwise.
  const maxUnits = Math.round(policy.maxErrorRate * 10_000)
  const left = canaryErrors * 10_000
  const right = maxUnits * canaryRequests
  const safe = Number.isSafeInteger(left) && Number.isSafeInteger(right)
  const rateTie = safe
    ? left === right
    : BigInt(canaryErrors) * thresholdScale === thresholdUnits(policy.maxErrorRate) * BigInt(canaryRequests)
  const [rate, maxRate] = percentages(canaryRate, policy.maxErrorRate, rateTie)
  if (safe ? left > right : rateExceeds(BigInt(canaryErrors), BigInt(canaryRequests), policy.maxErrorRate)) {
    unhealthy = true
    reasons.push(`error rate ${rate} > maxErrorRate (${maxRate})`)
  } else {
    reasons.push(`error rate ${rate} <= maxErrorRate (${maxRate})`)
  }
  if (policy.maxErrorRateIncrease !== undefined) {
    const stableInvalid = stable === undefined ? undefined : invalidSampleReason(stable, "stable")
    if (stableInvalid !== undefined) {
      reasons.push(`stable comparison skipped: ${stableInvalid}`)
    } else if (stable === undefined || whole(stable.requests) < BigInt(Math.max(1, policy.minRequests))) {
      reasons.push(
        `stable comparison skipped: stable requests ${stable?.requests ?? 0} < minRequests (${policy.minRequests})`
      )
    } else {
      const canaryCounts = { errors: BigInt(canaryErrors), requests: BigInt(canaryRequests) }
      const stableCounts = { errors: whole(stable.errors), requests: whole(stable.requests) }
      const stableRate = Number(stableCounts.errors) / Number(stableCounts.requests)
      const difference = (canaryCounts.errors * stableCounts.requests - stableCounts.errors * canaryCounts.requests) *
        thresholdScale
      const limit = thresholdUnits(policy.maxErrorRateIncrease) * canaryCounts.requests * stableCounts.requests
      const [increase, maxIncrease] = percentages(canaryRate - stableRate, policy.maxErrorRateIncrease, difference === limit)
      const sameRates = canaryCounts.errors * stableCounts.requests === stableCounts.errors * canaryCounts.requests
      const [canaryShown, stableShown] = percentages(canaryRate, stableRate, sameRates)
      const comparison = `error rate ${canaryShown} vs stable ${stableShown}: increase ${increase}`
      if (difference > limit) {
        unhealthy = true
        reasons.push(`${comparison} > maxErrorRateIncrease (${maxIncrease})`)
      } else {
        reasons.push(`${comparison} <= maxErrorRateIncrease (${maxIncrease})`)
      }
    }
  }
  return { verdict: unhealthy ? "unhealthy" : "healthy", reasons }
}
