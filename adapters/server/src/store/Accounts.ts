/**
 * People: users, their dashboard sessions and their personal API tokens (`cru_…`). Passwords are
 * stored as scrypt hashes (PasswordHash); session ids and tokens only as SHA-256 hashes, so a
 * copy of the database lets nobody in.
 *
 * @since 0.1.0
 */
import { Effect, Option, Redacted } from "effect"
import { SqlClient } from "effect/sql"
import * as ApiToken from "../security/ApiToken.ts"
import type * as S from "../api/Schemas.ts"

interface UserRow {
  readonly id: string
  readonly email: string
  readonly name: string
  readonly password_hash: string
  readonly created_at: Date
}

export interface StoredUser {
  readonly user: S.User
  readonly passwordHash: string
}

const toUser = (row: UserRow): StoredUser => ({
  user: { id: row.id, email: row.email, name: row.name, createdAt: row.created_at.toISOString() },
  passwordHash: row.password_hash
})

export const newId = (prefix: string) => `${prefix}_${crypto.randomUUID().replaceAll("-", "")}`

/** Creates a user; `None` when the email is taken (compared case-insensitively). */
export const createUser = Effect.fnUntraced(function*(input: {
  readonly email: string
  readonly name: string
  readonly passwordHash: string
  readonly now: Date
}) {
  const sql = yield* SqlClient.SqlClient
  const rows = yield* sql<UserRow>`
    INSERT INTO users (id, email, name, password_hash, created_at)
    VALUES (${newId("usr")}, ${input.email}, ${input.name.trim()}, ${input.passwordHash}, ${input.now})
    ON CONFLICT DO NOTHING
    RETURNING *`
  return Option.map(Option.fromNullishOr(rows[0]), toUser)
})

export const userByEmail = Effect.fnUntraced(function*(email: string) {
  const sql = yield* SqlClient.SqlClient
  const rows = yield* sql<UserRow>`SELECT * FROM users WHERE lower(email) = lower(${email})`
  return Option.map(Option.fromNullishOr(rows[0]), toUser)
})

export const userById = Effect.fnUntraced(function*(id: string) {
  const sql = yield* SqlClient.SqlClient
  const rows = yield* sql<UserRow>`SELECT * FROM users WHERE id = ${id}`
  return Option.map(Option.fromNullishOr(rows[0]), toUser)
})

export const updatePasswordHash = Effect.fnUntraced(function*(userId: string, passwordHash: string) {
  const sql = yield* SqlClient.SqlClient
  yield* sql`UPDATE users SET password_hash = ${passwordHash} WHERE id = ${userId}`
})

/** A new session; the returned secret goes in the cookie and is never stored. */
export const createSession = Effect.fnUntraced(function*(userId: string, expiresAt: Date) {
  const sql = yield* SqlClient.SqlClient
  const secret = Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("base64url")
  yield* sql`INSERT INTO sessions (id_hash, user_id, expires_at) VALUES (${ApiToken.hash(secret)}, ${userId}, ${expiresAt})`
  return Redacted.make(secret)
})

/** The user a live session belongs to. */
export const userBySession = Effect.fnUntraced(function*(secret: Redacted.Redacted<string>, now: Date) {
  const sql = yield* SqlClient.SqlClient
  const rows = yield* sql<UserRow>`
    SELECT users.* FROM sessions JOIN users ON users.id = sessions.user_id
    WHERE sessions.id_hash = ${ApiToken.hash(secret)} AND sessions.expires_at > ${now}`
  return Option.map(Option.fromNullishOr(rows[0]), toUser)
})

export const deleteSession = Effect.fnUntraced(function*(secret: Redacted.Redacted<string>) {
  const sql = yield* SqlClient.SqlClient
  yield* sql`DELETE FROM sessions WHERE id_hash = ${ApiToken.hash(secret)}`
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

const toUserToken = (row: UserTokenRow): S.UserToken => ({
  id: row.id,
  name: row.name,
  display: row.display,
  createdAt: row.created_at.toISOString(),
  lastUsedAt: row.last_used_at?.toISOString() ?? null,
  revokedAt: row.revoked_at?.toISOString() ?? null
})

export const createUserToken = Effect.fnUntraced(function*(userId: string, name: string, now: Date) {
  const sql = yield* SqlClient.SqlClient
  const issued = yield* ApiToken.issue("user")
  const rows = yield* sql<UserTokenRow>`
    INSERT INTO user_tokens (id, user_id, name, token_hash, display, created_at)
    VALUES (${newId("utk")}, ${userId}, ${name.trim()}, ${issued.hash}, ${issued.display}, ${now})
    RETURNING *`
  return { ...toUserToken(rows[0]!), token: Redacted.value(issued.token) }
})

export const listUserTokens = Effect.fnUntraced(function*(userId: string) {
  const sql = yield* SqlClient.SqlClient
  const rows = yield* sql<UserTokenRow>`SELECT * FROM user_tokens WHERE user_id = ${userId} ORDER BY created_at, id`
  return rows.map(toUserToken)
})

/** Revokes one of the user's own tokens; `false` when there is no such token of theirs. */
export const revokeUserToken = Effect.fnUntraced(function*(userId: string, tokenId: string, now: Date) {
  const sql = yield* SqlClient.SqlClient
  const rows = yield* sql<{ id: string }>`
    UPDATE user_tokens SET revoked_at = coalesce(revoked_at, ${now})
    WHERE id = ${tokenId} AND user_id = ${userId} RETURNING id`
  return rows.length > 0
})

/** The user behind an unrevoked user token, stamping its last use (to the minute, as team tokens). */
export const userByToken = Effect.fnUntraced(function*(token: Redacted.Redacted<string>, now: Date) {
  const sql = yield* SqlClient.SqlClient
  const rows = yield* sql<UserRow & { token_id: string }>`
    WITH found AS (
      SELECT users.*, user_tokens.id AS token_id FROM user_tokens JOIN users ON users.id = user_tokens.user_id
      WHERE user_tokens.token_hash = ${ApiToken.hash(token)} AND user_tokens.revoked_at IS NULL
    ),
    touched AS (
      UPDATE user_tokens SET last_used_at = ${now}
      WHERE id IN (SELECT token_id FROM found)
        AND (last_used_at IS NULL OR last_used_at < ${now}::timestamptz - interval '1 minute')
    )
    SELECT * FROM found`
  return Option.map(Option.fromNullishOr(rows[0]), (row) => ({ ...toUser(row), tokenId: row.token_id }))
})
