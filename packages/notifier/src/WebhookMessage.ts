/**
 * The body of a webhook delivery: `{ event, release }`, JSON. `event` is the notification event
 * (its name, the core event's type and facts, who acted, why); `release` is the release summary
 * as the HTTP API's Deployment shape, plus the Worker's script name and the release page's URL.
 * A test message adds `"test": true`. Fields are only ever added, never renamed: receivers may
 * rely on them.
 *
 * @since 0.1.0
 */
import type { Actor, ReleaseEvent, ReleaseSummary } from "@canaryroll/core"
import type * as Notification from "./Notification.ts"

export interface WebhookBody {
  readonly event: {
    /** The event id (`releaseId:version`), stable across retries: deduplicate on it. */
    readonly id: string
    readonly name: Notification.Notification["name"]
    readonly type: ReleaseEvent.ReleaseEventType
    /** ISO 8601. */
    readonly at: string
    readonly actor: Actor.Actor
    readonly title: string
    readonly sentence: string
    readonly reason: string | null
    readonly measurement: Notification.Measurement | null
    /** The core event as stored (see docs/events.md). */
    readonly details: ReleaseEvent.ReleaseEvent
  }
  readonly release: ReleaseSummary.ReleaseSummary & {
    readonly scriptName: string
    readonly url: string
  }
  readonly test?: true
}

export const body = (notification: Notification.Notification): WebhookBody => ({
  event: {
    id: notification.eventId,
    name: notification.name,
    type: notification.type,
    at: new Date(notification.at).toISOString(),
    actor: notification.actor,
    title: notification.title,
    sentence: notification.sentence,
    reason: notification.reason,
    measurement: notification.measurement,
    details: notification.details
  },
  release: { ...notification.release, scriptName: notification.scriptName, url: notification.releaseUrl },
  ...(notification.test ? { test: true as const } : {})
})

/** The exact bytes sent and signed. */
export const render = (notification: Notification.Notification): string => JSON.stringify(body(notification))
