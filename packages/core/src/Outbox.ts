/**
 * Outbox port: the events notifiers still have to handle, per consumer, in log order. Delivery
 * is at least once: a consumer acknowledges up to a position after it has handled the events, and
 * anything not acknowledged is handed out again (after a restart too, on durable adapters).
 * Consumers deduplicate by event id.
 *
 * @since 0.1.0
 */
import { Context, Effect, Layer, Schema } from "effect"
import { EventStore, type RecordedEvent } from "./EventStore.ts"

export class OutboxUnavailable extends Schema.TaggedError<OutboxUnavailable>()("OutboxUnavailable", {
  message: Schema.String
}) {}

export class Outbox extends Context.Service<Outbox, {
  /** Up to `limit` events after the consumer's last acknowledged position. */
  readonly pending: (consumer: string, limit: number) => Effect.Effect<ReadonlyArray<RecordedEvent>, OutboxUnavailable>
  /** Marks every event up to `position` handled for `consumer`; never moves backwards. */
  readonly acknowledge: (consumer: string, position: number) => Effect.Effect<void, OutboxUnavailable>
}>()("@canaryroll/core/Outbox") {}

/** The outbox as checkpoints over the event store's global log: nothing can be appended but missed. */
export const makeMemory = Effect.gen(function*() {
  const store = yield* EventStore
  const checkpoints = new Map<string, number>()
  return Outbox.of({
    pending: (consumer, limit) =>
      store.readAll(checkpoints.get(consumer) ?? 0, limit).pipe(
        Effect.mapError((error) => new OutboxUnavailable({ message: error.message }))
      ),
    acknowledge: (consumer, position) =>
      Effect.sync(() => void checkpoints.set(consumer, Math.max(checkpoints.get(consumer) ?? 0, position)))
  })
})

export const layerMemory = Layer.effect(Outbox, makeMemory)
