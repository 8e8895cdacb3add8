/**
 * A release's live stream: `GET /api/teams/{team}/deployments/{id}/events/stream`, server-sent
 * events (`text/event-stream`), what the release page watches instead of polling.
 *
 * Each of the release's events is one SSE message (no `event:` line, so `EventSource.onmessage`
 * gets it) whose `id` is the event's version in the release's stream (1, 2, 3, …) and whose
 * `data` is the event as `GET deployments/{id}/events` lists it, plus its `version`. The stream
 * starts after `Last-Event-ID` (what a browser's `EventSource` sends when it reconnects), or
 * after the query's `after` (the last version the page already shows), or from the first event;
 * so a reconnect resumes with nothing missed or doubled. Events appended by any server process on
 * the same storage arrive (a process polls the followed releases every 250 ms by default).
 *
 * Every `CANARYROLL_LIVE_HEARTBEAT_MS` (15 s by default), and once when the stream opens, a
 * `heartbeat` event (`data: {"at": …, "intervalMs": …}`, no `id`): the interval is in it because
 * the server's is configurable, and a page that hears nothing for two of them is behind a
 * buffering proxy, or cut off, and falls back to polling. A finished release only sends
 * heartbeats. The server ends every stream after 5 minutes (and when it stops): `EventSource`
 * reconnects by itself with `Last-Event-ID`, through the access checks again, so access taken
 * away (a revoked token, an ended session, a removed member) reaches open pages within that time.
 *
 * Access is that of reading the release (read_only, by session cookie or token; another team's
 * release is 404). A request carrying the session cookie from another origin is refused (403
 * `cross_origin`), like a change would be: the stream is only for the server's own pages. At most
 * 16 streams are open per caller (a person, or a token) and server process: the next is 429
 * `too_many_streams` until one closes.
 *
 * @since 0.2.0
 */
import { Schema } from "effect"
import { HttpApiEndpoint, HttpApiGroup, HttpApiSchema, OpenApi } from "effect/http-api"
import { Authentication, RequiredRole, TeamAccess } from "./Access.ts"
import { BadRequest, Forbidden, TooManyRequests } from "./ApiError.ts"
import { DeploymentEvent, Reference } from "./Schemas.ts"

/** A release's event as the live stream sends it: the event list's entry and its version. */
export const LiveDeploymentEvent = Schema.Struct({
  ...DeploymentEvent.fields,
  /** The event's version in the release's stream: the SSE `id`, what `Last-Event-ID` names. */
  version: Schema.Int
})
export type LiveDeploymentEvent = typeof LiveDeploymentEvent.Type

/** The SSE message of one event: `id: {version}`, `data: {LiveDeploymentEvent}`. */
export const EventMessage = Schema.Struct({
  id: Schema.String,
  event: Schema.Literal("message"),
  data: Schema.fromJsonString(LiveDeploymentEvent)
})

/** The stream is alive: sent when it opens and every heartbeat interval. */
export const Heartbeat = Schema.Struct({
  at: Schema.String,
  /**
   * The server's heartbeat interval (`CANARYROLL_LIVE_HEARTBEAT_MS`): how long a reader may hear
   * nothing before it knows the stream is held back. Optional: a server before it sent only `at`
   * (a reader then assumes 15 s).
   */
  intervalMs: Schema.optional(Schema.Int)
})

/** The heartbeat's SSE message; a reader sees the previous message's `id` on it (SSE keeps it). */
export const HeartbeatMessage = Schema.Struct({
  id: Schema.optional(Schema.String),
  event: Schema.Literal("heartbeat"),
  data: Schema.fromJsonString(Heartbeat)
})

export const LiveMessage = Schema.Union([EventMessage, HeartbeatMessage])
export type LiveMessage = typeof LiveMessage.Type

/** The last version a reader has: a non-negative integer, as `Last-Event-ID` or `after`. */
export const Version = Schema.String.check(
  Schema.isMaxLength(9),
  Schema.isPattern(/^\d{1,9}$/, {
    message: "must be the version of an event of this deployment (a non-negative integer), as the stream's ids are"
  })
)

export class LiveGroup extends HttpApiGroup.make("live")
  .add(
    HttpApiEndpoint.get("deploymentEventStream", "/:id/events/stream", {
      params: { team: Reference, id: Reference },
      query: {
        /** Start after this version (the last event the page shows); `Last-Event-ID` wins when both are sent. */
        after: Schema.optional(Version)
      },
      headers: {
        /** Sent by `EventSource` on a reconnect: the `id` of the last message it received. */
        "last-event-id": Schema.optional(Version)
      },
      success: HttpApiSchema.StreamSse({ events: LiveMessage }),
      error: [BadRequest, Forbidden, TooManyRequests]
    }).annotate(RequiredRole, "read_only").annotateMerge(OpenApi.annotations({
      summary: "Follow a deployment's events live",
      description: "Server-sent events: each of the deployment's events as it is appended (the SSE id is its version), " +
        "a heartbeat (with the interval, intervalMs) when the stream opens and every 15 s by default; resumes after Last-Event-ID (or ?after=). Needs read_only."
    }))
  )
  .middleware(TeamAccess)
  .middleware(Authentication)
  .prefix("/api/teams/:team/deployments")
  .annotateMerge(OpenApi.annotations({
    title: "Live",
    description: "A deployment's events as they happen, as server-sent events, with heartbeats; resumable from Last-Event-ID."
  }))
{}
