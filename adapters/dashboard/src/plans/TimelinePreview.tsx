/** The timeline a plan implies, redrawn as it is edited (see `PlanTimeline`). */
import type { PlanRequest } from "./PlanDraft.ts"
import { durationText, timelineOf } from "./PlanTimeline.ts"

export const TimelinePreview = ({ parsed }: { readonly parsed: { readonly request: PlanRequest } | { readonly problems: ReadonlyMap<string, string> } }) => {
  if ("problems" in parsed) {
    return (
      <section className="card preview" aria-label="Timeline preview">
        <h3>Timeline</h3>
        <p className="muted">Shown once every step and health field is a number.</p>
      </section>
    )
  }
  const { steps, health } = parsed.request
  const timeline = timelineOf(steps, health)
  return (
    <section className="card preview" aria-label="Timeline preview">
      <h3>Timeline</h3>
      <ol className="preview-steps">
        {timeline.steps.map((step, index) => (
          <li key={index}>
            <strong>{step.percentage}%</strong> from {durationText(step.startsAt)}: soak {durationText(step.waitSeconds)},{" "}
            {step.checks} {step.checks === 1 ? "check" : "checks"} every {durationText(health.intervalSeconds)}
            {index === timeline.steps.length - 1 ? ", then completed" : ", then the next step"} at {durationText(step.endsAt)}
          </li>
        ))}
      </ol>
      <p data-testid="earliest-completion">
        Earliest completion: <strong>{durationText(timeline.earliestCompletion)}</strong> after the start, when every check is healthy
        (up to {durationText(timeline.alignmentMargin)} more, by where each step starts between two check times).
      </p>
      <p className="muted small">
        An unhealthy version is {health.onFailure === "rollback" ? "rolled back" : "paused"} after {health.failuresBeforeAction} unhealthy{" "}
        {health.failuresBeforeAction === 1 ? "check" : "checks"} in a row: about {durationText(timeline.timeToAct)} after its traffic goes live.
        Each check needs at least {health.minRequests} requests; with fewer, it {health.onInconclusive === "hold" ? "waits" : "counts as unhealthy"}.
      </p>
    </section>
  )
}
