/**
 * PgTeams: the application's Teams port on the tables `teams`, `memberships` and `invitations`
 * (migration `0006_teams`).
 *
 * The last-admin rule holds across server processes: a role change or a removal locks the team's
 * row (`SELECT … FOR UPDATE`) before counting its admins, so two admins demoting each other at
 * once run one after the other and the second is refused. Accepting an invitation locks the
 * invitation's row, so it is accepted once. Each such change is its own transaction, or a
 * savepoint of the caller's (`Storage.Transactions`).
 *
 * @since 0.2.0
 */
import { type Storage, Teams } from "@canaryroll/app"
import { Id } from "@canaryroll/core"
import { Effect, Layer, Option } from "effect"
import { SqlClient, SqlError } from "effect/sql"
import { unavailable } from "./PgTransactions.ts"

interface TeamRow {
  readonly id: string
  readonly slug: string
  readonly name: string
  readonly created_at: Date
}

const toTeam = (row: TeamRow): Teams.Team => ({
  id: row.id,
  slug: row.slug,
  name: row.name,
  createdAt: row.created_at.getTime()
})

interface MemberRow {
  readonly user_id: string
  readonly email: string
  readonly name: string
  readonly role: Teams.Role
  readonly created_at: Date
}

const toMember = (row: MemberRow): Teams.Member => ({
  userId: row.user_id,
  email: row.email,
  name: row.name,
  role: row.role,
  joinedAt: row.created_at.getTime()
})

interface InvitationRow {
  readonly id: string
  readonly team_id: string
  readonly email: string
  readonly role: Teams.Role
  readonly invited_by: string
  readonly created_at: Date
  readonly expires_at: Date
  readonly accepted_at: Date | null
  readonly revoked_at: Date | null
}

const toInvitation = (row: InvitationRow): Teams.Invitation => ({
  id: row.id,
  teamId: row.team_id,
  email: row.email,
  role: row.role,
  invitedBy: row.invited_by,
  createdAt: row.created_at.getTime(),
  expiresAt: row.expires_at.getTime(),
  acceptedAt: row.accepted_at?.getTime() ?? null,
  revokedAt: row.revoked_at?.getTime() ?? null
})

const invitationColumns = "id, team_id, email, role, invited_by, created_at, expires_at, accepted_at, revoked_at"

/** The store over the `SqlClient` in context; run `Migrations` first. */
export const make: Effect.Effect<Teams.Teams["Service"], never, SqlClient.SqlClient> = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  const at = (ms: number) => new Date(ms)

  const member = (teamId: string, userId: string) =>
    sql<MemberRow>`
      SELECT memberships.user_id, users.email, users.name, memberships.role, memberships.created_at
      FROM memberships JOIN users ON users.id = memberships.user_id
      WHERE memberships.team_id = ${teamId} AND memberships.user_id = ${userId}`.pipe(
      Effect.map((rows) => Option.map(Option.fromNullishOr(rows[0]), toMember))
    )

  /** Locks the team for the rest of the transaction: its admins are counted once at a time. */
  const lockTeam = (teamId: string) => sql`SELECT 1 FROM teams WHERE id = ${teamId} FOR UPDATE`

  const adminCount = (teamId: string) =>
    Effect.map(
      sql<{ count: number }>`SELECT count(*)::int AS count FROM memberships WHERE team_id = ${teamId} AND role = 'admin'`,
      (rows) => rows[0]?.count ?? 0
    )

  /** Fails with `LastAdmin` when `current` leaving the admin role (for `role`, or the team: null) leaves none. */
  const keepAnAdmin = (teamId: string, current: Teams.Member, role: Teams.Role | null) =>
    Effect.gen(function*() {
      if (current.role !== "admin" || role === "admin") return
      if ((yield* adminCount(teamId)) <= 1) return yield* Teams.lastAdmin(teamId, current.userId)
    })

  /** Runs a change as one transaction (a savepoint inside the caller's), storage errors mapped. */
  const atomic = <A, E, R>(effect: Effect.Effect<A, E | SqlError.SqlError, R>) =>
    sql.withTransaction(effect).pipe(
      Effect.mapError((error): E | Storage.StorageUnavailable =>
        // Not a SqlError: one of the port's own failures (E), passed on.
        SqlError.isSqlError(error) ? unavailable(error) : error as E
      )
    )

  return Teams.Teams.of({
    create: (input) =>
      atomic(Effect.gen(function*() {
        const rows = yield* sql<TeamRow>`
          INSERT INTO teams (id, slug, name, created_at)
          VALUES (${Id.makeUnsafe("team")}, ${input.slug}, ${input.name.trim()}, ${at(input.now)})
          ON CONFLICT (slug) DO NOTHING RETURNING *`
        const row = rows[0]
        if (row === undefined) {
          return yield* new Teams.SlugTaken({ slug: input.slug, message: `the team slug ${JSON.stringify(input.slug)} is taken` })
        }
        yield* sql`
          INSERT INTO memberships (team_id, user_id, role, created_at)
          VALUES (${row.id}, ${input.adminUserId}, 'admin', ${at(input.now)})`
        return toTeam(row)
      })),
    byRef: (ref) =>
      sql<TeamRow>`SELECT * FROM teams WHERE id = ${ref} OR slug = ${ref} ORDER BY (id = ${ref}) DESC LIMIT 1`.pipe(
        Effect.map((rows) => Option.map(Option.fromNullishOr(rows[0]), toTeam)),
        Effect.mapError(unavailable)
      ),
    rename: (teamId, name) =>
      sql<TeamRow>`UPDATE teams SET name = ${name.trim()} WHERE id = ${teamId} RETURNING *`.pipe(
        Effect.map((rows) => Option.map(Option.fromNullishOr(rows[0]), toTeam)),
        Effect.mapError(unavailable)
      ),
    teamsOf: (userId) =>
      sql<TeamRow & { role: Teams.Role }>`
        SELECT teams.*, memberships.role FROM memberships JOIN teams ON teams.id = memberships.team_id
        WHERE memberships.user_id = ${userId} ORDER BY teams.created_at, teams.id COLLATE "C"`.pipe(
        Effect.map((rows) => rows.map((row) => ({ team: toTeam(row), role: row.role }))),
        Effect.mapError(unavailable)
      ),
    roleOf: (teamId, userId) =>
      sql<{ role: Teams.Role }>`SELECT role FROM memberships WHERE team_id = ${teamId} AND user_id = ${userId}`.pipe(
        Effect.map((rows) => Option.map(Option.fromNullishOr(rows[0]), (row) => row.role)),
        Effect.mapError(unavailable)
      ),
    members: (teamId) =>
      sql<MemberRow>`
        SELECT memberships.user_id, users.email, users.name, memberships.role, memberships.created_at
        FROM memberships JOIN users ON users.id = memberships.user_id
        WHERE memberships.team_id = ${teamId} ORDER BY memberships.created_at, users.id COLLATE "C"`.pipe(
        Effect.map((rows) => rows.map(toMember)),
        Effect.mapError(unavailable)
      ),
    member: (teamId, userId) => member(teamId, userId).pipe(Effect.mapError(unavailable)),
    addMember: (teamId, userId, role, now) =>
      sql<{ user_id: string }>`
        INSERT INTO memberships (team_id, user_id, role, created_at) VALUES (${teamId}, ${userId}, ${role}, ${at(now)})
        ON CONFLICT DO NOTHING RETURNING user_id`.pipe(
        Effect.mapError(unavailable),
        Effect.flatMap((rows) => rows.length > 0 ? Effect.void : Effect.fail(Teams.alreadyMember(teamId, userId)))
      ),
    changeRole: (teamId, userId, role) =>
      atomic(Effect.gen(function*() {
        yield* lockTeam(teamId)
        const current = yield* member(teamId, userId)
        if (Option.isNone(current)) return yield* Teams.memberNotFound(teamId, userId)
        const before = current.value
        if (before.role === role) return { before, after: before }
        yield* keepAnAdmin(teamId, before, role)
        yield* sql`UPDATE memberships SET role = ${role} WHERE team_id = ${teamId} AND user_id = ${userId}`
        return { before, after: { ...before, role } }
      })),
    removeMember: (teamId, userId) =>
      atomic(Effect.gen(function*() {
        yield* lockTeam(teamId)
        const current = yield* member(teamId, userId)
        if (Option.isNone(current)) return yield* Teams.memberNotFound(teamId, userId)
        yield* keepAnAdmin(teamId, current.value, null)
        yield* sql`DELETE FROM memberships WHERE team_id = ${teamId} AND user_id = ${userId}`
        return current.value
      })),
    invite: (input) =>
      atomic(Effect.gen(function*() {
        const members = yield* sql<{ user_id: string }>`
          SELECT memberships.user_id FROM memberships JOIN users ON users.id = memberships.user_id
          WHERE memberships.team_id = ${input.teamId} AND lower(users.email) = lower(${input.email})`
        if (members.length > 0) return yield* Teams.alreadyMember(input.teamId, input.email)
        const rows = yield* sql<InvitationRow>`
          INSERT INTO invitations (id, team_id, email, role, token_hash, invited_by, created_at, expires_at)
          VALUES (${Id.makeUnsafe("invitation")}, ${input.teamId}, ${input.email}, ${input.role}, ${input.tokenHash},
            ${input.invitedBy}, ${at(input.now)}, ${at(input.expiresAt)})
          RETURNING ${sql.literal(invitationColumns)}`
        // An INSERT … RETURNING that did not fail returned its row.
        return toInvitation(rows[0]!)
      })),
    invitations: (teamId) =>
      sql<InvitationRow>`
        SELECT ${sql.literal(invitationColumns)} FROM invitations WHERE team_id = ${teamId}
        ORDER BY created_at, id COLLATE "C"`.pipe(
        Effect.map((rows) => rows.map(toInvitation)),
        Effect.mapError(unavailable)
      ),
    revokeInvitation: (teamId, invitationId, now) =>
      sql<InvitationRow>`
        UPDATE invitations SET revoked_at = coalesce(revoked_at, ${at(now)})
        WHERE id = ${invitationId} AND team_id = ${teamId} RETURNING ${sql.literal(invitationColumns)}`.pipe(
        Effect.map((rows) => Option.map(Option.fromNullishOr(rows[0]), toInvitation)),
        Effect.mapError(unavailable)
      ),
    acceptInvitation: ({ email, now, tokenHash, userId }) =>
      atomic(Effect.gen(function*() {
        const rows = yield* sql<InvitationRow>`
          SELECT ${sql.literal(invitationColumns)} FROM invitations WHERE token_hash = ${tokenHash} FOR UPDATE`
        const found = rows[0] === undefined ? undefined : toInvitation(rows[0])
        const refused = Teams.refusal(found, email, now)
        if (found === undefined || refused !== undefined) return yield* Effect.fail(refused ?? Teams.invitationNotFound())
        const teams = yield* sql<TeamRow>`SELECT * FROM teams WHERE id = ${found.teamId}`
        if (teams[0] === undefined) return yield* Teams.invitationNotFound()
        const team = toTeam(teams[0])
        const added = yield* sql<{ user_id: string }>`
          INSERT INTO memberships (team_id, user_id, role, created_at) VALUES (${team.id}, ${userId}, ${found.role}, ${at(now)})
          ON CONFLICT DO NOTHING RETURNING user_id`
        if (added.length === 0) return yield* Teams.alreadyMember(team.id, userId)
        yield* sql`UPDATE invitations SET accepted_at = ${at(now)} WHERE id = ${found.id}`
        return { team, invitation: { ...found, acceptedAt: now } }
      }))
  })
})

export const layer: Layer.Layer<Teams.Teams, never, SqlClient.SqlClient> = Layer.effect(Teams.Teams, make)
