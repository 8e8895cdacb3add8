/**
 * DeliveryRecorder: the outbox consumer. It turns each release event into the deliveries owed
 * to the team's subscribed channels, records them, and acknowledges the events. It sends
 * nothing: recording is a few writes, so the outbox keeps up however slow a channel is, and
 * nothing a channel does can hold up a release (the orchestrator never waits for the outbox).
 *
 * At least once: events are acknowledged only after their deliveries are recorded, so a crash in
 * between hands the batch out again; the store's unique (event id, channel id) turns the second
 * recording into nothing. A channel is told about what happened after it was created (give or
 * take `clockMarginMs`, as the two times come from different clocks), not about a backlog the
 * consumer was still catching up on.
 *
 * A defect while recording (a release whose events no longer fold, say) does not stop the
 * outbox for every team: `run` then handles that batch one event at a time, and skips an event
 * that keeps failing, with an error log (`maxEventFailures`).
 *
 * A notification needs what earlier events said (the Worker, the versions, the step), so the
 * recorder reads each release's stream once per batch and folds it up to each event
 * (`Notification.ReleaseFacts`). Only events someone could be told about cost a read: the
 * frequent healthy checks cost nothing.
 *
 * @since 0.1.0
 */
import { EventStore, Id, Outbox } from "@canaryroll/core"
import { Cause, Clock, Duration, Effect, Exit } from "effect"
import * as Notification from "./Notification.ts"
import * as NotificationEvent from "./NotificationEvent.ts"
import * as NotificationStore from "./NotificationStore.ts"
import * as Redaction from "./Redaction.ts"

export interface Options {
  /** The server's public URL, for links to release pages. */
  readonly baseUrl: string
  /** The outbox consumer's name. Default `notifier`. */
  readonly consumer?: string | undefined
  /** Events per batch. Default 100. */
  readonly batchSize?: number | undefined
  /** How long `run` waits when the outbox is empty or unavailable. Default 1 second. */
  readonly pollInterval?: Duration.Input | undefined
  /**
   * How many times in a row `run` tries an event whose recording fails with a defect before it
   * skips it (logged as an error), so that one broken event cannot stop every team's
   * notifications. Default 5.
   */
  readonly maxEventFailures?: number | undefined
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

/**
 * How far apart the notifier's clock (a channel's `createdAt`) and the event store's (an event's
 * `recordedAt`, the database's on Postgres) may be without a channel missing the events recorded
 * just after its creation. The price: a channel may be told about events up to this long before
 * it was created.
 */
export const clockMarginMs = 60_000

/** Whether `channel` is told about `recorded`: only events recorded after it was created, within `clockMarginMs`. */
export const toldAbout = (
  channel: Pick<NotificationStore.ChannelRecord, "createdAt">,
  recorded: Pick<EventStore.RecordedEvent, "recordedAt">
): boolean => recorded.recordedAt + clockMarginMs >= channel.createdAt

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
    const maxEventFailures = Math.max(1, options.maxEventFailures ?? 5)

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

    /** Records the deliveries of `batch` (events in log order); acknowledging is the caller's. */
    const record = (batch: ReadonlyArray<EventStore.RecordedEvent>) =>
      Effect.gen(function*() {
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
            if (!toldAbout(channel, recorded)) continue
            deliveries.push({
              id: yield* Id.make("delivery"),
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
      })

    /** Handles up to `limit` events; how many it acknowledged. */
    const handle = (limit: number) =>
      Effect.gen(function*() {
        const batch = yield* outbox.pending(consumer, limit)
        const last = batch[batch.length - 1]
        if (last === undefined) return 0
        yield* record(batch)
        yield* outbox.acknowledge(consumer, last.position)
        return batch.length
      })

    const runOnce = handle(batchSize)

    const isDefect = (cause: Cause.Cause<unknown>) => Cause.hasDies(cause) && !Cause.hasInterrupts(cause)

    /*
     * A defect (an event whose release no longer folds, a store returning what it should not) would
     * hand out the same batch for ever and stop every team's notifications. After one, the events
     * of that batch are handled one at a time; one that fails `maxEventFailures` times in a row is
     * skipped, with an error log, and acknowledged past. Storage errors are outages, not defects:
     * they are retried for ever.
     */
    let isolating = 0
    let suspect: { readonly position: number; readonly failures: number } | undefined

    const isolated = Effect.gen(function*() {
      const batch = yield* outbox.pending(consumer, 1)
      const event = batch[0]
      if (event === undefined) {
        isolating = 0
        return 0
      }
      const exit = yield* Effect.exit(record(batch))
      if (Exit.isFailure(exit) && isDefect(exit.cause)) {
        const failures = suspect?.position === event.position ? suspect.failures + 1 : 1
        if (failures < maxEventFailures) {
          suspect = { position: event.position, failures }
          yield* Effect.logError(
            `notifier: recording deliveries for event ${event.id} failed (${failures} of ${maxEventFailures}), retrying`,
            Redaction.text(Cause.pretty(exit.cause))
          )
          return 0
        }
        yield* Effect.logError(
          `notifier: recording deliveries for event ${event.id} failed ${failures} times; skipped, nobody is told about it`,
          Redaction.text(Cause.pretty(exit.cause))
        )
      } else if (Exit.isFailure(exit)) {
        return yield* Effect.failCause(exit.cause)
      }
      suspect = undefined
      yield* outbox.acknowledge(consumer, event.position)
      isolating--
      return 1
    })

    const step = Effect.suspend(() => isolating > 0 ? isolated : runOnce).pipe(
      Effect.catch((error) => Effect.logWarning(`notifier: recording deliveries failed, retrying: ${Redaction.text(error.message)}`).pipe(Effect.as(0))),
      Effect.catchCause((cause) =>
        Cause.hasInterruptsOnly(cause)
          ? Effect.failCause(cause)
          : Effect.gen(function*() {
            if (isolating === 0) {
              yield* Effect.logError(
                "notifier: recording deliveries failed; handling the batch one event at a time",
                Redaction.text(Cause.pretty(cause))
              )
              isolating = batchSize
            } else {
              // reading the event itself failed: nothing to skip past, as its position is unknown
              yield* Effect.logError("notifier: reading the next event failed, retrying", Redaction.text(Cause.pretty(cause)))
            }
            return 0
          })
      )
    )

    const run: Effect.Effect<never> = step.pipe(
      Effect.flatMap((handled) => handled === 0 || (isolating === 0 && handled < batchSize) ? Effect.sleep(pollInterval) : Effect.void),
      Effect.forever
    )

    return { runOnce, run }
  })
