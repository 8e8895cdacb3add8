/**
 * PgAuditLog: pages of a team's audit log (`audit_log`, kept by `PgReadModels`), newest first,
 * filtered by release, actor, event types and a time range, as the core's `AuditEntry`.
 *
 * Pages are keyset-paginated on `(at, position)`: the cursor is the last entry handed out, and
 * the next page starts strictly after it, so a walk sees every entry once however deep it goes
 * and whatever is appended meanwhile (an entry appended after the walk started is newer than the
 * cursor, so it is not in the rest of this walk; it is in the next one). Each filter has an index
 * in that order (see migration `0004_read_models`); several event types are read as one ordered
 * scan per type merged by the database, because one scan over `type = ANY(...)` would have to
 * sort every matching entry of the team to find the newest fifty.
 *
 * @since 0.1.0
 */
import { Actor, type AuditEntry, ReleaseEvent } from "@canaryroll/core"
import { Context, Effect, Layer, Schema } from "effect"
import { SqlClient, type Statement } from "effect/sql"
import { InvalidQuery, type ReadModelUnavailable, unavailable } from "./PgReadModels.ts"
import * as PgSettingsAudit from "./PgSettingsAudit.ts"

/** Who acted: a person or a token by id, or CanaryRoll itself. */
export type ActorFilter =
  | { readonly _tag: "User"; readonly id: string }
  | { readonly _tag: "Token"; readonly id: string }
  | { readonly _tag: "System" }

export interface Query {
  /** Required: the audit log is read one team at a time. */
  readonly teamId: string
  readonly releaseId?: string | undefined
  readonly actor?: ActorFilter | undefined
  /** Entries of any of these types (event types or settings change types); absent or empty: every type. */
  readonly types?: ReadonlyArray<ReleaseEvent.ReleaseEventType | PgSettingsAudit.ChangeType> | undefined
  /** Entries at or after this time (epoch milliseconds). */
  readonly from?: number | undefined
  /** Entries strictly before this time (epoch milliseconds). */
  readonly to?: number | undefined
  /** At most `maxLimit`; default `defaultLimit`. */
  readonly limit?: number | undefined
  /** A previous page's `nextCursor`: this page continues after it. */
  readonly cursor?: string | undefined
}

/** A change to the team's settings (see PgSettingsAudit): no release, no step. */
export interface SettingsEntry {
  readonly id: string
  readonly releaseId: null
  readonly teamId: string
  readonly workerId: string | null
  readonly type: PgSettingsAudit.ChangeType
  readonly actor: Actor.Actor
  readonly at: number
  readonly stepIndex: null
  readonly percentage: null
  readonly sentence: string
  readonly details: Readonly<Record<string, unknown>>
}

/** A release event's entry (the core's AuditEntry) or a settings change. */
export type Entry = AuditEntry.AuditEntry | SettingsEntry

export interface Page {
  /** Newest first. */
  readonly entries: ReadonlyArray<Entry>
  /** Where the next page starts; `null` on the last page. */
  readonly nextCursor: string | null
}

export const defaultLimit = 50
export const maxLimit = 200

export class PgAuditLog extends Context.Service<PgAuditLog, {
  readonly page: (query: Query) => Effect.Effect<Page, InvalidQuery | ReadModelUnavailable>
}>()("@canaryroll/postgres/PgAuditLog") {}

/** Where a page ends: an entry's time and position. */
interface Cursor {
  readonly at: number
  readonly position: bigint
}

// Opaque to clients (they only hand it back), versioned in case the order ever changes.
const encodeCursor = (cursor: Cursor): string => Buffer.from(`a1:${cursor.at}:${cursor.position}`).toString("base64url")

const decodeCursor = (cursor: string): Cursor | undefined => {
  const match = /^a1:(-?\d{1,16}):(-?\d{1,19})$/.exec(Buffer.from(cursor, "base64url").toString())
  return match === null ? undefined : { at: Number(match[1]), position: BigInt(match[2]!) }
}

interface EntryRow {
  readonly id: string
  readonly position: bigint
  readonly team_id: string
  readonly release_id: string | null
  readonly worker_id: string | null
  readonly type: string
  readonly at: Date
  readonly step_index: number | null
  readonly percentage: number | null
  readonly sentence: string
  /** `details::text`, decoded with `ReleaseEvent.Json` like the events themselves. */
  readonly details: string
}

const decodeDetails = Schema.decodeEffect(ReleaseEvent.Json)

const SettingsDetails = Schema.fromJsonString(Schema.Struct({ actor: Actor.Actor, at: Schema.Finite }))

const toSettingsEntry = (row: EntryRow, type: PgSettingsAudit.ChangeType) =>
  Schema.decodeUnknownEffect(SettingsDetails)(row.details).pipe(
    Effect.map(({ actor, at }): SettingsEntry => {
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
    }),
    Effect.catch((error) => Effect.die(new Error(`audit entry ${row.id} does not decode: ${error.message}`)))
  )

const toEntry = (row: EntryRow): Effect.Effect<Entry> =>
  PgSettingsAudit.isChangeType(row.type) ? toSettingsEntry(row, row.type) : toReleaseEntry(row)

const toReleaseEntry = (row: EntryRow) =>
  decodeDetails(row.details).pipe(
    Effect.map((details): AuditEntry.AuditEntry => ({
      id: row.id,
      releaseId: row.release_id!,
      teamId: row.team_id,
      workerId: row.worker_id!,
      type: details._tag,
      actor: details.actor,
      // The event's own time: the column is only as precise as a timestamptz.
      at: details.at,
      stepIndex: row.step_index,
      percentage: row.percentage,
      sentence: row.sentence,
      details
    })),
    Effect.catch((error) => Effect.die(new Error(`audit entry ${row.id} does not decode: ${error.message}`)))
  )

const knownTypes: ReadonlySet<string> = new Set([...ReleaseEvent.eventTypes, ...PgSettingsAudit.changeTypes])
const actorKinds: ReadonlySet<string> = new Set(["User", "Token", "System"] satisfies Array<Actor.Actor["_tag"]>)

const isTime = (n: unknown) => typeof n === "number" && Number.isFinite(n)

/** Checks what the types cannot: numbers in range, a cursor this module made, known names. */
const validate = (query: Query) =>
  Effect.gen(function*() {
    const invalid = (field: string, message: string) => Effect.fail(new InvalidQuery({ field, message }))
    const limit = query.limit ?? defaultLimit
    if (!Number.isInteger(limit) || limit < 1 || limit > maxLimit) {
      return yield* invalid("limit", `must be an integer from 1 to ${maxLimit}, got ${limit}`)
    }
    if (query.teamId === "") return yield* invalid("teamId", "must not be empty")
    if (query.from !== undefined && !isTime(query.from)) return yield* invalid("from", "must be a time")
    if (query.to !== undefined && !isTime(query.to)) return yield* invalid("to", "must be a time")
    const unknownType = query.types?.find((type) => !knownTypes.has(type))
    if (unknownType !== undefined) {
      return yield* invalid("types", `unknown event type ${JSON.stringify(unknownType)}; known: ${[...knownTypes].join(", ")}`)
    }
    if (query.actor !== undefined && !actorKinds.has(query.actor._tag)) {
      return yield* invalid("actor", `must be a User, a Token or the System, got ${JSON.stringify(query.actor._tag)}`)
    }
    let cursor: Cursor | undefined
    if (query.cursor !== undefined) {
      cursor = decodeCursor(query.cursor)
      if (cursor === undefined) return yield* invalid("cursor", "is not a cursor this audit log handed out")
    }
    return { limit, cursor, types: [...new Set(query.types ?? [])] }
  })

/** The log over the `SqlClient` in context; run `Migrations` first. */
export const make: Effect.Effect<typeof PgAuditLog.Service, never, SqlClient.SqlClient> = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  const columns = sql`id, position, team_id, release_id, worker_id, type, at, step_index, percentage, sentence,
    details::text AS details`
  const order = sql`ORDER BY at DESC, position DESC`

  const page = (query: Query) =>
    Effect.gen(function*() {
      const { cursor, limit, types } = yield* validate(query)
      const actor = query.actor
      const conditions = [
        sql`team_id = ${query.teamId}`,
        ...(query.releaseId === undefined ? [] : [sql`release_id = ${query.releaseId}`]),
        ...(actor === undefined ? [] : actor._tag === "System"
          ? [sql`actor_kind = 'System' AND actor_id IS NULL`]
          : [sql`actor_kind = ${actor._tag} AND actor_id = ${actor.id}`]),
        ...(query.from === undefined ? [] : [sql`at >= ${new Date(query.from)}`]),
        ...(query.to === undefined ? [] : [sql`at < ${new Date(query.to)}`]),
        ...(cursor === undefined ? [] : [sql`(at, position) < (${new Date(cursor.at)}, ${cursor.position})`])
      ]
      // One more than the page: whether there is a next page, without a second query.
      const fetch = limit + 1
      const select = (extra: ReadonlyArray<Statement.Fragment>) =>
        sql<EntryRow>`SELECT ${columns} FROM audit_log WHERE ${sql.and([...conditions, ...extra])} ${order} LIMIT ${fetch}`
      // A release is small enough to filter by type within; a team's log is not.
      const rows = yield* (types.length === 0
        ? select([])
        : types.length === 1
        ? select([sql`type = ${types[0]!}`])
        : query.releaseId !== undefined
        ? select([sql`type = ANY(${types})`])
        : sql<EntryRow>`
          SELECT * FROM (${sql.join(" UNION ALL ", false)(types.map((type) => sql`(${select([sql`type = ${type}`])})`))}) page
          ${order} LIMIT ${fetch}`)
      const entries = yield* Effect.forEach(rows.slice(0, limit), toEntry)
      const last = rows.length > limit ? rows[limit - 1]! : undefined
      return {
        entries,
        nextCursor: last === undefined ? null : encodeCursor({ at: last.at.getTime(), position: last.position })
      }
    })

  return PgAuditLog.of({
    page: (query) => page(query).pipe(Effect.catchTag("SqlError", (error) => Effect.fail(unavailable(error))))
  })
})

export const layer: Layer.Layer<PgAuditLog, never, SqlClient.SqlClient> = Layer.effect(PgAuditLog, make)
