/**
 * Handler of the `live` group: a release's live stream (see `@canaryroll/api/Live` for the
 * contract). The events come from the `ReleaseFeed` port, so they include those appended by any
 * process on the same storage; each is shown as the events list shows it (the audit sentence
 * needs the earlier events, so the stream is folded from its first event and sent from the
 * reader's version on); heartbeats run beside them on the server's clock.
 *
 * @since 0.2.0
 */
import { type Caller, CurrentCaller, CurrentTeam, sessionCookie } from "@canaryroll/api/Access"
import { Api } from "@canaryroll/api/Api"
import { Forbidden, notFound, TooManyRequests } from "@canaryroll/api/ApiError"
import { LiveMessage } from "@canaryroll/api/Live"
import { AuditEntry, type EventStore } from "@canaryroll/core"
import { Clock, Effect, Option, Result, Schema, Stream } from "effect"
import { Sse } from "effect/encoding"
import { HttpServerRequest, HttpServerResponse } from "effect/http"
import { HttpApiBuilder } from "effect/http-api"
import { ReleaseFeed, ReleaseSummaries } from "../index.ts"
import { auditEntryView } from "./Audit.ts"
import * as RequestOrigin from "./RequestOrigin.ts"
import { CurrentServerConfig } from "./ServerConfig.ts"
import * as Storage from "./Storage.ts"

/**
 * A browser page of another origin reading the stream with the person's session cookie: refused
 * as a change would be (`RequestOrigin`). `EventSource` sends `Origin` on a cross-origin request
 * only, so the server's own pages pass; a token is never sent by a browser on its own.
 */
const foreignOrigin = (request: HttpServerRequest.HttpServerRequest, publicUrl: string) => {
  if ((request.cookies[sessionCookie] ?? "") === "" || /^bearer\s+\S/i.test(request.headers.authorization ?? "")) return undefined
  const claimed = request.headers.origin
  if (claimed === undefined) return undefined
  const origin = RequestOrigin.originOf(claimed)
  if (origin !== undefined && RequestOrigin.ownOrigins(publicUrl).includes(origin)) return undefined
  const { error, message } = RequestOrigin.describe({
    _tag: "CrossOrigin",
    origin: origin ?? claimed,
    expected: RequestOrigin.originOf(publicUrl) ?? publicUrl
  })
  return new Forbidden({ error, message })
}

/** The release's events as SSE messages after `afterVersion`, each with its audit sentence. */
const eventMessages = (recorded: Stream.Stream<EventStore.RecordedEvent>, afterVersion: number) => {
  let context: AuditEntry.Context | undefined
  return recorded.pipe(
    Stream.filterMap((event): Result.Result<LiveMessage, void> => {
      context = AuditEntry.evolveContext(context, event.event)
      if (context === undefined || event.version <= afterVersion) return Result.failVoid
      const view = auditEntryView(AuditEntry.fromEvent(context, event.id, event.event))
      return Result.succeed({
        id: String(event.version),
        event: "message",
        data: {
          id: view.id,
          deploymentId: event.streamId,
          eventType: view.type,
          stepIndex: view.stepIndex,
          percentage: view.percentage,
          details: { ...view.details, message: view.message },
          createdAt: view.at,
          version: event.version
        }
      })
    })
  )
}

const encodeMessage = Schema.encodeEffect(LiveMessage)

/**
 * The messages as the endpoint's `StreamSse` schema encodes them, in a response of our own so
 * that it can say what proxies and caches must do: no caching, no buffering (nginx reads
 * `X-Accel-Buffering`), or the page would see events late or never.
 */
const eventStream = (messages: Stream.Stream<LiveMessage>) =>
  HttpServerResponse.stream(
    messages.pipe(
      // Our own values always encode: a failure is a bug.
      Stream.mapEffect((message) => Effect.orDie(encodeMessage(message))),
      Stream.map((encoded) => Sse.encoder.write({ _tag: "Event", id: encoded.id, event: encoded.event, data: encoded.data })),
      Stream.encodeText
    ),
    { contentType: "text/event-stream", headers: { "cache-control": "no-cache, no-store", "x-accel-buffering": "no" } }
  )

/**
 * Open streams per caller (a person, or a team token) in this process. A person has a few tabs
 * open; a token or a script opening streams without end would hold sockets and memory, so past
 * this many the next is refused (429) until one closes.
 */
export const maxStreamsPerCaller = 16

const callerKey = (caller: Caller) => caller._tag === "User" ? `user:${caller.userId}` : `token:${caller.tokenId}`

export const layer = HttpApiBuilder.group(Api, "live", (handlers) =>
  Effect.gen(function*() {
    const summaries = yield* ReleaseSummaries.ReleaseSummaries
    const feed = yield* ReleaseFeed.ReleaseFeed
    const open = new Map<string, number>()
    /** Counts the stream against its caller while it runs. */
    const counted = (key: string, stream: Stream.Stream<LiveMessage>) =>
      Stream.unwrap(Effect.sync(() => {
        open.set(key, (open.get(key) ?? 0) + 1)
        return stream.pipe(Stream.ensuring(Effect.sync(() => {
          const left = (open.get(key) ?? 1) - 1
          if (left === 0) open.delete(key)
          else open.set(key, left)
        })))
      }))
    return handlers.handle("deploymentEventStream", ({ headers, params, query }) =>
      Effect.gen(function*() {
        const config = yield* CurrentServerConfig
        const refusal = foreignOrigin(yield* HttpServerRequest.HttpServerRequest, config.publicUrl)
        if (refusal !== undefined) return yield* refusal
        const { team } = yield* CurrentTeam
        const release = yield* Storage.unavailable(summaries.get(team.id, params.id))
        if (Option.isNone(release)) return yield* notFound("deployment", params.id)
        const key = callerKey(yield* CurrentCaller)
        if ((open.get(key) ?? 0) >= maxStreamsPerCaller) {
          return yield* new TooManyRequests({
            error: "too_many_streams",
            message: `${maxStreamsPerCaller} live streams are already open with these credentials on this server; close one first`
          })
        }
        // The schema checked both are decimal integers; a reconnect's Last-Event-ID wins.
        const afterVersion = Number(headers["last-event-id"] ?? query.after ?? "0")
        const heartbeats = Stream.tick(config.liveHeartbeatMs).pipe(
          Stream.mapEffect(() => Clock.currentTimeMillis),
          Stream.map((at): LiveMessage => ({
            event: "heartbeat",
            data: { at: new Date(at).toISOString(), intervalMs: config.liveHeartbeatMs }
          }))
        )
        // The feed fails only when the storage cannot be read as the stream opens: the stream then
        // ends, and the reader's EventSource reconnects from its Last-Event-ID.
        const events = feed.follow(release.value.id, 0).pipe(
          Stream.catchCause((cause) =>
            Stream.fromEffect(Effect.logWarning(`live stream of ${release.value.id}: ended, the events could not be read`, cause)).pipe(
              Stream.drain
            )
          )
        )
        // The heartbeats stop with the events: the feed ends them when the process stops. Every
        // stream ends after `liveStreamMaxMs`: the browser reconnects from its Last-Event-ID
        // through the access checks again, so access taken away reaches open pages too. (No
        // `retry:` line to hasten it: Effect's SSE client takes one for a failure.)
        return eventStream(counted(
          key,
          Stream.merge(eventMessages(events, afterVersion), heartbeats, { haltStrategy: "left" }).pipe(
            Stream.interruptWhen(Effect.sleep(config.liveStreamMaxMs))
          )
        ))
      }))
  }))
