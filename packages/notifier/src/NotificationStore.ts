/**
 * NotificationStore port: a team's channels and the deliveries owed to them.
 *
 * Channels are stored as the Channels service hands them over: settings that are not secret as
 * plain JSON, secrets already sealed (the store never sees a webhook URL or a password in clear).
 *
 * A delivery is one notification owed to one channel, unique by (event id, channel id): enqueuing
 * the same pair twice (an outbox batch handed out again after a crash) records it once. Its life:
 * `pending` → claimed by a sender (a lease, so no other sender takes it meanwhile; a sender that
 * dies loses it when the lease ends) → `delivered`, or `pending` again with a later
 * `nextAttemptAt`, or `failed` for good. Claims count attempts, so a sender crashing on a message
 * cannot retry it forever: the `DeliveryWorker` fails, unsent, a delivery claimed more often than
 * its policy's `maxAttempts`. Times are inputs (epoch milliseconds from the caller's `Clock`), so
 * `TestClock` drives every adapter alike.
 *
 * Contract: the `NotificationStore` suite in `@canaryroll/notifier/testing`.
 *
 * @since 0.1.0
 */
import { Context, Effect, Layer, Option, Schema } from "effect"
import type * as Notification from "./Notification.ts"
import type * as NotificationEvent from "./NotificationEvent.ts"

/** A channel kind's name (`ChannelKinds`): the store keeps any, as text. */
export type Kind = string

export interface ChannelRecord {
  readonly id: string
  readonly teamId: string
  readonly name: string
  readonly kind: Kind
  readonly events: ReadonlyArray<NotificationEvent.EventName>
  readonly enabled: boolean
  /** What is not secret (an email channel's server, a URL's redacted display), as JSON. */
  readonly settings: { readonly [key: string]: unknown }
  /** Sealed secrets by name (`url`, `secret`, `password`), each bound to this channel and name. */
  readonly secrets: { readonly [name: string]: string }
  readonly createdAt: number
  readonly updatedAt: number
}

export type DeliveryStatus = "pending" | "delivered" | "failed"

export interface DeliveryRecord {
  /** Sent as `X-CanaryRoll-Delivery`: the same for every attempt. */
  readonly id: string
  readonly teamId: string
  readonly channelId: string
  readonly eventId: string
  readonly releaseId: string
  readonly eventName: Notification.Notification["name"]
  /** The event's position in the log (0 for a test message): a channel gets its messages in log order. */
  readonly sequence: number
  readonly notification: Notification.Notification
  readonly status: DeliveryStatus
  /** Attempts started (claims), including one under way. */
  readonly attempts: number
  /** When a `pending` delivery is due; `null` once it is `delivered` or `failed`. */
  readonly nextAttemptAt: number | null
  /** Until when a sender holds it; `null` when nobody does. */
  readonly leaseUntil: number | null
  readonly lastError: string | null
  /** The HTTP status (or SMTP reply code) of the last attempt, if it got one. */
  readonly lastStatusCode: number | null
  readonly createdAt: number
  readonly completedAt: number | null
}

export interface NewDelivery {
  readonly id: string
  readonly teamId: string
  readonly channelId: string
  readonly eventId: string
  readonly releaseId: string
  readonly eventName: Notification.Notification["name"]
  readonly sequence: number
  readonly notification: Notification.Notification
  readonly createdAt: number
  /**
   * Inserted already claimed, its first attempt under way until this time (a test message sent
   * at once): no sender takes it meanwhile. Absent: pending, due at `createdAt`.
   */
  readonly claimedUntil?: number | undefined
}

/** How an attempt ended, for `complete`. */
export type AttemptOutcome =
  | { readonly _tag: "Delivered"; readonly at: number; readonly statusCode: number | null }
  | {
    readonly _tag: "Retry"
    readonly at: number
    readonly nextAttemptAt: number
    readonly error: string
    readonly statusCode: number | null
  }
  | { readonly _tag: "Failed"; readonly at: number; readonly error: string; readonly statusCode: number | null }

export interface DeliveryQuery {
  readonly channelId?: string | undefined
  readonly status?: DeliveryStatus | undefined
  /** Newest first; at most this many (the adapter caps it at `maxLimit`). */
  readonly limit: number
}

export const maxLimit = 200

export class NotificationStoreUnavailable
  extends Schema.TaggedError<NotificationStoreUnavailable>()("NotificationStoreUnavailable", {
    message: Schema.String
  })
{}

export class NotificationStore extends Context.Service<NotificationStore, {
  /** Adds a channel; its id is new. */
  readonly insertChannel: (channel: ChannelRecord) => Effect.Effect<void, NotificationStoreUnavailable>
  /** Replaces the team's channel of that id; `false` if there is none. */
  readonly updateChannel: (channel: ChannelRecord) => Effect.Effect<boolean, NotificationStoreUnavailable>
  /** Deletes the team's channel and its deliveries; `false` if there is none. */
  readonly deleteChannel: (teamId: string, channelId: string) => Effect.Effect<boolean, NotificationStoreUnavailable>
  readonly getChannel: (
    teamId: string,
    channelId: string
  ) => Effect.Effect<Option.Option<ChannelRecord>, NotificationStoreUnavailable>
  /** The team's channels, oldest first. */
  readonly listChannels: (teamId: string) => Effect.Effect<ReadonlyArray<ChannelRecord>, NotificationStoreUnavailable>
  /** The team's enabled channels subscribed to `eventName`. */
  readonly subscribers: (
    teamId: string,
    eventName: NotificationEvent.EventName
  ) => Effect.Effect<ReadonlyArray<ChannelRecord>, NotificationStoreUnavailable>
  /** Records deliveries, skipping any whose (event id, channel id) is already recorded; returns how many were new. */
  readonly enqueue: (deliveries: ReadonlyArray<NewDelivery>) => Effect.Effect<number, NotificationStoreUnavailable>
  /**
   * Claims up to `limit` pending deliveries due at `now` and not leased, at most one per channel
   * and none of a channel that already has one leased (a slow channel holds one sender, not
   * all); leases them until `now + leaseMs` and counts the attempt. Earliest due first, then
   * in log order (`sequence`).
   */
  readonly claimDue: (options: {
    readonly now: number
    readonly limit: number
    readonly leaseMs: number
  }) => Effect.Effect<ReadonlyArray<DeliveryRecord>, NotificationStoreUnavailable>
  /** Records how an attempt ended and drops the lease. */
  readonly complete: (id: string, outcome: AttemptOutcome) => Effect.Effect<void, NotificationStoreUnavailable>
  readonly listDeliveries: (
    teamId: string,
    query: DeliveryQuery
  ) => Effect.Effect<ReadonlyArray<DeliveryRecord>, NotificationStoreUnavailable>
  readonly getDelivery: (
    teamId: string,
    id: string
  ) => Effect.Effect<Option.Option<DeliveryRecord>, NotificationStoreUnavailable>
}>()("@canaryroll/notifier/NotificationStore") {}

/** Newest first, then latest in the log, then the later id: the order every adapter lists deliveries in. */
const newestFirst = (a: DeliveryRecord, b: DeliveryRecord) =>
  b.createdAt - a.createdAt || b.sequence - a.sequence || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0)

export const makeMemory = Effect.sync(() => {
  const channels = new Map<string, ChannelRecord>()
  const deliveries = new Map<string, DeliveryRecord>()
  const keys = new Set<string>()
  const key = (eventId: string, channelId: string) => JSON.stringify([eventId, channelId])
  const ownChannel = (teamId: string, channelId: string) => {
    const channel = channels.get(channelId)
    return channel !== undefined && channel.teamId === teamId ? channel : undefined
  }
  return NotificationStore.of({
    insertChannel: (channel) => Effect.sync(() => void channels.set(channel.id, channel)),
    updateChannel: (channel) =>
      Effect.sync(() => {
        if (ownChannel(channel.teamId, channel.id) === undefined) return false
        channels.set(channel.id, channel)
        return true
      }),
    deleteChannel: (teamId, channelId) =>
      Effect.sync(() => {
        if (ownChannel(teamId, channelId) === undefined) return false
        channels.delete(channelId)
        for (const delivery of [...deliveries.values()]) {
          if (delivery.channelId === channelId) {
            deliveries.delete(delivery.id)
            keys.delete(key(delivery.eventId, channelId))
          }
        }
        return true
      }),
    getChannel: (teamId, channelId) => Effect.sync(() => Option.fromNullishOr(ownChannel(teamId, channelId))),
    listChannels: (teamId) =>
      Effect.sync(() =>
        [...channels.values()]
          .filter((channel) => channel.teamId === teamId)
          .sort((a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : 1))
      ),
    subscribers: (teamId, eventName) =>
      Effect.sync(() =>
        [...channels.values()]
          .filter((channel) => channel.teamId === teamId && channel.enabled && channel.events.includes(eventName))
          .sort((a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : 1))
      ),
    enqueue: (news) =>
      Effect.sync(() => {
        let added = 0
        for (const delivery of news) {
          const k = key(delivery.eventId, delivery.channelId)
          if (keys.has(k) || !channels.has(delivery.channelId)) continue
          keys.add(k)
          const { claimedUntil: _, ...fields } = delivery
          deliveries.set(delivery.id, {
            ...fields,
            status: "pending",
            attempts: delivery.claimedUntil === undefined ? 0 : 1,
            nextAttemptAt: delivery.createdAt,
            leaseUntil: delivery.claimedUntil ?? null,
            lastError: null,
            lastStatusCode: null,
            completedAt: null
          })
          added++
        }
        return added
      }),
    claimDue: ({ leaseMs, limit, now }) =>
      Effect.sync(() => {
        const all = [...deliveries.values()]
        const busy = new Set(
          all.filter((d) => d.status === "pending" && d.leaseUntil !== null && d.leaseUntil > now).map((d) => d.channelId)
        )
        const due = all
          .filter((d) =>
            d.status === "pending" && d.nextAttemptAt !== null && d.nextAttemptAt <= now &&
            (d.leaseUntil === null || d.leaseUntil <= now) && !busy.has(d.channelId)
          )
          .sort((a, b) => a.nextAttemptAt! - b.nextAttemptAt! || a.sequence - b.sequence || (a.id < b.id ? -1 : 1))
        const claimed: Array<DeliveryRecord> = []
        for (const delivery of due) {
          if (claimed.length >= limit) break
          if (busy.has(delivery.channelId)) continue
          busy.add(delivery.channelId)
          const leased = { ...delivery, leaseUntil: now + leaseMs, attempts: delivery.attempts + 1 }
          deliveries.set(delivery.id, leased)
          claimed.push(leased)
        }
        return claimed
      }),
    complete: (id, outcome) =>
      Effect.sync(() => {
        const delivery = deliveries.get(id)
        if (delivery === undefined || delivery.status !== "pending") return
        deliveries.set(id, {
          ...delivery,
          leaseUntil: null,
          lastStatusCode: outcome.statusCode,
          ...(outcome._tag === "Delivered"
            ? { status: "delivered", nextAttemptAt: null, completedAt: outcome.at, lastError: null }
            : outcome._tag === "Retry"
            ? { nextAttemptAt: outcome.nextAttemptAt, lastError: outcome.error }
            : { status: "failed", nextAttemptAt: null, completedAt: outcome.at, lastError: outcome.error })
        })
      }),
    listDeliveries: (teamId, query) =>
      Effect.sync(() =>
        [...deliveries.values()]
          .filter((d) =>
            d.teamId === teamId && (query.channelId === undefined || d.channelId === query.channelId) &&
            (query.status === undefined || d.status === query.status)
          )
          .sort(newestFirst)
          .slice(0, Math.max(0, Math.min(query.limit, maxLimit)))
      ),
    getDelivery: (teamId, id) =>
      Effect.sync(() => {
        const delivery = deliveries.get(id)
        return delivery !== undefined && delivery.teamId === teamId ? Option.some(delivery) : Option.none()
      })
  })
})

export const layerMemory: Layer.Layer<NotificationStore> = Layer.effect(NotificationStore, makeMemory)
