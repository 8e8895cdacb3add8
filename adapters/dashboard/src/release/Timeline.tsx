/** Everything that happened to the release, newest first, in the audit log's words. */
import type { DeploymentEvent } from "@canaryroll/api/Schemas"

const sentence = (event: DeploymentEvent) => typeof event.details.message === "string" ? event.details.message : event.eventType

export const Timeline = ({ events }: { readonly events: ReadonlyArray<DeploymentEvent> }) => (
  <ol className="timeline" aria-label="Events" reversed>
    {[...events].reverse().map((event) => (
      <li key={event.id} className={`event event-${event.eventType}`}>
        <time dateTime={event.createdAt}>{new Date(event.createdAt).toLocaleTimeString()}</time>
        <span className="event-type">{event.eventType}</span>
        <span className="event-text">{sentence(event)}</span>
      </li>
    ))}
  </ol>
)
