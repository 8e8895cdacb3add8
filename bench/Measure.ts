/**
 * How a benchmark is measured: warm up, then time many samples and report the median and p99.
 * The machine is shared and noisy, so single timings mean nothing; medians over many runs, and
 * ratios against a peer measured in the same run, do.
 */
import { performance } from "node:perf_hooks"

export interface Result {
  readonly name: string
  readonly p50_ms: number
  readonly p99_ms: number
  /** Operations per second at the median (`ops` per sample). */
  readonly per_s: number
  readonly peer: string | null
  readonly samples: number
  readonly target?: string
}

export const quantile = (sorted: ReadonlyArray<number>, q: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!

/** The median of unsorted values, as `quantile` takes it: the upper middle one for an even count. */
export const median = (values: ReadonlyArray<number>) => quantile([...values].sort((a, b) => a - b), 0.5)

export const round = (n: number) => Math.round(n * 1000) / 1000

export interface Options {
  readonly name: string
  readonly samples: number
  readonly warmup?: number
  /** How many operations one sample performs, for `per_s`. */
  readonly ops?: number
  readonly peer?: string | null
  readonly target?: string
}

/** One JSON line from timings gathered elsewhere; `perSecond` is given, not derived from the median. */
export const report = (
  fields: {
    readonly name: string
    readonly timings: ReadonlyArray<number>
    readonly perSecond: number
    readonly peer: string | null
    readonly target?: string
  },
  extra: Record<string, unknown> = {}
): Result => {
  const sorted = [...fields.timings].sort((a, b) => a - b)
  const result: Result = {
    name: fields.name,
    p50_ms: round(quantile(sorted, 0.5)),
    p99_ms: round(quantile(sorted, 0.99)),
    per_s: Math.round(fields.perSecond),
    peer: fields.peer,
    samples: sorted.length,
    ...(fields.target === undefined ? {} : { target: fields.target })
  }
  console.log(JSON.stringify({ ...result, ...extra }))
  return result
}

export const measure = async (options: Options, sample: () => unknown | Promise<unknown>): Promise<Result> => {
  for (let i = 0; i < (options.warmup ?? Math.ceil(options.samples / 5)); i++) await sample()
  const timings: Array<number> = []
  for (let i = 0; i < options.samples; i++) {
    const start = performance.now()
    await sample()
    timings.push(performance.now() - start)
  }
  timings.sort((a, b) => a - b)
  const p50 = quantile(timings, 0.5)
  const result: Result = {
    name: options.name,
    p50_ms: round(p50),
    p99_ms: round(quantile(timings, 0.99)),
    per_s: Math.round((options.ops ?? 1) / (p50 / 1000)),
    peer: options.peer ?? null,
    samples: options.samples,
    ...(options.target === undefined ? {} : { target: options.target })
  }
  console.log(JSON.stringify(result))
  return result
}
