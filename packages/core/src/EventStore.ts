/**
 * EventStore port: release streams with optimistic concurrency, and the global log in order.
 *
 * Contract (see the `EventStore` suite in `@canaryroll/core/testing`): `append` succeeds only if
 * the stream's current version equals `expectedVersion` (0 for a new stream), otherwise it fails
 * with `StreamVersionConflict` and writes nothing; versions start at 1 with no gaps; `readAll`
 * returns every committed event in position order and never skips one committed late.
 *
 * @since 0.1.0
 */
import { Clock, Context, Effect, Layer, Schema } from "effect"
import type { ReleaseEvent } from "./ReleaseEvent.ts"

export interface RecordedEvent {
  /** `streamId:version`: stable, unique, used to deduplicate notifications. */
  readonly id: string
  readonly streamId: string
  readonly version: number
  /** Position in the global log; increasing, possibly with gaps. */
  readonly position: number
  readonly event: ReleaseEvent
  readonly recordedAt: number
}

export class StreamVersionConflict extends Schema.TaggedError<StreamVersionConflict>()("StreamVersionConflict", {
  streamId: Schema.String,
  expectedVersion: Schema.Int,
  actualVersion: Schema.Int
}) {
  override get message() {
    return `stream ${this.streamId} is at version ${this.actualVersion}, expected ${this.expectedVersion}`
  }
}

/** The store could not be reached or failed; callers may retry. */
export class EventStoreUnavailable extends Schema.TaggedError<EventStoreUnavailable>()("EventStoreUnavailable", {
  message: Schema.String
}) {}

export const eventId = (streamId: string, version: number): string => `${streamId}:${version}`

export class EventStore extends Context.Service<EventStore, {
  readonly append: (
    streamId: string,
    expectedVersion: number,
    events: ReadonlyArray<ReleaseEvent>
  ) => Effect.Effect<ReadonlyArray<RecordedEvent>, StreamVersionConflict | EventStoreUnavailable>
  readonly readStream: (streamId: string) => Effect.Effect<ReadonlyArray<RecordedEvent>, EventStoreUnavailable>
  /** Events with `position > after`, at most `limit`, in position order. */
  readonly readAll: (after: number, limit: number) => Effect.Effect<ReadonlyArray<RecordedEvent>, EventStoreUnavailable>
}>()("@canaryroll/core/EventStore") {}

export const makeMemory = Effect.sync(() => {
  const streams = new Map<string, Array<RecordedEvent>>()
  const log: Array<RecordedEvent> = []
  return EventStore.of({
    append: (streamId, expectedVersion, events) =>
      Effect.gen(function*() {
        // Read the clock first: the check and the write below must run with no yield between them.
        const recordedAt = yield* Clock.currentTimeMillis
        const stream = streams.get(streamId) ?? []
        if (stream.length !== expectedVersion) {
          return yield* new StreamVersionConflict({ streamId, expectedVersion, actualVersion: stream.length })
        }
        const recorded = events.map((event, i): RecordedEvent => {
          const version = expectedVersion + i + 1
          return { id: eventId(streamId, version), streamId, version, position: log.length + i + 1, event, recordedAt }
        })
        streams.set(streamId, [...stream, ...recorded])
        log.push(...recorded)
        return recorded
      }),
    readStream: (streamId) => Effect.sync(() => streams.get(streamId) ?? []),
    readAll: (after, limit) =>
      Effect.sync(() => {
        // positions are 1-based and dense in memory: position p sits at index p - 1
        const start = Math.max(0, after)
        return log.slice(start, start + limit)
      })
  })
})

export const layerMemory = Layer.effect(EventStore, makeMemory)
