/**
 * PgSessions: the application's Sessions port on the `sessions` table (migrations `0006_teams` and
 * `0010_sessions`), so a session started on one server process is known to every other, and a
 * session ended anywhere is ended everywhere.
 *
 * The cookie's secret is never here: a row is keyed by its hash (`id_hash`) and shown by a public
 * id. Times are the caller's (its `Clock`), written as given and compared with the time given,
 * never the database's clock, like the memory store. A session's last use is stamped in the
 * statement that finds it, and only when the stamp is older than `lastSeenResolutionMs`, so most
 * requests write nothing.
 *
 * @since 0.1.0
 */
import { Sessions } from "@canaryroll/app"
import { Effect, Layer, Option } from "effect"
import { SqlClient } from "effect/sql"
import { unavailable } from "./PgTransactions.ts"

interface SessionRow {
  readonly id: string
  readonly user_id: string
  readonly created_at: Date
  readonly last_seen_at: Date
  readonly expires_at: Date
  readonly user_agent: string | null
}

const toSession = (row: SessionRow): Sessions.Session => ({
  id: row.id,
  userId: row.user_id,
  createdAt: row.created_at.getTime(),
  lastSeenAt: row.last_seen_at.getTime(),
  expiresAt: row.expires_at.getTime(),
  userAgent: row.user_agent
})

const columns = "id, user_id, created_at, last_seen_at, expires_at, user_agent"

/** The store over the `SqlClient` in context; run `Migrations` first. */
export const make: Effect.Effect<Sessions.Sessions["Service"], never, SqlClient.SqlClient> = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  const at = (ms: number) => new Date(ms)

  const create = (session: Sessions.NewSession, now: number) =>
    Effect.gen(function*() {
      yield* sql`DELETE FROM sessions WHERE user_id = ${session.userId} AND expires_at <= ${at(now)}`
      const rows = yield* sql<SessionRow>`
        INSERT INTO sessions (id, id_hash, user_id, created_at, last_seen_at, expires_at, user_agent)
        VALUES (${session.id}, ${session.secretHash}, ${session.userId}, ${at(now)}, ${at(now)},
          ${at(session.expiresAt)}, ${session.userAgent})
        RETURNING ${sql.literal(columns)}`
      return toSession(rows[0]!)
    }).pipe(sql.withTransaction, Effect.mapError(unavailable))

  // One statement: the row as found, and the stamp when it is due (the UPDATE's result is not
  // visible to the SELECT of the same statement, hence the greatest()).
  const touch = (secretHash: string, now: number) =>
    sql<SessionRow>`
      WITH found AS (
        SELECT * FROM sessions WHERE id_hash = ${secretHash} AND expires_at > ${at(now)}
      ),
      stamped AS (
        UPDATE sessions SET last_seen_at = ${at(now)}
        WHERE id_hash IN (SELECT id_hash FROM found)
          AND last_seen_at <= ${at(now - Sessions.lastSeenResolutionMs)}
        RETURNING id_hash
      )
      SELECT id, user_id, created_at, expires_at, user_agent,
        CASE WHEN EXISTS (SELECT 1 FROM stamped) THEN ${at(now)}::timestamptz ELSE last_seen_at END AS last_seen_at
      FROM found`.pipe(
      Effect.map((rows) => Option.map(Option.fromNullishOr(rows[0]), toSession)),
      Effect.mapError(unavailable)
    )

  const end = (secretHash: string) =>
    sql<{ id: string }>`DELETE FROM sessions WHERE id_hash = ${secretHash} RETURNING id`.pipe(
      Effect.map((rows) => rows.length > 0),
      Effect.mapError(unavailable)
    )

  const endAll = (userId: string, options: { readonly now: number; readonly except?: string | undefined }) =>
    sql<{ live: boolean }>`
      DELETE FROM sessions
      WHERE user_id = ${userId} AND id IS DISTINCT FROM ${options.except ?? null}
      RETURNING expires_at > ${at(options.now)} AS live`.pipe(
      Effect.map((rows) => rows.filter((row) => row.live).length),
      Effect.mapError(unavailable)
    )

  const list = (userId: string, now: number) =>
    sql<SessionRow>`
      SELECT ${sql.literal(columns)} FROM sessions
      WHERE user_id = ${userId} AND expires_at > ${at(now)}
      ORDER BY created_at DESC, id COLLATE "C" DESC`.pipe(
      Effect.map((rows) => rows.map(toSession)),
      Effect.mapError(unavailable)
    )

  return Sessions.Sessions.of({ create, touch, end, endAll, list })
})

export const layer: Layer.Layer<Sessions.Sessions, never, SqlClient.SqlClient> = Layer.effect(Sessions.Sessions, make)
