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

const pct = (rate: number) => `${(rate * 100).toFixed(2)}%`

/**
 * Judges one check. `canary` undefined means analytics had nothing to say (unavailable): that is
 * inconclusive, never healthy and never unhealthy.
 */
export const assess = (
  policy: HealthPolicy,
  canary: VersionSample | undefined,
  stable: VersionSample | undefined
): Assessment => {
  if (canary === undefined) {
    return { verdict: "inconclusive", reasons: ["no analytics for the canary in this window"] }
  }
  if (canary.requests === 0 || canary.requests < policy.minRequests) {
    return {
      verdict: "inconclusive",
      reasons: [`requests ${canary.requests} < minRequests (${policy.minRequests})`]
    }
  }
  const reasons: Array<string> = []
  let unhealthy = false
  const canaryRate = errorRate(canary)
  if (canaryRate > policy.maxErrorRate) {
    unhealthy = true
    reasons.push(`error rate ${pct(canaryRate)} > maxErrorRate (${pct(policy.maxErrorRate)})`)
  } else {
    reasons.push(`error rate ${pct(canaryRate)} <= maxErrorRate (${pct(policy.maxErrorRate)})`)
  }
  if (policy.maxErrorRateIncrease !== undefined) {
    if (stable === undefined || stable.requests < policy.minRequests) {
      reasons.push(
        `stable comparison skipped: stable requests ${stable?.requests ?? 0} < minRequests (${policy.minRequests})`
      )
    } else {
      const increase = canaryRate - errorRate(stable)
      const comparison = `error rate ${pct(canaryRate)} vs stable ${pct(errorRate(stable))}: increase ${pct(increase)}`
      if (increase > policy.maxErrorRateIncrease) {
        unhealthy = true
        reasons.push(`${comparison} > maxErrorRateIncrease (${pct(policy.maxErrorRateIncrease)})`)
      } else {
        reasons.push(`${comparison} <= maxErrorRateIncrease (${pct(policy.maxErrorRateIncrease)})`)
      }
    }
  }
  return { verdict: unhealthy ? "unhealthy" : "healthy", reasons }
}
