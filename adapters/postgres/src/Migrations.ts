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
  }),
  "0005_append_function": Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    // The append protocol of PgEventStore in one server call (see its module doc for why each
    // step comes where it does):
    // 1. the transaction id (`pg_current_xact_id()`), before anything else; then the stream's
    //    version, checked against the expected one (a mismatch returns it as `conflict_version`);
    // 2. the positions, one `nextval` per event in version order (the sequence keeps CACHE 1);
    // 3. the insert inside a `BEGIN … EXCEPTION` block: a subtransaction, whose id is assigned by
    //    the insert, so each row's xmin is newer than its position. Losing a race for a version
    //    raises unique_violation there (after the winner commits), which rolls the subtransaction
    //    back and returns the winner's version.
    // The release_summaries/audit_log arguments are optional: rows PgReadModels folded before the
    // call, written after the events in the same transaction only if the summary row is still the
    // one they were folded on (its `position`; 0: no row yet). `read_models_written` says whether
    // they were; if not, the caller folds from the row it reads. Audit rows name their event by its
    // index in the append (1-based), the positions being unknown before the call.
    // Returns a row per event appended, or one row with `conflict_version` and nothing else.
    yield* sql`
      CREATE FUNCTION canaryroll_append(
        append_stream_id text,
        append_expected_version integer,
        append_types text[],
        append_data jsonb[],
        summary_folded_on bigint DEFAULT NULL,
        summary_team_id text DEFAULT NULL,
        summary_worker_id text DEFAULT NULL,
        summary_status text DEFAULT NULL,
        summary_created_at timestamptz DEFAULT NULL,
        summary_updated_at timestamptz DEFAULT NULL,
        summary_summary jsonb DEFAULT NULL,
        summary_audit_context jsonb DEFAULT NULL,
        audit_event integer[] DEFAULT '{}',
        audit_id text[] DEFAULT '{}',
        audit_team_id text[] DEFAULT '{}',
        audit_release_id text[] DEFAULT '{}',
        audit_worker_id text[] DEFAULT '{}',
        audit_actor_kind text[] DEFAULT '{}',
        audit_actor_id text[] DEFAULT '{}',
        audit_type text[] DEFAULT '{}',
        audit_at timestamptz[] DEFAULT '{}',
        audit_step_index integer[] DEFAULT '{}',
        audit_percentage double precision[] DEFAULT '{}',
        audit_sentence text[] DEFAULT '{}',
        audit_details jsonb[] DEFAULT '{}'
      ) RETURNS TABLE (
        "position" bigint,
        stream_version integer,
        recorded_at timestamptz,
        conflict_version integer,
        read_models_written boolean
      ) LANGUAGE plpgsql VOLATILE AS $function$
      #variable_conflict use_column
      DECLARE
        event_count integer := coalesce(cardinality(append_types), 0);
        actual_version integer;
        positions bigint[] := '{}';
        recorded timestamptz[];
        written boolean := false;
        violated text;
      BEGIN
        -- 1. The transaction id: from here on, readers see this transaction running.
        PERFORM pg_current_xact_id();
        SELECT coalesce(max(e.stream_version), 0) INTO actual_version FROM events e WHERE e.stream_id = append_stream_id;
        IF actual_version <> append_expected_version THEN
          RETURN QUERY SELECT NULL::bigint, NULL::integer, NULL::timestamptz, actual_version, NULL::boolean;
          RETURN;
        END IF;
        IF event_count = 0 THEN
          RETURN;
        END IF;
        -- 2. The positions, in version order.
        FOR i IN 1 .. event_count LOOP
          positions[i] := nextval('event_positions');
        END LOOP;
        -- 3. The insert, in a subtransaction.
        BEGIN
          WITH inserted AS (
            INSERT INTO events (position, stream_id, stream_version, type, data) OVERRIDING SYSTEM VALUE
            SELECT positions[n], append_stream_id, append_expected_version + n, append_types[n], append_data[n]
            FROM generate_series(1, event_count) AS n
            RETURNING stream_version, recorded_at
          )
          SELECT array_agg(recorded_at ORDER BY stream_version) INTO recorded FROM inserted;
        EXCEPTION WHEN unique_violation THEN
          GET STACKED DIAGNOSTICS violated = CONSTRAINT_NAME;
          IF violated IS DISTINCT FROM 'events_stream_id_stream_version_key' THEN
            RAISE;
          END IF;
          -- A statement of its own, so (in READ COMMITTED) it sees the writer that won.
          SELECT coalesce(max(e.stream_version), 0) INTO actual_version FROM events e WHERE e.stream_id = append_stream_id;
          RETURN QUERY SELECT NULL::bigint, NULL::integer, NULL::timestamptz, actual_version, NULL::boolean;
          RETURN;
        END;
        -- The read models, if given: the summary over the row they were folded on, then the audit rows.
        IF summary_status IS NOT NULL THEN
          IF summary_folded_on = 0 THEN
            INSERT INTO release_summaries (release_id, team_id, worker_id, status, created_at, updated_at, version,
              position, summary, audit_context)
            VALUES (append_stream_id, summary_team_id, summary_worker_id, summary_status, summary_created_at,
              summary_updated_at, append_expected_version + event_count, positions[event_count], summary_summary,
              summary_audit_context)
            ON CONFLICT (release_id) DO NOTHING;
          ELSE
            UPDATE release_summaries s SET team_id = summary_team_id, worker_id = summary_worker_id,
              status = summary_status, created_at = summary_created_at, updated_at = summary_updated_at,
              version = append_expected_version + event_count, position = positions[event_count],
              summary = summary_summary, audit_context = summary_audit_context
            WHERE s.release_id = append_stream_id AND s.position = summary_folded_on;
          END IF;
          written := FOUND;
          IF written THEN
            INSERT INTO audit_log (id, position, team_id, release_id, worker_id, actor_kind, actor_id, type, at,
              step_index, percentage, sentence, details)
            SELECT a.id, positions[a.event], a.team_id, a.release_id, a.worker_id, a.actor_kind, a.actor_id, a.type,
              a.at, a.step_index, a.percentage, a.sentence, a.details
            FROM unnest(audit_event, audit_id, audit_team_id, audit_release_id, audit_worker_id, audit_actor_kind,
              audit_actor_id, audit_type, audit_at, audit_step_index, audit_percentage, audit_sentence, audit_details)
              AS a(event, id, team_id, release_id, worker_id, actor_kind, actor_id, type, at, step_index, percentage,
                sentence, details)
            ON CONFLICT (id) DO NOTHING;
          END IF;
        END IF;
        RETURN QUERY SELECT positions[n], append_expected_version + n, recorded[n], NULL::integer, written
          FROM generate_series(1, event_count) AS n;
      END
      $function$`
    yield* sql`COMMENT ON FUNCTION canaryroll_append IS
      'PgEventStore.append in one call: transaction id, version check, positions, insert in a subtransaction (gap-safe log), optionally the read-model rows.'`
    yield* sql`COMMENT ON TABLE events IS
      'Written only by canaryroll_append (PgEventStore.append), never updated: the gap-safe reading of the log depends on how rows get their positions and their xmin.'`
  }),
  "0006_teams": Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    // The server's accounts and team settings. Releases stay event-sourced; these are plain rows
    // whose every change writes an audit_log entry in the same transaction (see below). Secrets
    // are never stored in clear: passwords as scrypt hashes, tokens and session ids as SHA-256,
    // Cloudflare API tokens sealed with AES-256-GCM (`sealed_api_token`, bound to the row's id).
    yield* sql`
      CREATE TABLE users (
        id text PRIMARY KEY,
        email text NOT NULL,
        name text NOT NULL,
        password_hash text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )`
    yield* sql`CREATE UNIQUE INDEX users_email ON users (lower(email))`
    yield* sql`
      CREATE TABLE sessions (
        id_hash text PRIMARY KEY,
        user_id text NOT NULL REFERENCES users ON DELETE CASCADE,
        created_at timestamptz NOT NULL DEFAULT now(),
        expires_at timestamptz NOT NULL
      )`
    yield* sql`CREATE INDEX sessions_user ON sessions (user_id)`
    yield* sql`
      CREATE TABLE user_tokens (
        id text PRIMARY KEY,
        user_id text NOT NULL REFERENCES users ON DELETE CASCADE,
        name text NOT NULL,
        token_hash text NOT NULL UNIQUE,
        display text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        last_used_at timestamptz,
        revoked_at timestamptz
      )`
    yield* sql`CREATE INDEX user_tokens_user ON user_tokens (user_id, created_at)`
    yield* sql`
      CREATE TABLE teams (
        id text PRIMARY KEY,
        slug text NOT NULL UNIQUE,
        name text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )`
    yield* sql`
      CREATE TABLE memberships (
        team_id text NOT NULL REFERENCES teams ON DELETE CASCADE,
        user_id text NOT NULL REFERENCES users ON DELETE CASCADE,
        role text NOT NULL CHECK (role IN ('read_only', 'deploy', 'admin')),
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (team_id, user_id)
      )`
    yield* sql`CREATE INDEX memberships_user ON memberships (user_id)`
    yield* sql`
      CREATE TABLE invitations (
        id text PRIMARY KEY,
        team_id text NOT NULL REFERENCES teams ON DELETE CASCADE,
        email text NOT NULL,
        role text NOT NULL CHECK (role IN ('read_only', 'deploy', 'admin')),
        token_hash text NOT NULL UNIQUE,
        invited_by text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        expires_at timestamptz NOT NULL,
        accepted_at timestamptz,
        revoked_at timestamptz
      )`
    yield* sql`CREATE INDEX invitations_team ON invitations (team_id, created_at)`
    yield* sql`
      CREATE TABLE team_tokens (
        id text PRIMARY KEY,
        team_id text NOT NULL REFERENCES teams ON DELETE CASCADE,
        name text NOT NULL,
        role text NOT NULL CHECK (role IN ('read_only', 'deploy', 'admin')),
        token_hash text NOT NULL UNIQUE,
        display text NOT NULL,
        created_by text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        last_used_at timestamptz,
        revoked_at timestamptz
      )`
    yield* sql`CREATE INDEX team_tokens_team ON team_tokens (team_id, created_at)`
    yield* sql`
      CREATE TABLE cloudflare_credentials (
        id text PRIMARY KEY,
        team_id text NOT NULL REFERENCES teams ON DELETE CASCADE,
        account_id text NOT NULL,
        sealed_api_token text NOT NULL,
        token_display text NOT NULL,
        base_url text NOT NULL,
        sandbox boolean NOT NULL DEFAULT false,
        verified_at timestamptz NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        UNIQUE (team_id, account_id)
      )`
    // One team per account: the orchestrator finds a release's token by its account id.
    yield* sql`CREATE UNIQUE INDEX cloudflare_credentials_account ON cloudflare_credentials (account_id)`
    yield* sql`
      CREATE TABLE plans (
        id text PRIMARY KEY,
        team_id text NOT NULL REFERENCES teams ON DELETE CASCADE,
        slug text NOT NULL,
        name text NOT NULL,
        definition jsonb NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        UNIQUE (team_id, slug)
      )`
    yield* sql`
      CREATE TABLE workers (
        id text PRIMARY KEY,
        team_id text NOT NULL REFERENCES teams ON DELETE CASCADE,
        account_id text NOT NULL,
        script_name text NOT NULL,
        default_plan_id text NOT NULL REFERENCES plans ON DELETE RESTRICT,
        health_policy jsonb,
        created_at timestamptz NOT NULL DEFAULT now(),
        UNIQUE (team_id, account_id, script_name)
      )`
    yield* sql`CREATE INDEX workers_team ON workers (team_id, created_at)`
    // Team-settings changes share the audit log with release events. They have no release, and
    // take their `position` from their own sequence starting at 2^62, far above any event's
    // position: (at, position) stays unique for the keyset cursor and orders changes made in the
    // same millisecond. Taking numbers from the events' own sequence would leave holes that the
    // gap-safe log reader waits on.
    yield* sql`ALTER TABLE audit_log ALTER COLUMN release_id DROP NOT NULL, ALTER COLUMN worker_id DROP NOT NULL`
    yield* sql`CREATE SEQUENCE settings_audit_positions START WITH 4611686018427387904`
  }),
  "0007_notifications": Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    // A team's notification channels and the deliveries owed to them (see PgNotifications and
    // @canaryroll/notifier's NotificationStore). Secrets are stored sealed by the notifier
    // (`sealed_secrets`, each bound to its channel and field); `settings` holds only what is not
    // secret. Times are the notifier's clock, written as given, so TestClock drives tests.
    yield* sql`
      CREATE TABLE notification_channels (
        id text PRIMARY KEY,
        team_id text NOT NULL REFERENCES teams ON DELETE CASCADE,
        name text NOT NULL,
        kind text NOT NULL CHECK (kind IN ('slack', 'discord', 'google_chat', 'email', 'webhook')),
        events text[] NOT NULL,
        enabled boolean NOT NULL,
        settings jsonb NOT NULL,
        sealed_secrets jsonb NOT NULL,
        created_at timestamptz NOT NULL,
        updated_at timestamptz NOT NULL
      )`
    yield* sql`CREATE INDEX notification_channels_team ON notification_channels (team_id, created_at, id)`
    // One row per (event, channel): the unique key makes recording a delivery twice (an outbox
    // batch handed out again) a no-op. A pending row has a due time; a leased one a lease end.
    // `sequence` is the event's log position, so a channel gets its messages in log order.
    yield* sql`
      CREATE TABLE notification_deliveries (
        id text PRIMARY KEY,
        team_id text NOT NULL REFERENCES teams ON DELETE CASCADE,
        channel_id text NOT NULL REFERENCES notification_channels ON DELETE CASCADE,
        event_id text NOT NULL,
        release_id text NOT NULL,
        event_name text NOT NULL,
        sequence bigint NOT NULL,
        notification jsonb NOT NULL,
        status text NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
        attempts integer NOT NULL CHECK (attempts >= 0),
        next_attempt_at timestamptz,
        lease_until timestamptz,
        last_error text,
        last_status_code integer,
        created_at timestamptz NOT NULL,
        completed_at timestamptz,
        UNIQUE (event_id, channel_id),
        CHECK ((status = 'pending') = (next_attempt_at IS NOT NULL)),
        CHECK ((status = 'pending') = (completed_at IS NULL))
      )`
    // Claims scan due pending rows in due order; leased rows are few (one per busy channel).
    yield* sql`CREATE INDEX notification_deliveries_due
      ON notification_deliveries (next_attempt_at, sequence) WHERE status = 'pending'`
    yield* sql`CREATE INDEX notification_deliveries_leased
      ON notification_deliveries (channel_id) WHERE lease_until IS NOT NULL`
    yield* sql`CREATE INDEX notification_deliveries_team
      ON notification_deliveries (team_id, created_at DESC, sequence DESC, id DESC)`
    yield* sql`CREATE INDEX notification_deliveries_channel
      ON notification_deliveries (channel_id, created_at DESC, sequence DESC, id DESC)`
  }),
  "0008_login_throttle": Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    // The log-in throttle's counters (see PgLoginThrottle and the server's LoginThrottle port),
    // shared by every server process. `key` is a SHA-256 (base64url) of what is counted (a client
    // address, an account, an account from an address), so the table holds no email and no
    // address. Times are the server's clock, written as given. A row may be deleted once
    // `forget_at` has passed: it then counts for nothing.
    yield* sql`
      CREATE TABLE login_throttle (
        key text PRIMARY KEY,
        failures integer NOT NULL CHECK (failures >= 0),
        last_failure_at timestamptz NOT NULL,
        in_flight integer NOT NULL CHECK (in_flight >= 0),
        in_flight_until timestamptz NOT NULL,
        forget_at timestamptz NOT NULL
      )`
    yield* sql`CREATE INDEX login_throttle_forget ON login_throttle (forget_at)`
  }),
  "0009_idempotency_keys": Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    // The requests sent with an `Idempotency-Key` (see PgIdempotencyKeys and the server's
    // IdempotencyKeys port): per team and key, the request's fingerprint and, once it finished,
    // the response to replay. A row is in flight (`locked_until`, no response) or completed
    // (a response, no lock). Times are the server's clock, written as given; a row may be deleted
    // once `expires_at` has passed. No reference to `teams`: the port knows nothing of where
    // teams live, and a key is gone within a day anyway.
    yield* sql`
      CREATE TABLE idempotency_keys (
        team_id text NOT NULL,
        key text NOT NULL,
        fingerprint text NOT NULL,
        claim_id text NOT NULL,
        status integer CHECK (status BETWEEN 100 AND 599),
        body text,
        locked_until timestamptz,
        created_at timestamptz NOT NULL,
        expires_at timestamptz NOT NULL,
        PRIMARY KEY (team_id, key),
        CHECK ((status IS NULL) = (body IS NULL)),
        CHECK ((status IS NULL) = (locked_until IS NOT NULL))
      )`
    yield* sql`CREATE INDEX idempotency_keys_expiry ON idempotency_keys (expires_at)`
  }),
  "0010_sessions": Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    // What a person sees of their sessions (see PgSessions and core's Sessions port): a public id
    // that opens nothing (the cookie's secret is only ever stored as `id_hash`), when it was last
    // used and what browser started it. Sessions from before get an id and their start as their
    // last use. The defaults let a server of the previous version, still running beside a new one
    // during an upgrade, go on starting sessions.
    yield* sql`
      ALTER TABLE sessions
        ADD COLUMN id text NOT NULL DEFAULT ('ses_' || replace(gen_random_uuid()::text, '-', '')),
        ADD COLUMN last_seen_at timestamptz,
        ADD COLUMN user_agent text`
    yield* sql`UPDATE sessions SET last_seen_at = created_at`
    yield* sql`ALTER TABLE sessions ALTER COLUMN last_seen_at SET DEFAULT now(), ALTER COLUMN last_seen_at SET NOT NULL`
    yield* sql`CREATE UNIQUE INDEX sessions_id ON sessions (id)`
  }),
  "0011_active_releases": Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    // The ActiveReleases port (PgActiveReleases): the release holding each Worker, at most one.
    // Releases in progress or paused when this migration runs hold their Worker from now on.
    yield* sql`
      CREATE TABLE active_releases (
        worker_id text PRIMARY KEY,
        release_id text NOT NULL,
        since timestamptz NOT NULL
      )`
    yield* sql`
      INSERT INTO active_releases (worker_id, release_id, since)
      SELECT DISTINCT ON (worker_id) worker_id, release_id, updated_at
      FROM release_summaries WHERE status IN ('in_progress', 'paused')
      ORDER BY worker_id, created_at
      ON CONFLICT DO NOTHING`
  }),
  "0012_append_alone": Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    // `canaryroll_append` of 0005 with one more argument, `read_models_required`: when true and
    // the read-model rows it was given could not be written (the summary row is no longer the
    // one they were folded on), it raises SQLSTATE CR409 instead of returning
    // `read_models_written = false`, which rolls back everything the call did. That lets
    // PgEventStore run the call alone, as one statement in its own transaction (one round trip
    // instead of BEGIN, the call, COMMIT): the events and their read models still commit
    // together or not at all, and on CR409 the append is redone in a transaction that reads the
    // row. The protocol is unchanged (transaction id first, then the positions, then the insert
    // in a subtransaction), and so is the gap-safety argument of PgEventStore: an implicit
    // transaction takes its id from `pg_current_xact_id()` exactly as an explicit one does.
    // Inside, the same steps cost fewer statements: the events, the summary and the audit rows are
    // written by one statement in the subtransaction (the audit rows' `details` default to their
    // events' data, which the caller then need not send twice), and the rows are returned with
    // RETURN NEXT. And fewer parameters, which the client encodes and the server decodes one by
    // one on every call: the summary's columns are read from `summary_summary`, and the audit rows
    // come as one jsonb array (`audit_rows`, objects named like the table's columns, `event` for
    // `position`) instead of thirteen arrays (still accepted, from a server of 0005's version). The read models are still written only if the summary row is the one they were
    // folded on, and within the subtransaction, so a lost race for the version undoes them too.
    // Dropped and created, not replaced: a second overload would make calls that name only the
    // old arguments ambiguous. A server of the previous version still running during an upgrade
    // calls it as before (the new argument defaults to the old behaviour).
    yield* sql`DROP FUNCTION canaryroll_append(text, integer, text[], jsonb[], bigint, text, text, text, timestamptz,
      timestamptz, jsonb, jsonb, integer[], text[], text[], text[], text[], text[], text[], text[], timestamptz[],
      integer[], double precision[], text[], jsonb[])`
    yield* sql`
      CREATE FUNCTION canaryroll_append(
        append_stream_id text,
        append_expected_version integer,
        append_types text[],
        append_data jsonb[],
        summary_folded_on bigint DEFAULT NULL,
        summary_team_id text DEFAULT NULL,
        summary_worker_id text DEFAULT NULL,
        summary_status text DEFAULT NULL,
        summary_created_at timestamptz DEFAULT NULL,
        summary_updated_at timestamptz DEFAULT NULL,
        summary_summary jsonb DEFAULT NULL,
        summary_audit_context jsonb DEFAULT NULL,
        audit_event integer[] DEFAULT '{}',
        audit_id text[] DEFAULT '{}',
        audit_team_id text[] DEFAULT '{}',
        audit_release_id text[] DEFAULT '{}',
        audit_worker_id text[] DEFAULT '{}',
        audit_actor_kind text[] DEFAULT '{}',
        audit_actor_id text[] DEFAULT '{}',
        audit_type text[] DEFAULT '{}',
        audit_at timestamptz[] DEFAULT '{}',
        audit_step_index integer[] DEFAULT '{}',
        audit_percentage double precision[] DEFAULT '{}',
        audit_sentence text[] DEFAULT '{}',
        audit_details jsonb[] DEFAULT '{}',
        read_models_required boolean DEFAULT false,
        audit_rows jsonb DEFAULT NULL
      ) RETURNS TABLE (
        "position" bigint,
        stream_version integer,
        recorded_at timestamptz,
        conflict_version integer,
        read_models_written boolean
      ) LANGUAGE plpgsql VOLATILE AS $function$
      #variable_conflict use_column
      DECLARE
        event_count integer := coalesce(cardinality(append_types), 0);
        actual_version integer;
        positions bigint[] := '{}';
        written boolean := false;
        violated text;
      BEGIN
        -- 1. The transaction id: from here on, readers see this transaction running.
        PERFORM pg_current_xact_id();
        SELECT coalesce(max(e.stream_version), 0) INTO actual_version FROM events e WHERE e.stream_id = append_stream_id;
        IF actual_version <> append_expected_version THEN
          conflict_version := actual_version;
          RETURN NEXT;
          RETURN;
        END IF;
        IF event_count = 0 THEN
          RETURN;
        END IF;
        -- 2. The positions, in version order.
        FOR i IN 1 .. event_count LOOP
          positions[i] := nextval('event_positions');
        END LOOP;
        -- 3. The insert, in a subtransaction; with the read models, one statement writes all three
        -- tables (each statement inside PL/pgSQL costs an executor start and end): the summary over
        -- the row they were folded on (inserted when summary_folded_on is 0 and there is no row),
        -- then the audit rows, only if the summary was written.
        BEGIN
          IF summary_summary IS NULL THEN
            INSERT INTO events (position, stream_id, stream_version, type, data) OVERRIDING SYSTEM VALUE
            SELECT positions[n], append_stream_id, append_expected_version + n, append_types[n], append_data[n]
            FROM generate_series(1, event_count) AS n;
          ELSE
            -- Callers of 0005's signature send the summary's columns and the audit rows as arrays.
            summary_team_id := coalesce(summary_team_id, summary_summary->>'teamId');
            summary_worker_id := coalesce(summary_worker_id, summary_summary->>'workerId');
            summary_status := coalesce(summary_status, summary_summary->>'status');
            summary_created_at := coalesce(summary_created_at, (summary_summary->>'createdAt')::timestamptz);
            summary_updated_at := coalesce(summary_updated_at, (summary_summary->>'updatedAt')::timestamptz);
            IF audit_rows IS NULL THEN
              SELECT coalesce(jsonb_agg(jsonb_build_object('event', a.event, 'id', a.id, 'team_id', a.team_id,
                'release_id', a.release_id, 'worker_id', a.worker_id, 'actor_kind', a.actor_kind, 'actor_id', a.actor_id,
                'type', a.type, 'at', a.at, 'step_index', a.step_index, 'percentage', a.percentage, 'sentence', a.sentence,
                'details', a.details)), '[]') INTO audit_rows
              FROM unnest(audit_event, audit_id, audit_team_id, audit_release_id, audit_worker_id, audit_actor_kind,
                audit_actor_id, audit_type, audit_at, audit_step_index, audit_percentage, audit_sentence, audit_details)
                AS a(event, id, team_id, release_id, worker_id, actor_kind, actor_id, type, at, step_index, percentage,
                  sentence, details);
            END IF;
            WITH appended AS (
              INSERT INTO events (position, stream_id, stream_version, type, data) OVERRIDING SYSTEM VALUE
              SELECT positions[n], append_stream_id, append_expected_version + n, append_types[n], append_data[n]
              FROM generate_series(1, event_count) AS n
            ), summary_inserted AS (
              INSERT INTO release_summaries (release_id, team_id, worker_id, status, created_at, updated_at, version,
                position, summary, audit_context)
              SELECT append_stream_id, summary_team_id, summary_worker_id, summary_status, summary_created_at,
                summary_updated_at, append_expected_version + event_count, positions[event_count], summary_summary,
                summary_audit_context
              WHERE summary_folded_on = 0
              ON CONFLICT (release_id) DO NOTHING
              RETURNING 1
            ), summary_updated AS (
              UPDATE release_summaries s SET team_id = summary_team_id, worker_id = summary_worker_id,
                status = summary_status, created_at = summary_created_at, updated_at = summary_updated_at,
                version = append_expected_version + event_count, position = positions[event_count],
                summary = summary_summary, audit_context = summary_audit_context
              WHERE summary_folded_on <> 0 AND s.release_id = append_stream_id AND s.position = summary_folded_on
              RETURNING 1
            ), summary_written AS (
              SELECT 1 FROM summary_inserted UNION ALL SELECT 1 FROM summary_updated
            ), audit AS (
              INSERT INTO audit_log (id, position, team_id, release_id, worker_id, actor_kind, actor_id, type, at,
                step_index, percentage, sentence, details)
              SELECT a.id, positions[a.event], a.team_id, a.release_id, a.worker_id, a.actor_kind, a.actor_id, a.type,
                a.at, a.step_index, a.percentage, a.sentence, coalesce(a.details, append_data[a.event])
              FROM jsonb_to_recordset(audit_rows) AS a(event integer, id text, team_id text, release_id text,
                worker_id text, actor_kind text, actor_id text, type text, at timestamptz, step_index integer,
                percentage double precision, sentence text, details jsonb)
              WHERE EXISTS (SELECT FROM summary_written)
              ON CONFLICT (id) DO NOTHING
            )
            SELECT EXISTS (SELECT FROM summary_written) INTO written;
          END IF;
        EXCEPTION WHEN unique_violation THEN
          GET STACKED DIAGNOSTICS violated = CONSTRAINT_NAME;
          IF violated IS DISTINCT FROM 'events_stream_id_stream_version_key' THEN
            RAISE;
          END IF;
          -- A statement of its own, so (in READ COMMITTED) it sees the writer that won.
          SELECT coalesce(max(e.stream_version), 0) INTO actual_version FROM events e WHERE e.stream_id = append_stream_id;
          conflict_version := actual_version;
          RETURN NEXT;
          RETURN;
        END;
        IF summary_summary IS NOT NULL AND NOT written AND read_models_required THEN
          -- Undoes the whole call (and, called alone, its implicit transaction): the caller redoes the append.
          RAISE EXCEPTION 'canaryroll_append: the release summary of % is not the one the read models were folded on',
            append_stream_id USING ERRCODE = 'CR409';
        END IF;
        -- One row per event; every event of an append is recorded at the transaction's time (the
        -- column's default, now()).
        recorded_at := now();
        read_models_written := written;
        FOR n IN 1 .. event_count LOOP
          "position" := positions[n];
          stream_version := append_expected_version + n;
          RETURN NEXT;
        END LOOP;
      END
      $function$`
    yield* sql`COMMENT ON FUNCTION canaryroll_append IS
      'PgEventStore.append in one call: transaction id, version check, positions, insert in a subtransaction (gap-safe log), optionally the read-model rows (read_models_required: all or nothing, for a call made alone).'`
  }),
  "0014_channel_kinds_open": Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    // A channel's kind is the notifier's registry's business (ChannelKinds): the store keeps any
    // kind name, so that adding a kind needs no migration. The CHECK of 0007 listed the five kinds.
    yield* sql`ALTER TABLE notification_channels DROP CONSTRAINT IF EXISTS notification_channels_kind_check`
  }),
  "0015_append_batch": Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    // Lock order. Two transactions that write the same release conflict on its events first
    // (the unique (stream_id, stream_version)), which makes the later one wait for the earlier
    // to end, and only then on its summary row. That holds only if every path inserts the events
    // before it locks a summary row: a path that locked the row first could hold it while waiting
    // for the other's events, which wait for the row: a deadlock. PgEventStore's transaction path
    // does (the call, then the hook); 0012's call did not (a data-modifying CTE that the query does
    // not read runs last, after the summary CTEs the query reads). Replaced (same signature) so
    // that the summaries read `appended`, which runs it first; nothing else changes.
    yield* sql`
      CREATE OR REPLACE FUNCTION canaryroll_append(
        append_stream_id text,
        append_expected_version integer,
        append_types text[],
        append_data jsonb[],
        summary_folded_on bigint DEFAULT NULL,
        summary_team_id text DEFAULT NULL,
        summary_worker_id text DEFAULT NULL,
        summary_status text DEFAULT NULL,
        summary_created_at timestamptz DEFAULT NULL,
        summary_updated_at timestamptz DEFAULT NULL,
        summary_summary jsonb DEFAULT NULL,
        summary_audit_context jsonb DEFAULT NULL,
        audit_event integer[] DEFAULT '{}',
        audit_id text[] DEFAULT '{}',
        audit_team_id text[] DEFAULT '{}',
        audit_release_id text[] DEFAULT '{}',
        audit_worker_id text[] DEFAULT '{}',
        audit_actor_kind text[] DEFAULT '{}',
        audit_actor_id text[] DEFAULT '{}',
        audit_type text[] DEFAULT '{}',
        audit_at timestamptz[] DEFAULT '{}',
        audit_step_index integer[] DEFAULT '{}',
        audit_percentage double precision[] DEFAULT '{}',
        audit_sentence text[] DEFAULT '{}',
        audit_details jsonb[] DEFAULT '{}',
        read_models_required boolean DEFAULT false,
        audit_rows jsonb DEFAULT NULL
      ) RETURNS TABLE (
        "position" bigint,
        stream_version integer,
        recorded_at timestamptz,
        conflict_version integer,
        read_models_written boolean
      ) LANGUAGE plpgsql VOLATILE AS $function$
      #variable_conflict use_column
      DECLARE
        event_count integer := coalesce(cardinality(append_types), 0);
        actual_version integer;
        positions bigint[] := '{}';
        written boolean := false;
        violated text;
      BEGIN
        -- 1. The transaction id: from here on, readers see this transaction running.
        PERFORM pg_current_xact_id();
        SELECT coalesce(max(e.stream_version), 0) INTO actual_version FROM events e WHERE e.stream_id = append_stream_id;
        IF actual_version <> append_expected_version THEN
          conflict_version := actual_version;
          RETURN NEXT;
          RETURN;
        END IF;
        IF event_count = 0 THEN
          RETURN;
        END IF;
        -- 2. The positions, in version order.
        FOR i IN 1 .. event_count LOOP
          positions[i] := nextval('event_positions');
        END LOOP;
        -- 3. The insert, in a subtransaction; with the read models, one statement writes all three
        -- tables (each statement inside PL/pgSQL costs an executor start and end): the summary over
        -- the row they were folded on (inserted when summary_folded_on is 0 and there is no row),
        -- then the audit rows, only if the summary was written.
        BEGIN
          IF summary_summary IS NULL THEN
            INSERT INTO events (position, stream_id, stream_version, type, data) OVERRIDING SYSTEM VALUE
            SELECT positions[n], append_stream_id, append_expected_version + n, append_types[n], append_data[n]
            FROM generate_series(1, event_count) AS n;
          ELSE
            -- Callers of 0005's signature send the summary's columns and the audit rows as arrays.
            summary_team_id := coalesce(summary_team_id, summary_summary->>'teamId');
            summary_worker_id := coalesce(summary_worker_id, summary_summary->>'workerId');
            summary_status := coalesce(summary_status, summary_summary->>'status');
            summary_created_at := coalesce(summary_created_at, (summary_summary->>'createdAt')::timestamptz);
            summary_updated_at := coalesce(summary_updated_at, (summary_summary->>'updatedAt')::timestamptz);
            IF audit_rows IS NULL THEN
              SELECT coalesce(jsonb_agg(jsonb_build_object('event', a.event, 'id', a.id, 'team_id', a.team_id,
                'release_id', a.release_id, 'worker_id', a.worker_id, 'actor_kind', a.actor_kind, 'actor_id', a.actor_id,
                'type', a.type, 'at', a.at, 'step_index', a.step_index, 'percentage', a.percentage, 'sentence', a.sentence,
                'details', a.details)), '[]') INTO audit_rows
              FROM unnest(audit_event, audit_id, audit_team_id, audit_release_id, audit_worker_id, audit_actor_kind,
                audit_actor_id, audit_type, audit_at, audit_step_index, audit_percentage, audit_sentence, audit_details)
                AS a(event, id, team_id, release_id, worker_id, actor_kind, actor_id, type, at, step_index, percentage,
                  sentence, details);
            END IF;
            WITH appended AS (
              INSERT INTO events (position, stream_id, stream_version, type, data) OVERRIDING SYSTEM VALUE
              SELECT positions[n], append_stream_id, append_expected_version + n, append_types[n], append_data[n]
              FROM generate_series(1, event_count) AS n
              RETURNING 1
            ), summary_inserted AS (
              INSERT INTO release_summaries (release_id, team_id, worker_id, status, created_at, updated_at, version,
                position, summary, audit_context)
              SELECT append_stream_id, summary_team_id, summary_worker_id, summary_status, summary_created_at,
                summary_updated_at, append_expected_version + event_count, positions[event_count], summary_summary,
                summary_audit_context
              WHERE summary_folded_on = 0 AND (SELECT count(*) FROM appended) >= 0
              ON CONFLICT (release_id) DO NOTHING
              RETURNING 1
            ), summary_updated AS (
              UPDATE release_summaries s SET team_id = summary_team_id, worker_id = summary_worker_id,
                status = summary_status, created_at = summary_created_at, updated_at = summary_updated_at,
                version = append_expected_version + event_count, position = positions[event_count],
                summary = summary_summary, audit_context = summary_audit_context
              WHERE summary_folded_on <> 0 AND s.release_id = append_stream_id AND s.position = summary_folded_on
                AND (SELECT count(*) FROM appended) >= 0
              RETURNING 1
            ), summary_written AS (
              SELECT 1 FROM summary_inserted UNION ALL SELECT 1 FROM summary_updated
            ), audit AS (
              INSERT INTO audit_log (id, position, team_id, release_id, worker_id, actor_kind, actor_id, type, at,
                step_index, percentage, sentence, details)
              SELECT a.id, positions[a.event], a.team_id, a.release_id, a.worker_id, a.actor_kind, a.actor_id, a.type,
                a.at, a.step_index, a.percentage, a.sentence, coalesce(a.details, append_data[a.event])
              FROM jsonb_to_recordset(audit_rows) AS a(event integer, id text, team_id text, release_id text,
                worker_id text, actor_kind text, actor_id text, type text, at timestamptz, step_index integer,
                percentage double precision, sentence text, details jsonb)
              WHERE EXISTS (SELECT FROM summary_written)
              ON CONFLICT (id) DO NOTHING
            )
            SELECT EXISTS (SELECT FROM summary_written) INTO written;
          END IF;
        EXCEPTION WHEN unique_violation THEN
          GET STACKED DIAGNOSTICS violated = CONSTRAINT_NAME;
          IF violated IS DISTINCT FROM 'events_stream_id_stream_version_key' THEN
            RAISE;
          END IF;
          -- A statement of its own, so (in READ COMMITTED) it sees the writer that won.
          SELECT coalesce(max(e.stream_version), 0) INTO actual_version FROM events e WHERE e.stream_id = append_stream_id;
          conflict_version := actual_version;
          RETURN NEXT;
          RETURN;
        END;
        IF summary_summary IS NOT NULL AND NOT written AND read_models_required THEN
          -- Undoes the whole call (and, called alone, its implicit transaction): the caller redoes the append.
          RAISE EXCEPTION 'canaryroll_append: the release summary of % is not the one the read models were folded on',
            append_stream_id USING ERRCODE = 'CR409';
        END IF;
        -- One row per event; every event of an append is recorded at the transaction's time (the
        -- column's default, now()).
        recorded_at := now();
        read_models_written := written;
        FOR n IN 1 .. event_count LOOP
          "position" := positions[n];
          stream_version := append_expected_version + n;
          RETURN NEXT;
        END LOOP;
      END
      $function$`
    // Several appends (to different streams) in one server call: what PgEventStore sends when
    // appends made alone queue behind the calls already in flight (see its module doc). The
    // protocol is the one of `canaryroll_append` for every append of the batch: the transaction
    // id first, then the positions (in the batch's order), then the inserts in a subtransaction,
    // so every row's xmin is newer than its position and `readAll` stays gap-safe. Each append
    // is checked against its stream's version on its own: one that lost a race gets its
    // `conflict_version` and the others go on. The common case costs one statement per table
    // for the whole batch (the events, the summaries over the rows they were folded on, the
    // audit rows), which is where a batch saves the server most of its work: each statement's
    // executor start and end, not the rows, is what an append of one event pays for. The events
    // go in first and in stream order, so two batches over the same streams wait for each other
    // instead of deadlocking. If the shared statement cannot stand (another writer took a version
    // between the check and the insert, or a summary is no longer the row its fold started from),
    // its subtransaction is rolled back and each append is made on its own by
    // `canaryroll_append` (read models required), in stream order: an append whose summary moved
    // comes back with `read_models_moved` and nothing written, and the caller redoes it in a
    // transaction that reads the row.
    // Arguments: one element per append (stream id, expected version, number of events; the
    // read models' folded-on position, summary and audit context, NULL without read models);
    // the events flattened in the batch's order (types, storage-form data); the audit rows as one
    // jsonb array of objects named like the table's columns, `event` being the event's 1-based
    // index in the flattened events, whose data is the row's `details`. A batch names each stream
    // once. Returns a row per event appended (`append_index` is 1-based), or one row per append
    // with its `conflict_version`, or with `read_models_moved`.
    yield* sql`
      CREATE FUNCTION canaryroll_append_batch(
        batch_stream_ids text[],
        batch_expected_versions integer[],
        batch_event_counts integer[],
        batch_types text[],
        batch_data jsonb[],
        batch_summary_folded_on bigint[] DEFAULT NULL,
        batch_summaries jsonb[] DEFAULT NULL,
        batch_audit_contexts jsonb[] DEFAULT NULL,
        batch_audit_rows jsonb DEFAULT '[]'
      ) RETURNS TABLE (
        append_index integer,
        "position" bigint,
        stream_version integer,
        recorded_at timestamptz,
        conflict_version integer,
        read_models_moved boolean
      ) LANGUAGE plpgsql VOLATILE AS $function$
      #variable_conflict use_column
      DECLARE
        append_count integer := coalesce(cardinality(batch_stream_ids), 0);
        event_count integer := coalesce(cardinality(batch_types), 0);
        actual_versions integer[];
        first_event integer[] := '{}';
        event_append integer[] := '{}';
        appending boolean[] := '{}';
        positions bigint[] := '{}';
        read_model_appends integer := 0;
        written integer;
        shared_statement_failed boolean := false;
        next_event integer := 1;
        a integer;
      BEGIN
        -- 1. The transaction id first, then every stream's version, each append checked on its own.
        PERFORM pg_current_xact_id();
        SELECT array_agg(coalesce(v.version, 0) ORDER BY s.i) INTO actual_versions
        FROM unnest(batch_stream_ids) WITH ORDINALITY AS s(stream_id, i)
        LEFT JOIN LATERAL (SELECT max(e.stream_version) AS version FROM events e WHERE e.stream_id = s.stream_id) v ON true;
        FOR a IN 1 .. append_count LOOP
          first_event[a] := next_event;
          appending[a] := actual_versions[a] = batch_expected_versions[a];
          IF NOT appending[a] THEN
            append_index := a;
            conflict_version := actual_versions[a];
            RETURN NEXT;
          ELSIF batch_summaries[a] IS NOT NULL THEN
            read_model_appends := read_model_appends + 1;
          END IF;
          FOR k IN next_event .. next_event + batch_event_counts[a] - 1 LOOP
            event_append[k] := a;
          END LOOP;
          next_event := next_event + batch_event_counts[a];
        END LOOP;
        conflict_version := NULL;
        -- 2. The positions, in the batch's order.
        FOR k IN 1 .. event_count LOOP
          IF appending[event_append[k]] THEN
            positions[k] := nextval('event_positions');
          END IF;
        END LOOP;
        -- 3. Every append in one statement per table, in a subtransaction. The events go in first
        -- (the summaries read appended), in stream order.
        BEGIN
          WITH appended AS (
            INSERT INTO events (position, stream_id, stream_version, type, data) OVERRIDING SYSTEM VALUE
            SELECT positions[k], batch_stream_ids[event_append[k]],
              batch_expected_versions[event_append[k]] + k - first_event[event_append[k]] + 1, batch_types[k], batch_data[k]
            FROM generate_series(1, event_count) AS k
            WHERE appending[event_append[k]]
            ORDER BY batch_stream_ids[event_append[k]], k
            RETURNING 1
          ), folds AS (
            SELECT batch_stream_ids[a] AS release_id, batch_summary_folded_on[a] AS folded_on, batch_summaries[a] AS summary,
              batch_audit_contexts[a] AS audit_context, batch_expected_versions[a] + batch_event_counts[a] AS version,
              positions[first_event[a] + batch_event_counts[a] - 1] AS last_position
            FROM generate_series(1, append_count) AS a
            WHERE appending[a] AND batch_summaries[a] IS NOT NULL AND (SELECT count(*) FROM appended) >= 0
          ), summary_inserted AS (
            INSERT INTO release_summaries (release_id, team_id, worker_id, status, created_at, updated_at, version,
              position, summary, audit_context)
            SELECT f.release_id, f.summary->>'teamId', f.summary->>'workerId', f.summary->>'status',
              (f.summary->>'createdAt')::timestamptz, (f.summary->>'updatedAt')::timestamptz, f.version, f.last_position,
              f.summary, f.audit_context
            FROM folds f WHERE f.folded_on = 0
            ON CONFLICT (release_id) DO NOTHING
            RETURNING 1
          ), summary_updated AS (
            UPDATE release_summaries s SET team_id = f.summary->>'teamId', worker_id = f.summary->>'workerId',
              status = f.summary->>'status', created_at = (f.summary->>'createdAt')::timestamptz,
              updated_at = (f.summary->>'updatedAt')::timestamptz, version = f.version, position = f.last_position,
              summary = f.summary, audit_context = f.audit_context
            FROM folds f
            WHERE f.folded_on <> 0 AND s.release_id = f.release_id AND s.position = f.folded_on
            RETURNING 1
          ), audit AS (
            INSERT INTO audit_log (id, position, team_id, release_id, worker_id, actor_kind, actor_id, type, at,
              step_index, percentage, sentence, details)
            SELECT r.id, positions[r.event], r.team_id, r.release_id, r.worker_id, r.actor_kind, r.actor_id, r.type,
              r.at, r.step_index, r.percentage, r.sentence, batch_data[r.event]
            FROM jsonb_to_recordset(batch_audit_rows) AS r(event integer, id text, team_id text, release_id text,
              worker_id text, actor_kind text, actor_id text, type text, at timestamptz, step_index integer,
              percentage double precision, sentence text)
            WHERE appending[event_append[r.event]]
            ON CONFLICT (id) DO NOTHING
          )
          SELECT (SELECT count(*) FROM summary_inserted) + (SELECT count(*) FROM summary_updated) INTO written;
          IF written <> read_model_appends THEN
            RAISE EXCEPTION 'canaryroll_append_batch: a release summary is not the one its read models were folded on'
              USING ERRCODE = 'CR409';
          END IF;
        EXCEPTION WHEN unique_violation OR SQLSTATE 'CR409' THEN
          shared_statement_failed := true;
        END;
        IF NOT shared_statement_failed THEN
          recorded_at := now();
          read_models_moved := false;
          FOR k IN 1 .. event_count LOOP
            CONTINUE WHEN NOT appending[event_append[k]];
            append_index := event_append[k];
            "position" := positions[k];
            stream_version := batch_expected_versions[event_append[k]] + k - first_event[event_append[k]] + 1;
            RETURN NEXT;
          END LOOP;
          RETURN;
        END IF;
        -- A writer took a version since the check, or a summary moved: each append on its own, in
        -- stream order, as canaryroll_append makes it (read models required).
        FOR a IN SELECT s.i FROM unnest(batch_stream_ids) WITH ORDINALITY AS s(stream_id, i) ORDER BY s.stream_id LOOP
          CONTINUE WHEN NOT appending[a];
          BEGIN
            RETURN QUERY SELECT a, c."position", c.stream_version, c.recorded_at, c.conflict_version, false
            FROM canaryroll_append(batch_stream_ids[a], batch_expected_versions[a],
              batch_types[first_event[a] : first_event[a] + batch_event_counts[a] - 1],
              batch_data[first_event[a] : first_event[a] + batch_event_counts[a] - 1],
              summary_folded_on => batch_summary_folded_on[a], summary_summary => batch_summaries[a],
              summary_audit_context => batch_audit_contexts[a],
              read_models_required => batch_summaries[a] IS NOT NULL,
              audit_rows => CASE WHEN batch_summaries[a] IS NOT NULL THEN (
                SELECT coalesce(jsonb_agg(r || jsonb_build_object('event', (r->>'event')::integer - first_event[a] + 1)), '[]')
                FROM jsonb_array_elements(batch_audit_rows) AS r
                WHERE (r->>'event')::integer BETWEEN first_event[a] AND first_event[a] + batch_event_counts[a] - 1) END) AS c;
          EXCEPTION WHEN SQLSTATE 'CR409' THEN
            append_index := a;
            "position" := NULL;
            stream_version := NULL;
            recorded_at := NULL;
            read_models_moved := true;
            RETURN NEXT;
          END;
        END LOOP;
      END
      $function$`
    yield* sql`COMMENT ON FUNCTION canaryroll_append_batch IS
      'PgEventStore.append for several streams in one call: the protocol of canaryroll_append for each, one statement per table in the common case, each append on its own after a race.'`
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
