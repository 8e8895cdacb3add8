/**
 * PgReadiness: what the server's readiness check (`/api/ready`) and its start-up report ask the
 * database: whether it answers, which migrations the code knows that it has not recorded, and
 * which sealed secrets it stores (Cloudflare API tokens, notification channels' secrets), so the
 * server can try its key on them. This module opens nothing: sealed values leave it as stored,
 * with what binds each to its row.
 *
 * @since 0.1.0
 */
import { Effect } from "effect"
import { type Migrator, SqlClient, type SqlError } from "effect/sql"
import * as Migrations from "./Migrations.ts"

/** One round trip to the database. */
export const ping: Effect.Effect<void, SqlError.SqlError, SqlClient.SqlClient> = Effect.flatMap(
  SqlClient.SqlClient,
  (sql) => Effect.asVoid(sql`SELECT 1`)
)

/**
 * The migrations the code knows (`Migrations.migrations`) that `canaryroll_migrations` does not
 * record, as `0010_sessions`, in order; empty when the schema is current. A database without the
 * table lacks every one.
 */
export const missingMigrations: Effect.Effect<
  ReadonlyArray<string>,
  SqlError.SqlError | Migrator.MigrationError,
  SqlClient.SqlClient
> = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  const known = yield* Migrations.migrations
  const table = yield* sql<{ found: string | null }>`SELECT to_regclass(${Migrations.table})::text AS found`
  const recorded = table[0]?.found == null
    ? new Set<number>()
    : new Set((yield* sql<{ migration_id: number }>`SELECT migration_id FROM ${sql(Migrations.table)}`).map((row) =>
      Number(row.migration_id)
    ))
  return known
    .filter(([id]) => !recorded.has(id))
    .map(([id, name]) => `${String(id).padStart(4, "0")}_${name}`)
})

/** A sealed value as stored, with what it belongs to (the sealer binds it to that). */
export type SealedSecret =
  | { readonly _tag: "CloudflareApiToken"; readonly rowId: string; readonly accountId: string; readonly sealed: string }
  | { readonly _tag: "ChannelSecret"; readonly channelId: string; readonly name: string; readonly sealed: string }

interface SealedRow {
  readonly kind: "cloudflare" | "channel"
  readonly row_id: string
  readonly detail: string
  readonly sealed: string
}

/**
 * The sealed secrets stored, the most recently saved first (those most likely sealed with the
 * current key); at most `limit` when given.
 */
export const sealedSecrets = (
  options: { readonly limit?: number | undefined } = {}
): Effect.Effect<ReadonlyArray<SealedSecret>, SqlError.SqlError, SqlClient.SqlClient> =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const rows = yield* sql<SealedRow>`
      SELECT kind, row_id, detail, sealed FROM (
        SELECT 'cloudflare' AS kind, id AS row_id, account_id AS detail, sealed_api_token AS sealed, updated_at AS at
        FROM cloudflare_credentials
        UNION ALL
        SELECT 'channel', channels.id, secret.key, secret.value, channels.updated_at
        FROM notification_channels channels, jsonb_each_text(channels.sealed_secrets) secret
      ) stored
      ORDER BY at DESC, kind, row_id, detail
      LIMIT ${options.limit ?? null}::bigint`
    return rows.map((row): SealedSecret =>
      row.kind === "cloudflare"
        ? { _tag: "CloudflareApiToken", rowId: row.row_id, accountId: row.detail, sealed: row.sealed }
        : { _tag: "ChannelSecret", channelId: row.row_id, name: row.detail, sealed: row.sealed }
    )
  })
