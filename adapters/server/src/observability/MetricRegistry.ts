/**
 * A small Prometheus registry: counters, gauges and histograms with labels, rendered in the text
 * exposition format (version 0.0.4) that every Prometheus-compatible scraper reads. In-house
 * rather than prom-client: the server needs a dozen instruments, one registry per server (tests
 * run several servers in one process; a global default registry would mix them), and values that
 * are read when scraped (`collect`), such as the API budget left.
 *
 * Labels are a fixed list per instrument, and their values must come from a bounded set (route
 * templates, event types, verdicts): never a team, a token or anything a caller types, so the
 * output stays small and says nothing about who uses the server.
 *
 * @since 0.1.0
 */
import { Effect } from "effect"

export type Labels<Names extends string> = { readonly [K in Names]: string }

interface Series {
  readonly labels: ReadonlyArray<string>
  value: number
}

interface HistogramSeries {
  readonly labels: ReadonlyArray<string>
  readonly counts: Array<number>
  sum: number
  count: number
}

export interface Counter<Names extends string> {
  readonly inc: (labels: Labels<Names>, by?: number) => void
  /** The current value (tests, and readers inside the process). */
  readonly value: (labels: Labels<Names>) => number
}

export interface Gauge<Names extends string> {
  readonly set: (labels: Labels<Names>, value: number) => void
  /** Forgets every series: a gauge rebuilt on each scrape starts from nothing. */
  readonly reset: () => void
}

export interface Histogram<Names extends string> {
  readonly observe: (labels: Labels<Names>, value: number) => void
  readonly count: (labels: Labels<Names>) => number
}

export interface MetricRegistry {
  readonly counter: <Names extends string = never>(
    name: string,
    help: string,
    labelNames?: ReadonlyArray<Names>
  ) => Counter<Names>
  readonly gauge: <Names extends string = never>(name: string, help: string, labelNames?: ReadonlyArray<Names>) => Gauge<Names>
  readonly histogram: <Names extends string = never>(
    name: string,
    help: string,
    buckets: ReadonlyArray<number>,
    labelNames?: ReadonlyArray<Names>
  ) => Histogram<Names>
  /**
   * Runs before every render, in the scraping request's fiber (its clock and services): where
   * scrape-time gauges are filled in.
   */
  readonly onCollect: (collect: Effect.Effect<void>) => void
  /** The registry in Prometheus' text format, after running every collector. */
  readonly render: Effect.Effect<string>
}

/** The media type of the text format, as Prometheus asks for it. */
export const contentType = "text/plain; version=0.0.4; charset=utf-8"

const escapeLabelValue = (value: string) => value.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, "\\\"")
const escapeHelp = (value: string) => value.replace(/\\/g, "\\\\").replace(/\n/g, "\\n")

const formatNumber = (value: number) =>
  Number.isNaN(value) ? "NaN" : value === Infinity ? "+Inf" : value === -Infinity ? "-Inf" : String(value)

const formatLabels = (names: ReadonlyArray<string>, values: ReadonlyArray<string>, extra?: readonly [string, string]) => {
  const pairs = names.map((name, index) => `${name}="${escapeLabelValue(values[index]!)}"`)
  if (extra !== undefined) pairs.push(`${extra[0]}="${escapeLabelValue(extra[1])}"`)
  return pairs.length === 0 ? "" : `{${pairs.join(",")}}`
}

const metricName = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/
const labelName = /^[a-zA-Z_][a-zA-Z0-9_]*$/

export const make = (): MetricRegistry => {
  const renderers: Array<{ readonly name: string; readonly render: () => string }> = []
  const collectors: Array<Effect.Effect<void>> = []

  const register = (name: string, labelNames: ReadonlyArray<string>, render: () => string) => {
    if (!metricName.test(name)) throw new Error(`invalid metric name ${name}`)
    for (const label of labelNames) if (!labelName.test(label)) throw new Error(`invalid label name ${label} on ${name}`)
    if (renderers.some((renderer) => renderer.name === name)) throw new Error(`metric ${name} registered twice`)
    renderers.push({ name, render })
  }

  const keyed = <S extends { readonly labels: ReadonlyArray<string> }>(labelNames: ReadonlyArray<string>) => {
    const series = new Map<string, S>()
    const valuesOf = (labels: Record<string, string>) => labelNames.map((name) => labels[name] ?? "")
    return {
      series,
      valuesOf,
      find: (labels: Record<string, string>, create: (values: ReadonlyArray<string>) => S): S => {
        const values = valuesOf(labels)
        const key = JSON.stringify(values)
        let found = series.get(key)
        if (found === undefined) {
          found = create(values)
          series.set(key, found)
        }
        return found
      }
    }
  }

  const header = (name: string, help: string, type: string) => `# HELP ${name} ${escapeHelp(help)}\n# TYPE ${name} ${type}\n`

  return {
    counter: <Names extends string = never>(name: string, help: string, labelNames: ReadonlyArray<Names> = []) => {
      const table = keyed<Series>(labelNames)
      register(name, labelNames, () => {
        let text = header(name, help, "counter")
        for (const series of table.series.values()) {
          text += `${name}${formatLabels(labelNames, series.labels)} ${formatNumber(series.value)}\n`
        }
        return text
      })
      return {
        inc: (labels, by = 1) => {
          table.find(labels, (values) => ({ labels: values, value: 0 })).value += by
        },
        value: (labels) => table.series.get(JSON.stringify(table.valuesOf(labels)))?.value ?? 0
      }
    },
    gauge: <Names extends string = never>(name: string, help: string, labelNames: ReadonlyArray<Names> = []) => {
      const table = keyed<Series>(labelNames)
      register(name, labelNames, () => {
        let text = header(name, help, "gauge")
        for (const series of table.series.values()) {
          text += `${name}${formatLabels(labelNames, series.labels)} ${formatNumber(series.value)}\n`
        }
        return text
      })
      return {
        set: (labels, value) => {
          table.find(labels, (values) => ({ labels: values, value: 0 })).value = value
        },
        reset: () => table.series.clear()
      }
    },
    histogram: <Names extends string = never>(
      name: string,
      help: string,
      buckets: ReadonlyArray<number>,
      labelNames: ReadonlyArray<Names> = []
    ) => {
      const bounds = [...buckets].sort((a, b) => a - b)
      const table = keyed<HistogramSeries>(labelNames)
      register(name, labelNames, () => {
        let text = header(name, help, "histogram")
        for (const series of table.series.values()) {
          let cumulative = 0
          bounds.forEach((bound, index) => {
            cumulative += series.counts[index]!
            text += `${name}_bucket${formatLabels(labelNames, series.labels, ["le", formatNumber(bound)])} ${cumulative}\n`
          })
          text += `${name}_bucket${formatLabels(labelNames, series.labels, ["le", "+Inf"])} ${series.count}\n`
          text += `${name}_sum${formatLabels(labelNames, series.labels)} ${formatNumber(series.sum)}\n`
          text += `${name}_count${formatLabels(labelNames, series.labels)} ${series.count}\n`
        }
        return text
      })
      return {
        observe: (labels, value) => {
          const series = table.find(labels, (values) => ({ labels: values, counts: bounds.map(() => 0), sum: 0, count: 0 }))
          const index = bounds.findIndex((bound) => value <= bound)
          if (index >= 0) series.counts[index]! += 1
          series.sum += value
          series.count += 1
        },
        count: (labels) => table.series.get(JSON.stringify(table.valuesOf(labels)))?.count ?? 0
      }
    },
    onCollect: (collect) => void collectors.push(collect),
    render: Effect.suspend(() =>
      Effect.forEach(collectors, (collect) => collect, { discard: true }).pipe(
        Effect.map(() => renderers.map((renderer) => renderer.render()).join(""))
      )
    )
  }
}
