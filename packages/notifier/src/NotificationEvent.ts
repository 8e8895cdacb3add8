/**
 * The events a channel can subscribe to, and which release events they are. A notification event
 * is a name people choose in a channel's settings (`release.rolled_back`); it is derived from the
 * core's `ReleaseEvent`, never stored in the event log, so the mapping may change without an
 * upcaster.
 *
 * Not every release event is worth a message: steps starting, traffic being shifted, transient
 * Cloudflare retries and healthy or inconclusive checks are the normal course of a release and
 * would only be noise. A rollback sends two messages under one name: when it starts (with the
 * reason, while the canary still serves) and when the stable version serves 100% again. A
 * release held by something outside it (`release.stalled`: analytics that cannot judge a step, or
 * Cloudflare failing a rollback) is said once per step, or once per rollback.
 *
 * @since 0.1.0
 */
import type { ReleaseEvent } from "@canaryroll/core"
import { Schema } from "effect"

export const names = [
  "release.created",
  "release.started",
  "release.step_advanced",
  "release.paused",
  "release.resumed",
  "release.health_check_failed",
  "release.rolled_back",
  "release.completed",
  "release.failed",
  "release.cancelled",
  "release.drift_detected",
  "release.stalled"
] as const

export const EventName = Schema.Literals(names)
export type EventName = typeof EventName.Type

/** How a person reads each name in a settings screen or a message. */
export const label: { readonly [name in EventName]: string } = {
  "release.created": "Release created",
  "release.started": "Release started",
  "release.step_advanced": "Step advanced",
  "release.paused": "Release paused",
  "release.resumed": "Release resumed",
  "release.health_check_failed": "Health check failed",
  "release.rolled_back": "Rolled back",
  "release.completed": "Release completed",
  "release.failed": "Release failed",
  "release.cancelled": "Release cancelled",
  "release.drift_detected": "Drift detected",
  "release.stalled": "Release held (no health data, or Cloudflare unreachable during a rollback)"
}

/** The notification event a release event is, or `undefined` for those nobody is told about. */
export const classify = (event: ReleaseEvent.ReleaseEvent): EventName | undefined => {
  switch (event._tag) {
    case "ReleaseCreated":
      return "release.created"
    case "ReleaseStarted":
      return "release.started"
    case "Promoted":
      return "release.step_advanced"
    case "Paused":
      return "release.paused"
    case "Resumed":
      return "release.resumed"
    case "HealthChecked":
      return event.verdict === "unhealthy" ? "release.health_check_failed" : undefined
    case "RollbackStarted":
    case "RolledBack":
      return "release.rolled_back"
    case "Completed":
      return "release.completed"
    case "Failed":
      return "release.failed"
    case "Cancelled":
      return "release.cancelled"
    case "DriftDetected":
      return "release.drift_detected"
    case "Stalled":
      return "release.stalled"
    case "StepStarted":
    case "TrafficShifted":
    case "TrafficShiftFailed":
      return undefined
  }
}
