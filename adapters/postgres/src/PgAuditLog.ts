/**
 * PgAuditLog: the `AuditLog` port of `@canaryroll/app` on `audit_log`. Release entries are
 * written by the read models' append hook (`PgReadModels`) in the append's transaction; settings
 * changes by `record`, in the transaction of the change (every Postgres port shares the
 * `SqlClient`, so `Transactions.atomically` makes them one). Rows are mapped by `PgAuditRow`.
 *
 * Pages are keyset-paginated on `(at, position)` (see the port). Each filter has an index in that
 * order (see migration `0004_read_models`); several event types are read as one ordered scan per
 * type merged by the database, because one scan over `type = ANY(...)` would have to sort every
 * matching entry of the team to find the newest fifty.
 *
 * @since 0.1.0
 */
import { AuditLog } from "@canaryroll/app"
import { Id } from "@canaryroll/core"
import { Effect, Layer } from "effect"
import { SqlClient, type Statement } from "effect/sql"
import * as PgAuditRow from "./PgAuditRow.ts"
import { unavailable } from "./PgReadModels.ts"

/** The log over the `SqlClient` in context; run `Migrations` first. */
export const make: Effect.Effect<typeof AuditLog.AuditLog.Service, never, SqlClient.SqlClient> = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  const columns = PgAuditRow.select(sql)
  const order = sql`ORDER BY at DESC, position DESC`

  const page = (query: AuditLog.Query) =>
    Effect.gen(function*() {
      const { actor, cursor, from, limit, releaseId, teamId, to, types } = yield* AuditLog.validate(query)
      const conditions = [
        sql`team_id = ${teamId}`,
        ...(releaseId === undefined ? [] : [sql`release_id = ${releaseId}`]),
        ...(actor === undefined ? [] : actor._tag === "System"
          ? [sql`actor_kind = 'System' AND actor_id IS NULL`]
          : [sql`actor_kind = ${actor._tag} AND actor_id = ${actor.id}`]),
        ...(from === undefined ? [] : [sql`at >= ${new Date(from)}`]),
        ...(to === undefined ? [] : [sql`at < ${new Date(to)}`]),
        ...(cursor === undefined ? [] : [sql`(at, position) < (${new Date(cursor.at)}, ${cursor.position})`])
      ]
      // One more than the page: whether there is a next page, without a second query.
      const fetch = limit + 1
      const select = (extra: ReadonlyArray<Statement.Fragment>) =>
        sql<PgAuditRow.SelectedRow>`SELECT ${columns} FROM audit_log WHERE ${sql.and([...conditions, ...extra])} ${order} LIMIT ${fetch}`
      // A release is small enough to filter by type within; a team's log is not.
      const rows = yield* (types.length === 0
        ? select([])
        : types.length === 1
        ? select([sql`type = ${types[0]!}`])
        : releaseId !== undefined
        ? select([sql`type = ANY(${types})`])
        : sql<PgAuditRow.SelectedRow>`
          SELECT * FROM (${sql.join(" UNION ALL ", false)(types.map((type) => sql`(${select([sql`type = ${type}`])})`))}) page
          ${order} LIMIT ${fetch}`)
      const entries = yield* Effect.forEach(rows, (row) =>
        Effect.map(PgAuditRow.decode(row), (entry) => ({ entry, position: row.position })))
      return AuditLog.page(entries, limit)
    })

  return AuditLog.AuditLog.of({
    page: (query) => page(query).pipe(Effect.catchTag("SqlError", (error) => Effect.fail(unavailable(error)))),
    record: (change) => record(change).pipe(Effect.mapError(unavailable), Effect.provideService(SqlClient.SqlClient, sql))
  })
})

/**
 * Records a settings change with the `SqlClient` in context (what the port's `record` runs); run
 * it in the transaction that makes the change. Its position comes from `settings_audit_positions`.
 */
export const record = Effect.fnUntraced(function*(change: AuditLog.SettingsChange) {
  const sql = yield* SqlClient.SqlClient
  // Position 0 stands in: the insert takes the settings sequence's next value instead.
  const row = PgAuditRow.encode(AuditLog.settingsEntry(change, Id.makeUnsafe("settingsChange")), 0n)
  yield* sql`${PgAuditRow.insert(sql, [row], { settingsPositions: true })}`
})

export const layer: Layer.Layer<AuditLog.AuditLog, never, SqlClient.SqlClient> = Layer.effect(AuditLog.AuditLog, make)
