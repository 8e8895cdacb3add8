/**
 * The timeline a plan implies for a healthy release, as the core's `NextAction` runs it: at each
 * step traffic shifts, then health is checked once per interval on windows that end on multiples
 * of the interval (every release in an account shares them), each judged after the analytics
 * delay; the release moves on once healthy checks cover the whole soak (and at least one check:
 * a step with no soak still needs a healthy verdict). The first window of a step runs from the
 * shift to the first boundary at least one interval later, so where the shift falls between two
 * boundaries adds up to one interval: the preview gives the earliest time and that margin.
 *
 * Pure: the plans screen calls it on every keystroke with whatever parses.
 */
export interface TimelineStep {
  readonly percentage: number
  readonly waitSeconds: number
  /** Checks that cover the soak, at the fewest. */
  readonly checks: number
  /** Seconds from the start at which this step's traffic goes live, at the earliest. */
  readonly startsAt: number
  /** Seconds from the start at which it is done (promoted, or completed at the last step), at the earliest. */
  readonly endsAt: number
}

export interface Timeline {
  readonly steps: ReadonlyArray<TimelineStep>
  /** Seconds from the start to `Completed`, at the earliest. */
  readonly earliestCompletion: number
  /** Up to this much later, by where each step's shift falls between two check boundaries. */
  readonly alignmentMargin: number
  /** Seconds from an unhealthy step's first window to acting on it (rolling back or pausing), at the earliest. */
  readonly timeToAct: number
}

export interface TimelinePolicy {
  readonly intervalSeconds: number
  readonly analyticsDelaySeconds: number
  readonly failuresBeforeAction: number
}

export const timelineOf = (
  steps: ReadonlyArray<{ readonly percentage: number; readonly waitSeconds: number }>,
  policy: TimelinePolicy
): Timeline => {
  const interval = Math.max(1, policy.intervalSeconds)
  let at = 0
  const timeline = steps.map((step): TimelineStep => {
    const checks = Math.max(1, Math.ceil(step.waitSeconds / interval))
    const startsAt = at
    at = startsAt + checks * interval + policy.analyticsDelaySeconds
    return { percentage: step.percentage, waitSeconds: step.waitSeconds, checks, startsAt, endsAt: at }
  })
  return {
    steps: timeline,
    earliestCompletion: at,
    alignmentMargin: steps.length * interval,
    timeToAct: policy.failuresBeforeAction * interval + policy.analyticsDelaySeconds
  }
}

/** `1 h 5 min`, `45 s`, `2 d 3 h`: a duration as people read it (the two largest units). */
export const durationText = (seconds: number): string => {
  const units: ReadonlyArray<readonly [string, number]> = [["d", 86_400], ["h", 3_600], ["min", 60], ["s", 1]]
  const parts: Array<string> = []
  let rest = Math.round(seconds)
  for (const [name, size] of units) {
    const count = Math.floor(rest / size)
    if (count > 0 && parts.length < 2) {
      parts.push(`${count} ${name}`)
      rest -= count * size
    } else if (parts.length > 0) break
  }
  return parts.length === 0 ? "0 s" : parts.join(" ")
}
