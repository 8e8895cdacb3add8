/**
 * Teams and who belongs to them: memberships with a role, invitations (a one-time token, stored
 * hashed, for one email address) and team API tokens (`crt_…`, stored hashed, with a role).
 *
 * Changes are plain rows; callers record each one in the audit log (PgSettingsAudit) in the same
 * transaction.
 *
 * @since 0.1.0
 */
import { Effect, Option, Redacted } from "effect"
import { SqlClient } from "effect/sql"
import type { Role, TeamRef } from "../api/Access.ts"
import type * as S from "../api/Schemas.ts"
import * as ApiToken from "../security/ApiToken.ts"
import { newId } from "./Accounts.ts"

interface TeamRow {
  readonly id: string
  readonly slug: string
  readonly name: string
  readonly created_at: Date
}

export interface StoredTeam extends TeamRef {
  readonly createdAt: string
}

const toTeam = (row: TeamRow): StoredTeam => ({
  id: row.id,
  slug: row.slug,
  name: row.name,
  createdAt: row.created_at.toISOString()
})

export const view = (team: StoredTeam, role: Role): S.Team => ({ ...team, role })

/** Creates a team with `adminUserId` as its first admin; `None` when the slug is taken. */
export const createTeam = Effect.fnUntraced(function*(input: {
  readonly name: string
  readonly slug: string
  readonly adminUserId: string
  readonly now: Date
}) {
  const sql = yield* SqlClient.SqlClient
  const rows = yield* sql<TeamRow>`
    INSERT INTO teams (id, slug, name, created_at) VALUES (${newId("team")}, ${input.slug}, ${input.name.trim()}, ${input.now})
    ON CONFLICT (slug) DO NOTHING RETURNING *`
  const row = rows[0]
  if (row === undefined) return Option.none<StoredTeam>()
  yield* sql`INSERT INTO memberships (team_id, user_id, role, created_at) VALUES (${row.id}, ${input.adminUserId}, 'admin', ${input.now})`
  return Option.some(toTeam(row))
})

/** By id or slug. */
export const teamByRef = Effect.fnUntraced(function*(ref: string) {
  const sql = yield* SqlClient.SqlClient
  const rows = yield* sql<TeamRow>`SELECT * FROM teams WHERE id = ${ref} OR slug = ${ref} ORDER BY (id = ${ref}) DESC LIMIT 1`
  return Option.map(Option.fromNullishOr(rows[0]), toTeam)
})

export const renameTeam = Effect.fnUntraced(function*(teamId: string, name: string) {
  const sql = yield* SqlClient.SqlClient
  const rows = yield* sql<TeamRow>`UPDATE teams SET name = ${name.trim()} WHERE id = ${teamId} RETURNING *`
  return toTeam(rows[0]!)
})

export const teamsOfUser = Effect.fnUntraced(function*(userId: string) {
  const sql = yield* SqlClient.SqlClient
  const rows = yield* sql<TeamRow & { role: Role }>`
    SELECT teams.*, memberships.role FROM memberships JOIN teams ON teams.id = memberships.team_id
    WHERE memberships.user_id = ${userId} ORDER BY teams.created_at, teams.id`
  return rows.map((row) => view(toTeam(row), row.role))
})

export const roleOf = Effect.fnUntraced(function*(teamId: string, userId: string) {
  const sql = yield* SqlClient.SqlClient
  const rows = yield* sql<{ role: Role }>`SELECT role FROM memberships WHERE team_id = ${teamId} AND user_id = ${userId}`
  return Option.map(Option.fromNullishOr(rows[0]), (row) => row.role)
})

interface MemberRow {
  readonly user_id: string
  readonly email: string
  readonly name: string
  readonly role: Role
  readonly created_at: Date
}

const toMember = (row: MemberRow): S.Member => ({
  userId: row.user_id,
  email: row.email,
  name: row.name,
  role: row.role,
  joinedAt: row.created_at.toISOString()
})

export const listMembers = Effect.fnUntraced(function*(teamId: string) {
  const sql = yield* SqlClient.SqlClient
  const rows = yield* sql<MemberRow>`
    SELECT memberships.user_id, users.email, users.name, memberships.role, memberships.created_at
    FROM memberships JOIN users ON users.id = memberships.user_id
    WHERE memberships.team_id = ${teamId} ORDER BY memberships.created_at, users.id`
  return rows.map(toMember)
})

export const member = Effect.fnUntraced(function*(teamId: string, userId: string) {
  const sql = yield* SqlClient.SqlClient
  const rows = yield* sql<MemberRow>`
    SELECT memberships.user_id, users.email, users.name, memberships.role, memberships.created_at
    FROM memberships JOIN users ON users.id = memberships.user_id
    WHERE memberships.team_id = ${teamId} AND memberships.user_id = ${userId}`
  return Option.map(Option.fromNullishOr(rows[0]), toMember)
})

/**
 * Locks the team's memberships for the rest of the transaction, so two admins demoting each other
 * at once cannot both pass the "another admin remains" check.
 */
export const lockMemberships = Effect.fnUntraced(function*(teamId: string) {
  const sql = yield* SqlClient.SqlClient
  yield* sql`SELECT 1 FROM teams WHERE id = ${teamId} FOR UPDATE`
})

export const adminCount = Effect.fnUntraced(function*(teamId: string) {
  const sql = yield* SqlClient.SqlClient
  const rows = yield* sql<{ count: number }>`
    SELECT count(*)::int AS count FROM memberships WHERE team_id = ${teamId} AND role = 'admin'`
  return rows[0]!.count
})

export const setRole = Effect.fnUntraced(function*(teamId: string, userId: string, role: Role) {
  const sql = yield* SqlClient.SqlClient
  yield* sql`UPDATE memberships SET role = ${role} WHERE team_id = ${teamId} AND user_id = ${userId}`
})

export const removeMember = Effect.fnUntraced(function*(teamId: string, userId: string) {
  const sql = yield* SqlClient.SqlClient
  yield* sql`DELETE FROM memberships WHERE team_id = ${teamId} AND user_id = ${userId}`
})

export const addMember = Effect.fnUntraced(function*(teamId: string, userId: string, role: Role, now: Date) {
  const sql = yield* SqlClient.SqlClient
  const rows = yield* sql<{ user_id: string }>`
    INSERT INTO memberships (team_id, user_id, role, created_at) VALUES (${teamId}, ${userId}, ${role}, ${now})
    ON CONFLICT DO NOTHING RETURNING user_id`
  return rows.length > 0
})

interface InvitationRow {
  readonly id: string
  readonly team_id: string
  readonly email: string
  readonly role: Role
  readonly invited_by: string
  readonly created_at: Date
  readonly expires_at: Date
  readonly accepted_at: Date | null
  readonly revoked_at: Date | null
}

const toInvitation = (row: InvitationRow, now: Date): S.Invitation => ({
  id: row.id,
  email: row.email,
  role: row.role,
  invitedBy: row.invited_by,
  createdAt: row.created_at.toISOString(),
  expiresAt: row.expires_at.toISOString(),
  status: row.accepted_at !== null
    ? "accepted"
    : row.revoked_at !== null
    ? "revoked"
    : row.expires_at <= now
    ? "expired"
    : "pending"
})

export const createInvitation = Effect.fnUntraced(function*(input: {
  readonly teamId: string
  readonly email: string
  readonly role: Role
  readonly invitedBy: string
  readonly now: Date
  readonly expiresAt: Date
}) {
  const sql = yield* SqlClient.SqlClient
  const secret = Buffer.from(crypto.getRandomValues(new Uint8Array(24))).toString("base64url")
  const token = `cri_${secret}`
  const rows = yield* sql<InvitationRow>`
    INSERT INTO invitations (id, team_id, email, role, token_hash, invited_by, created_at, expires_at)
    VALUES (${newId("inv")}, ${input.teamId}, ${input.email}, ${input.role}, ${ApiToken.hash(token)},
      ${input.invitedBy}, ${input.now}, ${input.expiresAt})
    RETURNING *`
  return { invitation: toInvitation(rows[0]!, input.now), token }
})

export const listInvitations = Effect.fnUntraced(function*(teamId: string, now: Date) {
  const sql = yield* SqlClient.SqlClient
  const rows = yield* sql<InvitationRow>`SELECT * FROM invitations WHERE team_id = ${teamId} ORDER BY created_at, id`
  return rows.map((row) => toInvitation(row, now))
})

export const revokeInvitation = Effect.fnUntraced(function*(teamId: string, invitationId: string, now: Date) {
  const sql = yield* SqlClient.SqlClient
  const rows = yield* sql<InvitationRow>`
    UPDATE invitations SET revoked_at = coalesce(revoked_at, ${now})
    WHERE id = ${invitationId} AND team_id = ${teamId} RETURNING *`
  return Option.map(Option.fromNullishOr(rows[0]), (row) => toInvitation(row, now))
})

/** A pending invitation by its token, locked for accepting. */
export const pendingInvitation = Effect.fnUntraced(function*(token: string, now: Date) {
  const sql = yield* SqlClient.SqlClient
  const rows = yield* sql<InvitationRow>`
    SELECT * FROM invitations WHERE token_hash = ${ApiToken.hash(token)} FOR UPDATE`
  return Option.map(Option.fromNullishOr(rows[0]), (row) => ({ row, view: toInvitation(row, now) }))
})

export const markInvitationAccepted = Effect.fnUntraced(function*(invitationId: string, now: Date) {
  const sql = yield* SqlClient.SqlClient
  yield* sql`UPDATE invitations SET accepted_at = ${now} WHERE id = ${invitationId}`
})

interface TeamTokenRow {
  readonly id: string
  readonly team_id: string
  readonly name: string
  readonly role: Role
  readonly display: string
  readonly created_by: string
  readonly created_at: Date
  readonly last_used_at: Date | null
  readonly revoked_at: Date | null
}

const toTeamToken = (row: TeamTokenRow): S.TeamToken => ({
  id: row.id,
  name: row.name,
  role: row.role,
  display: row.display,
  createdBy: row.created_by,
  createdAt: row.created_at.toISOString(),
  lastUsedAt: row.last_used_at?.toISOString() ?? null,
  revokedAt: row.revoked_at?.toISOString() ?? null
})

export const createTeamToken = Effect.fnUntraced(function*(input: {
  readonly teamId: string
  readonly name: string
  readonly role: Role
  readonly createdBy: string
  readonly now: Date
}) {
  const sql = yield* SqlClient.SqlClient
  const issued = yield* ApiToken.issue("team")
  const rows = yield* sql<TeamTokenRow>`
    INSERT INTO team_tokens (id, team_id, name, role, token_hash, display, created_by, created_at)
    VALUES (${newId("tok")}, ${input.teamId}, ${input.name.trim()}, ${input.role}, ${issued.hash}, ${issued.display},
      ${input.createdBy}, ${input.now})
    RETURNING *`
  return { ...toTeamToken(rows[0]!), token: Redacted.value(issued.token) }
})

export const listTeamTokens = Effect.fnUntraced(function*(teamId: string) {
  const sql = yield* SqlClient.SqlClient
  const rows = yield* sql<TeamTokenRow>`SELECT * FROM team_tokens WHERE team_id = ${teamId} ORDER BY created_at, id`
  return rows.map(toTeamToken)
})

export const revokeTeamToken = Effect.fnUntraced(function*(teamId: string, tokenId: string, now: Date) {
  const sql = yield* SqlClient.SqlClient
  const rows = yield* sql<TeamTokenRow>`
    UPDATE team_tokens SET revoked_at = coalesce(revoked_at, ${now})
    WHERE id = ${tokenId} AND team_id = ${teamId} RETURNING *`
  return Option.map(Option.fromNullishOr(rows[0]), toTeamToken)
})

/**
 * The unrevoked team token with this value, stamping its last use. To the minute: a CI job
 * polling every few seconds must not turn each read into a write.
 */
export const teamTokenByValue = Effect.fnUntraced(function*(token: Redacted.Redacted<string>, now: Date) {
  const sql = yield* SqlClient.SqlClient
  const rows = yield* sql<TeamTokenRow>`
    WITH found AS (SELECT * FROM team_tokens WHERE token_hash = ${ApiToken.hash(token)} AND revoked_at IS NULL),
    touched AS (
      UPDATE team_tokens SET last_used_at = ${now}
      WHERE id IN (SELECT id FROM found)
        AND (last_used_at IS NULL OR last_used_at < ${now}::timestamptz - interval '1 minute')
    )
    SELECT * FROM found`
  return Option.fromNullishOr(rows[0])
})
