/**
 * PgApiTokens: the application's ApiTokens port on the tables `team_tokens` and `user_tokens`
 * (migration `0006_teams`). A token is found by its hash (`token_hash`, unique); its last use is
 * stamped in the statement that finds it, and only when the stamp is older than
 * `lastUsedResolutionMs`, so most requests write nothing. Times are the caller's, never the
 * database's clock, as in the memory layer.
 *
 * @since 0.2.0
 */
import { ApiTokens } from "@canaryroll/app"
import { Id } from "@canaryroll/core"
import { Effect, Layer, Option } from "effect"
import { SqlClient } from "effect/sql"
import { unavailable } from "./PgTransactions.ts"

export interface TeamTokenRow {
  readonly id: string
  readonly team_id: string
  readonly name: string
  readonly role: ApiTokens.TeamToken["role"]
  readonly display: string
  readonly created_by: string
  readonly created_at: Date
  readonly last_used_at: Date | null
  readonly revoked_at: Date | null
}

export const toTeamToken = (row: TeamTokenRow): ApiTokens.TeamToken => ({
  id: row.id,
  teamId: row.team_id,
  name: row.name,
  role: row.role,
  display: row.display,
  createdBy: row.created_by,
  createdAt: row.created_at.getTime(),
  lastUsedAt: row.last_used_at?.getTime() ?? null,
  revokedAt: row.revoked_at?.getTime() ?? null
})

interface UserTokenRow {
  readonly id: string
  readonly user_id: string
  readonly name: string
  readonly display: string
  readonly created_at: Date
  readonly last_used_at: Date | null
  readonly revoked_at: Date | null
}

const toUserToken = (row: UserTokenRow): ApiTokens.UserToken => ({
  id: row.id,
  userId: row.user_id,
  name: row.name,
  display: row.display,
  createdAt: row.created_at.getTime(),
  lastUsedAt: row.last_used_at?.getTime() ?? null,
  revokedAt: row.revoked_at?.getTime() ?? null
})

export const teamColumns = "id, team_id, name, role, display, created_by, created_at, last_used_at, revoked_at"
const userColumns = "id, user_id, name, display, created_at, last_used_at, revoked_at"

/** The store over the `SqlClient` in context; run `Migrations` first. */
export const make: Effect.Effect<ApiTokens.ApiTokens["Service"], never, SqlClient.SqlClient> = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  const at = (ms: number) => new Date(ms)

  /**
   * The unrevoked token of `table` with this hash, its last use stamped when due: one statement
   * (the UPDATE's result is not visible to the SELECT of the same statement, hence the CASE).
   */
  const byHash = <Row extends { readonly last_used_at: Date | null }>(
    table: "team_tokens" | "user_tokens",
    columns: string,
    hash: string,
    now: number
  ) =>
    sql<Row & { readonly stamped_last_used_at: Date | null }>`
      WITH found AS (
        SELECT ${sql.literal(columns)} FROM ${sql(table)} WHERE token_hash = ${hash} AND revoked_at IS NULL
      ),
      stamped AS (
        UPDATE ${sql(table)} SET last_used_at = ${at(now)}
        WHERE id IN (SELECT id FROM found)
          AND (last_used_at IS NULL OR last_used_at < ${at(now - ApiTokens.lastUsedResolutionMs)})
        RETURNING id
      )
      SELECT *,
        CASE WHEN EXISTS (SELECT 1 FROM stamped) THEN ${at(now)}::timestamptz ELSE last_used_at END AS stamped_last_used_at
      FROM found`.pipe(
      Effect.map((rows) => rows.map(({ stamped_last_used_at, ...row }) => ({ ...row, last_used_at: stamped_last_used_at })))
    )

  return ApiTokens.ApiTokens.of({
    createTeamToken: (input) =>
      sql<TeamTokenRow>`
        INSERT INTO team_tokens (id, team_id, name, role, token_hash, display, created_by, created_at)
        VALUES (${Id.makeUnsafe("teamToken")}, ${input.teamId}, ${input.name.trim()}, ${input.role}, ${input.hash},
          ${input.display}, ${input.createdBy}, ${at(input.now)})
        RETURNING ${sql.literal(teamColumns)}`.pipe(
        // An INSERT … RETURNING that did not fail returned its row.
        Effect.map((rows) => toTeamToken(rows[0]!)),
        Effect.mapError(unavailable)
      ),
    teamTokens: (teamId) =>
      sql<TeamTokenRow>`
        SELECT ${sql.literal(teamColumns)} FROM team_tokens WHERE team_id = ${teamId} ORDER BY created_at, id COLLATE "C"`.pipe(
        Effect.map((rows) => rows.map(toTeamToken)),
        Effect.mapError(unavailable)
      ),
    revokeTeamToken: (teamId, tokenId, now) =>
      sql<TeamTokenRow>`
        UPDATE team_tokens SET revoked_at = coalesce(revoked_at, ${at(now)})
        WHERE id = ${tokenId} AND team_id = ${teamId} RETURNING ${sql.literal(teamColumns)}`.pipe(
        Effect.map((rows) => Option.map(Option.fromNullishOr(rows[0]), toTeamToken)),
        Effect.mapError(unavailable)
      ),
    teamTokenByHash: (hash, now) =>
      byHash<TeamTokenRow>("team_tokens", teamColumns, hash, now).pipe(
        Effect.map((rows) => Option.map(Option.fromNullishOr(rows[0]), toTeamToken)),
        Effect.mapError(unavailable)
      ),
    createUserToken: (input) =>
      sql<UserTokenRow>`
        INSERT INTO user_tokens (id, user_id, name, token_hash, display, created_at)
        VALUES (${Id.makeUnsafe("userToken")}, ${input.userId}, ${input.name.trim()}, ${input.hash}, ${input.display}, ${at(input.now)})
        RETURNING ${sql.literal(userColumns)}`.pipe(
        // An INSERT … RETURNING that did not fail returned its row.
        Effect.map((rows) => toUserToken(rows[0]!)),
        Effect.mapError(unavailable)
      ),
    userTokens: (userId) =>
      sql<UserTokenRow>`
        SELECT ${sql.literal(userColumns)} FROM user_tokens WHERE user_id = ${userId} ORDER BY created_at, id COLLATE "C"`.pipe(
        Effect.map((rows) => rows.map(toUserToken)),
        Effect.mapError(unavailable)
      ),
    revokeUserToken: (userId, tokenId, now) =>
      sql<UserTokenRow>`
        UPDATE user_tokens SET revoked_at = coalesce(revoked_at, ${at(now)})
        WHERE id = ${tokenId} AND user_id = ${userId} RETURNING ${sql.literal(userColumns)}`.pipe(
        Effect.map((rows) => Option.map(Option.fromNullishOr(rows[0]), toUserToken)),
        Effect.mapError(unavailable)
      ),
    userTokenByHash: (hash, now) =>
      byHash<UserTokenRow>("user_tokens", userColumns, hash, now).pipe(
        Effect.map((rows) => Option.map(Option.fromNullishOr(rows[0]), toUserToken)),
        Effect.mapError(unavailable)
      )
  })
})

export const layer: Layer.Layer<ApiTokens.ApiTokens, never, SqlClient.SqlClient> = Layer.effect(ApiTokens.ApiTokens, make)
