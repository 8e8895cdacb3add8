/**
 * PgReadModels: the release summaries (`release_summaries`) and the audit log (`audit_log`),
 * kept by the event store's append hook in the same transaction as the events, so a reader never
 * sees one without the other; and `rebuild`, which recomputes both from the events table.
 *
 * The folds are the core's (`ReleaseSummary.evolve`, `AuditEntry.evolveContext` and
 * `fromEvent`); this module only stores them. A summary row keeps what folding the next event
 * needs (the summary, the audit context, the version and position of the last event folded), so
 * an append costs at most one read of that row and one statement writing the audit rows and the
 * new summary, whatever the length of the stream. Statements, not rows, are what an append pays
 * for (every one is a round trip inside a transaction that holds the stream), so the rows are
 * folded before the append and handed to the append's own call (`canaryroll_append`, see
 * `PgEventStore`), which writes them after the events if the release's row is still the one they
 * were folded on; the call is then made alone, one round trip, and may share a server call with
 * other appends. The fold starts from the row as this store last wrote or read it (each store
 * remembers the folds it wrote and those of the releases it read in full, in its
 * `PgEventStore.HookMemory`: the orchestrator reads a release before each command, and its next
 * step usually runs in the process that wrote the last one), from no row when the append starts the
 * stream, or else from the row read just before the call. If the row moved in between, the call
 * writes nothing and the append is redone in a transaction whose hook reads the row and writes
 * after the events. A release's stream id is its release id.
 *
 * Folding is idempotent: events at or below a row's version are skipped and audit rows are
 * inserted once by event id. A row that is *behind* the events (they were appended by a store
 * without this hook) is recomputed from the stream before the new events are folded. After a
 * change to a fold, or on a database that held events before migration `0004_read_models`, run
 * `rebuild`.
 *
 * @since 0.1.0
 */
import { Storage } from "@canaryroll/app"
import { AuditEntry, EventStore, ReleaseSummary } from "@canaryroll/core"
import { PgTypes } from "@effect/sql-pg"
import { Effect, Option } from "effect"
import { SqlClient, type SqlError, type Statement } from "effect/sql"
import * as PgAuditRow from "./PgAuditRow.ts"
import * as PgEventStore from "./PgEventStore.ts"

/** The read models' storage failing, as every port of `@canaryroll/app` says it. */
export const unavailable = (error: SqlError.SqlError) =>
  new Storage.StorageUnavailable({ message: PgEventStore.describeSqlError(error) })

/** Where one release's folds stand: the stream version and global position of the last event folded. */
interface Folded {
  readonly summary: ReleaseSummary.ReleaseSummary | undefined
  readonly context: AuditEntry.Context | undefined
  readonly version: number
  readonly position: number
}

const nothingFolded: Folded = { summary: undefined, context: undefined, version: 0, position: 0 }

interface SummaryRow {
  readonly release_id: string
  readonly version: number
  readonly position: bigint
  /** jsonb, parsed by the driver: written by this module from the core's shapes. */
  readonly summary: ReleaseSummary.ReleaseSummary
  readonly audit_context: AuditEntry.Context
}

/** A release event's audit entry and the position it takes (its event's). */
interface AuditRow {
  readonly entry: AuditEntry.AuditEntry
  readonly position: number
}

const column = PgEventStore.typedArray

/** Folds `events` (one stream, in version order) from `folded`, collecting the audit rows (unless `audit` is `undefined`). */
const fold = (folded: Folded, events: ReadonlyArray<EventStore.RecordedEvent>, audit: Array<AuditRow> | undefined): Folded => {
  let { context, position, summary, version } = folded
  for (const recorded of events) {
    if (recorded.version <= version) continue
    context = AuditEntry.evolveContext(context, recorded.event)
    summary = ReleaseSummary.evolve(summary, recorded.event)
    version = recorded.version
    position = recorded.position
    if (context !== undefined && audit !== undefined) {
      audit.push({ entry: AuditEntry.fromEvent(context, recorded.id, recorded.event), position: recorded.position })
    }
  }
  return { context, position, summary, version }
}

/** Every stream's events, in the order given (version order within a stream). */
const byStream = (recorded: ReadonlyArray<EventStore.RecordedEvent>) => {
  const streams = new Map<string, Array<EventStore.RecordedEvent>>()
  for (const event of recorded) {
    const stream = streams.get(event.streamId)
    if (stream === undefined) streams.set(event.streamId, [event])
    else stream.push(event)
  }
  return streams
}

/** An INSERT of audit rows, for a `WITH`; `when` guards it (a fragment of SQL that must hold). */
const insertAudit = (sql: SqlClient.SqlClient, audit: ReadonlyArray<AuditRow>, when: Statement.Fragment) =>
  PgAuditRow.insert(sql, audit.map((row) => PgAuditRow.encode(row.entry, BigInt(row.position))), { when })

/**
 * Writes the audit rows and the summaries in one statement (fewer round trips inside the
 * append's transaction, which holds the stream's new versions until it commits).
 */
const write = Effect.fnUntraced(function*(
  audit: ReadonlyArray<AuditRow>,
  summaries: ReadonlyArray<readonly [releaseId: string, Folded]>
) {
  const sql = yield* SqlClient.SqlClient
  const stored = summaries.flatMap(([releaseId, { context, position, summary, version }]) =>
    summary === undefined || context === undefined ? [] : [{ releaseId, summary, context, version, position }]
  )
  if (audit.length === 0 && stored.length === 0) return
  yield* sql`
    WITH audit AS (${insertAudit(sql, audit, sql`true`)})
    INSERT INTO release_summaries (release_id, team_id, worker_id, status, created_at, updated_at, version, position,
      summary, audit_context)
    SELECT * FROM unnest(
      ${column(PgTypes.OID.text, stored.map((s) => s.releaseId))},
      ${column(PgTypes.OID.text, stored.map((s) => s.summary.teamId))},
      ${column(PgTypes.OID.text, stored.map((s) => s.summary.workerId))},
      ${column(PgTypes.OID.text, stored.map((s) => s.summary.status))},
      ${column(PgTypes.OID.timestamptz, stored.map((s) => new Date(s.summary.createdAt)))},
      ${column(PgTypes.OID.timestamptz, stored.map((s) => new Date(s.summary.updatedAt)))},
      ${column(PgTypes.OID.int4, stored.map((s) => s.version))},
      ${column(PgTypes.OID.int8, stored.map((s) => BigInt(s.position)))},
      ${column(PgTypes.OID.jsonb, stored.map((s) => s.summary))},
      ${column(PgTypes.OID.jsonb, stored.map((s) => s.context))}
    )
    ON CONFLICT (release_id) DO UPDATE SET
      team_id = excluded.team_id, worker_id = excluded.worker_id, status = excluded.status,
      created_at = excluded.created_at, updated_at = excluded.updated_at, version = excluded.version,
      position = excluded.position, summary = excluded.summary, audit_context = excluded.audit_context`
})

/**
 * Writes one release's new folds over `before`, only if its row is still exactly `before` (the
 * position of the last event folded identifies it: positions are never reused, so a fold this
 * process wrote in a transaction that then rolled back never matches). One statement: the
 * audit rows are inserted only if the summary was. Returns whether it wrote.
 */
const writeOver = Effect.fnUntraced(function*(
  releaseId: string,
  before: Folded,
  after: Folded,
  audit: ReadonlyArray<AuditRow>
) {
  const sql = yield* SqlClient.SqlClient
  const summary = after.summary!
  const [row] = yield* sql<{ written: number }>`
    WITH summary AS (
      UPDATE release_summaries SET team_id = ${summary.teamId}, worker_id = ${summary.workerId},
        status = ${summary.status}, created_at = ${new Date(summary.createdAt)}, updated_at = ${new Date(summary.updatedAt)},
        version = ${after.version}, position = ${BigInt(after.position)}, summary = ${PgTypes.jsonb(summary)},
        audit_context = ${PgTypes.jsonb(after.context)}
      WHERE release_id = ${releaseId} AND position = ${BigInt(before.position)}
      RETURNING 1
    ), audit AS (${insertAudit(sql, audit, sql`EXISTS (SELECT FROM summary)`)})
    SELECT count(*)::int AS written FROM summary`
  return row?.written === 1
})

/**
 * Folds recorded events (any streams, in position order) into both read models: one read of the
 * streams' summary rows, one write. `heal`: recompute a stream whose row is behind the events
 * from its stored events first (the hook; `rebuild` replays everything in order and needs not).
 * Returns the streams' new folds.
 */
const foldIntoReadModels = Effect.fnUntraced(function*(
  recorded: ReadonlyArray<EventStore.RecordedEvent>,
  heal: boolean
) {
  const sql = yield* SqlClient.SqlClient
  const streams = byStream(recorded)
  const rows = yield* sql<SummaryRow>`
    SELECT release_id, version, position, summary, audit_context FROM release_summaries
    WHERE release_id = ANY(${column(PgTypes.OID.text, [...streams.keys()])})`
  const stored = new Map(rows.map((row): [string, Folded] => [row.release_id, foldOfRow(row)]))
  const audit: Array<AuditRow> = []
  const folds: Array<readonly [string, Folded]> = []
  for (const [streamId, events] of streams) {
    let folded = stored.get(streamId) ?? nothingFolded
    // Behind: events between the row and this batch were appended without this hook. (No row and
    // a stream that does not start here is usually not a release at all; reading it tells.)
    if (heal && folded.version < events[0]!.version - 1) {
      const earlier = yield* PgEventStore.readStream(streamId)
      folded = fold(folded, earlier.filter((event) => event.version < events[0]!.version), audit)
    }
    folds.push([streamId, fold(folded, events, audit)])
  }
  yield* write(audit, folds)
  return folds
})

/**
 * The folds this store wrote or read last (its `PgEventStore.HookMemory`, so per process and
 * database), per release, at most `rememberedReleases` of them, least recently remembered dropped first. The
 * orchestrator appends a release's events from the process that holds its lease, so the next
 * append usually folds from here and skips reading the row; the append's call (or `writeOver`)
 * checks that the row is still the one remembered, and a miss falls back to reading it. Run
 * without a store, the hook remembers nothing.
 */
const foldsKey = {}
const recentFolds = Effect.map(
  Effect.serviceOption(PgEventStore.HookMemory),
  (memory) => Option.isSome(memory) ? memory.value.of(foldsKey, () => new Map<string, Folded>()) : new Map<string, Folded>()
)
const rememberedReleases = 10_000

const remember = (folds: Map<string, Folded>, releaseId: string, folded: Folded) => {
  if (folded.summary === undefined) return
  folds.delete(releaseId)
  folds.set(releaseId, folded)
  if (folds.size > rememberedReleases) folds.delete(folds.keys().next().value!)
}

/**
 * The read models' rows for an append whose fold is known before the call: the release's row as
 * this process last wrote it (or no row, for a stream's first append). `canaryroll_append` writes
 * them after the events only if the row is still `before` (identified by the position of its last
 * event, as in `writeOver`). Positions are allocated by the call, so the events are folded with
 * their indexes (1-based) standing in for them: an audit row's `position` here is its event's
 * index, which the call maps to the event's position. The call reads the summary row's columns
 * (team, Worker, status, times) from the summary itself.
 */
const inCallRows = (before: Folded, after: Folded, audit: ReadonlyArray<AuditRow>): PgEventStore.ReadModelRows => ({
  foldedOn: BigInt(before.position),
  summary: after.summary,
  auditContext: after.context,
  auditRows: PgAuditRow.callRows(
    audit.map((row) => PgAuditRow.encodeWithoutDetails(row.entry, BigInt(row.position))),
    audit.map((row) => row.position)
  )
})

/** The release's row as stored, or `undefined` without one. */
const storedFold = Effect.fnUntraced(function*(releaseId: string) {
  const sql = yield* SqlClient.SqlClient
  const [row] = yield* sql<SummaryRow>`
    SELECT release_id, version, position, summary, audit_context FROM release_summaries WHERE release_id = ${releaseId}`
  return row === undefined ? undefined : foldOfRow(row)
})

const foldOfRow = (row: SummaryRow): Folded => ({
  summary: row.summary,
  context: row.audit_context,
  version: row.version,
  position: Number(row.position)
})

/**
 * The hook's part in the append's server call (`PgEventStore.AppendHook.prepare`): fold the new
 * events before the call and let it write them. The fold starts from the release's row as this
 * process last wrote or read it, from no row for a stream's first append, or else from the row read now
 * (one statement, before the call and outside its transaction; the call checks that the row is
 * still that one). After the call: remember the fold, or, when the row was not the one folded on
 * after all (another process wrote since, or the remembered fold's append rolled back), fold from
 * the row as the hook does. `undefined` (the hook runs after the call): a row behind the stream
 * (events appended without this hook), or nothing to store (a stream that is not a release).
 */
const prepare = (append: PgEventStore.PendingAppend) =>
  Effect.gen(function*() {
    const folds = yield* recentFolds
    const { events, expectedVersion, streamId } = append
    const remembered = folds.get(streamId)
    const before = remembered !== undefined && remembered.version === expectedVersion
      ? remembered
      : expectedVersion === 0
      ? nothingFolded
      : yield* storedFold(streamId)
    if (before === undefined || before.version !== expectedVersion) return undefined
    const pending = events.map((event, i): EventStore.RecordedEvent => ({
      id: EventStore.eventId(streamId, expectedVersion + i + 1),
      streamId,
      version: expectedVersion + i + 1,
      position: i + 1,
      event,
      recordedAt: 0
    }))
    const audit: Array<AuditRow> = []
    const folded = fold(before, pending, audit)
    if (folded.summary === undefined || folded.context === undefined) return undefined
    return {
      rows: inCallRows(before, folded, audit),
      // Written by the call, the fold is only remembered: the call can go alone (see PgEventStore.make).
      alone: true,
      finish: (recorded, written) =>
        written
          ? Effect.sync(() => remember(folds, streamId, { ...folded, position: recorded.at(-1)!.position }))
          : foldIntoReadModels(recorded, true).pipe(
            Effect.map((refolded) => {
              for (const [releaseId, folded] of refolded) remember(folds, releaseId, folded)
            })
          )
    } satisfies PgEventStore.InCall
  })

/**
 * A release read in full (`PgEventStore.AppendHook.streamRead`): its fold, remembered as the
 * row would hold it, unless this process remembers exactly that fold already. The orchestrator
 * reads a release before each command; the append that follows then folds from here instead of
 * reading the row first (one statement less). The row is the fold of the same events, so the two
 * agree; when they do not (a row behind its stream, a read inside a transaction that rolled
 * back), the append's call sees that the row is not the one folded on and the hook falls back to
 * the row, as for any fold it remembers.
 */
const streamRead = (streamId: string, events: ReadonlyArray<EventStore.RecordedEvent>) =>
  Effect.map(recentFolds, (folds) => {
    const last = events.at(-1)!
    const remembered = folds.get(streamId)
    // Kept: the same fold, or a later one (this process appended while the read was on its way).
    if (
      remembered !== undefined &&
      (remembered.version > last.version || (remembered.version === last.version && remembered.position === last.position))
    ) return
    remember(folds, streamId, fold(nothingFolded, events, undefined))
  })

/**
 * The hook run after the append's call, when `prepare` handed nothing to it, or when a caller
 * composes it without its `prepare`: one statement when this process wrote the release's
 * previous fold, two otherwise (read the row, then write).
 */
const projectAfterCall = (recorded: ReadonlyArray<EventStore.RecordedEvent>) =>
  Effect.gen(function*() {
    if (recorded.length === 0) return
    const folds = yield* recentFolds
    const first = recorded[0]!
    const remembered = folds.get(first.streamId)
    if (
      remembered !== undefined && remembered.version === first.version - 1 &&
      recorded.every((event) => event.streamId === first.streamId)
    ) {
      const audit: Array<AuditRow> = []
      const folded = fold(remembered, recorded, audit)
      if (yield* writeOver(first.streamId, remembered, folded, audit)) {
        return remember(folds, first.streamId, folded)
      }
    }
    for (const [releaseId, folded] of yield* foldIntoReadModels(recorded, true)) remember(folds, releaseId, folded)
  })

/**
 * The append hook that keeps both read models (see the module doc). `PgEventStore` runs it in
 * the append's transaction: if it fails, nothing of the append is written. When this process
 * wrote the release's previous fold, the rows are written by the append's own server call (no
 * statement of their own); otherwise it reads the release's row and writes after the call.
 */
export const project: PgEventStore.AppendHook = Object.assign(projectAfterCall, { prepare, streamRead })

/** The read models' hook followed by `also` (a user's hook), in the same transaction; told of reads after them. */
export const appendHook = (also?: PgEventStore.AppendHook | undefined): PgEventStore.AppendHook =>
  also === undefined ? project : Object.assign(
    (recorded: ReadonlyArray<EventStore.RecordedEvent>) => project(recorded).pipe(Effect.andThen(also(recorded))),
    {
      streamRead: (streamId: string, events: ReadonlyArray<EventStore.RecordedEvent>) =>
        also.streamRead === undefined
          ? streamRead(streamId, events)
          : Effect.andThen(streamRead(streamId, events), also.streamRead(streamId, events)),
      prepare: (append: PgEventStore.PendingAppend) =>
        prepare(append).pipe(Effect.map((inCall) =>
          inCall === undefined ? undefined : {
            rows: inCall.rows,
            // `also` writes after the call, in its transaction.
            alone: false,
            finish: (recorded: ReadonlyArray<EventStore.RecordedEvent>, written: boolean) =>
              inCall.finish(recorded, written).pipe(Effect.andThen(also(recorded)))
          }
        ))
    }
  )

export interface RebuildOptions {
  /** Events read and folded per statement. Default 1,000. */
  readonly batchSize?: number | undefined
}


/**
 * Empties both read models and folds every stored event into them again, in position order and
 * in batches, in one transaction: readers keep the old rows until it commits (they wait while it
 * truncates), and appends wait too, so nothing is folded twice or missed. Returns how many events
 * it replayed.
 *
 * The tables are locked in the order the append hook touches them (summaries, then the audit
 * log), so an append already inside its hook finishes first instead of deadlocking with the
 * rebuild. Events are read by plain position order, not `readAll`'s gap-safe cut: an append in
 * flight is stuck behind the locks until this commits, and then folds itself on top.
 */
export const rebuild = Effect.fnUntraced(function*(options: RebuildOptions = {}) {
  const sql = yield* SqlClient.SqlClient
  const batchSize = options.batchSize ?? 1_000
  return yield* Effect.gen(function*() {
    yield* sql`LOCK TABLE release_summaries, audit_log IN ACCESS EXCLUSIVE MODE`
    yield* sql`TRUNCATE release_summaries, audit_log`
    let after = 0n
    let replayed = 0
    while (true) {
      const rows = yield* sql<PgEventStore.EventRow>`
        SELECT position, stream_id, stream_version, data::text AS data, recorded_at
        FROM events WHERE position > ${after} ORDER BY position LIMIT ${batchSize}`
      if (rows.length === 0) return replayed
      const recorded = yield* Effect.forEach(rows, PgEventStore.toRecorded)
      yield* foldIntoReadModels(recorded, false)
      replayed += rows.length
      after = rows[rows.length - 1]!.position
    }
  }).pipe(sql.withTransaction)
})
