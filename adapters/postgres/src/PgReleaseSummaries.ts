/**
 * PgReleaseSummaries: the `ReleaseSummaries` port of `@canaryroll/app` on `release_summaries`
 * (kept by `PgReadModels` in the append's transaction): one release by id within its team, or a
 * team's, newest first, filtered by Worker and status, keyset-paginated on
 * `(created_at, release_id)` (each filter has an index in that order, migration `0004_read_models`).
 *
 * @since 0.1.0
 */
import { ReleaseSummaries } from "@canaryroll/app"
import type { ReleaseSummary } from "@canaryroll/core"
import { Effect, Layer, Option } from "effect"
import { SqlClient } from "effect/sql"
import { unavailable } from "./PgReadModels.ts"

interface SummaryRow {
  /** jsonb, parsed by the driver: written by `PgReadModels` from the core's fold. */
  readonly summary: ReleaseSummary.ReleaseSummary
}

/** The summaries over the `SqlClient` in context; run `Migrations` first. */
export const make: Effect.Effect<typeof ReleaseSummaries.ReleaseSummaries.Service, never, SqlClient.SqlClient> = Effect
  .gen(function*() {
    const sql = yield* SqlClient.SqlClient

    const list = (query: ReleaseSummaries.ListQuery) =>
      Effect.gen(function*() {
        const { cursor, limit, statuses, teamId, workerId } = yield* ReleaseSummaries.validate(query)
        const conditions = [
          sql`team_id = ${teamId}`,
          ...(workerId === undefined ? [] : [sql`worker_id = ${workerId}`]),
          ...(statuses.length === 0
            ? []
            : statuses.length === 1
            ? [sql`status = ${statuses[0]!}`]
            : [sql`status = ANY(${statuses})`]),
          ...(cursor === undefined
            ? []
            : [sql`(created_at, release_id) < (${new Date(cursor.createdAt)}, ${cursor.releaseId})`])
        ]
        // One more than the page: whether there is a next page, without a second query.
        const rows = yield* sql<SummaryRow>`
          SELECT summary FROM release_summaries WHERE ${sql.and(conditions)}
          ORDER BY created_at DESC, release_id DESC LIMIT ${limit + 1}`
        return ReleaseSummaries.page(rows.map((row) => row.summary), limit)
      })

    return ReleaseSummaries.ReleaseSummaries.of({
      get: (teamId, releaseId) =>
        sql<SummaryRow>`SELECT summary FROM release_summaries WHERE release_id = ${releaseId} AND team_id = ${teamId}`
          .pipe(
            Effect.map((rows) => Option.fromNullishOr(rows[0]?.summary)),
            Effect.mapError(unavailable)
          ),
      list: (query) => list(query).pipe(Effect.catchTag("SqlError", (error) => Effect.fail(unavailable(error))))
    })
  })

export const layer: Layer.Layer<ReleaseSummaries.ReleaseSummaries, never, SqlClient.SqlClient> = Layer.effect(
  ReleaseSummaries.ReleaseSummaries,
  make
)
