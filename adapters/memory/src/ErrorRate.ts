/**
 * Error rates that change over time, for scripting a version's behaviour in the harness.
 * Rates are fractions (0.05 = 5%); times are durations since the harness started.
 *
 * @since 0.1.0
 */
import { Duration } from "effect"
import type { ErrorRate } from "./WorkerFleet.ts"

export type { ErrorRate }

export const constant = (rate: number): ErrorRate => rate

/** `before` until `at`, then `after`: a version that goes bad (or recovers) mid-release. */
export const stepAt = (at: Duration.Input, before: number, after: number): ErrorRate => {
  const atSeconds = Duration.toSeconds(Duration.fromInputUnsafe(at))
  return (elapsedSeconds) => elapsedSeconds < atSeconds ? before : after
}

/** Piecewise constant: each entry holds from its `from` until the next entry's. */
export const schedule = (
  entries: ReadonlyArray<{ readonly from: Duration.Input; readonly rate: number }>
): ErrorRate => {
  const sorted = entries
    .map((entry) => ({ fromSeconds: Duration.toSeconds(Duration.fromInputUnsafe(entry.from)), rate: entry.rate }))
    .sort((a, b) => a.fromSeconds - b.fromSeconds)
  return (elapsedSeconds) => sorted.findLast((entry) => entry.fromSeconds <= elapsedSeconds)?.rate ?? 0
}
