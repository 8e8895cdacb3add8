/**
 * People: users, their dashboard sessions and their personal API tokens (`cru_…`). Passwords are
 * stored as scrypt hashes (PasswordHash); session secrets and tokens only as SHA-256 hashes, so a
 * copy of the database lets nobody in. Sessions are kept by the Sessions port (core), which
 * never sees a session's secret, only its hash.
 *
 * @since 0.1.0
 */
import { Sessions } from "@canaryroll/core"
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

/** Where a session's User-Agent is cut: enough to tell browsers apart on the account page. */
const userAgentLength = 256

/** A `User-Agent` header as a session keeps it: control characters dropped, cut to a bounded length. */
export const sessionUserAgent = (header: string | undefined): string | null => {
  const cleaned = (header ?? "").replace(/[\u0000-\u001f\u007f]/g, "").trim().slice(0, userAgentLength)
  return cleaned === "" ? null : cleaned
}

/**
 * Starts a session (the Sessions port); the returned secret goes in the cookie and is never
 * stored, only its hash.
 */
export const createSession = Effect.fnUntraced(function*(input: {
  readonly userId: string
  readonly now: Date
  readonly expiresAt: Date
  readonly userAgent: string | null
}) {
  const sessions = yield* Sessions.Sessions
  const secret = Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("base64url")
  yield* sessions.create({
    id: newId("ses"),
    secretHash: ApiToken.hash(Redacted.make(secret)),
    userId: input.userId,
    expiresAt: input.expiresAt.getTime(),
    userAgent: input.userAgent
  }, input.now.getTime())
  return Redacted.make(secret)
})

/** The user a live session belongs to, and the session (its last use stamped). */
export const userBySession = Effect.fnUntraced(function*(secret: Redacted.Redacted<string>, now: Date) {
  const sessions = yield* Sessions.Sessions
  const session = yield* sessions.touch(ApiToken.hash(secret), now.getTime())
  if (Option.isNone(session)) return Option.none<StoredUser & { readonly sessionId: string }>()
  const user = yield* userById(session.value.userId)
  return Option.map(user, (user) => ({ ...user, sessionId: session.value.id }))
})

export const deleteSession = Effect.fnUntraced(function*(secret: Redacted.Redacted<string>) {
  const sessions = yield* Sessions.Sessions
  yield* sessions.end(ApiToken.hash(secret))
})

/**
 * Ends every session of the person but the one whose id is `keep` (the caller's own, when they
 * change their password); returns how many live sessions ended.
 */
export const endSessions = Effect.fnUntraced(function*(userId: string, now: Date, keep?: string | null) {
  const sessions = yield* Sessions.Sessions
  return yield* sessions.endAll(userId, { now: now.getTime(), except: keep ?? undefined })
})

/** The person's live sessions, the most recently started first. */
export const listSessions = Effect.fnUntraced(function*(userId: string, now: Date) {
  const sessions = yield* Sessions.Sessions
  return yield* sessions.list(userId, now.getTime())
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
