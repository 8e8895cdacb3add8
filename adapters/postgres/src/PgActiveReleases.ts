/**
 * The ActiveReleases port on Postgres: the `active_releases` table, one row per held Worker. A
 * claim is one statement (an upsert that only takes the row over when it is free, held by the
 * same release, or held by the release named in `replacing`), so concurrent claims from any
 * number of processes serialise on the row and exactly one wins.
 *
 * @since 0.2.0
 */
import { ActiveReleases } from "@canaryroll/core"
import { Effect, Layer, Option } from "effect"
import { SqlClient, type SqlError } from "effect/sql"
import { describeSqlError } from "./PgEventStore.ts"

const unavailable = (error: SqlError.SqlError) =>
  new ActiveReleases.ActiveReleasesUnavailable({ message: describeSqlError(error) })

interface HolderRow {
  readonly release_id: string
  /** Epoch milliseconds, as `float8`. */
  readonly since: number
}

const toHolder = (row: HolderRow): ActiveReleases.Holder => ({ releaseId: row.release_id, since: Math.round(row.since) })

export const make = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  const holderOf = (workerId: string) =>
    sql<HolderRow>`
      SELECT release_id, (extract(epoch FROM since) * 1000)::float8 AS since
      FROM active_releases WHERE worker_id = ${workerId}`.pipe(
      Effect.map((rows) => Option.fromUndefinedOr(rows[0]).pipe(Option.map(toHolder)))
    )
  return ActiveReleases.ActiveReleases.of({
    claim: (workerId, releaseId, now, options) =>
      Effect.gen(function*() {
        const replacing = options?.replacing ?? null
        // The holder keeps its original `since`; a takeover starts a new one.
        const claimed = yield* sql<{ readonly release_id: string }>`
          INSERT INTO active_releases (worker_id, release_id, since)
          VALUES (${workerId}, ${releaseId}, to_timestamp(${now}::float8 / 1000))
          ON CONFLICT (worker_id) DO UPDATE
            SET release_id = excluded.release_id,
                since = CASE WHEN active_releases.release_id = excluded.release_id
                  THEN active_releases.since ELSE excluded.since END
            WHERE active_releases.release_id = excluded.release_id
               OR active_releases.release_id = ${replacing}
          RETURNING release_id`
        if (claimed.length > 0) return
        const holder = yield* holderOf(workerId)
        // Freed between the two statements: try once more from the start.
        if (Option.isNone(holder)) {
          return yield* sql`
            INSERT INTO active_releases (worker_id, release_id, since)
            VALUES (${workerId}, ${releaseId}, to_timestamp(${now}::float8 / 1000))
            ON CONFLICT (worker_id) DO NOTHING
            RETURNING release_id`.pipe(
            Effect.flatMap((rows) =>
              rows.length > 0
                ? Effect.void
                : Effect.flatMap(holderOf(workerId), (again) =>
                  Effect.fail(ActiveReleases.busy(workerId, Option.getOrElse(again, () => ({ releaseId: "unknown", since: now })))))
            )
          )
        }
        return yield* ActiveReleases.busy(workerId, holder.value)
      }).pipe(Effect.catchTag("SqlError", (error) => Effect.fail(unavailable(error)))),
    free: (workerId, releaseId) =>
      sql`DELETE FROM active_releases WHERE worker_id = ${workerId} AND release_id = ${releaseId}`.pipe(
        Effect.asVoid,
        Effect.mapError(unavailable)
      ),
    holder: (workerId) => holderOf(workerId).pipe(Effect.mapError(unavailable))
  })
})

/** The port over the `SqlClient` in context; run `Migrations` first. */
export const layer: Layer.Layer<ActiveReleases.ActiveReleases, never, SqlClient.SqlClient> = Layer.effect(
  ActiveReleases.ActiveReleases,
  make
)
