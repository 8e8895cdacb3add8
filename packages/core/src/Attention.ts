/**
 * What about a release needs a person now: the dashboard's "needs attention", read from the
 * release's state alone (a pure function, like `nextAction`), so every runtime and every client
 * agrees on it. Each item names its kind and says why in words.
 *
 * - `drift`: someone changed the Worker's deployment by hand; the release paused (DriftDetected).
 * - `paused`: paused by a person, by failing checks (`onFailure: pause`), by refused credentials or
 *   by a refused rollback.
 * - `awaiting_advance`: a manual release whose current step has soaked with healthy checks.
 * - `failing_checks`: the latest checks of the current step failed (not yet enough to act).
 * - `stalled`: analytics have not judged the current step for long enough that the release said
 *   it is held (`Stalled`, no data), or a rollback cannot reach Cloudflare.
 *
 * @since 0.2.0
 */
import * as Release from "./Release.ts"

export const kinds = ["drift", "paused", "awaiting_advance", "failing_checks", "stalled"] as const

export type Kind = typeof kinds[number]

export interface Attention {
  readonly kind: Kind
  readonly message: string
}

const pct = (n: number) => `${n}%`

/** What needs a person about `state` (none for a pending, ended or healthy running release). */
export const of = (state: Release.ReleaseState): ReadonlyArray<Attention> => {
  if (!Release.exists(state)) return []
  const phase = state.phase
  switch (phase._tag) {
    case "Pending":
    case "Ended":
    case "Shifting":
      return []
    case "Paused":
      return [{ kind: phase.cause === "drift" ? "drift" : "paused", message: phase.reason }]
    case "RollingBack":
      return phase.stalled
        ? [{ kind: "stalled", message: `the rollback cannot reach Cloudflare: ${phase.rollback.reason}` }]
        : []
    case "Soaking": {
      const items: Array<Attention> = []
      const step = state.plan.steps[phase.run.stepIndex]
      const where = `step ${phase.run.stepIndex + 1} (${pct(step?.percentage ?? 0)})`
      const checks = phase.checks
      if (checks.consecutiveFailures > 0) {
        items.push({
          kind: "failing_checks",
          message: `${checks.consecutiveFailures} consecutive failed health check${checks.consecutiveFailures === 1 ? "" : "s"} at ${where}; ` +
            `the release acts at ${state.plan.health.failuresBeforeAction}`
        })
      }
      if (checks.stalled && checks.unjudgedSince !== null) {
        items.push({
          kind: "stalled",
          message: `analytics have not judged ${where} since ${new Date(checks.unjudgedSince).toISOString()}: too little traffic or no data`
        })
      }
      if (!state.autoAdvance && Release.soakCovered(state, phase)) {
        items.push({
          kind: "awaiting_advance",
          message: `${where} has soaked with healthy checks; waiting for a person to advance`
        })
      }
      return items
    }
  }
}
