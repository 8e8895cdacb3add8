/**
 * Canary against stable error rate per check window (uPlot), with the plan's limit as a line and
 * each verdict as a marker on the canary's point (healthy ●, unhealthy ▲ in red, inconclusive ○).
 * The same facts are listed in words under the chart (the verdicts list), for screen readers too.
 */
import { useEffect, useRef } from "react"
import uPlot from "uplot"
import "uplot/dist/uPlot.min.css"
import type { HealthCheck } from "./HealthChecks.ts"

const colours = { canary: "#b45309", stable: "#2563eb", limit: "#b91c1c", healthy: "#15803d", unhealthy: "#b91c1c", inconclusive: "#6b7280" }

const dataOf = (checks: ReadonlyArray<HealthCheck>, limit: number | undefined): uPlot.AlignedData => {
  const xs = checks.map((check) => Date.parse(check.window.end) / 1000)
  const pct = (sample: HealthCheck["canary"]) => sample === null ? null : sample.errorRate * 100
  const canary = checks.map((check) => pct(check.canary))
  const at = (verdict: HealthCheck["verdict"]) => checks.map((check, i) => check.verdict === verdict ? canary[i] ?? 0 : null)
  return [
    xs,
    canary,
    checks.map((check) => pct(check.stable)),
    at("healthy"),
    at("unhealthy"),
    at("inconclusive")
  ]
}

const markers = (stroke: string, fill: string, size: number) => ({
  stroke,
  width: 0,
  points: { show: true, size, stroke, fill, width: 2 },
  paths: () => null
})

export const ErrorRateChart = ({ checks, limit }: { readonly checks: ReadonlyArray<HealthCheck>; readonly limit: number | undefined }) => {
  const container = useRef<HTMLDivElement>(null)
  const plot = useRef<uPlot | undefined>(undefined)
  useEffect(() => {
    const element = container.current
    if (element === null) return
    const width = Math.max(320, element.clientWidth)
    plot.current = new uPlot({
      width,
      height: 240,
      scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, Math.max(1, max * 1.2, (limit ?? 0) * 120)] } },
      // The limit across the whole plot, whatever the number of checks (a series would be one point).
      hooks: {
        draw: [(u) => {
          if (limit === undefined) return
          const y = u.valToPos(limit * 100, "y", true)
          const context = u.ctx
          context.save()
          context.strokeStyle = colours.limit
          context.lineWidth = 1.5 * devicePixelRatio
          context.setLineDash([6 * devicePixelRatio, 4 * devicePixelRatio])
          context.beginPath()
          context.moveTo(u.bbox.left, y)
          context.lineTo(u.bbox.left + u.bbox.width, y)
          context.stroke()
          context.restore()
        }]
      },
      axes: [{}, { label: "error rate %", values: (_u, values) => values.map((v) => `${v}%`) }],
      series: [
        {},
        { label: "canary", stroke: colours.canary, width: 2, spanGaps: false },
        { label: "stable", stroke: colours.stable, width: 2, spanGaps: false },
        { label: "healthy", ...markers(colours.healthy, colours.healthy, 8) },
        { label: "unhealthy", ...markers(colours.unhealthy, colours.unhealthy, 11) },
        { label: "inconclusive", ...markers(colours.inconclusive, "#ffffff", 9) }
      ]
    }, dataOf([], limit), element)
    const resize = () => plot.current?.setSize({ width: Math.max(320, element.clientWidth), height: 240 })
    window.addEventListener("resize", resize)
    return () => {
      window.removeEventListener("resize", resize)
      plot.current?.destroy()
      plot.current = undefined
    }
  }, [limit])
  useEffect(() => {
    const chart = plot.current
    if (chart === undefined) return
    chart.setData(dataOf(checks, limit))
    // A few checks still get a readable time axis (uPlot would stretch one point over years).
    const times = checks.map((check) => Date.parse(check.window.end) / 1000)
    if (times.length > 0) {
      const first = Math.min(...times)
      const last = Math.max(...times)
      const pad = Math.max(30, (last - first) * 0.05)
      chart.setScale("x", { min: first - pad, max: last + pad })
    }
  }, [checks, limit])
  return (
    <figure className="chart">
      <div ref={container} role="img" aria-label={`Error rate per check window: ${checks.length} checks; canary against stable, limit ${limit === undefined ? "unknown" : `${(limit * 100).toFixed(2)}%`}`} />
      <figcaption className="muted small">
        Error rate of the canary and the stable version in each check window; the dashed line is the plan's limit.
      </figcaption>
    </figure>
  )
}
