/**
 * PgCloudflareAccounts: the application's CloudflareAccounts port on the table
 * `cloudflare_credentials` (migration `0006_teams`; a unique index keeps an account to one team).
 * The token is stored as the caller sealed it; this module never sees it in the clear.
 *
 * Saving and removing an account, and registering a Worker in it (`PgWorkers`), take the
 * account's advisory lock (`canaryroll/cloudflare-account/<id>`, the key the server used before
 * this port, so an older process beside a newer one still waits on the same lock) inside their
 * transaction: saves of one account run one after the other across processes, the second team's
 * save sees the first's row and is refused, and an account is not removed while a Worker is being
 * registered in it. Each change is its own transaction, or a savepoint of the caller's
 * (`Storage.Transactions`).
 *
 * @since 0.2.0
 */
import { CloudflareAccounts } from "@canaryroll/app"
import { Id } from "@canaryroll/core"
import { Effect, Layer, Option } from "effect"
import { SqlClient } from "effect/sql"
import { orUnavailable } from "./PgStorageErrors.ts"

interface AccountRow {
  readonly id: string
  readonly team_id: string
  readonly account_id: string
  readonly sealed_api_token: string
  readonly token_display: string
  readonly base_url: string
  readonly sandbox: boolean
  readonly verified_at: Date
  readonly created_at: Date
  readonly updated_at: Date
}

const toAccount = (row: AccountRow): CloudflareAccounts.CloudflareAccount => ({
  id: row.id,
  teamId: row.team_id,
  accountId: row.account_id,
  sealedApiToken: row.sealed_api_token,
  tokenDisplay: row.token_display,
  baseUrl: row.base_url,
  sandbox: row.sandbox,
  verifiedAt: row.verified_at.getTime(),
  createdAt: row.created_at.getTime(),
  updatedAt: row.updated_at.getTime()
})

/** Serialises changes to one Cloudflare account until the transaction ends. */
export const accountLock = (sql: SqlClient.SqlClient, accountId: string) =>
  sql`SELECT pg_advisory_xact_lock(hashtext(${`canaryroll/cloudflare-account/${accountId}`}))`

export const make: Effect.Effect<CloudflareAccounts.CloudflareAccounts["Service"], never, SqlClient.SqlClient> = Effect.gen(
  function*() {
    const sql = yield* SqlClient.SqlClient
    const one = (rows: ReadonlyArray<AccountRow>) => Option.map(Option.fromNullishOr(rows[0]), toAccount)

    return CloudflareAccounts.CloudflareAccounts.of({
      save: (input) =>
        orUnavailable(Effect.gen(function*() {
          yield* accountLock(sql, input.accountId)
          const existing = yield* sql<{ readonly id: string; readonly team_id: string }>`
            SELECT id, team_id FROM cloudflare_credentials WHERE account_id = ${input.accountId}`
          const current = existing[0]
          if (current !== undefined && current.team_id !== input.teamId) {
            return yield* new CloudflareAccounts.CloudflareAccountTaken({ accountId: input.accountId })
          }
          const id = current?.id ?? Id.makeUnsafe("cloudflareAccount")
          const sealed = yield* input.seal(id)
          const now = new Date(input.now)
          const rows = yield* sql<AccountRow>`
            INSERT INTO cloudflare_credentials (id, team_id, account_id, sealed_api_token, token_display, base_url, sandbox,
              verified_at, created_at, updated_at)
            VALUES (${id}, ${input.teamId}, ${input.accountId}, ${sealed}, ${input.tokenDisplay}, ${input.baseUrl},
              ${input.sandbox}, ${now}, ${now}, ${now})
            ON CONFLICT (team_id, account_id) DO UPDATE SET sealed_api_token = excluded.sealed_api_token,
              token_display = excluded.token_display, base_url = excluded.base_url, sandbox = excluded.sandbox,
              verified_at = excluded.verified_at, updated_at = excluded.updated_at
            RETURNING *`
          return toAccount(rows[0]!)
        }).pipe(sql.withTransaction)),
      list: (teamId) =>
        orUnavailable(Effect.map(
          sql<AccountRow>`SELECT * FROM cloudflare_credentials WHERE team_id = ${teamId} ORDER BY created_at, id`,
          (rows) => rows.map(toAccount)
        )),
      find: (teamId, accountId) =>
        orUnavailable(Effect.map(
          sql<AccountRow>`SELECT * FROM cloudflare_credentials WHERE team_id = ${teamId} AND account_id = ${accountId}`,
          one
        )),
      forAccount: (accountId) =>
        orUnavailable(Effect.map(
          // One team per account (a unique index); the newest row, should an older database lack it.
          sql<AccountRow>`
            SELECT * FROM cloudflare_credentials WHERE account_id = ${accountId} ORDER BY updated_at DESC LIMIT 1`,
          one
        )),
      remove: (teamId, accountId) =>
        orUnavailable(Effect.gen(function*() {
          yield* accountLock(sql, accountId)
          const used = yield* sql<{ readonly script_name: string }>`
            SELECT script_name FROM workers WHERE team_id = ${teamId} AND account_id = ${accountId} ORDER BY created_at, id`
          if (used.length > 0) {
            return yield* new CloudflareAccounts.CloudflareAccountInUse({
              accountId,
              scriptNames: used.map((row) => row.script_name)
            })
          }
          const rows = yield* sql<AccountRow>`
            DELETE FROM cloudflare_credentials WHERE team_id = ${teamId} AND account_id = ${accountId} RETURNING *`
          const row = rows[0]
          if (row === undefined) return yield* new CloudflareAccounts.CloudflareAccountNotFound({ teamId, accountId })
          return toAccount(row)
        }).pipe(sql.withTransaction)),
      anyReal: orUnavailable(Effect.map(
        sql<{ readonly found: boolean }>`SELECT EXISTS (SELECT 1 FROM cloudflare_credentials WHERE NOT sandbox) AS found`,
        (rows) => rows[0]?.found === true
      )),
      latestSandbox: orUnavailable(Effect.map(
        sql<AccountRow>`SELECT * FROM cloudflare_credentials WHERE sandbox ORDER BY updated_at DESC, id LIMIT 1`,
        one
      ))
    })
  }
)

export const layer: Layer.Layer<CloudflareAccounts.CloudflareAccounts, never, SqlClient.SqlClient> = Layer.effect(
  CloudflareAccounts.CloudflareAccounts,
  make
)
