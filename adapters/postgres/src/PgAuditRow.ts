/**
 * PgAuditRow: the one mapping between an audit-log entry (`AuditLog.Entry` of `@canaryroll/app`:
 * a release event's `AuditEntry` or a settings change) and a row of `audit_log`. Everything that
 * writes or reads the table goes through it: the read models' append hook (`PgReadModels`, rows
 * of release events, in its own statement or in the append's call of `canaryroll_append`), the
 * settings changes and the pages (`PgAuditLog`).
 *
 * The row: the entry's fields, its position, the actor split into `actor_kind`/`actor_id` (for
 * the actor filter's index), and `details`: a release entry's event in its storage form
 * (`ReleaseEvent`, actor and time included), or a settings change's facts with its actor and time
 * added (so a settings entry is read back from its row alone).
 *
 * @since 0.2.0
 */
import { AuditLog } from "@canaryroll/app"
import { Actor, ReleaseEvent } from "@canaryroll/core"
import { PgTypes } from "@effect/sql-pg"
import { Effect, Schema } from "effect"
import type { SqlClient, Statement } from "effect/sql"
import { typedArray } from "./PgEventStore.ts"

/** A row as written: one value per column of `audit_log`. */
export interface AuditRow {
  readonly id: string
  readonly position: bigint
  readonly team_id: string
  readonly release_id: string | null
  readonly worker_id: string | null
  readonly actor_kind: Actor.Actor["_tag"]
  readonly actor_id: string | null
  readonly type: string
  readonly at: Date
  readonly step_index: number | null
  readonly percentage: number | null
  readonly sentence: string
  /** Written as jsonb. */
  readonly details: unknown
}

/** A row as `select` reads it: `details::text`, decoded with the schemas below. */
export interface SelectedRow extends Omit<AuditRow, "details" | "actor_kind"> {
  readonly actor_kind: string
  readonly details: string
}

/** The columns in the table's order, with their types (arrays of them are sent for many rows). */
const columns = [
  ["id", PgTypes.OID.text],
  ["position", PgTypes.OID.int8],
  ["team_id", PgTypes.OID.text],
  ["release_id", PgTypes.OID.text],
  ["worker_id", PgTypes.OID.text],
  ["actor_kind", PgTypes.OID.text],
  ["actor_id", PgTypes.OID.text],
  ["type", PgTypes.OID.text],
  ["at", PgTypes.OID.timestamptz],
  ["step_index", PgTypes.OID.int4],
  ["percentage", PgTypes.OID.float8],
  ["sentence", PgTypes.OID.text],
  ["details", PgTypes.OID.jsonb]
] as const satisfies ReadonlyArray<readonly [keyof AuditRow, number]>

const encodeEvent = Schema.encodeSync(ReleaseEvent.ReleaseEvent)

/** The row of an entry at `position`. */
export const encode = (entry: AuditLog.Entry, position: bigint): AuditRow => ({
  ...encodeWithoutDetails(entry, position),
  details: entry.releaseId === null
    ? { ...entry.details, actor: entry.actor, at: entry.at }
    : encodeEvent(entry.details)
})

/** The row of a release entry without its details, for `callRows` (the call has the event). */
export const encodeWithoutDetails = (entry: AuditLog.Entry, position: bigint): Omit<AuditRow, "details"> => ({
  id: entry.id,
  position,
  team_id: entry.teamId,
  release_id: entry.releaseId,
  worker_id: entry.workerId,
  actor_kind: entry.actor._tag,
  actor_id: entry.actor._tag === "System" ? null : entry.actor.id,
  type: entry.type,
  at: new Date(entry.at),
  step_index: entry.stepIndex,
  percentage: entry.percentage,
  sentence: entry.sentence
})

const decodeEvent = Schema.decodeEffect(ReleaseEvent.Json)

const SettingsDetails = Schema.fromJsonString(Schema.Struct({ actor: Actor.Actor, at: Schema.Finite }))
const decodeSettingsDetails = Schema.decodeUnknownEffect(SettingsDetails)

const settingsEntry = (row: SelectedRow, type: AuditLog.ChangeType) =>
  Effect.map(decodeSettingsDetails(row.details), ({ actor, at }): AuditLog.SettingsEntry => {
    // The facts are whatever the change recorded: any JSON object (the schema checked the rest).
    const { actor: _actor, at: _at, ...details } = JSON.parse(row.details) as Record<string, unknown>
    return {
      id: row.id,
      releaseId: null,
      teamId: row.team_id,
      workerId: row.worker_id,
      type,
      actor,
      at,
      stepIndex: null,
      percentage: null,
      sentence: row.sentence,
      details
    }
  })

const releaseEntry = (row: SelectedRow, releaseId: string, workerId: string) =>
  Effect.map(decodeEvent(row.details), (details): AuditLog.Entry => ({
    id: row.id,
    releaseId,
    teamId: row.team_id,
    workerId,
    type: details._tag,
    actor: details.actor,
    // The event's own time: the column is only as precise as a timestamptz.
    at: details.at,
    stepIndex: row.step_index,
    percentage: row.percentage,
    sentence: row.sentence,
    details
  }))

/** The entry of a row; a row that does not decode is a bug (a change without an upcaster), not an outage. */
export const decode = (row: SelectedRow): Effect.Effect<AuditLog.Entry> => {
  const decoded: Effect.Effect<AuditLog.Entry, Schema.SchemaError | Error> = AuditLog.isChangeType(row.type)
    ? settingsEntry(row, row.type)
    : row.release_id === null || row.worker_id === null
    ? Effect.fail(new Error("a release event's entry without its release or Worker"))
    : releaseEntry(row, row.release_id, row.worker_id)
  return decoded.pipe(
    Effect.catch((error) => Effect.die(new Error(`audit entry ${row.id} does not decode: ${error.message}`)))
  )
}

/** The select list that reads a `SelectedRow`. */
export const select = (sql: SqlClient.SqlClient): Statement.Fragment =>
  sql`id, position, team_id, release_id, worker_id, actor_kind, actor_id, type, at, step_index, percentage, sentence,
    details::text AS details`

const columnList = columns.map(([name]) => name).join(", ")

/**
 * An INSERT of rows, for a statement of its own or a `WITH`: entries already in the log (by id)
 * are left alone. `when` guards it (SQL that must hold). `settingsPositions`: the rows take their
 * positions from the settings sequence, `settings_audit_positions` (see migration `0006_teams`),
 * in place of theirs.
 */
export const insert = (
  sql: SqlClient.SqlClient,
  rows: ReadonlyArray<AuditRow>,
  options: { readonly when?: Statement.Fragment | undefined; readonly settingsPositions?: boolean | undefined } = {}
): Statement.Fragment => {
  const values = columns.map(([name, oid]) => typedArray(oid, rows.map((row) => row[name])))
  const selected = options.settingsPositions === true
    ? sql.literal(columnList.replace("position", "nextval('settings_audit_positions')"))
    : sql.literal(columnList)
  return sql`
    INSERT INTO audit_log (${sql.literal(columnList)})
    SELECT ${selected} FROM unnest(${sql.join(", ", false)(values.map((value) => sql`${value}`))}) AS a(${sql.literal(columnList)})
    WHERE ${options.when ?? sql`true`}
    ON CONFLICT (id) DO NOTHING`
}

/**
 * Release events' rows as `canaryroll_append` takes them (`audit_rows`, migration
 * `0012_append_alone`; see `PgEventStore.ReadModelRows`): objects named like the columns, one
 * jsonb parameter for all (not thirteen arrays to encode and decode). Positions are allocated by
 * the call, so each row names its event by index in the append (1-based, `events`, as `event`)
 * in place of its position. `details` is not sent: a release entry's details are its event in
 * storage form, which the call already has.
 */
export const callRows = (
  rows: ReadonlyArray<Omit<AuditRow, "details">>,
  events: ReadonlyArray<number>
): Array<{ readonly event: number }> =>
  rows.map(({ position: _position, ...row }, i) => ({ ...row, event: events[i]!, at: row.at.toISOString() }))
