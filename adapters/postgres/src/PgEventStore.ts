/**
 * PgEventStore: the EventStore port on one `events` table.
 *
 * Appending checks the stream's version and inserts in one transaction; the unique
 * `(stream_id, stream_version)` settles races, so of many concurrent writers exactly one wins and
 * the others get `StreamVersionConflict` with the version that won. An `onAppend` hook runs in
 * the same transaction, for read models that must never disagree with the events.
 *
 * Reading the global log is gap-safe. Positions come from a sequence, which hands them out before
 * commit, so a reader can see position 11 committed while 10 is still in flight; a cursor that
 * moved past 11 would never see 10. The usual cure, reading only transactions older than
 * `pg_snapshot_xmin(pg_current_snapshot())`, is only safe for a cursor ordered by transaction id:
 * an older transaction can take a *higher* position than a younger one that commits later. The
 * port's cursor is the position, so each append follows a protocol that makes positions safe:
 *
 * 1. it takes its transaction id first (`pg_current_xact_id()`),
 * 2. then allocates its positions (`nextval`, in its own statement),
 * 3. then inserts, stamping each event with `horizon`: the first transaction id not yet assigned
 *    at the start of that statement, i.e. after its positions were allocated.
 *
 * Any transaction that can still commit a position below an event's must have had its id before
 * that position was allocated, so its id is below the event's `horizon`. A reader therefore
 * returns events up to the last one whose `horizon` is at or below the oldest transaction still
 * running: nothing can ever appear before it. Transactions in other databases of the cluster
 * cannot write our table and are left out of "running" (a shared server's long transactions, or
 * another test file's, do not stall us); a long writing transaction in this database stalls the
 * log until it ends, never skipping it. Statements must run at READ COMMITTED (the default), so
 * that step 3 takes a new snapshot.
 *
 * @since 0.1.0
 */
import { EventStore, ReleaseEvent } from "@canaryroll/core"
import { Effect, Layer, Schema } from "effect"
import { SqlClient, type SqlError } from "effect/sql"

/**
 * Runs inside the append's transaction with the events just recorded, before commit: whatever it
 * writes commits or rolls back with them. A failure aborts the append (`EventStoreUnavailable`).
 * Compose several with `Effect.all`.
 */
export type AppendHook = (
  recorded: ReadonlyArray<EventStore.RecordedEvent>
) => Effect.Effect<void, SqlError.SqlError, SqlClient.SqlClient>

export interface Options {
  readonly onAppend?: AppendHook | undefined
}

interface EventRow {
  readonly position: bigint
  readonly stream_id: string
  readonly stream_version: number
  /** `data::text`: decoded with `ReleaseEvent.Json`, the storage form. */
  readonly data: string
  readonly recorded_at: Date
}

const decodeEvent = Schema.decodeEffect(ReleaseEvent.Json)
const encodeEvent = Schema.encodeEffect(ReleaseEvent.Json)

/** A stored event that no longer decodes is a bug (an event changed without an upcaster), not an outage. */
const toRecorded = (row: EventRow) =>
  decodeEvent(row.data).pipe(
    Effect.map((event): EventStore.RecordedEvent => ({
      id: EventStore.eventId(row.stream_id, row.stream_version),
      streamId: row.stream_id,
      version: row.stream_version,
      position: Number(row.position),
      event,
      recordedAt: row.recorded_at.getTime()
    })),
    Effect.catch((error) =>
      Effect.die(new Error(`event ${row.stream_id}:${row.stream_version} does not decode: ${error.message}`))
    )
  )

const unavailable = (error: SqlError.SqlError) => new EventStore.EventStoreUnavailable({ message: error.message })

const currentVersion = Effect.fnUntraced(function*(streamId: string) {
  const sql = yield* SqlClient.SqlClient
  const [row] = yield* sql<{ version: number }>`
    SELECT coalesce(max(stream_version), 0)::int AS version FROM events WHERE stream_id = ${streamId}`
  return row?.version ?? 0
})

/** The stream's events in version order. */
export const readStream = Effect.fnUntraced(function*(streamId: string) {
  const sql = yield* SqlClient.SqlClient
  const rows = yield* sql<EventRow>`
    SELECT position, stream_id, stream_version, data::text AS data, recorded_at
    FROM events WHERE stream_id = ${streamId} ORDER BY stream_version`
  return yield* Effect.forEach(rows, toRecorded)
})

/**
 * Events after `after` in position order, at most `limit`, cut after the last one that has
 * settled (see the module doc); one statement, so one snapshot. May return fewer than are
 * committed while a lower position is in flight, never a position that something could still
 * commit below.
 */
export const readAll = Effect.fnUntraced(function*(after: number, limit: number) {
  const sql = yield* SqlClient.SqlClient
  const rows = yield* sql<EventRow & { readonly settled: boolean }>`
    WITH other_databases AS (
      SELECT backend_xid FROM pg_stat_activity
      WHERE backend_xid IS NOT NULL AND datname <> current_database()
    ), oldest_running AS (
      SELECT coalesce(
        (SELECT min(running) FROM pg_snapshot_xip(pg_current_snapshot()) AS running
         WHERE running::xid NOT IN (SELECT backend_xid FROM other_databases)),
        pg_snapshot_xmax(pg_current_snapshot())
      ) AS xid
    )
    SELECT position, stream_id, stream_version, data::text AS data, recorded_at,
           horizon <= (SELECT xid FROM oldest_running) AS settled
    FROM events WHERE position > ${after} ORDER BY position LIMIT ${limit}`
  const settled = rows.findLastIndex((row) => row.settled)
  return yield* Effect.forEach(rows.slice(0, settled + 1), toRecorded)
})

/** The append protocol (see the module doc), inside the caller's transaction. */
const appendInTransaction = Effect.fnUntraced(function*(
  streamId: string,
  expectedVersion: number,
  events: ReadonlyArray<ReleaseEvent.ReleaseEvent>,
  encoded: ReadonlyArray<string>,
  onAppend: AppendHook | undefined
) {
  const sql = yield* SqlClient.SqlClient
  // 1. The transaction id before any position; reading the version in the same statement.
  const [head] = yield* sql<{ version: number }>`
    SELECT pg_current_xact_id()::text AS transaction_id, coalesce(max(stream_version), 0)::int AS version
    FROM events WHERE stream_id = ${streamId}`
  const actualVersion = head?.version ?? 0
  if (actualVersion !== expectedVersion) {
    return yield* new EventStore.StreamVersionConflict({ streamId, expectedVersion, actualVersion })
  }
  if (events.length === 0) return []
  // 2. Positions, in a statement of their own so that the insert's snapshot comes after them.
  const positions = yield* sql<{ position: bigint }>`
    SELECT nextval('event_positions') AS position FROM generate_series(1, ${events.length})`
  // 3. The insert; `horizon` and `transaction_id` come from their column defaults. A concurrent
  // writer that got in first makes ON CONFLICT skip rows instead of aborting the transaction.
  const values = events.map((event, i) =>
    sql`(${positions[i]!.position}, ${streamId}, ${expectedVersion + i + 1}, ${event._tag}, ${encoded[i]!}::jsonb)`
  )
  const inserted = yield* sql<{ position: bigint; stream_version: number; recorded_at: Date }>`
    INSERT INTO events (position, stream_id, stream_version, type, data) OVERRIDING SYSTEM VALUE
    VALUES ${sql.join(",", false)(values)}
    ON CONFLICT (stream_id, stream_version) DO NOTHING
    RETURNING position, stream_version, recorded_at`
  if (inserted.length !== events.length) {
    // READ COMMITTED: this statement sees the writer that won.
    return yield* new EventStore.StreamVersionConflict({
      streamId,
      expectedVersion,
      actualVersion: yield* currentVersion(streamId)
    })
  }
  const byVersion = new Map(inserted.map((row) => [row.stream_version, row]))
  const recorded = events.map((event, i): EventStore.RecordedEvent => {
    const version = expectedVersion + i + 1
    const row = byVersion.get(version)!
    return {
      id: EventStore.eventId(streamId, version),
      streamId,
      version,
      position: Number(row.position),
      event,
      recordedAt: row.recorded_at.getTime()
    }
  })
  if (onAppend !== undefined) yield* onAppend(recorded)
  return recorded
})

/** The store over the `SqlClient` in context; run `Migrations` first. */
export const make = (options: Options = {}): Effect.Effect<typeof EventStore.EventStore.Service, never, SqlClient.SqlClient> =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const provideSql = Effect.provideService(SqlClient.SqlClient, sql)
    return EventStore.EventStore.of({
      append: (streamId, expectedVersion, events) =>
        Effect.gen(function*() {
          // Encoding is pure: do it before taking a connection.
          const encoded = yield* Effect.forEach(events, (event) => encodeEvent(event)).pipe(
            Effect.catch((error) => Effect.die(new Error(`event does not encode: ${error.message}`)))
          )
          return yield* appendInTransaction(streamId, expectedVersion, events, encoded, options.onAppend).pipe(
            sql.withTransaction
          )
        }).pipe(Effect.catchTag("SqlError", (error) => Effect.fail(unavailable(error))), provideSql),
      readStream: (streamId) => readStream(streamId).pipe(Effect.mapError(unavailable), provideSql),
      readAll: (after, limit) => readAll(after, limit).pipe(Effect.mapError(unavailable), provideSql)
    })
  })

export const layer = (options: Options = {}): Layer.Layer<EventStore.EventStore, never, SqlClient.SqlClient> =>
  Layer.effect(EventStore.EventStore, make(options))
