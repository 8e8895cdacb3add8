/**
 * The plan as a ladder of steps: done, current (with the time left in its soak, as the server's
 * clock counts it, ticking down here between reads) and to come.
 */
import type { Progress } from "@canaryroll/api/Dashboard"
import type { Deployment } from "@canaryroll/api/Schemas"
import { durationText, percent } from "./Describe.ts"
import { useNow } from "./useNow.ts"

const currentText = (progress: Progress | undefined, readAt: number, now: number) => {
  if (progress === undefined) return ""
  switch (progress.phase) {
    case "shifting":
      return "shifting traffic…"
    case "paused":
      return "paused here"
    case "rolling_back":
      return "rolling back"
    case "soaking": {
      const soak = progress.soak
      if (soak === null) return "soaking"
      const left = soak.leftSeconds - (now - readAt) / 1000
      if (left > 0) return `${durationText(left)} left in soak`
      if (!soak.covered) return "soak over, waiting for healthy checks to cover it"
      return progress.autoAdvance ? "soak done, advancing" : "soak done, waiting for a person to advance"
    }
    case "pending":
    case "ended":
      return ""
  }
}

export const StepLadder = ({ release, progress, readAt }: {
  readonly release: Deployment
  /** Where the release stands (`GET deployments/{id}/progress`); undefined while it loads. */
  readonly progress: Progress | undefined
  /** When `progress` was read (this browser's clock), for the countdown. */
  readonly readAt: number
}) => {
  const now = useNow()
  const running = release.status === "in_progress" || release.status === "paused"
  return (
    <ol className="ladder" aria-label="Plan steps">
      {release.stepsSnapshot.map((step, index) => {
        const state = release.status === "completed" || (running && index < release.currentStep)
          ? "done"
          : running && index === release.currentStep
          ? "current"
          : release.startedAt !== null && !running && index <= release.currentStep ? "stopped" : "todo"
        return (
          <li key={index} className={`step step-${state}`} aria-current={state === "current" ? "step" : undefined}>
            <span className="step-pct">{percent(step.percentage)}</span>
            <span className="step-wait">soak {durationText(step.waitSeconds)}</span>
            <span className="step-state">
              {state === "done" ? "done" : state === "current" ? currentText(progress, readAt, now) : state === "stopped" ? "stopped here" : ""}
            </span>
          </li>
        )
      })}
    </ol>
  )
}
