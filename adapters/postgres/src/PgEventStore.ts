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
 * 2. it allocates its positions (`nextval`, one per event, in version order);
 * 3. it inserts in a subtransaction, whose id is assigned by the insert, so each row's `xmin` is a
 *    transaction id handed out after its position.
 *
 * The three steps are one call of the PL/pgSQL function `canaryroll_append` (migration
 * `0005_append_function`), so an append is `BEGIN`, the call, `COMMIT`: step 1 is its first
 * statement (the version check comes next), step 2 a loop of `nextval`, and step 3 an insert inside
 * a `BEGIN … EXCEPTION` block, which PL/pgSQL runs as a subtransaction. One call changes nothing
 * in the argument below: the same backend does the same steps in the same order, only without
 * round trips between them. Step 1 must come first even so: left out, the transaction would get
 * its id from the insert (the `transaction_id` column's default), after its positions. A writer
 * that loses the race for a version gets `unique_violation` in that block (once the winner has
 * committed), which rolls the subtransaction back; the function then returns the winner's version.
 *
 * Whoever can still commit a position below an event's took its transaction id (step 1) before
 * that position was allocated, so before the event's `xmin`. A reader therefore returns events up
 * to the last one whose `xmin` is older than every transaction still running: nothing can appear
 * before it any more. (An append inside a caller's transaction that already has an id keeps that
 * older id, which only holds readers back longer.) Transactions in other databases of the cluster
 * cannot write this table and are not counted (a shared server's long transactions, or another
 * test file's, do not stall us); a long writing transaction in this database stalls the log until
 * it ends, and nothing is skipped. The rows' 32-bit `xmin` is widened against the reader's
 * snapshot, which is exact for any row less than 2^32 transactions old (an older one can only be
 * held back, never skipped).
 *
 * The built-in read models (`PgReadModels.project`) hand their rows to the same call when they
 * were folded before it (`AppendHook.prepare`); other hooks run after the call, in the
 * transaction. When nothing has to run after the call (no hook, or only those rows) and the
 * caller has no transaction open, the call is made alone, as one statement in its own implicit
 * transaction (migration `0012_append_alone`): one round trip. Nothing above changes: the
 * implicit transaction takes its id in step 1 exactly as `BEGIN`'s would, so the global position
 * order stays gap-safe for readers of `readAll`, in this process or any other.
 *
 * Appends made alone at the same moment share a call (`make`, `NaturalBatching`):
 * `canaryroll_append_batch` (migration `0015_append_batch`) runs the same three steps for all of
 * them in one transaction: its id first, then every append's positions, then the inserts in a
 * subtransaction, so the argument holds for each of its rows as for a call of one append.
 *
 * @since 0.1.0
 */
import { EventStore, ReleaseEvent } from "@canaryroll/core"
import { PgTypes } from "@effect/sql-pg"
import { Context, Effect, Exit, Layer, Result, Schema } from "effect"
import { SqlClient, type SqlError } from "effect/sql"
import * as NaturalBatching from "./NaturalBatching.ts"

/**
 * Runs inside the append's transaction with the events just recorded, before commit: whatever it
 * writes commits or rolls back with them. A failure aborts the append (`EventStoreUnavailable`).
 * Compose several with `Effect.all`.
 *
 * `prepare` is for the built-in read models (`PgReadModels.project`), which `canaryroll_append`
 * can write in the append's own server call; other hooks leave it out. A hook composed by hand
 * does not have it (put yours after the read models with `PgReadModels.appendHook(yours)`).
 */
export interface AppendHook {
  (recorded: ReadonlyArray<EventStore.RecordedEvent>): Effect.Effect<void, SqlError.SqlError, SqlClient.SqlClient>
  /**
   * Called before the append's transaction with what is about to be appended (the client and the
   * `HookMemory` are the store's; what it reads is outside the append's own transaction, so the
   * call must check that it still holds). Returns the rows for the call and what runs after it in
   * place of the hook; `undefined`: the hook runs after the call as usual. Not called for an empty
   * append.
   */
  readonly prepare?:
    | ((append: PendingAppend) => Effect.Effect<InCall | undefined, SqlError.SqlError, SqlClient.SqlClient>)
    | undefined
  /**
   * Told of a stream the store read in full (`readStream`, never empty), with the store's
   * `HookMemory`: what an append at the stream's version will follow. The read models fold it, so
   * that the append a command makes after reading its release needs no read of the release's row.
   * What it keeps is checked by the append's call as anything `prepare` remembers.
   */
  readonly streamRead?:
    | ((streamId: string, events: ReadonlyArray<EventStore.RecordedEvent>) => Effect.Effect<void, never, HookMemory>)
    | undefined
}

/**
 * What a store keeps for its hooks from one append to the next (the read models remember the
 * folds they wrote): one per store, so per process and database, gone with the store. A hook
 * asks for its own part by a key of its own, made on first use. The store provides it to every
 * hook it runs, `prepare` included; a hook run without a store has none.
 */
export class HookMemory extends Context.Service<HookMemory, {
  readonly of: <A>(key: object, make: () => A) => A
}>()("@canaryroll/postgres/PgEventStore/HookMemory") {}

/** A store's `HookMemory`. */
const makeHookMemory = (): HookMemory["Service"] => {
  const parts = new Map<object, unknown>()
  return HookMemory.of({
    of: <A>(key: object, make: () => A): A => {
      if (!parts.has(key)) parts.set(key, make())
      return parts.get(key) as A
    }
  })
}

/** An append about to be made, for `AppendHook.prepare`. */
export interface PendingAppend {
  readonly streamId: string
  readonly expectedVersion: number
  readonly events: ReadonlyArray<ReleaseEvent.ReleaseEvent>
}

/**
 * The read models' rows for the append's call, folded before it (see `AppendHook.prepare`):
 * written after the events only if the release's summary row is still the one they were folded
 * on. Sent as arguments of `canaryroll_append` (or, batched, of `canaryroll_append_batch`).
 */
export interface ReadModelRows {
  /** The `position` of the summary row the fold started from; 0: no row yet. */
  readonly foldedOn: bigint
  /** The new summary and audit context, as jsonb. */
  readonly summary: unknown
  readonly auditContext: unknown
  /**
   * The audit rows, objects named like `audit_log`'s columns without `position` and `details`:
   * `event` is the row's event by its 1-based index in the append (see `PgAuditRow.callRows`).
   */
  readonly auditRows: ReadonlyArray<{ readonly event: number }>
}

/** What a hook hands to the append's call of `canaryroll_append` (see `AppendHook.prepare`). */
export interface InCall {
  readonly rows: ReadModelRows
  /**
   * Runs after a successful call in the append's transaction, in place of the hook; `written` is
   * the call's `read_models_written`.
   */
  readonly finish: (
    recorded: ReadonlyArray<EventStore.RecordedEvent>,
    written: boolean
  ) => Effect.Effect<void, SqlError.SqlError, SqlClient.SqlClient>
  /**
   * `finish(recorded, true)` runs no statement, so the call may be made alone, in its own
   * transaction (see `make`), when the caller has none open.
   */
  readonly alone: boolean
}

export interface Options {
  readonly onAppend?: AppendHook | undefined
  /**
   * Calls of appends made alone running at once; the appends that arrive while all are busy
   * share the next call (see `make`). Default 2.
   */
  readonly appendCallsInFlight?: number | undefined
  /** Appends in one shared call at most. Default 32. */
  readonly maxAppendsPerCall?: number | undefined
}

const defaultAppendCallsInFlight = 2
const defaultMaxAppendsPerCall = 32

/** An `events` row as readers select it (`data::text`). */
export interface EventRow {
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
export const toRecorded = (row: EventRow) =>
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

/**
 * One array parameter of a known element type. The driver infers an array's type from its
 * elements, which fails for an empty or all-null array and for numbers that mix integers and
 * fractions.
 */
export const typedArray = (oid: number, values: ReadonlyArray<unknown>) => Result.getOrThrow(PgTypes.array(values, oid))

/** A `text[]` parameter. */
const textArray = (values: ReadonlyArray<string>) => typedArray(PgTypes.OID.text, values)

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

interface AppendedRow {
  readonly position: bigint | null
  readonly stream_version: number | null
  readonly recorded_at: Date | null
  readonly conflict_version: number | null
}

/** A row of `canaryroll_append_batch` (migration 0015): `AppendedRow`s of several appends. */
interface BatchRow extends AppendedRow {
  readonly append_index: number
  readonly read_models_moved: boolean | null
}

/** The SQLSTATE `canaryroll_append` raises when read models it must write could not be (migration 0012). */
const readModelsMoved = "CR409"

const isReadModelsMoved = (error: SqlError.SqlError) => {
  const cause: unknown = error.reason.cause
  return typeof cause === "object" && cause !== null && "code" in cause && cause.code === readModelsMoved
}

/** An append ready for its call: encoded, and its read models folded when they could be. */
interface Append {
  readonly streamId: string
  readonly expectedVersion: number
  readonly events: ReadonlyArray<ReleaseEvent.ReleaseEvent>
  readonly encoded: ReadonlyArray<string>
  readonly inCall: InCall | undefined
}

/** How a call made alone (or batched) ended for one append. */
type Outcome =
  | { readonly _tag: "Appended"; readonly rows: ReadonlyArray<AppendedRow> }
  | { readonly _tag: "Conflict"; readonly actualVersion: number }
  /** Nothing written: the summary row is no longer the one the read models were folded on. */
  | { readonly _tag: "ReadModelsMoved" }

const conflictOf = (rows: ReadonlyArray<AppendedRow>): Extract<Outcome, { readonly _tag: "Conflict" }> | undefined => {
  const conflict = rows[0]?.conflict_version
  return conflict === undefined || conflict === null ? undefined : { _tag: "Conflict", actualVersion: conflict }
}

/** The named arguments of `canaryroll_append` that carry read-model rows. */
const readModelArguments = (sql: SqlClient.SqlClient, rows: ReadModelRows) =>
  sql`summary_folded_on => ${rows.foldedOn}, summary_summary => ${PgTypes.jsonb(rows.summary)},
    summary_audit_context => ${PgTypes.jsonb(rows.auditContext)}, audit_rows => ${PgTypes.jsonb(rows.auditRows)}`

/** The append's events as the call recorded them (`rows`: one per event). */
const recordedOf = (append: Append, rows: ReadonlyArray<AppendedRow>) => {
  const { events, expectedVersion, streamId } = append
  if (rows.length !== events.length) {
    return Effect.die(new Error(`the append call returned ${rows.length} rows for ${events.length} events`))
  }
  const byVersion = new Map(rows.map((row) => [row.stream_version, row]))
  return Effect.succeed(events.map((event, i): EventStore.RecordedEvent => {
    const version = expectedVersion + i + 1
    const row = byVersion.get(version)!
    return {
      id: EventStore.eventId(streamId, version),
      streamId,
      version,
      position: Number(row.position),
      event,
      recordedAt: row.recorded_at!.getTime()
    }
  }))
}

/**
 * The append protocol (see the module doc) in the caller's transaction: one call of
 * `canaryroll_append`, with the read-model rows of a hook that writes in the call (`inCall`,
 * unless `withoutRows`), then the hook.
 */
const appendInTransaction = Effect.fnUntraced(function*(
  append: Append,
  onAppend: AppendHook | undefined,
  withoutRows: boolean
) {
  const sql = yield* SqlClient.SqlClient
  const { encoded, events, expectedVersion, inCall, streamId } = append
  const rows = yield* sql<AppendedRow & { readonly read_models_written: boolean | null }>`
    SELECT * FROM canaryroll_append(${streamId}, ${expectedVersion},
      ${textArray(events.map((event) => event._tag))}, ${textArray(encoded)}::jsonb[]${
    inCall === undefined || withoutRows ? sql`` : sql`, ${readModelArguments(sql, inCall.rows)}`
  })`
  const conflict = conflictOf(rows)
  if (conflict !== undefined) {
    return yield* new EventStore.StreamVersionConflict({ streamId, expectedVersion, actualVersion: conflict.actualVersion })
  }
  const recorded = yield* recordedOf(append, rows)
  if (events.length === 0) return recorded
  if (inCall !== undefined) yield* inCall.finish(recorded, !withoutRows && rows[0]!.read_models_written === true)
  else if (onAppend !== undefined) yield* onAppend(recorded)
  return recorded
})

/**
 * One append's call made alone, as one statement in its own implicit transaction: the events
 * and the read-model rows handed to it commit together, or nothing does (`read_models_required`).
 */
const callAlone = Effect.fnUntraced(function*(append: Append) {
  const sql = yield* SqlClient.SqlClient
  const { encoded, events, expectedVersion, inCall, streamId } = append
  return yield* sql<AppendedRow>`
    SELECT "position", stream_version, recorded_at, conflict_version FROM canaryroll_append(${streamId},
      ${expectedVersion}, ${textArray(events.map((event) => event._tag))}, ${textArray(encoded)}::jsonb[]${
    inCall === undefined ? sql`` : sql`, ${readModelArguments(sql, inCall.rows)}, read_models_required => true`
  })`.pipe(
    Effect.map((rows): Outcome => conflictOf(rows) ?? { _tag: "Appended", rows }),
    Effect.catchIf(isReadModelsMoved, (): Effect.Effect<Outcome> => Effect.succeed({ _tag: "ReadModelsMoved" }))
  )
})

/**
 * Appends made alone, in one call: `callAlone` for one, `canaryroll_append_batch` (migration
 * 0015) for several (each of a different stream). The outcome of each, in order.
 */
const callBatch = Effect.fnUntraced(function*(appends: ReadonlyArray<Append>) {
  if (appends.length === 1) return [Exit.succeed(yield* callAlone(appends[0]!))]
  const sql = yield* SqlClient.SqlClient
  const withRows = appends.some((append) => append.inCall !== undefined)
  // The audit rows name their event by its index in the batch's flattened events.
  const auditRows: Array<{ readonly event: number }> = []
  let before = 0
  for (const { events, inCall } of appends) {
    for (const row of inCall?.rows.auditRows ?? []) auditRows.push({ ...row, event: before + row.event })
    before += events.length
  }
  const rows = yield* sql<BatchRow>`
    SELECT * FROM canaryroll_append_batch(
      ${textArray(appends.map((append) => append.streamId))},
      ${typedArray(PgTypes.OID.int4, appends.map((append) => append.expectedVersion))},
      ${typedArray(PgTypes.OID.int4, appends.map((append) => append.events.length))},
      ${textArray(appends.flatMap((append) => append.events.map((event) => event._tag)))},
      ${textArray(appends.flatMap((append) => append.encoded))}::jsonb[]${
    withRows
      ? sql`,
      ${typedArray(PgTypes.OID.int8, appends.map((append) => append.inCall?.rows.foldedOn ?? null))},
      ${typedArray(PgTypes.OID.jsonb, appends.map((append) => append.inCall?.rows.summary ?? null))},
      ${typedArray(PgTypes.OID.jsonb, appends.map((append) => append.inCall?.rows.auditContext ?? null))},
      ${PgTypes.jsonb(auditRows)}`
      : sql``
  })`
  const byAppend = appends.map((): Array<BatchRow> => [])
  for (const row of rows) byAppend[row.append_index - 1]?.push(row)
  return byAppend.map((rows): Exit.Exit<Outcome, never> =>
    Exit.succeed(
      rows[0]?.read_models_moved === true ? { _tag: "ReadModelsMoved" } : conflictOf(rows) ?? { _tag: "Appended", rows }
    )
  )
})

/**
 * The store over the `SqlClient` in context; run `Migrations` first.
 *
 * An append is one server call, made alone (its own implicit transaction: one round trip) when
 * nothing has to run after it in the same transaction: no hook, or only the read models' rows
 * handed to the call (`InCall.alone`), and no transaction of the caller's open. The call then
 * writes the events and the rows together or nothing: if the rows could not be written (the
 * summary row was not the one folded on), nothing is, and the append is redone in a transaction
 * whose hook reads the row (`BEGIN`, the call, the hook's statements, `COMMIT`). Otherwise
 * (another hook, or inside a caller's transaction, where the call is a savepoint's worth of work
 * in it) the call runs in a transaction with the hook after it.
 *
 * Appends made alone share calls under load (`NaturalBatching`): at most `appendCallsInFlight`
 * of them run at once, and the appends that arrive meanwhile (to different streams) go together
 * in the next one, `canaryroll_append_batch`. Each is still checked against its own stream's
 * version and fails or succeeds on its own; a quiet store makes every append alone, at once.
 */
export const make = (options: Options = {}): Effect.Effect<typeof EventStore.EventStore.Service, never, SqlClient.SqlClient> =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const provideSql = Effect.provideService(SqlClient.SqlClient, sql)
    const hookMemory = makeHookMemory()
    const onAppend = options.onAppend
    const batching = NaturalBatching.make<Append, Outcome, SqlError.SqlError>({
      callsInFlight: options.appendCallsInFlight ?? defaultAppendCallsInFlight,
      maxBatch: options.maxAppendsPerCall ?? defaultMaxAppendsPerCall,
      canJoin: (batch, append) => batch.every((other) => other.streamId !== append.streamId),
      call: (appends) => callBatch(appends).pipe(provideSql)
    })
    return EventStore.EventStore.of({
      append: (streamId, expectedVersion, events) =>
        Effect.gen(function*() {
          // Encoding is pure: do it before taking a connection.
          const encoded = yield* Effect.forEach(events, (event) => encodeEvent(event)).pipe(
            Effect.catch((error) => Effect.die(new Error(`event does not encode: ${error.message}`)))
          )
          // So is folding what a hook writes in the call (from what this process remembers).
          const inCall = events.length === 0 || onAppend?.prepare === undefined
            ? undefined
            : yield* onAppend.prepare({ streamId, expectedVersion, events })
          const append: Append = { streamId, expectedVersion, events, encoded, inCall }
          const callerTransaction = yield* Effect.serviceOption(sql.transactionService)
          const alone = callerTransaction._tag === "None" &&
            (events.length === 0 || onAppend === undefined || inCall?.alone === true)
          if (!alone) return yield* appendInTransaction(append, onAppend, false).pipe(sql.withTransaction)
          // An empty append only checks the version: nothing to share a call for.
          const outcome = events.length === 0 ? yield* callAlone(append) : yield* batching.submit(append)
          switch (outcome._tag) {
            case "Conflict":
              return yield* new EventStore.StreamVersionConflict({
                streamId,
                expectedVersion,
                actualVersion: outcome.actualVersion
              })
            case "ReadModelsMoved":
              return yield* appendInTransaction(append, onAppend, true).pipe(sql.withTransaction)
            case "Appended": {
              const recorded = yield* recordedOf(append, outcome.rows)
              if (inCall !== undefined) yield* inCall.finish(recorded, true)
              return recorded
            }
          }
        }).pipe(
          Effect.catchTag("SqlError", (error) => Effect.fail(unavailable(error))),
          Effect.provideService(HookMemory, hookMemory),
          provideSql
        ),
      readStream: (streamId) => {
        const read = readStream(streamId).pipe(Effect.mapError(unavailable), provideSql)
        const streamRead = onAppend?.streamRead
        return streamRead === undefined ? read : Effect.tap(read, (events) =>
          events.length === 0 ? Effect.void : streamRead(streamId, events).pipe(Effect.provideService(HookMemory, hookMemory)))
      },
      readAll: (after, limit) => readAll(after, limit).pipe(Effect.mapError(unavailable), provideSql)
    })
  })

export const layer = (options: Options = {}): Layer.Layer<EventStore.EventStore, never, SqlClient.SqlClient> =>
  Layer.effect(EventStore.EventStore, make(options))
