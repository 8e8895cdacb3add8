/**
 * The `workersInvocationsAdaptive` dataset of one account, computed from the traffic model:
 * rows are groups by the requested dimensions over the visible part of the window (data newer
 * than now − delay is not there yet). A time dimension splits the window into minute (or 5-minute,
 * hour) buckets. Requests per version come from core's `TrafficHistory.served` over the Worker's
 * deployment history; `status` splits them into `success` and `scriptThrewException` by the
 * version's error rate. Counts are whole numbers rounded on running totals, so the rows of a
 * group add up to the rounded total of the window (a 0.3-errors-a-minute canary still shows its
 * errors). There is no sampling: `avg.sampleInterval` is always 1.
 */
import { TrafficHistory } from "@canaryroll/core"
import type { Script, Version } from "./Platform.ts"
import * as TrafficModel from "./TrafficModel.ts"

export const timeDimensions = ["datetime", "datetimeMinute", "datetimeFiveMinutes", "datetimeHour"] as const
export const dimensions = [...timeDimensions, "scriptName", "scriptVersion", "status"] as const
export type Dimension = typeof dimensions[number]
type TimeDimension = typeof timeDimensions[number]

export const statuses = ["success", "scriptThrewException"] as const
export type Status = typeof statuses[number]

export const orderKeys = [...dimensions, "sum_requests", "sum_errors", "sum_subrequests"] as const
export type OrderKey = typeof orderKeys[number]

export interface Ordering {
  readonly key: OrderKey
  readonly direction: "ASC" | "DESC"
}

export interface Filter {
  readonly start: number
  readonly end: number
  readonly scriptNames?: ReadonlySet<string>
  readonly versionIds?: ReadonlySet<string>
  readonly statuses?: ReadonlySet<string>
}

export interface Query {
  readonly scripts: Iterable<Script>
  readonly filter: Filter
  readonly groupBy: ReadonlyArray<Dimension>
  readonly orderBy: ReadonlyArray<Ordering>
  readonly limit: number
  /** Data after this instant (now − delay) is not visible yet. */
  readonly visibleUntil: number
}

export interface Row {
  readonly dimensions: Partial<Record<Dimension, string>>
  readonly sum: { readonly requests: number; readonly errors: number; readonly subrequests: number }
  readonly quantiles: {
    readonly cpuTimeP50: number
    readonly cpuTimeP99: number
    readonly wallTimeP50: number
    readonly wallTimeP99: number
  }
  readonly avg: { readonly sampleInterval: number }
}

const bucketMs: Record<TimeDimension, number> = {
  datetime: 60_000,
  datetimeMinute: 60_000,
  datetimeFiveMinutes: 300_000,
  datetimeHour: 3_600_000
}

/** "2026-11-26T10:05:00Z", as Cloudflare writes `Time` values. */
const timeLabel = (epochMs: number) => new Date(epochMs).toISOString().replace(/\.\d{3}Z$/, "Z")

const floorTo = (time: number, size: number) => Math.floor(time / size) * size

const isTime = (dimension: Dimension): dimension is TimeDimension =>
  (timeDimensions as ReadonlyArray<string>).includes(dimension)

/** Exact (fractional) amounts served in one bucket for one group. */
interface Contribution {
  successes: number
  errors: number
  subrequests: number
  readonly weighted: { cpuTimeP50: number; cpuTimeP99: number; wallTimeP50: number; wallTimeP99: number }
}

/** Running totals of one group, exact and rounded. */
interface Totals {
  successes: number
  errors: number
  subrequests: number
  roundedSuccesses: number
  roundedErrors: number
  roundedSubrequests: number
}

const buckets = (start: number, end: number, size: number | undefined): Array<readonly [number, number]> => {
  if (size === undefined) return [[start, end]]
  const result: Array<readonly [number, number]> = []
  for (let bucket = floorTo(start, size); bucket < end; bucket += size) {
    result.push([Math.max(start, bucket), Math.min(end, bucket + size)])
  }
  return result
}

export const rows = (query: Query): Array<Row> => {
  const { filter } = query
  const start = filter.start
  const end = Math.min(filter.end, query.visibleUntil)
  if (!(end > start)) return []
  const requestedTime = query.groupBy.filter(isTime)
  const size = requestedTime.length === 0 ? undefined : Math.min(...requestedTime.map((dimension) => bucketMs[dimension]))
  const plainDimensions = query.groupBy.filter((dimension) => !isTime(dimension))
  const splitByStatus = query.groupBy.includes("status") || filter.statuses !== undefined
  const scripts = [...query.scripts].filter((script) => filter.scriptNames?.has(script.name) ?? true).map((script) => {
    const versionsById = new Map(script.versions.map((version) => [version.id, version]))
    return {
      script,
      versionsById,
      rates: TrafficModel.rates(script.requestRate, (versionId) => versionsById.get(versionId)?.errorRate)
    }
  })

  const totals = new Map<string, Totals>()
  const result: Array<Row> = []

  for (const [bucketStart, bucketEnd] of buckets(start, end, size)) {
    const contributions = new Map<string, { labels: Partial<Record<Dimension, string>>; amount: Contribution }>()
    for (const { rates, script, versionsById } of scripts) {
      const served = TrafficHistory.served(
        liveFrom(script.history, bucketStart),
        { start: bucketStart, end: bucketEnd },
        rates
      )
      for (const [versionId, amount] of served) {
        if (filter.versionIds !== undefined && !filter.versionIds.has(versionId)) continue
        const version = versionsById.get(versionId)
        if (version === undefined) continue
        const parts: ReadonlyArray<{ status: Status | undefined; successes: number; errors: number }> = splitByStatus
          ? [
            { status: "success", successes: amount.requests - amount.errors, errors: 0 },
            { status: "scriptThrewException", successes: 0, errors: amount.errors }
          ]
          : [{ status: undefined, successes: amount.requests - amount.errors, errors: amount.errors }]
        for (const part of parts) {
          if (part.status !== undefined && filter.statuses !== undefined && !filter.statuses.has(part.status)) continue
          const labels: Partial<Record<Dimension, string>> = {}
          for (const dimension of plainDimensions) {
            labels[dimension] = dimension === "scriptName"
              ? script.name
              : dimension === "scriptVersion"
              ? versionId
              : part.status!
          }
          const key = JSON.stringify(plainDimensions.map((dimension) => labels[dimension]))
          const entry = contributions.get(key) ?? {
            labels,
            amount: {
              successes: 0,
              errors: 0,
              subrequests: 0,
              weighted: { cpuTimeP50: 0, cpuTimeP99: 0, wallTimeP50: 0, wallTimeP99: 0 }
            }
          }
          addServed(entry.amount, version, part.successes, part.errors)
          contributions.set(key, entry)
        }
      }
    }
    for (const [key, { labels, amount }] of contributions) {
      const running = totals.get(key) ?? {
        successes: 0,
        errors: 0,
        subrequests: 0,
        roundedSuccesses: 0,
        roundedErrors: 0,
        roundedSubrequests: 0
      }
      totals.set(key, running)
      running.successes += amount.successes
      running.errors += amount.errors
      running.subrequests += amount.subrequests
      const successes = Math.round(running.successes) - running.roundedSuccesses
      const errors = Math.round(running.errors) - running.roundedErrors
      const subrequests = Math.round(running.subrequests) - running.roundedSubrequests
      running.roundedSuccesses += successes
      running.roundedErrors += errors
      running.roundedSubrequests += subrequests
      const requests = successes + errors
      if (requests <= 0) continue
      const exact = amount.successes + amount.errors
      const timeLabels: Partial<Record<Dimension, string>> = {}
      for (const dimension of requestedTime) timeLabels[dimension] = timeLabel(floorTo(bucketStart, bucketMs[dimension]))
      result.push({
        dimensions: { ...timeLabels, ...labels },
        sum: { requests, errors, subrequests },
        quantiles: {
          cpuTimeP50: Math.round(amount.weighted.cpuTimeP50 / exact),
          cpuTimeP99: Math.round(amount.weighted.cpuTimeP99 / exact),
          wallTimeP50: Math.round(amount.weighted.wallTimeP50 / exact),
          wallTimeP99: Math.round(amount.weighted.wallTimeP99 / exact)
        },
        avg: { sampleInterval: 1 }
      })
    }
  }
  return sortRows(result, query.groupBy, query.orderBy).slice(0, query.limit)
}

/**
 * The history from the deployment live at `time` on: `served` walks its history from the start,
 * and a Worker with thousands of past deployments (a benchmark) should not cost that per bucket.
 */
const liveFrom = (history: ReadonlyArray<TrafficHistory.Period>, time: number) => {
  let low = 0
  let high = history.length - 1
  let live = 0
  while (low <= high) {
    const middle = (low + high) >> 1
    if (history[middle]!.createdAt <= time) {
      live = middle
      low = middle + 1
    } else high = middle - 1
  }
  return live === 0 ? history : history.slice(live)
}

/** Quantiles of a group mixing versions are the request-weighted mean of each version's figure. */
const addServed = (amount: Contribution, version: Version, successes: number, errors: number) => {
  const requests = successes + errors
  amount.successes += successes
  amount.errors += errors
  amount.subrequests += requests * version.profile.subrequestsPerRequest
  amount.weighted.cpuTimeP50 += requests * version.profile.cpuTimeP50
  amount.weighted.cpuTimeP99 += requests * version.profile.cpuTimeP99
  amount.weighted.wallTimeP50 += requests * version.profile.wallTimeP50
  amount.weighted.wallTimeP99 += requests * version.profile.wallTimeP99
}

const sortValue = (row: Row, key: OrderKey): string | number =>
  key === "sum_requests"
    ? row.sum.requests
    : key === "sum_errors"
    ? row.sum.errors
    : key === "sum_subrequests"
    ? row.sum.subrequests
    : row.dimensions[key] ?? ""

/** Requested orderings first; then time, then the other dimensions, for a stable answer. */
const sortRows = (rows: Array<Row>, groupBy: ReadonlyArray<Dimension>, orderBy: ReadonlyArray<Ordering>) => {
  const orderings: ReadonlyArray<Ordering> = [
    ...orderBy,
    ...groupBy.filter(isTime).map((key): Ordering => ({ key, direction: "ASC" })),
    ...groupBy.filter((dimension) => !isTime(dimension)).map((key): Ordering => ({ key, direction: "ASC" }))
  ]
  return rows.sort((a, b) => {
    for (const { key, direction } of orderings) {
      const left = sortValue(a, key)
      const right = sortValue(b, key)
      if (left === right) continue
      const order = left < right ? -1 : 1
      return direction === "ASC" ? order : -order
    }
    return 0
  })
}
