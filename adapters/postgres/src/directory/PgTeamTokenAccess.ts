/**
 * PgTeamTokenAccess: the `TeamTokenAccess` port of `@canaryroll/app` in one statement: the team
 * token by its hash (as `PgApiTokens`), the team by id or slug (as `PgTeams.byRef`) and the
 * release's summary within that team (as `PgReleaseSummaries.get`), each a part of one `SELECT`
 * joined on nothing, so each is found whatever the others found; the token's last use is stamped
 * when due, as by `PgApiTokens`, by a second statement at most once per resolution. One round trip
 * where the three ports take three: what `GET` of a release, polled by the GitHub Action and the
 * CLI, costs on the database.
 *
 * @since 0.3.0
 */
import { ApiTokens, TeamTokenAccess } from "@canaryroll/app"
import type { ReleaseSummary } from "@canaryroll/core"
import { Effect, Layer, Option } from "effect"
import { SqlClient } from "effect/sql"
import { type TeamTokenRow, toTeamToken } from "./PgApiTokens.ts"
import { unavailable } from "./PgTransactions.ts"

/** The token's columns (`TeamTokenRow`, every one null when it was not found), the team's, the summary. */
type FoundRow = { readonly [K in keyof TeamTokenRow]: TeamTokenRow[K] | null } & {
  readonly found_team_id: string | null
  readonly found_team_slug: string | null
  readonly found_team_name: string | null
  readonly found_team_created_at: Date | null
  /** jsonb, parsed by the driver: written by `PgReadModels`. */
  readonly summary: ReleaseSummary.ReleaseSummary | null
}

export const make: Effect.Effect<TeamTokenAccess.TeamTokenAccess["Service"], never, SqlClient.SqlClient> = Effect.gen(
  function*() {
    const sql = yield* SqlClient.SqlClient
    return TeamTokenAccess.TeamTokenAccess.of({
      find: ({ hash, now, releaseId, teamRef }) =>
        Effect.gen(function*() {
          const [row] = yield* sql<FoundRow>`
            WITH team AS (
              SELECT * FROM teams WHERE id = ${teamRef} OR slug = ${teamRef} ORDER BY (id = ${teamRef}) DESC LIMIT 1
            )
            SELECT found.id, found.team_id, found.name, found.role, found.display, found.created_by, found.created_at,
              found.last_used_at, found.revoked_at,
              team.id AS found_team_id, team.slug AS found_team_slug, team.name AS found_team_name,
              team.created_at AS found_team_created_at, summaries.summary
            FROM (SELECT) AS one
            LEFT JOIN team_tokens AS found ON found.token_hash = ${hash} AND found.revoked_at IS NULL
            LEFT JOIN team ON true
            LEFT JOIN release_summaries AS summaries
              ON summaries.team_id = team.id AND summaries.release_id = ${releaseId}`
          // The last use, stamped in a statement of its own when due: at most once per token per
          // `lastUsedResolutionMs`, so nearly every request is the one statement above. (In the
          // SELECT, an UPDATE in a WITH cost every request: it halved the statement's rate.)
          const stamped = row !== undefined && row.id !== null && ApiTokens.stampDue(row.last_used_at?.getTime() ?? null, now)
            ? (yield* sql`
              UPDATE team_tokens SET last_used_at = ${new Date(now)}
              WHERE id = ${row.id}
                AND (last_used_at IS NULL OR last_used_at < ${new Date(now - ApiTokens.lastUsedResolutionMs)})
              RETURNING id`).length > 0
            : false
          return {
            token: row === undefined || row.id === null ? Option.none() : Option.some(toTeamToken({
              // One LEFT JOINed row: the token's NOT NULL columns are all set when its id is.
              ...(row as TeamTokenRow),
              last_used_at: stamped ? new Date(now) : row.last_used_at
            })),
            team: row === undefined || row.found_team_id === null ? Option.none() : Option.some({
              id: row.found_team_id,
              slug: row.found_team_slug!,
              name: row.found_team_name!,
              createdAt: row.found_team_created_at!.getTime()
            }),
            release: Option.fromNullishOr(row?.summary)
          }
        }).pipe(Effect.mapError(unavailable))
    })
  }
)

export const layer: Layer.Layer<TeamTokenAccess.TeamTokenAccess, never, SqlClient.SqlClient> = Layer.effect(
  TeamTokenAccess.TeamTokenAccess,
  make
)
