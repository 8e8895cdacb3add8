/**
 * The simulator's notion of now (epoch ms). It reads the `clock` option (Date.now by default, or
 * a function over Effect's TestClock) unless a test or demo has pinned it through the control
 * API, in which case it stays where it was put until moved again. Timestamps, rate-limit windows
 * and the analytics model all read this one clock, so they always agree.
 */

export interface SimulatorClock {
  readonly now: () => number
  /** Pin the clock at `epochMs`. */
  readonly set: (epochMs: number) => void
  /** Move the clock forward; pins it first if it was following its source. */
  readonly advance: (ms: number) => void
  /** Follow the source clock again. */
  readonly release: () => void
  readonly isPinned: () => boolean
}

export const make = (source: () => number = Date.now): SimulatorClock => {
  let pinned: number | undefined
  const now = () => pinned ?? source()
  return {
    now,
    set: (epochMs) => {
      if (!Number.isFinite(epochMs)) throw new Error(`clock: ${epochMs} is not a time`)
      pinned = epochMs
    },
    advance: (ms) => {
      if (!Number.isFinite(ms) || ms < 0) throw new Error(`clock: cannot advance by ${ms} ms`)
      pinned = now() + ms
    },
    release: () => {
      pinned = undefined
    },
    isPinned: () => pinned !== undefined
  }
}
