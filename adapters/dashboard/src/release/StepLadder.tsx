/**
 * The plan as a ladder of steps: done, current (with the time left in its soak) and to come. The
 * soak of the current step counts from when its traffic went live (its `TrafficShifted` event).
 */
import type { Deployment, DeploymentEvent } from "@canaryroll/api/Schemas"
import { durationText, isOver, percent } from "./Describe.ts"
import { useNow } from "./useNow.ts"

/** When the current step's split went live, epoch milliseconds, if it has. */
export const liveSince = (release: Deployment, events: ReadonlyArray<DeploymentEvent>): number | undefined => {
  for (let i = events.length - 1; i >= 0; i--) {
    const event = events[i]!
    if (event.eventType === "TrafficShifted" && (event.stepIndex ?? event.details.stepIndex) === release.currentStep) return Date.parse(event.createdAt)
    if (event.eventType === "StepStarted" && (event.stepIndex ?? event.details.stepIndex) === release.currentStep) return undefined
  }
  return undefined
}

export const StepLadder = ({ release, events }: { readonly release: Deployment; readonly events: ReadonlyArray<DeploymentEvent> }) => {
  const now = useNow()
  const running = release.status === "in_progress" || release.status === "paused"
  const since = liveSince(release, events)
  return (
    <ol className="ladder" aria-label="Plan steps">
      {release.stepsSnapshot.map((step, index) => {
        const state = release.status === "completed" || (running && index < release.currentStep)
          ? "done"
          : running && index === release.currentStep
          ? "current"
          : isOver(release.status) && index <= release.currentStep ? "stopped" : "todo"
        const left = state === "current" && since !== undefined ? step.waitSeconds - (now - since) / 1000 : undefined
        return (
          <li key={index} className={`step step-${state}`} aria-current={state === "current" ? "step" : undefined}>
            <span className="step-pct">{percent(step.percentage)}</span>
            <span className="step-wait">soak {durationText(step.waitSeconds)}</span>
            <span className="step-state">
              {state === "done" ? "done" : state === "current"
                ? (release.status === "paused" ? "paused here" : left === undefined ? "shifting traffic…" : left > 0 ? `${durationText(left)} left in soak` : "soak done, waiting for a healthy check")
                : state === "stopped" ? "stopped here" : ""}
            </span>
          </li>
        )
      })}
    </ol>
  )
}
