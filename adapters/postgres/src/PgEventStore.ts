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
 * an older transaction can take a *higher* position than a younger one that commits later (the
 * second gap test shows it). The port's cursor is the position, so an append goes in three steps:
 *
 * 1. it takes its transaction id (`pg_current_xact_id()`): from now on readers see it running;
 * 2. it allocates its positions (`nextval`, in a statement of its own);
 * 3. it inserts in a subtransaction (a savepoint), whose id is assigned by the insert, so each
 *    row's `xmin` is a transaction id handed out after its position.
 *
 * Whoever can still commit a position below an event's took its transaction id (step 1) before
 * that position was allocated, so before the event's `xmin`. A reader therefore returns events up
 * to the last one whose `xmin` is older than every transaction still running: nothing can appear
 * before it any more. Transactions in other databases of the cluster cannot write this table and
 * are not counted (a shared server's long transactions, or another test file's, do not stall us);
 * a long writing transaction in this database stalls the log until it ends, and nothing is
 * skipped. The rows' 32-bit `xmin` is widened against the reader's snapshot, which is exact for
 * any row less than 2^32 transactions old (an older one can only be held back, never skipped).
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

/**
 * What went wrong, for the `*Unavailable` errors: the driver's message ("Query failed") is
 * useless alone, the server's ("relation ... does not exist", "connect ECONNREFUSED") is not.
 */
export const describeSqlError = (error: SqlError.SqlError): string => {
  const cause: unknown = error.reason.cause
  const detail = typeof cause === "object" && cause !== null && "message" in cause ? String(cause.message) : undefined
  return `${error.reason._tag}: ${error.message}${detail !== undefined && detail !== error.message ? ` (${detail})` : ""}`
}

const unavailable = (error: SqlError.SqlError) => new EventStore.EventStoreUnavailable({ message: describeSqlError(error) })

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
  // `settled`: the row's xmin, widened to 64 bits against the snapshot's xmax (which is above it,
  // the row being committed), is older than the oldest transaction still running in this database.
  const rows = yield* sql<EventRow & { readonly settled: boolean }>`
    WITH snapshot AS (
      SELECT pg_snapshot_xmax(pg_current_snapshot())::text::bigint AS xmax,
        coalesce(
          (SELECT min(running) FROM pg_snapshot_xip(pg_current_snapshot()) AS running
           WHERE running::xid NOT IN (
             SELECT backend_xid FROM pg_stat_activity
             WHERE backend_xid IS NOT NULL AND datname <> current_database())),
          pg_snapshot_xmax(pg_current_snapshot())
        )::text::bigint AS oldest_running
    )
    SELECT e.position, e.stream_id, e.stream_version, e.data::text AS data, e.recorded_at,
      s.xmax - (s.xmax % 4294967296 - e.xmin::text::bigint + 4294967296) % 4294967296 < s.oldest_running AS settled
    FROM events e, snapshot s
    WHERE e.position > ${after} ORDER BY e.position LIMIT ${limit}`
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
  // 1. The transaction id, before any position; the version in the same statement.
  const [head] = yield* sql<{ version: number }>`
    SELECT pg_current_xact_id()::text AS transaction_id, coalesce(max(stream_version), 0)::int AS version
    FROM events WHERE stream_id = ${streamId}`
  const actualVersion = head?.version ?? 0
  if (actualVersion !== expectedVersion) {
    return yield* new EventStore.StreamVersionConflict({ streamId, expectedVersion, actualVersion })
  }
  if (events.length === 0) return []
  // 2. The positions.
  const positions = yield* sql<{ position: bigint }>`
    SELECT nextval('event_positions') AS position FROM generate_series(1, ${events.length})`
  // 3. The insert, in a subtransaction so that the rows' xmin is assigned after the positions. A
  // concurrent writer that got in first makes ON CONFLICT skip rows instead of failing.
  const values = events.map((event, i) =>
    sql`(${positions[i]!.position}, ${streamId}, ${expectedVersion + i + 1}, ${event._tag}, ${encoded[i]!}::jsonb)`
  )
  const inserted = yield* sql<{ position: bigint; stream_version: number; recorded_at: Date }>`
    INSERT INTO events (position, stream_id, stream_version, type, data) OVERRIDING SYSTEM VALUE
    VALUES ${sql.join(",", false)(values)}
    ON CONFLICT (stream_id, stream_version) DO NOTHING
    RETURNING position, stream_version, recorded_at`.pipe(sql.withTransaction)
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
