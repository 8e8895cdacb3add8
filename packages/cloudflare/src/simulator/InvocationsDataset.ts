/**
 * The `workersInvocationsAdaptive` dataset of one account, computed from the traffic model:
 * rows are groups by the requested dimensions over the visible part of the window (data newer
 * than now − delay is not there yet). A time dimension splits the window into minute (or 5-minute,
 * hour) buckets. Requests per version come from core's `TrafficHistory.served` over the Worker's
 * deployment history; `status` splits them into `success` and `scriptThrewException` by the
 * version's error rate. Counts are whole numbers rounded on running totals, so the rows of a
 * group add up to the rounded total of the window (a 0.3-errors-a-minute canary still shows its
 * errors). There is no sampling: `avg.sampleInterval` is always 1. The other measures (CPU,
 * wall and request duration, billed duration, response size) come from each version's profile as
 * log-normal distributions through its median and 99th percentile: quantiles, `max`, `min` and
 * sums are read off them. Filters test each version, status and time bucket (`Cell`).
 */
import { TrafficHistory } from "@canaryroll/core"
import type { Script, Version } from "./Platform.ts"
import * as TrafficModel from "./TrafficModel.ts"

export const timeDimensions = [
  "datetime",
  "datetimeMinute",
  "datetimeFiveMinutes",
  "datetimeFifteenMinutes",
  "datetimeHour",
  "date"
] as const
export const dimensions = [
  ...timeDimensions,
  "scriptName",
  "scriptVersion",
  "status",
  "usageModel",
  "coloCode",
  "isDispatcher"
] as const
export type Dimension = typeof dimensions[number]
type TimeDimension = typeof timeDimensions[number]

export const statuses = ["success", "scriptThrewException"] as const
export type Status = typeof statuses[number]

/**
 * The colo every simulated request is served from (**invented**: the traffic model has no
 * geography, so `coloCode` groups everything under one data centre).
 */
export const colo = "LHR"

/**
 * The per-request measures a version's profile describes by its median and 99th percentile,
 * in Cloudflare's units: µs for CPU, wall and request duration, GB-s for `duration` (wall time
 * at the 128 MB a Worker is billed for), bytes for the response body.
 */
const measures = {
  cpuTime: (profile: TrafficModel.InvocationProfile) => [profile.cpuTimeP50, profile.cpuTimeP99] as const,
  wallTime: (profile: TrafficModel.InvocationProfile) => [profile.wallTimeP50, profile.wallTimeP99] as const,
  requestDuration: (profile: TrafficModel.InvocationProfile) => [profile.wallTimeP50, profile.wallTimeP99] as const,
  duration: (profile: TrafficModel.InvocationProfile) =>
    [gbSeconds(profile.wallTimeP50), gbSeconds(profile.wallTimeP99)] as const,
  responseBodySize: (profile: TrafficModel.InvocationProfile) =>
    [profile.responseBodySizeP50, profile.responseBodySizeP99] as const
}
type Measure = keyof typeof measures
export const measureNames = Object.keys(measures) as ReadonlyArray<Measure>

const gbSeconds = (wallTimeUs: number) => (128 / 1024) * (wallTimeUs / 1_000_000)

/** Standard normal quantiles of the percentiles Cloudflare reports. */
const z = { P25: -0.6745, P50: 0, P75: 0.6745, P90: 1.2816, P95: 1.6449, P99: 2.3263, P999: 3.0902 } as const
type Percentile = keyof typeof z
/** The lowest and highest of many requests: the 0.01st and 99.99th percentiles. */
const extreme = 3.719

/** Which percentiles each measure has under `quantiles` (graphql-workers-invocations.md). */
const percentilesOf: Record<Measure, ReadonlyArray<Percentile>> = {
  cpuTime: ["P25", "P50", "P75", "P90", "P95", "P99", "P999"],
  wallTime: ["P25", "P50", "P75", "P90", "P95", "P99", "P999"],
  duration: ["P50", "P75", "P90", "P95", "P99", "P999"],
  requestDuration: ["P50", "P75", "P90", "P95", "P99", "P999"],
  responseBodySize: ["P50", "P75", "P90", "P95", "P99", "P999"]
}

export const quantileFields: ReadonlyArray<string> = measureNames.flatMap((measure) =>
  percentilesOf[measure].map((percentile) => `${measure}${percentile}`)
)
export const sumFields = [
  "requests",
  "errors",
  "subrequests",
  "clientDisconnects",
  "cpuTimeUs",
  "wallTime",
  "duration",
  "responseBodySize"
] as const
/** `max` and `min` report these measures. */
export const extremeFields: ReadonlyArray<Measure> = measureNames
/** Fields whose values are fractions (GB-s); every other figure is a whole number. */
const fractional = (field: string) => field.startsWith("duration")

/**
 * A version's measure as a log-normal distribution through its median and 99th percentile (a
 * shape latencies and sizes have): `at(z)` is the value at that standard-normal quantile.
 */
const distribution = (p50: number, p99: number) => {
  const sigma = p99 > p50 && p50 > 0 ? Math.log(p99 / p50) / z.P99 : 0
  return {
    at: (quantile: number) => p50 * Math.exp(sigma * quantile),
    mean: p50 * Math.exp((sigma * sigma) / 2)
  }
}

export const orderKeys: ReadonlyArray<string> = [
  ...dimensions,
  ...sumFields.map((field) => `sum_${field}`),
  ...quantileFields.map((field) => `quantiles_${field}`),
  ...extremeFields.map((field) => `max_${field}`),
  ...extremeFields.map((field) => `min_${field}`),
  "avg_sampleInterval"
]
export type OrderKey = string

export interface Ordering {
  readonly key: OrderKey
  readonly direction: "ASC" | "DESC"
}

/** What a filter can test of the traffic of one version, status and time bucket. */
export interface Cell {
  readonly scriptName: string
  readonly scriptVersion: string
  readonly status: Status
  readonly usageModel: string
  readonly coloCode: string
  readonly isDispatcher: boolean
  /** The bucket's start, epoch ms. */
  readonly datetime: number
}

export interface Filter {
  /** The window, epoch ms: `[start, end)`. */
  readonly start: number
  readonly end: number
  /** The rest of the filter; every cell when absent. */
  readonly matches?: (cell: Cell) => boolean
  /** Whether `matches` tests `datetime` (an `OR` of windows): cells are then minutes. */
  readonly testsTime?: boolean
}

export interface Query {
  readonly scripts: Iterable<Script>
  readonly filter: Filter
  readonly groupBy: ReadonlyArray<Dimension>
  readonly orderBy: ReadonlyArray<Ordering>
  readonly limit: number
  /** Data after this instant (now − delay) is not visible yet. */
  readonly visibleUntil: number
  /**
   * The figures beyond the counts that the query selects (`quantiles.cpuTimeP50`, `max.wallTime`,
   * `sum.cpuTimeUs`, …): only these are computed. Every figure when absent.
   */
  readonly figures?: ReadonlySet<string>
}

export interface Row {
  readonly dimensions: Partial<Record<Dimension, string | boolean>>
  readonly sum: Readonly<Record<typeof sumFields[number], number>>
  readonly quantiles: Readonly<Record<string, number>>
  readonly max: Readonly<Record<string, number>>
  readonly min: Readonly<Record<string, number>>
  readonly avg: { readonly sampleInterval: number }
}

const bucketMs: Record<TimeDimension, number> = {
  datetime: 60_000,
  datetimeMinute: 60_000,
  datetimeFiveMinutes: 300_000,
  datetimeFifteenMinutes: 900_000,
  datetimeHour: 3_600_000,
  date: 86_400_000
}

/** "2026-11-26T10:05:00Z", as Cloudflare writes `Time` values; "2026-11-26" for `Date`. */
const timeLabel = (dimension: TimeDimension, epochMs: number) => {
  const text = new Date(epochMs).toISOString()
  return dimension === "date" ? text.slice(0, 10) : text.replace(/\.\d{3}Z$/, "Z")
}

const floorTo = (time: number, size: number) => Math.floor(time / size) * size

const isTime = (dimension: Dimension): dimension is TimeDimension =>
  (timeDimensions as ReadonlyArray<string>).includes(dimension)

/** Exact (fractional) amounts served in one bucket for one group. */
interface Contribution {
  successes: number
  errors: number
  subrequests: number
  /** Per quantile field, the request-weighted sum of each version's figure. */
  readonly weighted: Record<string, number>
  /** Per sum field of a measure, the exact total. */
  readonly totals: Record<string, number>
  readonly max: Record<string, number>
  readonly min: Record<string, number>
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

/** The sum field that totals a measure. */
const sumOfMeasure: Record<Measure, string | undefined> = {
  cpuTime: "cpuTimeUs",
  wallTime: "wallTime",
  duration: "duration",
  requestDuration: undefined,
  responseBodySize: "responseBodySize"
}

const emptyContribution = (): Contribution => ({
  successes: 0,
  errors: 0,
  subrequests: 0,
  weighted: {},
  totals: {},
  max: {},
  min: {}
})

export const rows = (query: Query): Array<Row> => {
  const { filter } = query
  const start = filter.start
  const end = Math.min(filter.end, query.visibleUntil)
  if (!(end > start)) return []
  const requestedTime = query.groupBy.filter(isTime)
  // Buckets as fine as the finest time dimension asked for, and minutes when the filter tests
  // time itself (an `OR` of windows); rows are per bucket only when a time dimension is asked for.
  const size = requestedTime.length === 0
    ? filter.testsTime === true ? bucketMs.datetimeMinute : undefined
    : Math.min(...requestedTime.map((dimension) => bucketMs[dimension]))
  const rowsPerBucket = requestedTime.length > 0
  const plainDimensions = query.groupBy.filter((dimension) => !isTime(dimension))
  const scripts = [...query.scripts].map((script) => {
    const versionsById = new Map(script.versions.map((version) => [version.id, version]))
    return {
      script,
      versionsById,
      rates: TrafficModel.rates(script.requestRate, (versionId) => versionsById.get(versionId)?.errorRate)
    }
  })

  const totals = new Map<string, Totals>()
  const result: Array<Row> = []

  type Contributions = Map<string, { labels: Partial<Record<Dimension, string | boolean>>; amount: Contribution }>
  const emit = (contributions: Contributions, bucketStart: number) => {
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
      for (const dimension of requestedTime) timeLabels[dimension] = timeLabel(dimension, floorTo(bucketStart, bucketMs[dimension]))
      // Measures scale with the rounded request count, as the counts do.
      const scale = requests / exact
      const figure = (field: string, value: number) => fractional(field) ? value : Math.round(value)
      const per = (record: Record<string, number>, transform: (field: string, value: number) => number) =>
        Object.fromEntries(Object.entries(record).map(([field, value]) => [field, transform(field, value)]))
      result.push({
        dimensions: { ...timeLabels, ...labels },
        sum: {
          requests,
          errors,
          subrequests,
          clientDisconnects: 0,
          cpuTimeUs: Math.round((amount.totals.cpuTimeUs ?? 0) * scale),
          wallTime: Math.round((amount.totals.wallTime ?? 0) * scale),
          duration: (amount.totals.duration ?? 0) * scale,
          responseBodySize: Math.round((amount.totals.responseBodySize ?? 0) * scale)
        },
        quantiles: per(amount.weighted, (field, value) => figure(field, value / exact)),
        max: per(amount.max, figure),
        min: per(amount.min, figure),
        avg: { sampleInterval: 1 }
      })
    }
  }

  let contributions: Contributions = new Map()
  for (const [bucketStart, bucketEnd] of buckets(start, end, size)) {
    for (const { rates, script, versionsById } of scripts) {
      const served = TrafficHistory.served(
        liveFrom(script.history, bucketStart),
        { start: bucketStart, end: bucketEnd },
        rates
      )
      for (const [versionId, amount] of served) {
        const version = versionsById.get(versionId)
        if (version === undefined) continue
        const parts: ReadonlyArray<{ status: Status; successes: number; errors: number }> = [
          { status: "success", successes: amount.requests - amount.errors, errors: 0 },
          { status: "scriptThrewException", successes: 0, errors: amount.errors }
        ]
        for (const part of parts) {
          const cell: Cell = {
            scriptName: script.name,
            scriptVersion: versionId,
            status: part.status,
            usageModel: version.usageModel,
            coloCode: colo,
            isDispatcher: false,
            datetime: bucketStart
          }
          if (filter.matches !== undefined && !filter.matches(cell)) continue
          const labels: Partial<Record<Dimension, string | boolean>> = {}
          for (const dimension of plainDimensions) labels[dimension] = cell[dimension as keyof Cell] as string | boolean
          const key = JSON.stringify(plainDimensions.map((dimension) => labels[dimension]))
          const entry = contributions.get(key) ?? { labels, amount: emptyContribution() }
          addServed(entry.amount, version, part.successes, part.errors, query.figures)
          contributions.set(key, entry)
        }
      }
    }
    if (rowsPerBucket) {
      emit(contributions, bucketStart)
      contributions = new Map()
    }
  }
  if (!rowsPerBucket) emit(contributions, start)
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

/**
 * Quantiles of a group mixing versions are the request-weighted mean of each version's figure;
 * `max` and `min` the highest and lowest of its versions'; sums add each version's mean.
 */
const addServed = (
  amount: Contribution,
  version: Version,
  successes: number,
  errors: number,
  wanted: ReadonlySet<string> | undefined
) => {
  const requests = successes + errors
  amount.successes += successes
  amount.errors += errors
  amount.subrequests += requests * version.profile.subrequestsPerRequest
  if (requests <= 0) return
  const figures = figuresOf(version, wanted)
  for (const [field, value] of figures.quantiles) amount.weighted[field] = (amount.weighted[field] ?? 0) + requests * value
  for (const [measure, value] of figures.max) amount.max[measure] = Math.max(amount.max[measure] ?? 0, value)
  for (const [measure, value] of figures.min) {
    amount.min[measure] = Math.min(amount.min[measure] ?? Number.POSITIVE_INFINITY, value)
  }
  for (const [field, mean] of figures.means) amount.totals[field] = (amount.totals[field] ?? 0) + requests * mean
}

interface Figures {
  readonly quantiles: ReadonlyArray<readonly [string, number]>
  readonly max: ReadonlyArray<readonly [string, number]>
  readonly min: ReadonlyArray<readonly [string, number]>
  readonly means: ReadonlyArray<readonly [string, number]>
}

/**
 * A version's figures, computed once (its profile never changes): a query reads them per minute.
 * Kept per set of wanted figures, so that a query that selects two quantiles adds up two.
 */
const figuresCache = new WeakMap<Version, Map<ReadonlySet<string> | undefined, Figures>>()
const figuresOf = (version: Version, wanted: ReadonlySet<string> | undefined): Figures => {
  const perVersion = figuresCache.get(version) ?? new Map<ReadonlySet<string> | undefined, Figures>()
  figuresCache.set(version, perVersion)
  const cached = perVersion.get(wanted)
  if (cached !== undefined) return cached
  const all = allFiguresOf(version)
  const pick = (group: string, entries: ReadonlyArray<readonly [string, number]>) =>
    wanted === undefined ? entries : entries.filter(([field]) => wanted.has(`${group}.${field}`))
  const figures = {
    quantiles: pick("quantiles", all.quantiles),
    max: pick("max", all.max),
    min: pick("min", all.min),
    means: pick("sum", all.means)
  }
  perVersion.set(wanted, figures)
  return figures
}

const allFiguresOf = (version: Version): Figures => {
  const quantiles: Array<readonly [string, number]> = []
  const max: Array<readonly [string, number]> = []
  const min: Array<readonly [string, number]> = []
  const means: Array<readonly [string, number]> = []
  for (const measure of measureNames) {
    const [p50, p99] = measures[measure](version.profile)
    const shape = distribution(p50, p99)
    for (const percentile of percentilesOf[measure]) quantiles.push([`${measure}${percentile}`, shape.at(z[percentile])])
    max.push([measure, shape.at(extreme)])
    min.push([measure, shape.at(-extreme)])
    const sum = sumOfMeasure[measure]
    if (sum !== undefined) means.push([sum, shape.mean])
  }
  return { quantiles, max, min, means }
}

const sortValue = (row: Row, key: OrderKey): string | number | boolean => {
  const separator = key.indexOf("_")
  const group = separator === -1 ? undefined : key.slice(0, separator)
  const field = key.slice(separator + 1)
  switch (group) {
    case "sum":
      return row.sum[field as keyof Row["sum"]] ?? 0
    case "quantiles":
      return row.quantiles[field] ?? 0
    case "max":
      return row.max[field] ?? 0
    case "min":
      return row.min[field] ?? 0
    case "avg":
      return row.avg.sampleInterval
    default:
      return row.dimensions[key as Dimension] ?? ""
  }
}

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
