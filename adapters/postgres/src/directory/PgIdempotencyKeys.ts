/**
 * PgIdempotencyKeys: the application's IdempotencyKeys port (whose module doc is the contract)
 * on `idempotency_keys` (migration `0009_idempotency_keys`), so a retry that reaches another
 * server process still finds the key. SQL failures are `Storage.StorageUnavailable`.
 *
 * - A claim is one transaction: an `INSERT … ON CONFLICT DO UPDATE … WHERE` that takes a new,
 *   expired or abandoned key in one statement (two requests racing for a key: one inserts, the
 *   other waits on its row lock and then sees it), then, if it did not, a read of the row it
 *   conflicted with. `ON CONFLICT DO UPDATE` locks that row even when its `WHERE` is false, so
 *   nobody deletes or replaces it between the two statements.
 * - Expired keys are deleted a hundred at a time by each claim (skipping rows others hold), so
 *   the table keeps about a day of keys without a job of its own.
 * - Times are the caller's (its `Clock`), written as given and compared with the time given,
 *   never the database's clock, like the memory layer.
 *
 * @since 0.1.0
 */
import { IdempotencyKeys } from "@canaryroll/app"
import { Id } from "@canaryroll/core"
import { Effect, Layer } from "effect"
import { SqlClient } from "effect/sql"
import { orUnavailable } from "./PgStorageErrors.ts"

type Claimed = IdempotencyKeys.Claimed

interface KeyRow {
  readonly fingerprint: string
  readonly status: number | null
  readonly body: string | null
}

const acquired = (claimId: string): Claimed => ({ _tag: "Acquired", claimId })
const inFlight: Claimed = { _tag: "InFlight" }

/** What a claim finds in a row it could not take. */
const classify = (row: KeyRow, fingerprint: string): Claimed => {
  if (row.fingerprint !== fingerprint) return { _tag: "Mismatch" }
  return row.status === null || row.body === null ? inFlight : { _tag: "Replay", response: { status: row.status, body: row.body } }
}

/** The port over the `SqlClient` in context; run `Migrations` first. */
export const make = (
  options: IdempotencyKeys.Options = {}
): Effect.Effect<IdempotencyKeys.IdempotencyKeys["Service"], never, SqlClient.SqlClient> =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const at = (ms: number) => new Date(ms)
    const retentionMs = options.retentionMs ?? IdempotencyKeys.retentionMs
    const leaseMs = options.leaseMs ?? IdempotencyKeys.leaseMs

    const claim = (request: IdempotencyKeys.KeyRequest, now: number) =>
      orUnavailable(Effect.gen(function*() {
        yield* sql`
          DELETE FROM idempotency_keys WHERE (team_id, key) IN (
            SELECT team_id, key FROM idempotency_keys WHERE expires_at <= ${at(now)}
            ORDER BY expires_at LIMIT 100 FOR UPDATE SKIP LOCKED)`
        const claimId = Id.makeUnsafe("idempotencyClaim")
        const taken = yield* sql<{ readonly claim_id: string }>`
          INSERT INTO idempotency_keys (team_id, key, fingerprint, claim_id, status, body, locked_until, created_at, expires_at)
          VALUES (${request.teamId}, ${request.key}, ${request.fingerprint}, ${claimId}, NULL, NULL,
            ${at(now + leaseMs)}, ${at(now)}, ${at(now + retentionMs)})
          ON CONFLICT (team_id, key) DO UPDATE SET
            fingerprint = excluded.fingerprint, claim_id = excluded.claim_id, status = NULL, body = NULL,
            locked_until = excluded.locked_until, created_at = excluded.created_at, expires_at = excluded.expires_at
          WHERE idempotency_keys.expires_at <= ${at(now)}
            OR (idempotency_keys.status IS NULL AND idempotency_keys.locked_until <= ${at(now)}
              AND idempotency_keys.fingerprint = excluded.fingerprint)
          RETURNING claim_id`
        if (taken[0]?.claim_id === claimId) return acquired(claimId)
        const rows = yield* sql<KeyRow>`
          SELECT fingerprint, status, body FROM idempotency_keys WHERE team_id = ${request.teamId} AND key = ${request.key}`
        // The row conflicted and is locked by the statement above, so it is there; were it not,
        // the key would be free again, which a retry finds out.
        return rows[0] === undefined ? inFlight : classify(rows[0], request.fingerprint)
      }).pipe(sql.withTransaction))

    const complete = (holder: IdempotencyKeys.Holder, response: IdempotencyKeys.StoredResponse) =>
      orUnavailable(Effect.asVoid(sql`
        UPDATE idempotency_keys SET status = ${response.status}, body = ${response.body}, locked_until = NULL
        WHERE team_id = ${holder.teamId} AND key = ${holder.key} AND claim_id = ${holder.claimId} AND status IS NULL`))

    const release = (holder: IdempotencyKeys.Holder) =>
      orUnavailable(Effect.asVoid(sql`
        DELETE FROM idempotency_keys
        WHERE team_id = ${holder.teamId} AND key = ${holder.key} AND claim_id = ${holder.claimId} AND status IS NULL`))

    return IdempotencyKeys.IdempotencyKeys.of({ claim, complete, release })
  })

export const layer = (
  options: IdempotencyKeys.Options = {}
): Layer.Layer<IdempotencyKeys.IdempotencyKeys, never, SqlClient.SqlClient> =>
  Layer.effect(IdempotencyKeys.IdempotencyKeys, make(options))
