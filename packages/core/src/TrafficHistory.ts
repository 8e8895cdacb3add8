/**
 * What each version served over a window, given a Worker's deployment history: the request
 * rate times the share each deployment gave the version while it was live. This is how the
 * in-memory harness and the Cloudflare simulator turn scripted traffic into analytics, exactly
 * and reproducibly, without sampling.
 *
 * @since 0.1.0
 */
import type { Window } from "./HealthCheck.ts"
import type { TrafficSplit } from "./TrafficSplit.ts"

/** A deployment from `createdAt` (epoch ms) until the next one. */
export interface Period {
  readonly createdAt: number
  readonly split: TrafficSplit
}

export interface Served {
  readonly requests: number
  readonly errors: number
}

export interface Rates {
  /** Requests per minute across all versions at `time` (epoch ms). */
  readonly requestsPerMinute: (time: number) => number
  /** The version's error rate (a fraction) at `time`. */
  readonly errorRate: (versionId: string, time: number) => number
}

/** Rates that change by the minute are integrated finely enough in 10-second slices. */
export const defaultSliceMs = 10_000

/**
 * Requests and errors per version over `[window.start, window.end)`, unrounded. `history` must be
 * in creation order; time before the first deployment serves nothing.
 */
export const served = (
  history: ReadonlyArray<Period>,
  window: Window,
  rates: Rates,
  sliceMs: number = defaultSliceMs
): Map<string, Served> => {
  const totals = new Map<string, { requests: number; errors: number }>()
  let live = -1
  for (let sliceStart = window.start; sliceStart < window.end; sliceStart += sliceMs) {
    const sliceEnd = Math.min(window.end, sliceStart + sliceMs)
    const middle = (sliceStart + sliceEnd) / 2
    while (live + 1 < history.length && history[live + 1]!.createdAt <= middle) live++
    if (live < 0) continue
    const requests = rates.requestsPerMinute(middle) * (sliceEnd - sliceStart) / 60_000
    for (const share of history[live]!.split) {
      const versionRequests = requests * share.percentage / 100
      const total = totals.get(share.versionId) ?? { requests: 0, errors: 0 }
      total.requests += versionRequests
      total.errors += versionRequests * rates.errorRate(share.versionId, middle)
      totals.set(share.versionId, total)
    }
  }
  return totals
}
