/**
 * PgNotifications: the notifier's NotificationStore on `notification_channels` and
 * `notification_deliveries` (migration `0007_notifications`), so that channels, and what each
 * was sent, survive restarts and are shared by every server process.
 *
 * - Recording is `INSERT … ON CONFLICT (event_id, channel_id) DO NOTHING`: the outbox handing a
 *   batch out again records nothing new, in this process or another.
 * - Claims lock rows `FOR UPDATE SKIP LOCKED`, so processes claiming at once never take the same
 *   delivery, and a claim is a lease (`lease_until`) with the attempt counted in the same
 *   statement: a process that dies mid-attempt loses the delivery to whoever claims after the
 *   lease, and an attempt is never uncounted. At most one delivery per channel is claimed at a
 *   time (the first due of each channel that has none leased); two processes racing may each
 *   lease a different one of the same channel, which only costs the ordering, never a message.
 * - Times are the notifier's (its `Clock`), stored as `timestamptz`; the due and lease
 *   comparisons use the time given, not the database's, like the memory store.
 *
 * Channel secrets arrive sealed (see the notifier's `SecretSealer`); this module never sees one
 * in clear. `sealed_secrets` is a JSON map by name (`url`, `secret`, `password`, and a webhook's
 * rotated-out `previousSecret`), stored and read back as given: a new name needs no migration, and neither does a
 * new channel kind (`kind` is any name the notifier's `ChannelKinds` registry holds; migration
 * `0014_channel_kinds_open` dropped the CHECK that listed them). The tables reference `teams`: deleting a team deletes its channels and deliveries.
 *
 * @since 0.1.0
 */
import { type Notification, type NotificationEvent, NotificationStore } from "@canaryroll/notifier"
import { PgTypes } from "@effect/sql-pg"
import { Effect, Layer, Option, Result } from "effect"
import { SqlClient, type SqlError } from "effect/sql"
import * as PgEventStore from "./PgEventStore.ts"

/** A `text[]` parameter (the driver would bind an empty array untyped). */
const textArray = (values: ReadonlyArray<string>) => Result.getOrThrow(PgTypes.array(values, PgTypes.OID.text))

const unavailable = (error: SqlError.SqlError) =>
  new NotificationStore.NotificationStoreUnavailable({ message: PgEventStore.describeSqlError(error) })

interface ChannelRow {
  readonly id: string
  readonly team_id: string
  readonly name: string
  readonly kind: NotificationStore.Kind
  readonly events: ReadonlyArray<string>
  readonly enabled: boolean
  readonly settings: { readonly [key: string]: unknown }
  readonly sealed_secrets: { readonly [name: string]: string }
  readonly created_at: Date
  readonly updated_at: Date
}

interface DeliveryRow {
  readonly id: string
  readonly team_id: string
  readonly channel_id: string
  readonly event_id: string
  readonly release_id: string
  readonly event_name: string
  readonly sequence: bigint | string | number
  readonly notification: unknown
  readonly status: NotificationStore.DeliveryStatus
  readonly attempts: number
  readonly next_attempt_at: Date | null
  readonly lease_until: Date | null
  readonly last_error: string | null
  readonly last_status_code: number | null
  readonly created_at: Date
  readonly completed_at: Date | null
}

const toChannel = (row: ChannelRow): NotificationStore.ChannelRecord => ({
  id: row.id,
  teamId: row.team_id,
  name: row.name,
  kind: row.kind,
  // written only from the notifier's validated event names
  events: row.events as ReadonlyArray<NotificationEvent.EventName>,
  enabled: row.enabled,
  settings: row.settings,
  secrets: row.sealed_secrets,
  createdAt: row.created_at.getTime(),
  updatedAt: row.updated_at.getTime()
})

const time = (date: Date | null) => date === null ? null : date.getTime()

const toDelivery = (row: DeliveryRow): NotificationStore.DeliveryRecord => ({
  id: row.id,
  teamId: row.team_id,
  channelId: row.channel_id,
  eventId: row.event_id,
  releaseId: row.release_id,
  eventName: row.event_name as NotificationStore.DeliveryRecord["eventName"],
  sequence: Number(row.sequence),
  // Written by `enqueue` from the notifier's own Notification: a storage form we produce, read back as is.
  notification: row.notification as Notification.Notification,
  status: row.status,
  attempts: row.attempts,
  nextAttemptAt: time(row.next_attempt_at),
  leaseUntil: time(row.lease_until),
  lastError: row.last_error,
  lastStatusCode: row.last_status_code,
  createdAt: row.created_at.getTime(),
  completedAt: time(row.completed_at)
})

const byDueThenLog = (a: NotificationStore.DeliveryRecord, b: NotificationStore.DeliveryRecord) =>
  a.nextAttemptAt! - b.nextAttemptAt! || a.sequence - b.sequence || (a.id < b.id ? -1 : 1)

/** The store over the `SqlClient` in context; run `Migrations` first. */
export const make: Effect.Effect<NotificationStore.NotificationStore["Service"], never, SqlClient.SqlClient> = Effect.gen(
  function*() {
    const sql = yield* SqlClient.SqlClient
    const json = (value: unknown) => JSON.stringify(value)
    const at = (ms: number) => new Date(ms)

    const insertChannel = (channel: NotificationStore.ChannelRecord) =>
      sql`
        INSERT INTO notification_channels
          (id, team_id, name, kind, events, enabled, settings, sealed_secrets, created_at, updated_at)
        VALUES (${channel.id}, ${channel.teamId}, ${channel.name}, ${channel.kind}, ${textArray(channel.events)},
          ${channel.enabled}, ${json(channel.settings)}::jsonb, ${json(channel.secrets)}::jsonb,
          ${at(channel.createdAt)}, ${at(channel.updatedAt)})`.pipe(Effect.asVoid, Effect.mapError(unavailable))

    const updateChannel = (channel: NotificationStore.ChannelRecord) =>
      sql<{ id: string }>`
        UPDATE notification_channels SET name = ${channel.name}, kind = ${channel.kind},
          events = ${textArray(channel.events)}, enabled = ${channel.enabled},
          settings = ${json(channel.settings)}::jsonb, sealed_secrets = ${json(channel.secrets)}::jsonb,
          updated_at = ${at(channel.updatedAt)}
        WHERE id = ${channel.id} AND team_id = ${channel.teamId}
        RETURNING id`.pipe(Effect.map((rows) => rows.length > 0), Effect.mapError(unavailable))

    const deleteChannel = (teamId: string, channelId: string) =>
      sql<{ id: string }>`DELETE FROM notification_channels WHERE id = ${channelId} AND team_id = ${teamId} RETURNING id`
        .pipe(Effect.map((rows) => rows.length > 0), Effect.mapError(unavailable))

    const getChannel = (teamId: string, channelId: string) =>
      sql<ChannelRow>`SELECT * FROM notification_channels WHERE id = ${channelId} AND team_id = ${teamId}`.pipe(
        Effect.map((rows) => Option.map(Option.fromNullishOr(rows[0]), toChannel)),
        Effect.mapError(unavailable)
      )

    const listChannels = (teamId: string) =>
      sql<ChannelRow>`SELECT * FROM notification_channels WHERE team_id = ${teamId} ORDER BY created_at, id`.pipe(
        Effect.map((rows) => rows.map(toChannel)),
        Effect.mapError(unavailable)
      )

    const subscribers = (teamId: string, eventName: NotificationEvent.EventName) =>
      sql<ChannelRow>`
        SELECT * FROM notification_channels
        WHERE team_id = ${teamId} AND enabled AND ${eventName} = ANY (events)
        ORDER BY created_at, id`.pipe(Effect.map((rows) => rows.map(toChannel)), Effect.mapError(unavailable))

    const enqueue = (deliveries: ReadonlyArray<NotificationStore.NewDelivery>) =>
      Effect.forEach(deliveries, (delivery) =>
        // A channel deleted since it was looked up gets nothing (rather than a foreign key error).
        sql<{ id: string }>`
          INSERT INTO notification_deliveries (id, team_id, channel_id, event_id, release_id, event_name, sequence,
            notification, status, attempts, next_attempt_at, lease_until, created_at)
          SELECT ${delivery.id}, ${delivery.teamId}, ${delivery.channelId}, ${delivery.eventId}, ${delivery.releaseId},
            ${delivery.eventName}, ${delivery.sequence}, ${json(delivery.notification)}::jsonb, 'pending',
            ${delivery.claimedUntil === undefined ? 0 : 1}, ${at(delivery.createdAt)},
            ${delivery.claimedUntil === undefined ? null : at(delivery.claimedUntil)}, ${at(delivery.createdAt)}
          WHERE EXISTS (SELECT 1 FROM notification_channels WHERE id = ${delivery.channelId})
          ON CONFLICT (event_id, channel_id) DO NOTHING
          RETURNING id`.pipe(Effect.map((rows) => rows.length))).pipe(
        Effect.map((counts) => counts.reduce((sum, n) => sum + n, 0)),
        sql.withTransaction,
        Effect.mapError(unavailable)
      )

    const claimDue = ({ leaseMs, limit, now }: { readonly now: number; readonly limit: number; readonly leaseMs: number }) =>
      sql<DeliveryRow>`
        WITH candidates AS (
          SELECT DISTINCT ON (d.channel_id) d.id, d.next_attempt_at, d.sequence
          FROM notification_deliveries d
          WHERE d.status = 'pending' AND d.next_attempt_at <= ${at(now)}
            AND (d.lease_until IS NULL OR d.lease_until <= ${at(now)})
            AND NOT EXISTS (
              SELECT 1 FROM notification_deliveries busy
              WHERE busy.channel_id = d.channel_id AND busy.lease_until > ${at(now)} AND busy.status = 'pending'
            )
          ORDER BY d.channel_id, d.next_attempt_at, d.sequence, d.id
        ), picked AS (
          SELECT d.id FROM notification_deliveries d JOIN candidates c ON c.id = d.id
          ORDER BY c.next_attempt_at, c.sequence, c.id
          LIMIT ${limit}
          FOR UPDATE OF d SKIP LOCKED
        )
        UPDATE notification_deliveries d SET lease_until = ${at(now + leaseMs)}, attempts = d.attempts + 1
        FROM picked
        -- re-checked under the row lock: another process may have claimed or finished it meanwhile
        WHERE d.id = picked.id AND d.status = 'pending' AND (d.lease_until IS NULL OR d.lease_until <= ${at(now)})
        RETURNING d.*`.pipe(
        Effect.map((rows) => rows.map(toDelivery).sort(byDueThenLog)),
        Effect.mapError(unavailable)
      )

    const complete = (id: string, outcome: NotificationStore.AttemptOutcome) => {
      const update = outcome._tag === "Delivered"
        ? sql`
          UPDATE notification_deliveries SET status = 'delivered', next_attempt_at = NULL, lease_until = NULL,
            completed_at = ${at(outcome.at)}, last_error = NULL, last_status_code = ${outcome.statusCode}
          WHERE id = ${id} AND status = 'pending'`
        : outcome._tag === "Retry"
        ? sql`
          UPDATE notification_deliveries SET next_attempt_at = ${at(outcome.nextAttemptAt)}, lease_until = NULL,
            last_error = ${outcome.error}, last_status_code = ${outcome.statusCode}
          WHERE id = ${id} AND status = 'pending'`
        : sql`
          UPDATE notification_deliveries SET status = 'failed', next_attempt_at = NULL, lease_until = NULL,
            completed_at = ${at(outcome.at)}, last_error = ${outcome.error}, last_status_code = ${outcome.statusCode}
          WHERE id = ${id} AND status = 'pending'`
      return update.pipe(Effect.asVoid, Effect.mapError(unavailable))
    }

    const listDeliveries = (teamId: string, query: NotificationStore.DeliveryQuery) => {
      const limit = Math.max(0, Math.min(query.limit, NotificationStore.maxLimit))
      const filters = [
        sql`team_id = ${teamId}`,
        ...(query.channelId === undefined ? [] : [sql`channel_id = ${query.channelId}`]),
        ...(query.status === undefined ? [] : [sql`status = ${query.status}`])
      ]
      return sql<DeliveryRow>`
        SELECT * FROM notification_deliveries WHERE ${sql.and(filters)}
        ORDER BY created_at DESC, sequence DESC, id DESC LIMIT ${limit}`.pipe(
        Effect.map((rows) => rows.map(toDelivery)),
        Effect.mapError(unavailable)
      )
    }

    const getDelivery = (teamId: string, id: string) =>
      sql<DeliveryRow>`SELECT * FROM notification_deliveries WHERE id = ${id} AND team_id = ${teamId}`.pipe(
        Effect.map((rows) => Option.map(Option.fromNullishOr(rows[0]), toDelivery)),
        Effect.mapError(unavailable)
      )

    return NotificationStore.NotificationStore.of({
      insertChannel,
      updateChannel,
      deleteChannel,
      getChannel,
      listChannels,
      subscribers,
      enqueue,
      claimDue,
      complete,
      listDeliveries,
      getDelivery
    })
  }
)

export const layer: Layer.Layer<NotificationStore.NotificationStore, never, SqlClient.SqlClient> = Layer.effect(
  NotificationStore.NotificationStore,
  make
)
