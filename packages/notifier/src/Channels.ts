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
import * as ChannelKinds from "./ChannelKinds.ts"
import * as ChannelSender from "./ChannelSender.ts"
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

export interface Saved<View = ChannelKinds.ConfigView> {
  readonly channel: Channel.ChannelView<View>
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

/** The service over the channel kinds of registry `R`. */
export interface Service<R extends Channel.Registry> {
  /** Fails `ChannelInvalid` for a kind `R` does not hold. */
  readonly create: (
    teamId: string,
    input: R["ChannelInput"]["Type"]
  ) => Effect.Effect<Saved<R["ConfigView"]["Type"]>, Channel.ChannelInvalid | Unavailable>
  readonly update: (
    teamId: string,
    channelId: string,
    patch: R["ChannelPatch"]["Type"]
  ) => Effect.Effect<Saved<R["ConfigView"]["Type"]>, Channel.ChannelNotFound | Channel.ChannelInvalid | Unavailable>
  readonly remove: (teamId: string, channelId: string) => Effect.Effect<void, Channel.ChannelNotFound | Unavailable>
  readonly list: (teamId: string) => Effect.Effect<ReadonlyArray<Channel.ChannelView<R["ConfigView"]["Type"]>>, Unavailable>
  readonly get: (
    teamId: string,
    channelId: string
  ) => Effect.Effect<Channel.ChannelView<R["ConfigView"]["Type"]>, Channel.ChannelNotFound | Unavailable>
  /**
   * Sends a test message now (one attempt, no retry) and records it among the deliveries;
   * returns how it went. Takes up to the sender's timeout.
   */
  readonly sendTest: (teamId: string, channelId: string) => Effect.Effect<DeliveryView, Channel.ChannelNotFound | Unavailable>
  /** Recent deliveries, newest first. */
  readonly deliveries: (teamId: string, query?: DeliveryListQuery) => Effect.Effect<ReadonlyArray<DeliveryView>, Unavailable>
}

/** The service over the standard channel kinds: what the HTTP API calls. */
export class Channels extends Context.Service<Channels, Service<ChannelKinds.Standard>>()("@canaryroll/notifier/Channels") {}

export interface Options {
  /** The server's public URL, for the test message's link. */
  readonly baseUrl: string
}

export interface RegistryOptions<R extends Channel.Registry> extends Options {
  /** The channel kinds; `ChannelKinds.standard` by default. The `ChannelSender` must know the same ones. */
  readonly registry: R
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

type Requirements = NotificationStore.NotificationStore | SecretSealer.SecretSealer | ChannelSender.ChannelSender

/** The service over the standard kinds, or over `options.registry`'s (a runtime that adds kinds of its own). */
export function make(options: Options): Effect.Effect<Service<ChannelKinds.Standard>, never, Requirements>
export function make<R extends Channel.Registry>(options: RegistryOptions<R>): Effect.Effect<Service<R>, never, Requirements>
// The implementation serves any registry; `any` stands for the registry the overload above chose.
export function make(options: Options & { readonly registry?: Channel.Registry }): Effect.Effect<Service<any>, never, Requirements> {
  return Effect.gen(function*() {
    const registry = options.registry ?? ChannelKinds.standard
    const view = (record: NotificationStore.ChannelRecord) => Channel.view(record, registry)
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

    const create = (teamId: string, input: Channel.Registry["ChannelInput"]["Type"]) =>
      Effect.gen(function*() {
        const id = yield* Id.make("notificationChannel")
        const now = yield* Clock.currentTimeMillis
        const sealed = yield* Channel.seal(id, input.config, undefined, registry)
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
        return { channel: view(record), signingSecret: sealed.generatedSecret }
      }).pipe(Effect.provide(context))

    const update = (teamId: string, channelId: string, patch: Channel.Registry["ChannelPatch"]["Type"]) =>
      Effect.gen(function*() {
        const current = yield* find(teamId, channelId)
        if (patch.config !== undefined && patch.config.kind !== current.kind) {
          return yield* Channel.invalid("config.kind", `must stay ${current.kind}: create a new channel for another kind`)
        }
        if (patch.rotateSigningSecret === true && !Channel.hasRotatingSecret(current, registry)) {
          return yield* Channel.invalid("rotateSigningSecret", `a ${current.kind} channel has no signing secret`)
        }
        const config = patch.config ?? (patch.rotateSigningSecret === true ? undefined : null)
        const sealed = config === null
          ? null
          : config === undefined
          // Rotating alone: the stored URL stays, only the secret changes.
          ? yield* Channel.rotate(current, registry)
          : yield* Channel.seal(channelId, config, current, registry, { rotateSecret: patch.rotateSigningSecret === true })
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
        return { channel: view(record), signingSecret: sealed?.generatedSecret ?? null }
      }).pipe(Effect.provide(context))

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

    return {
      create,
      update,
      remove: (teamId, channelId) =>
        store.deleteChannel(teamId, channelId).pipe(
          Effect.flatMap((deleted) => deleted ? Effect.void : Effect.fail(new Channel.ChannelNotFound({ teamId, channelId })))
        ),
      list: (teamId) => store.listChannels(teamId).pipe(Effect.map((records) => records.map(view))),
      get: (teamId, channelId) => find(teamId, channelId).pipe(Effect.map(view)),
      sendTest,
      deliveries: (teamId, query = {}) =>
        store.listDeliveries(teamId, {
          channelId: query.channelId,
          status: query.status,
          limit: Math.max(1, Math.min(query.limit ?? 50, NotificationStore.maxLimit))
        }).pipe(Effect.map((deliveries) => deliveries.map(deliveryView)))
    } satisfies Service<Channel.Registry>
  })
}

/** Needs the store, a `SecretSealer`, and a `ChannelSender` (for test messages). */
export const layer = (
  options: Options
): Layer.Layer<Channels, never, Requirements> => Layer.effect(Channels, make(options))
