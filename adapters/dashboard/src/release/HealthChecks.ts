/**
 * The health checks of a release, read from its `HealthChecked` events (their per-version
 * samples, verdict and reasons) and its `ReleaseCreated` event (the plan's limits): what the
 * chart draws and the list of verdicts says.
 */
import type { DeploymentEvent } from "@canaryroll/api/Schemas"

export type Verdict = "healthy" | "unhealthy" | "inconclusive"

export interface Sample {
  readonly requests: number
  readonly errors: number
}

export interface HealthCheck {
  readonly id: string
  readonly stepIndex: number
  /** The window's end, epoch milliseconds. */
  readonly windowEnd: number
  readonly windowStart: number
  readonly canary: Sample | null
  readonly stable: Sample | null
  readonly verdict: Verdict
  readonly reasons: ReadonlyArray<string>
  readonly consecutiveFailures: number
}

export interface Limits {
  readonly maxErrorRate: number | undefined
  readonly maxErrorRateIncrease: number | undefined
  readonly intervalSeconds: number | undefined
  readonly failuresBeforeAction: number | undefined
  readonly onFailure: string | undefined
}

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === "object" && value !== null
const numberOr = (value: unknown): number | undefined => typeof value === "number" && Number.isFinite(value) ? value : undefined

const sampleOf = (value: unknown): Sample | null => {
  if (!isRecord(value)) return null
  const requests = numberOr(value.requests)
  const errors = numberOr(value.errors)
  return requests === undefined || errors === undefined ? null : { requests, errors }
}

const verdictOf = (value: unknown): Verdict | undefined =>
  value === "healthy" || value === "unhealthy" || value === "inconclusive" ? value : undefined

export const checksOf = (events: ReadonlyArray<DeploymentEvent>): ReadonlyArray<HealthCheck> =>
  events.flatMap((event) => {
    if (event.eventType !== "HealthChecked") return []
    const d = event.details
    const window = isRecord(d.window) ? d.window : {}
    const verdict = verdictOf(d.verdict)
    const windowEnd = numberOr(window.end)
    if (verdict === undefined || windowEnd === undefined) return []
    return [{
      id: event.id,
      stepIndex: numberOr(d.stepIndex) ?? event.stepIndex ?? 0,
      windowStart: numberOr(window.start) ?? windowEnd,
      windowEnd,
      canary: sampleOf(d.canary),
      stable: sampleOf(d.stable),
      verdict,
      reasons: Array.isArray(d.reasons) ? d.reasons.filter((reason): reason is string => typeof reason === "string") : [],
      consecutiveFailures: numberOr(d.consecutiveFailures) ?? 0
    }]
  })

export const limitsOf = (events: ReadonlyArray<DeploymentEvent>): Limits => {
  const created = events.find((event) => event.eventType === "ReleaseCreated")
  const plan = created !== undefined && isRecord(created.details.plan) ? created.details.plan : {}
  const health = isRecord(plan.health) ? plan.health : {}
  return {
    maxErrorRate: numberOr(health.maxErrorRate),
    maxErrorRateIncrease: numberOr(health.maxErrorRateIncrease),
    intervalSeconds: numberOr(health.intervalSeconds),
    failuresBeforeAction: numberOr(health.failuresBeforeAction),
    onFailure: typeof health.onFailure === "string" ? health.onFailure : undefined
  }
}

export const errorRate = (sample: Sample | null): number | null =>
  sample === null || sample.requests <= 0 ? null : sample.errors / sample.requests

export const rateText = (rate: number | null) => rate === null ? "no data" : `${(rate * 100).toFixed(2)}%`
