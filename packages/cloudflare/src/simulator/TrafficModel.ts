/**
 * The traffic a simulated Worker serves: a request rate per script and an error rate per
 * version, each a timeline of changes, plus fixed invocation figures (CPU and wall time
 * quantiles, subrequests) per version. A change applies from the moment it is made, so the
 * analytics of minutes already past never change under a test's feet; the deployment history
 * then divides the requests between versions (core's `TrafficHistory.served`).
 */
import type { TrafficHistory } from "@canaryroll/core"

/** A constant error rate (a fraction), or steps relative to when the schedule was set. */
export type ErrorRate = number | ReadonlyArray<ErrorRateStep>

export interface ErrorRateStep {
  /** Seconds after the schedule was set (or the version created) from which `rate` applies. */
  readonly fromSeconds: number
  readonly rate: number
}

/** Figures Cloudflare reports per invocation; times in microseconds, as `cpuTimeP50` is. */
export interface InvocationProfile {
  readonly cpuTimeP50: number
  readonly cpuTimeP99: number
  readonly wallTimeP50: number
  readonly wallTimeP99: number
  readonly subrequestsPerRequest: number
  /** Bytes of the response body. */
  readonly responseBodySizeP50: number
  readonly responseBodySizeP99: number
}

export const defaultProfile: InvocationProfile = {
  cpuTimeP50: 850,
  cpuTimeP99: 4_200,
  wallTimeP50: 12_000,
  wallTimeP99: 95_000,
  subrequestsPerRequest: 0,
  responseBodySizeP50: 2_048,
  responseBodySizeP99: 24_576
}

/** Values that change at instants; before the first change, the first value holds. */
export interface Timeline<A> {
  readonly changes: Array<{ readonly from: number; readonly value: A }>
}

export const timeline = <A>(from: number, value: A): Timeline<A> => ({ changes: [{ from, value }] })

/** Record a change at `from`. Changes at or after `from` are replaced, so a clock set back and
 * a rate set again rewrite that future rather than interleave with it. */
export const change = <A>(line: Timeline<A>, from: number, value: A): void => {
  while (line.changes.length > 1 && line.changes[line.changes.length - 1]!.from >= from) line.changes.pop()
  if (line.changes.length === 1 && line.changes[0]!.from >= from) line.changes.pop()
  line.changes.push({ from, value })
}

const changeAt = <A>(line: Timeline<A>, time: number) => {
  let current = line.changes[0]!
  for (const candidate of line.changes) {
    if (candidate.from <= time) current = candidate
    else break
  }
  return current
}

export const valueAt = <A>(line: Timeline<A>, time: number): A => changeAt(line, time).value

export const errorRateAt = (line: Timeline<ErrorRate>, time: number): number => {
  const current = changeAt(line, time)
  if (typeof current.value === "number") return current.value
  const elapsedSeconds = (time - current.from) / 1000
  let rate = 0
  for (const step of current.value) {
    if (step.fromSeconds <= elapsedSeconds) rate = step.rate
    else break
  }
  return rate
}

/** Why an error rate is unusable, or undefined. */
export const invalidErrorRate = (rate: unknown): string | undefined => {
  const isRate = (value: unknown) => typeof value === "number" && value >= 0 && value <= 1
  if (typeof rate === "number") return isRate(rate) ? undefined : `error rate must be a fraction in [0, 1], got ${rate}`
  if (!Array.isArray(rate) || rate.length === 0) return "error rate must be a number or a non-empty schedule"
  let previous = -Infinity
  for (const step of rate as ReadonlyArray<Partial<ErrorRateStep>>) {
    if (typeof step !== "object" || step === null) return "each schedule step is { fromSeconds, rate }"
    if (typeof step.fromSeconds !== "number" || step.fromSeconds < 0 || step.fromSeconds <= previous) {
      return "schedule steps need increasing, non-negative fromSeconds"
    }
    if (!isRate(step.rate)) return `error rate must be a fraction in [0, 1], got ${step.rate}`
    previous = step.fromSeconds
  }
  return undefined
}

export const invalidRequestRate = (rate: unknown): string | undefined =>
  typeof rate === "number" && Number.isFinite(rate) && rate >= 0
    ? undefined
    : `requests per minute must be a non-negative number, got ${rate}`

/** What `TrafficHistory.served` needs, read from a script's timelines. */
export const rates = (
  requestRate: Timeline<number>,
  errorRateOf: (versionId: string) => Timeline<ErrorRate> | undefined
): TrafficHistory.Rates => ({
  requestsPerMinute: (time) => valueAt(requestRate, time),
  errorRate: (versionId, time) => {
    const line = errorRateOf(versionId)
    return line === undefined ? 0 : errorRateAt(line, time)
  }
})
