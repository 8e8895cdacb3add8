/**
 * The Cloudflare accounts a team connected: an account id and an API token, verified against
 * Cloudflare before it is saved, and stored sealed with the SecretBox (AES-256-GCM, bound to its
 * row by associated data, so a sealed token copied to another row does not decrypt).
 *
 * An account is connected to one team at most (a unique index; the API answers 409), and a token
 * is saved only once Cloudflare says it reaches the account's Workers. `layerCredentials` is the
 * `CloudflareCredentials` the orchestrator's Cloudflare calls use: the account's token, decrypted
 * on demand and kept for a few seconds.
 *
 * @since 0.1.0
 */
import { Credentials } from "@canaryroll/cloudflare"
import { Clock, Effect, Layer, Option, Redacted } from "effect"
import { SqlClient } from "effect/sql"
import type * as S from "../api/Schemas.ts"
import { SecretBox } from "../security/SecretBox.ts"
import { newId } from "./Accounts.ts"

interface AccountRow {
  readonly id: string
  readonly team_id: string
  readonly account_id: string
  readonly sealed_api_token: string
  readonly token_display: string
  readonly base_url: string
  readonly sandbox: boolean
  readonly verified_at: Date
  readonly updated_at: Date
}

const toAccount = (row: AccountRow): S.CloudflareAccount => ({
  accountId: row.account_id,
  tokenDisplay: row.token_display,
  verifiedAt: row.verified_at.toISOString(),
  updatedAt: row.updated_at.toISOString()
})

/** What binds a sealed API token to its row: a sealed token copied to another row does not open there. */
export const associatedData = (rowId: string) => `cloudflare_credentials:${rowId}`

/** `abcd…wxyz`: enough to tell tokens apart. */
export const displayToken = (token: Redacted.Redacted<string>) => {
  const text = Redacted.value(token)
  return text.length <= 12 ? "…" : `${text.slice(0, 4)}…${text.slice(-4)}`
}

/** Saves (or replaces) the team's token for an account. Verify it with Cloudflare first. */
export const save = Effect.fnUntraced(function*(input: {
  readonly teamId: string
  readonly accountId: string
  readonly apiToken: Redacted.Redacted<string>
  readonly baseUrl: string
  readonly sandbox?: boolean
  readonly now: Date
}) {
  const sql = yield* SqlClient.SqlClient
  const box = yield* SecretBox
  const existing = yield* sql<{ id: string }>`
    SELECT id FROM cloudflare_credentials WHERE team_id = ${input.teamId} AND account_id = ${input.accountId} FOR UPDATE`
  const id = existing[0]?.id ?? newId("cfa")
  const sealed = yield* box.encrypt(input.apiToken, associatedData(id))
  const rows = yield* sql<AccountRow>`
    INSERT INTO cloudflare_credentials (id, team_id, account_id, sealed_api_token, token_display, base_url, sandbox,
      verified_at, created_at, updated_at)
    VALUES (${id}, ${input.teamId}, ${input.accountId}, ${sealed}, ${displayToken(input.apiToken)}, ${input.baseUrl},
      ${input.sandbox ?? false}, ${input.now}, ${input.now}, ${input.now})
    ON CONFLICT (team_id, account_id) DO UPDATE SET sealed_api_token = excluded.sealed_api_token,
      token_display = excluded.token_display, base_url = excluded.base_url, sandbox = excluded.sandbox,
      verified_at = excluded.verified_at, updated_at = excluded.updated_at
    RETURNING *`
  return toAccount(rows[0]!)
})

export const list = Effect.fnUntraced(function*(teamId: string) {
  const sql = yield* SqlClient.SqlClient
  const rows = yield* sql<AccountRow>`SELECT * FROM cloudflare_credentials WHERE team_id = ${teamId} ORDER BY created_at, id`
  return rows.map(toAccount)
})

export const remove = Effect.fnUntraced(function*(teamId: string, accountId: string) {
  const sql = yield* SqlClient.SqlClient
  const rows = yield* sql<{ id: string }>`
    DELETE FROM cloudflare_credentials WHERE team_id = ${teamId} AND account_id = ${accountId} RETURNING id`
  return rows.length > 0
})

/** The team the account is connected to, if any; locks the row for the rest of the transaction. */
export const connectedTeam = Effect.fnUntraced(function*(accountId: string) {
  const sql = yield* SqlClient.SqlClient
  const rows = yield* sql<{ team_id: string }>`
    SELECT team_id FROM cloudflare_credentials WHERE account_id = ${accountId} FOR UPDATE`
  return Option.fromNullishOr(rows[0]?.team_id)
})

/** Whether any team saved real (not sandbox) credentials: with none, `pnpm start` runs the sandbox. */
export const anyReal = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  const rows = yield* sql<{ found: boolean }>`SELECT EXISTS (SELECT 1 FROM cloudflare_credentials WHERE NOT sandbox) AS found`
  return rows[0]!.found
})

const decrypt = (row: AccountRow) =>
  SecretBox.use((box) => box.decrypt(row.sealed_api_token, associatedData(row.id)))

/** The team's credentials for one account, decrypted. */
export const forTeamAccount = Effect.fnUntraced(function*(teamId: string, accountId: string) {
  const sql = yield* SqlClient.SqlClient
  const rows = yield* sql<AccountRow>`
    SELECT * FROM cloudflare_credentials WHERE team_id = ${teamId} AND account_id = ${accountId}`
  const row = rows[0]
  if (row === undefined) return Option.none<Credentials.Credentials>()
  return Option.some<Credentials.Credentials>({ apiToken: yield* decrypt(row), baseUrl: row.base_url })
})

/** How long a decrypted token is reused by the orchestrator's calls. */
export const credentialsCacheMs = 10_000

/** `CloudflareCredentials` from the database: the most recently saved token for the account. */
export const layerCredentials = Layer.effect(
  Credentials.CloudflareCredentials,
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const box = yield* SecretBox
    const cache = new Map<string, { readonly credentials: Credentials.Credentials; readonly until: number }>()
    const missing = (accountId: string, why: string) =>
      new Credentials.CredentialsMissing({ accountId, message: `no usable Cloudflare credentials for account ${accountId}: ${why}` })
    return Credentials.CloudflareCredentials.of({
      forAccount: (accountId) =>
        Effect.gen(function*() {
          const now = yield* Clock.currentTimeMillis
          const cached = cache.get(accountId)
          if (cached !== undefined && cached.until > now) return cached.credentials
          const rows = yield* sql<AccountRow>`
            SELECT * FROM cloudflare_credentials WHERE account_id = ${accountId} ORDER BY updated_at DESC LIMIT 1`.pipe(
            Effect.mapError((error) => missing(accountId, `the database is unavailable (${error.message})`))
          )
          const row = rows[0]
          if (row === undefined) return yield* missing(accountId, "no team saved a token for it")
          const apiToken = yield* box.decrypt(row.sealed_api_token, associatedData(row.id)).pipe(
            Effect.mapError((error) => missing(accountId, error.message))
          )
          const credentials = { apiToken, baseUrl: row.base_url }
          cache.set(accountId, { credentials, until: now + credentialsCacheMs })
          return credentials
        })
    })
  })
)
