/**
 * DeliveryRecorder: the outbox consumer. It turns each release event into the deliveries owed
 * to the team's subscribed channels, records them, and acknowledges the events. It sends
 * nothing: recording is a few writes, so the outbox keeps up however slow a channel is, and
 * nothing a channel does can hold up a release (the orchestrator never waits for the outbox).
 *
 * At least once: events are acknowledged only after their deliveries are recorded, so a crash in
 * between hands the batch out again; the store's unique (event id, channel id) turns the second
 * recording into nothing. A channel is told about what happened after it was created, not about
 * a backlog the consumer was still catching up on.
 *
 * A notification needs what earlier events said (the Worker, the versions, the step), so the
 * recorder reads each release's stream once per batch and folds it up to each event
 * (`Notification.ReleaseFacts`). Only events someone could be told about cost a read: the
 * frequent healthy checks cost nothing.
 *
 * @since 0.1.0
 */
import { EventStore, Outbox } from "@canaryroll/core"
import { Clock, Duration, Effect } from "effect"
import * as crypto from "node:crypto"
import * as Notification from "./Notification.ts"
import * as NotificationEvent from "./NotificationEvent.ts"
import * as NotificationStore from "./NotificationStore.ts"

export interface Options {
  /** The server's public URL, for links to release pages. */
  readonly baseUrl: string
  /** The outbox consumer's name. Default `notifier`. */
  readonly consumer?: string | undefined
  /** Events per batch. Default 100. */
  readonly batchSize?: number | undefined
  /** How long `run` waits when the outbox is empty or unavailable. Default 1 second. */
  readonly pollInterval?: Duration.Input | undefined
}

export const defaultConsumer = "notifier"

export interface DeliveryRecorder {
  /** Handles one batch; returns how many events it acknowledged (0: the outbox was empty). */
  readonly runOnce: Effect.Effect<
    number,
    Outbox.OutboxUnavailable | EventStore.EventStoreUnavailable | NotificationStore.NotificationStoreUnavailable
  >
  /** Handles batches for ever, waiting `pollInterval` when there is nothing to do or storage fails. */
  readonly run: Effect.Effect<never>
}

/** A new delivery id: random, so nothing about the event or the channel can be read from it. */
export const newDeliveryId = Effect.sync(() => `dlv_${crypto.randomUUID()}`)

export const make = (options: Options): Effect.Effect<
  DeliveryRecorder,
  never,
  Outbox.Outbox | EventStore.EventStore | NotificationStore.NotificationStore
> =>
  Effect.gen(function*() {
    const outbox = yield* Outbox.Outbox
    const events = yield* EventStore.EventStore
    const store = yield* NotificationStore.NotificationStore
    const consumer = options.consumer ?? defaultConsumer
    const batchSize = options.batchSize ?? 100
    const pollInterval = options.pollInterval ?? "1 second"

    /** The notifications of `notifiable`, all from one stream, from one read of it. */
    const notificationsOf = (streamId: string, notifiable: ReadonlyArray<EventStore.RecordedEvent>) =>
      Effect.gen(function*() {
        const stream = yield* events.readStream(streamId)
        const wanted = new Set(notifiable.map((recorded) => recorded.version))
        const notifications: Array<{ readonly recorded: EventStore.RecordedEvent; readonly notification: Notification.Notification }> = []
        let facts: Notification.ReleaseFacts | undefined
        for (const recorded of stream) {
          facts = Notification.evolveFacts(facts, recorded.event)
          if (!wanted.has(recorded.version)) continue
          const notification = facts === undefined
            ? undefined
            : Notification.fromEvent({ baseUrl: options.baseUrl }, facts, recorded.id, recorded.event)
          if (notification === undefined) {
            yield* Effect.logWarning(`notifier: event ${recorded.id} has no ReleaseCreated before it; nobody is told`)
            continue
          }
          notifications.push({ recorded, notification })
        }
        return notifications
      })

    const runOnce = Effect.gen(function*() {
      const batch = yield* outbox.pending(consumer, batchSize)
      const last = batch[batch.length - 1]
      if (last === undefined) return 0
      const notifiable = batch.filter((recorded) => NotificationEvent.classify(recorded.event) !== undefined)
      const byStream = new Map<string, Array<EventStore.RecordedEvent>>()
      for (const recorded of notifiable) {
        const list = byStream.get(recorded.streamId) ?? []
        list.push(recorded)
        byStream.set(recorded.streamId, list)
      }
      const notifications = (yield* Effect.forEach(
        [...byStream],
        ([streamId, recorded]) => notificationsOf(streamId, recorded),
        { concurrency: 4 }
      )).flat()

      const now = yield* Clock.currentTimeMillis
      const subscribers = new Map<string, ReadonlyArray<NotificationStore.ChannelRecord>>()
      const deliveries: Array<NotificationStore.NewDelivery> = []
      for (const { notification, recorded } of notifications) {
        const name = notification.name as NotificationEvent.EventName
        const key = JSON.stringify([notification.teamId, name])
        const channels = subscribers.get(key) ?? (yield* store.subscribers(notification.teamId, name))
        subscribers.set(key, channels)
        for (const channel of channels) {
          if (channel.createdAt > recorded.recordedAt) continue
          deliveries.push({
            id: yield* newDeliveryId,
            teamId: notification.teamId,
            channelId: channel.id,
            eventId: recorded.id,
            releaseId: notification.releaseId,
            eventName: name,
            sequence: recorded.position,
            notification,
            createdAt: now
          })
        }
      }
      if (deliveries.length > 0) yield* store.enqueue(deliveries)
      yield* outbox.acknowledge(consumer, last.position)
      return batch.length
    })

    const run: Effect.Effect<never> = runOnce.pipe(
      Effect.catch((error) => Effect.logWarning(`notifier: recording deliveries failed, retrying: ${error.message}`).pipe(Effect.as(0))),
      // A defect (an event that no longer decodes) must not stop notifications silently for good.
      Effect.catchCause((cause) => Effect.logError("notifier: recording deliveries failed", cause).pipe(Effect.as(0))),
      Effect.flatMap((handled) => handled < batchSize ? Effect.sleep(pollInterval) : Effect.void),
      Effect.forever
    )

    return { runOnce, run }
  })
