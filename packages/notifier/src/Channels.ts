/**
 * Channels: what the HTTP API exposes of notifications. A team's channels (create, update,
 * delete, list, get), a test message sent at once, and the recent deliveries with their status.
 * Every call names the team, and a channel or delivery of another team is not found, never
 * shown: the server only has to check that the caller may act for the team.
 *
 * Secrets go in and never come out: URLs, signing secrets and passwords are sealed before they
 * are stored, and views show a redacted URL and whether a password is set. The one exception is a
 * webhook channel's generated signing secret, returned once by `create` (and by `update` with
 * `rotateSigningSecret`), as API tokens are.
 *
 * @since 0.1.0
 */
import { Id } from "@canaryroll/core"
import { Clock, Context, Duration, Effect, Layer, Option, Redacted } from "effect"
import * as Channel from "./Channel.ts"
import * as ChannelSender from "./ChannelSender.ts"
import * as DeliveryRecorder from "./DeliveryRecorder.ts"
import * as Notification from "./Notification.ts"
import * as NotificationStore from "./NotificationStore.ts"
import * as RetryPolicy from "./RetryPolicy.ts"
import type * as SecretSealer from "./SecretSealer.ts"

export interface DeliveryView {
  readonly id: string
  readonly channelId: string
  readonly eventId: string
  readonly event: Notification.Notification["name"]
  readonly releaseId: string
  readonly title: string
  readonly status: NotificationStore.DeliveryStatus
  readonly attempts: number
  readonly lastError: string | null
  readonly lastStatusCode: number | null
  /** ISO 8601; when a pending delivery is tried next. */
  readonly nextAttemptAt: string | null
  readonly createdAt: string
  readonly completedAt: string | null
}

export interface Saved {
  readonly channel: Channel.ChannelView
  /** A generated webhook signing secret, shown this once; `null` otherwise. */
  readonly signingSecret: Redacted.Redacted<string> | null
}

export interface DeliveryListQuery {
  readonly channelId?: string | undefined
  readonly status?: NotificationStore.DeliveryStatus | undefined
  /** Default 50, at most 200. */
  readonly limit?: number | undefined
}

type Unavailable = NotificationStore.NotificationStoreUnavailable

export class Channels extends Context.Service<Channels, {
  readonly create: (teamId: string, input: Channel.ChannelInput) => Effect.Effect<Saved, Unavailable>
  readonly update: (
    teamId: string,
    channelId: string,
    patch: Channel.ChannelPatch
  ) => Effect.Effect<Saved, Channel.ChannelNotFound | Channel.ChannelInvalid | Unavailable>
  readonly remove: (teamId: string, channelId: string) => Effect.Effect<void, Channel.ChannelNotFound | Unavailable>
  readonly list: (teamId: string) => Effect.Effect<ReadonlyArray<Channel.ChannelView>, Unavailable>
  readonly get: (teamId: string, channelId: string) => Effect.Effect<Channel.ChannelView, Channel.ChannelNotFound | Unavailable>
  /**
   * Sends a test message now (one attempt, no retry) and records it among the deliveries;
   * returns how it went. Takes up to the sender's timeout.
   */
  readonly sendTest: (teamId: string, channelId: string) => Effect.Effect<DeliveryView, Channel.ChannelNotFound | Unavailable>
  /** Recent deliveries, newest first. */
  readonly deliveries: (teamId: string, query?: DeliveryListQuery) => Effect.Effect<ReadonlyArray<DeliveryView>, Unavailable>
}>()("@canaryroll/notifier/Channels") {}

export interface Options {
  /** The server's public URL, for the test message's link. */
  readonly baseUrl: string
}

const iso = (ms: number | null) => ms === null ? null : new Date(ms).toISOString()

export const deliveryView = (delivery: NotificationStore.DeliveryRecord): DeliveryView => ({
  id: delivery.id,
  channelId: delivery.channelId,
  eventId: delivery.eventId,
  event: delivery.eventName,
  releaseId: delivery.releaseId,
  title: delivery.notification.title,
  status: delivery.status,
  attempts: delivery.attempts,
  lastError: delivery.lastError,
  lastStatusCode: delivery.lastStatusCode,
  nextAttemptAt: delivery.status === "pending" ? iso(delivery.nextAttemptAt) : null,
  createdAt: new Date(delivery.createdAt).toISOString(),
  completedAt: iso(delivery.completedAt)
})

/** How much longer than the sender's timeout a test message is claimed for. */
export const testLeaseMarginMs = 10_000

export const make = (options: Options): Effect.Effect<
  Channels["Service"],
  never,
  NotificationStore.NotificationStore | SecretSealer.SecretSealer | ChannelSender.ChannelSender
> =>
  Effect.gen(function*() {
    const store = yield* NotificationStore.NotificationStore
    const sender = yield* ChannelSender.ChannelSender
    const context = yield* Effect.context<SecretSealer.SecretSealer>()

    const find = (teamId: string, channelId: string) =>
      store.getChannel(teamId, channelId).pipe(
        Effect.flatMap(Option.match({
          onNone: () => Effect.fail(new Channel.ChannelNotFound({ teamId, channelId })),
          onSome: Effect.succeed
        }))
      )

    const create = (teamId: string, input: Channel.ChannelInput) =>
      Effect.gen(function*() {
        const id = yield* Id.make("notificationChannel")
        const now = yield* Clock.currentTimeMillis
        const sealed = yield* Channel.seal(id, input.config, undefined)
        const record: NotificationStore.ChannelRecord = {
          id,
          teamId,
          name: input.name,
          kind: input.config.kind,
          events: input.events,
          enabled: input.enabled ?? true,
          settings: sealed.settings,
          secrets: sealed.secrets,
          createdAt: now,
          updatedAt: now
        }
        yield* store.insertChannel(record)
        return { channel: Channel.view(record), signingSecret: sealed.generatedSigningSecret }
      }).pipe(Effect.provide(context))

    const update = (teamId: string, channelId: string, patch: Channel.ChannelPatch) =>
      Effect.gen(function*() {
        const current = yield* find(teamId, channelId)
        if (patch.config !== undefined && patch.config.kind !== current.kind) {
          return yield* Channel.invalid("config.kind", `must stay ${current.kind}: create a new channel for another kind`)
        }
        if (patch.rotateSigningSecret === true && current.kind !== "webhook") {
          return yield* Channel.invalid("rotateSigningSecret", "only webhook channels have a signing secret")
        }
        const config = patch.config ?? (patch.rotateSigningSecret === true ? undefined : null)
        const sealed = config === null
          ? null
          : config === undefined
          // Rotating alone: the stored URL stays, only the secret changes.
          ? yield* rotateSecret(current)
          : yield* Channel.seal(channelId, config, current, { rotateSigningSecret: patch.rotateSigningSecret })
        const now = yield* Clock.currentTimeMillis
        const record: NotificationStore.ChannelRecord = {
          ...current,
          name: patch.name ?? current.name,
          events: patch.events ?? current.events,
          enabled: patch.enabled ?? current.enabled,
          settings: sealed?.settings ?? current.settings,
          secrets: sealed?.secrets ?? current.secrets,
          updatedAt: now
        }
        if (!(yield* store.updateChannel(record))) return yield* new Channel.ChannelNotFound({ teamId, channelId })
        return { channel: Channel.view(record), signingSecret: sealed?.generatedSigningSecret ?? null }
      }).pipe(Effect.provide(context))

    const rotateSecret = (current: NotificationStore.ChannelRecord) =>
      Effect.gen(function*() {
        const target = yield* Channel.open(current).pipe(
          Effect.mapError((error) => Channel.invalid("rotateSigningSecret", `the stored URL cannot be opened: ${error.message}`))
        )
        if (target.kind !== "webhook") return yield* Channel.invalid("rotateSigningSecret", "only webhook channels have a signing secret")
        return yield* Channel.seal(current.id, { kind: "webhook", url: Redacted.value(target.url) }, current, {
          rotateSigningSecret: true
        })
      })

    // A test message is inserted already claimed, so no worker sends it too. The claim outlasts
    // the attempt by a little: should this process die meanwhile, the channel's real messages wait
    // that long, and a worker then sends the test once more.
    const testLeaseMs = Duration.toMillis(sender.timeout) + testLeaseMarginMs

    const sendTest = (teamId: string, channelId: string) =>
      Effect.gen(function*() {
        const channel = yield* find(teamId, channelId)
        const now = yield* Clock.currentTimeMillis
        const id = yield* Id.make("delivery")
        const notification = Notification.test({ baseUrl: options.baseUrl, teamId, id, at: now })
        // Whoever asked may go away (a closed connection interrupts this): the attempt is then
        // recorded as failed at once, rather than left claimed until the lease runs out.
        yield* Effect.uninterruptibleMask((restore) =>
          Effect.gen(function*() {
            yield* store.enqueue([{
              id,
              teamId,
              channelId,
              eventId: notification.eventId,
              releaseId: notification.releaseId,
              eventName: "test",
              sequence: 0,
              notification,
              createdAt: now,
              claimedUntil: now + testLeaseMs
            }])
            const result = yield* restore(sender.send(channel, notification, id)).pipe(
              Effect.onInterrupt(() =>
                Clock.currentTimeMillis.pipe(
                  Effect.flatMap((at) =>
                    store.complete(id, { _tag: "Failed", at, error: "interrupted: the request for the test message was cancelled", statusCode: null })
                  ),
                  Effect.ignore
                )
              )
            )
            const at = yield* Clock.currentTimeMillis
            // One attempt: a person is waiting for the answer, and can press the button again.
            yield* store.complete(id, RetryPolicy.decide({ ...RetryPolicy.defaultPolicy, maxAttempts: 1 }, { attempts: 1, result, now: at, random: 0 }))
          })
        )
        const delivery = yield* store.getDelivery(teamId, id)
        return deliveryView(Option.getOrThrow(delivery))
      })

    return Channels.of({
      create,
      update,
      remove: (teamId, channelId) =>
        store.deleteChannel(teamId, channelId).pipe(
          Effect.flatMap((deleted) => deleted ? Effect.void : Effect.fail(new Channel.ChannelNotFound({ teamId, channelId })))
        ),
      list: (teamId) => store.listChannels(teamId).pipe(Effect.map((records) => records.map(Channel.view))),
      get: (teamId, channelId) => find(teamId, channelId).pipe(Effect.map(Channel.view)),
      sendTest,
      deliveries: (teamId, query = {}) =>
        store.listDeliveries(teamId, {
          channelId: query.channelId,
          status: query.status,
          limit: Math.max(1, Math.min(query.limit ?? 50, NotificationStore.maxLimit))
        }).pipe(Effect.map((deliveries) => deliveries.map(deliveryView)))
    })
  })

/** Needs the store, a `SecretSealer`, and a `ChannelSender` (for test messages). */
export const layer = (
  options: Options
): Layer.Layer<Channels, never, NotificationStore.NotificationStore | SecretSealer.SecretSealer | ChannelSender.ChannelSender> =>
  Layer.effect(Channels, make(options))
