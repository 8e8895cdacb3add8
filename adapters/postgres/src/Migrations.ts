/**
 * Migrations: the CanaryRoll schema, run on start with Effect's Migrator. Safe to run from
 * several processes at once: each takes a transaction-scoped advisory lock (keyed by the schema
 * it migrates) before the Migrator looks at what is pending, so the second process waits for the
 * first to commit and then finds nothing left to do.
 *
 * A migration is a storage contract like the events: never edit one that has shipped, add the
 * next number.
 *
 * @since 0.1.0
 */
import { Effect, Layer } from "effect"
import { Migrator, SqlClient, type SqlError } from "effect/sql"

/** Where the Migrator records what ran; not Effect's default name, to share a database politely. */
export const table = "canaryroll_migrations"

export const migrations = Migrator.fromRecord({
  "0001_events": Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    // `position` is allocated by `PgEventStore.append` in its own statement, before the insert
    // (hence GENERATED ALWAYS plus OVERRIDING SYSTEM VALUE there), and the sequence must keep
    // CACHE 1: the gap-safe reading of the log relies on positions being handed out in time order
    // across sessions, which per-session caching would break. Rows are never updated: readers
    // rely on each row's `xmin` being the subtransaction that inserted it (see PgEventStore).
    yield* sql`
      CREATE TABLE events (
        position bigint GENERATED ALWAYS AS IDENTITY (SEQUENCE NAME event_positions CACHE 1) PRIMARY KEY,
        stream_id text NOT NULL,
        stream_version integer NOT NULL CHECK (stream_version > 0),
        type text NOT NULL,
        data jsonb NOT NULL,
        metadata jsonb NOT NULL DEFAULT '{}',
        recorded_at timestamptz NOT NULL DEFAULT now(),
        transaction_id xid8 NOT NULL DEFAULT pg_current_xact_id(),
        UNIQUE (stream_id, stream_version)
      )`
    yield* sql`COMMENT ON TABLE events IS
      'Written only by PgEventStore.append, never updated: the gap-safe reading of the log depends on how rows get their positions and their xmin.'`
    yield* sql`COMMENT ON COLUMN events.transaction_id IS
      'The appending (top-level) transaction, for consumers that prefer a (transaction_id, position) cursor.'`
  }),
  "0002_outbox_checkpoints": Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    // A position is a safe cursor because `readAll` is gap-safe by position (see PgEventStore),
    // so the checkpoint needs no transaction id.
    yield* sql`
      CREATE TABLE outbox_checkpoints (
        consumer text PRIMARY KEY,
        position bigint NOT NULL CHECK (position >= 0),
        acknowledged_at timestamptz NOT NULL DEFAULT now()
      )`
  }),
  "0003_release_schedule": Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    // One row per scheduled release (see PgScheduler). A lease is an owner and an end, or
    // neither. `due_at` orders claiming; the partial index keeps the few leased rows apart, for
    // the earliest lease end that sleeping loops wait for. Every step rewrites its row, leaving
    // dead index entries exactly where claims and sleepers start scanning (the earliest times),
    // so the table is vacuumed after every 500 dead rows, not after 20% of it: it stays small.
    yield* sql`
      CREATE TABLE release_schedule (
        release_id text PRIMARY KEY,
        due_at timestamptz NOT NULL,
        lease_owner text,
        lease_until timestamptz,
        CHECK ((lease_owner IS NULL) = (lease_until IS NULL))
      ) WITH (autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 500, autovacuum_vacuum_cost_delay = 0)`
    yield* sql`CREATE INDEX release_schedule_due ON release_schedule (due_at)`
    yield* sql`CREATE INDEX release_schedule_leases ON release_schedule (lease_until) WHERE lease_until IS NOT NULL`
  }),
  "0004_read_models": Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    // Written by PgReadModels in the append's transaction, and rebuilt from the events by it.
    // A summary row keeps what folding the next event needs (the summary, the audit context, and
    // the stream version and global position of the last event folded), so an append reads at
    // most this row, never its stream. Times are the events' times, never now(): a rebuild must
    // give exactly the same rows. Every append rewrites its release's row: the free space left on
    // each page lets most of those updates stay on the page without touching the indexes.
    yield* sql`
      CREATE TABLE release_summaries (
        release_id text PRIMARY KEY,
        team_id text NOT NULL,
        worker_id text NOT NULL,
        status text NOT NULL,
        created_at timestamptz NOT NULL,
        updated_at timestamptz NOT NULL,
        version integer NOT NULL CHECK (version > 0),
        position bigint NOT NULL,
        summary jsonb NOT NULL,
        audit_context jsonb NOT NULL
      ) WITH (fillfactor = 50)`
    // Lists are per team, newest first, keyset-paginated on (created_at, release_id).
    yield* sql`CREATE INDEX release_summaries_team ON release_summaries (team_id, created_at DESC, release_id DESC)`
    yield* sql`CREATE INDEX release_summaries_worker
      ON release_summaries (team_id, worker_id, created_at DESC, release_id DESC)`
    yield* sql`CREATE INDEX release_summaries_status
      ON release_summaries (team_id, status, created_at DESC, release_id DESC)`
    // One row per event (`id` is the event id). Pages are newest first on (at, position) within a
    // team; each filter has an index that yields rows in that order, so a page reads about as
    // many index entries as it returns, however deep it is. A release is small enough to filter
    // within; several types are read as one ordered scan per type (see PgAuditLog).
    yield* sql`
      CREATE TABLE audit_log (
        id text PRIMARY KEY,
        position bigint NOT NULL,
        team_id text NOT NULL,
        release_id text NOT NULL,
        worker_id text NOT NULL,
        actor_kind text NOT NULL CHECK (actor_kind IN ('User', 'Token', 'System')),
        actor_id text CHECK ((actor_kind = 'System') = (actor_id IS NULL)),
        type text NOT NULL,
        at timestamptz NOT NULL,
        step_index integer,
        percentage double precision,
        sentence text NOT NULL,
        details jsonb NOT NULL
      )`
    yield* sql`CREATE INDEX audit_log_team ON audit_log (team_id, at DESC, position DESC)`
    yield* sql`CREATE INDEX audit_log_release ON audit_log (release_id, at DESC, position DESC)`
    yield* sql`CREATE INDEX audit_log_type ON audit_log (team_id, type, at DESC, position DESC)`
    yield* sql`CREATE INDEX audit_log_actor ON audit_log (team_id, actor_kind, actor_id, at DESC, position DESC)`
  })
})

/**
 * Runs every pending migration. The Migrator's own `LOCK TABLE` does not cover creating its
 * bookkeeping table, so two first starts could race there; the advisory lock serialises the
 * whole run instead. Nested in this transaction, the Migrator's transaction is a savepoint.
 */
export const run = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  return yield* Effect.gen(function*() {
    yield* sql`SELECT pg_advisory_xact_lock(hashtext(${"canaryroll/migrations/"} || coalesce(current_schema(), '')))`
    return yield* Migrator.make({})({ loader: migrations, table })
  }).pipe(sql.withTransaction)
})

/** Migrates on build; provide it before anything that touches the tables. */
export const layer: Layer.Layer<never, Migrator.MigrationError | SqlError.SqlError, SqlClient.SqlClient> = Layer
  .effectDiscard(run)
