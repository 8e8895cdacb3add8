/**
 * Teams port: teams, who belongs to them with which role (members), and the invitations that
 * let a person in (a one-time secret, of which the port keeps only the hash, for one email).
 *
 * Contract (the `TeamsContract` suite, `@canaryroll/app/testing`, run on every layer):
 * - A slug names one team (`SlugTaken`); a team starts with its creator as its admin.
 * - A team always keeps an admin: demoting or removing its last one fails with `LastAdmin`. The
 *   check and the change are one atomic step, so two admins demoting each other at once cannot
 *   both succeed (Postgres: the team's row is locked; memory: one synchronous step).
 * - A person is a member once (`AlreadyMember`).
 * - An invitation is pending until it is accepted, revoked or expires (`statusOf`). Accepting
 *   checks it is pending and meant for the person's email (any case), makes them a member with
 *   the invitation's role and marks it accepted, as one atomic step.
 *
 * Members are listed with their person's email and name (from the `People` port's store).
 * Times are inputs (epoch milliseconds from the caller's `Clock`). Storage failing is the one
 * failure every port shares, `Storage.StorageUnavailable`.
 *
 * Layers: `layerMemory` here (over `People`; its writes are undone when a
 * `Storage.Transactions` transaction fails), and `PgTeams.layer` in `@canaryroll/postgres`
 * (tables `teams`, `memberships`, `invitations`).
 *
 * @since 0.2.0
 */
import { Id } from "@canaryroll/core"
import { Context, Effect, Layer, Option, Schema } from "effect"
import { recordUndo, type StorageUnavailable } from "../Storage.ts"
import { People } from "./People.ts"

/** What a member (or a team token) may do; each includes the ones before it. */
export type Role = "read_only" | "deploy" | "admin"

export interface Team {
  readonly id: string
  readonly slug: string
  readonly name: string
  readonly createdAt: number
}

/** A team a person belongs to, and their role in it. */
export interface Membership {
  readonly team: Team
  readonly role: Role
}

export interface Member {
  readonly userId: string
  readonly email: string
  readonly name: string
  readonly role: Role
  readonly joinedAt: number
}

export interface Invitation {
  readonly id: string
  readonly teamId: string
  readonly email: string
  readonly role: Role
  /** Who invited, as the audit log names them. */
  readonly invitedBy: string
  readonly createdAt: number
  readonly expiresAt: number
  readonly acceptedAt: number | null
  readonly revokedAt: number | null
}

export type InvitationStatus = "pending" | "accepted" | "revoked" | "expired"

export const statusOf = (invitation: Invitation, now: number): InvitationStatus =>
  invitation.acceptedAt !== null
    ? "accepted"
    : invitation.revokedAt !== null
    ? "revoked"
    : invitation.expiresAt <= now
    ? "expired"
    : "pending"

export interface NewInvitation {
  readonly teamId: string
  readonly email: string
  readonly role: Role
  readonly invitedBy: string
  /** The hash of the invitation's secret (the server's SHA-256 hex): how it is found. */
  readonly tokenHash: string
  readonly now: number
  readonly expiresAt: number
}

export class SlugTaken extends Schema.TaggedError<SlugTaken>()("SlugTaken", {
  slug: Schema.String,
  message: Schema.String
}) {}

export class MemberNotFound extends Schema.TaggedError<MemberNotFound>()("MemberNotFound", {
  teamId: Schema.String,
  userId: Schema.String,
  message: Schema.String
}) {}

/** The change would leave the team without an admin. */
export class LastAdmin extends Schema.TaggedError<LastAdmin>()("LastAdmin", {
  teamId: Schema.String,
  userId: Schema.String,
  message: Schema.String
}) {}

export class AlreadyMember extends Schema.TaggedError<AlreadyMember>()("AlreadyMember", {
  teamId: Schema.String,
  /** The person (by id, or by the email an invitation was for). */
  who: Schema.String,
  message: Schema.String
}) {}

export class InvitationNotFound extends Schema.TaggedError<InvitationNotFound>()("InvitationNotFound", {
  message: Schema.String
}) {}

export class InvitationNotPending extends Schema.TaggedError<InvitationNotPending>()("InvitationNotPending", {
  status: Schema.Literals(["accepted", "revoked", "expired"]),
  message: Schema.String
}) {}

export class InvitationForSomeoneElse extends Schema.TaggedError<InvitationForSomeoneElse>()("InvitationForSomeoneElse", {
  /** Whom the invitation is for. */
  email: Schema.String,
  message: Schema.String
}) {}

export type AcceptRefused = InvitationNotFound | InvitationNotPending | InvitationForSomeoneElse | AlreadyMember

/** A role change: the member before and after (the same when the role was already that one). */
export interface RoleChanged {
  readonly before: Member
  readonly after: Member
}

export class Teams extends Context.Service<Teams, {
  /** Creates a team with `adminUserId` as its first admin; `SlugTaken` when the slug is. */
  readonly create: (input: {
    readonly name: string
    readonly slug: string
    readonly adminUserId: string
    readonly now: number
  }) => Effect.Effect<Team, SlugTaken | StorageUnavailable>
  /** By id or by slug (an id wins). */
  readonly byRef: (ref: string) => Effect.Effect<Option.Option<Team>, StorageUnavailable>
  /** Renames the team; `None` for an unknown team. */
  readonly rename: (teamId: string, name: string) => Effect.Effect<Option.Option<Team>, StorageUnavailable>
  /** The teams the person belongs to, the oldest first. */
  readonly teamsOf: (userId: string) => Effect.Effect<ReadonlyArray<Membership>, StorageUnavailable>
  readonly roleOf: (teamId: string, userId: string) => Effect.Effect<Option.Option<Role>, StorageUnavailable>
  /** The team's members, the earliest to join first. */
  readonly members: (teamId: string) => Effect.Effect<ReadonlyArray<Member>, StorageUnavailable>
  readonly member: (teamId: string, userId: string) => Effect.Effect<Option.Option<Member>, StorageUnavailable>
  readonly addMember: (
    teamId: string,
    userId: string,
    role: Role,
    now: number
  ) => Effect.Effect<void, AlreadyMember | StorageUnavailable>
  /** Changes a member's role, keeping an admin (see the module doc). */
  readonly changeRole: (
    teamId: string,
    userId: string,
    role: Role
  ) => Effect.Effect<RoleChanged, MemberNotFound | LastAdmin | StorageUnavailable>
  /** Removes a member, keeping an admin; the member as they were. */
  readonly removeMember: (teamId: string, userId: string) => Effect.Effect<Member, MemberNotFound | LastAdmin | StorageUnavailable>
  /** Invites an email that is not a member's yet (`AlreadyMember`). */
  readonly invite: (invitation: NewInvitation) => Effect.Effect<Invitation, AlreadyMember | StorageUnavailable>
  /** The team's invitations, the oldest first. */
  readonly invitations: (teamId: string) => Effect.Effect<ReadonlyArray<Invitation>, StorageUnavailable>
  /** Revokes one of the team's invitations (again: it stays revoked when it was); `None` if it has none such. */
  readonly revokeInvitation: (
    teamId: string,
    invitationId: string,
    now: number
  ) => Effect.Effect<Option.Option<Invitation>, StorageUnavailable>
  /** Accepts the invitation with this secret hash for the person (see the module doc). */
  readonly acceptInvitation: (input: {
    readonly tokenHash: string
    readonly userId: string
    readonly email: string
    readonly now: number
  }) => Effect.Effect<{ readonly team: Team; readonly invitation: Invitation }, AcceptRefused | StorageUnavailable>
}>()("@canaryroll/app/Teams") {}

export const lastAdmin = (teamId: string, userId: string) =>
  new LastAdmin({ teamId, userId, message: `${userId} is the team's last admin; make someone else admin first` })

export const memberNotFound = (teamId: string, userId: string) =>
  new MemberNotFound({ teamId, userId, message: `member ${JSON.stringify(userId)} was not found` })

export const alreadyMember = (teamId: string, who: string) =>
  new AlreadyMember({ teamId, who, message: `${who} already belongs to the team` })

export const invitationNotFound = () => new InvitationNotFound({ message: "no such invitation" })

/** Why an invitation found by its secret (or not found) cannot be accepted by `email` at `now`, if it cannot. */
export const refusal = (
  invitation: Invitation | undefined,
  email: string,
  now: number
): InvitationNotFound | InvitationNotPending | InvitationForSomeoneElse | undefined => {
  if (invitation === undefined) return invitationNotFound()
  const status = statusOf(invitation, now)
  if (status !== "pending") return new InvitationNotPending({ status, message: `the invitation is ${status}` })
  if (invitation.email.toLowerCase() !== email.toLowerCase()) {
    return new InvitationForSomeoneElse({ email: invitation.email, message: `the invitation is for ${invitation.email}` })
  }
  return undefined
}

const byAge = <A extends { readonly id: string }>(at: (a: A) => number) => (a: A, b: A) =>
  at(a) - at(b) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)

interface StoredMembership {
  readonly teamId: string
  readonly userId: string
  readonly role: Role
  readonly joinedAt: number
}

export const makeMemory = Effect.gen(function*() {
  const people = yield* People
  const teams = new Map<string, Team>()
  const memberships = new Map<string, StoredMembership>()
  const invitations = new Map<string, Invitation & { readonly tokenHash: string }>()
  const key = (teamId: string, userId: string) => JSON.stringify([teamId, userId])

  /** Writes `value` at `id` in `map` (deletes for undefined), recording how to undo it. */
  const write = <V>(map: Map<string, V>, id: string, value: V | undefined) => {
    const before = map.get(id)
    if (value === undefined) map.delete(id)
    else map.set(id, value)
    return recordUndo(() => before === undefined ? map.delete(id) : map.set(id, before))
  }

  const toMember = (stored: StoredMembership) =>
    Effect.map(people.byId(stored.userId), (account) => ({
      userId: stored.userId,
      email: Option.match(account, { onNone: () => "", onSome: (account) => account.person.email }),
      name: Option.match(account, { onNone: () => "", onSome: (account) => account.person.name }),
      role: stored.role,
      joinedAt: stored.joinedAt
    }))

  const membersOf = (teamId: string) =>
    [...memberships.values()].filter((stored) => stored.teamId === teamId)
      .sort((a, b) => a.joinedAt - b.joinedAt || (a.userId < b.userId ? -1 : a.userId > b.userId ? 1 : 0))

  const admins = (teamId: string) => membersOf(teamId).filter((stored) => stored.role === "admin").length

  /** Whether the member leaving the admin role (for `role`, or the team: null) leaves it none. */
  const leavesNoAdmin = (stored: StoredMembership, role: Role | null) =>
    stored.role === "admin" && role !== "admin" && admins(stored.teamId) <= 1

  return Teams.of({
    create: (input) =>
      Effect.suspend(() => {
        if ([...teams.values()].some((team) => team.slug === input.slug)) {
          return Effect.fail(new SlugTaken({ slug: input.slug, message: `the team slug ${JSON.stringify(input.slug)} is taken` }))
        }
        const team: Team = { id: Id.makeUnsafe("team"), slug: input.slug, name: input.name.trim(), createdAt: input.now }
        return Effect.as(
          Effect.andThen(
            write(teams, team.id, team),
            write(memberships, key(team.id, input.adminUserId), {
              teamId: team.id,
              userId: input.adminUserId,
              role: "admin",
              joinedAt: input.now
            })
          ),
          team
        )
      }),
    byRef: (ref) =>
      Effect.sync(() => Option.fromNullishOr(teams.get(ref) ?? [...teams.values()].find((team) => team.slug === ref))),
    rename: (teamId, name) =>
      Effect.suspend(() => {
        const team = teams.get(teamId)
        if (team === undefined) return Effect.succeed(Option.none())
        const renamed = { ...team, name: name.trim() }
        return Effect.as(write(teams, teamId, renamed), Option.some(renamed))
      }),
    teamsOf: (userId) =>
      Effect.sync(() =>
        [...memberships.values()].filter((stored) => stored.userId === userId).flatMap((stored) => {
          const team = teams.get(stored.teamId)
          return team === undefined ? [] : [{ team, role: stored.role }]
        }).sort((a, b) => byAge<Team>((team) => team.createdAt)(a.team, b.team))
      ),
    roleOf: (teamId, userId) => Effect.sync(() => Option.map(Option.fromNullishOr(memberships.get(key(teamId, userId))), (m) => m.role)),
    members: (teamId) => Effect.forEach(membersOf(teamId), toMember),
    member: (teamId, userId) =>
      Effect.suspend(() => {
        const stored = memberships.get(key(teamId, userId))
        return stored === undefined ? Effect.succeed(Option.none()) : Effect.map(toMember(stored), Option.some)
      }),
    addMember: (teamId, userId, role, now) =>
      Effect.suspend(() =>
        memberships.has(key(teamId, userId))
          ? Effect.fail(alreadyMember(teamId, userId))
          : write(memberships, key(teamId, userId), { teamId, userId, role, joinedAt: now })
      ),
    // Check and change in one synchronous step: no other fiber runs between them.
    changeRole: (teamId, userId, role) =>
      Effect.suspend((): Effect.Effect<RoleChanged, MemberNotFound | LastAdmin | StorageUnavailable> => {
        const stored = memberships.get(key(teamId, userId))
        if (stored === undefined) return Effect.fail(memberNotFound(teamId, userId))
        if (stored.role === role) return Effect.map(toMember(stored), (before) => ({ before, after: before }))
        if (leavesNoAdmin(stored, role)) return Effect.fail(lastAdmin(teamId, userId))
        const undo = write(memberships, key(teamId, userId), { ...stored, role })
        return Effect.andThen(undo, Effect.map(toMember(stored), (before) => ({ before, after: { ...before, role } })))
      }),
    removeMember: (teamId, userId) =>
      Effect.suspend((): Effect.Effect<Member, MemberNotFound | LastAdmin | StorageUnavailable> => {
        const stored = memberships.get(key(teamId, userId))
        if (stored === undefined) return Effect.fail(memberNotFound(teamId, userId))
        if (leavesNoAdmin(stored, null)) return Effect.fail(lastAdmin(teamId, userId))
        const undo = write(memberships, key(teamId, userId), undefined)
        return Effect.andThen(undo, toMember(stored))
      }),
    invite: (input) =>
      Effect.gen(function*() {
        const members = yield* Effect.forEach(membersOf(input.teamId), toMember)
        if (members.some((member) => member.email.toLowerCase() === input.email.toLowerCase())) {
          return yield* alreadyMember(input.teamId, input.email)
        }
        const invitation: Invitation = {
          id: Id.makeUnsafe("invitation"),
          teamId: input.teamId,
          email: input.email,
          role: input.role,
          invitedBy: input.invitedBy,
          createdAt: input.now,
          expiresAt: input.expiresAt,
          acceptedAt: null,
          revokedAt: null
        }
        yield* write(invitations, invitation.id, { ...invitation, tokenHash: input.tokenHash })
        return invitation
      }),
    invitations: (teamId) =>
      Effect.sync(() =>
        [...invitations.values()].filter((invitation) => invitation.teamId === teamId)
          .sort(byAge((invitation) => invitation.createdAt))
          .map(({ tokenHash: _, ...invitation }) => invitation)
      ),
    revokeInvitation: (teamId, invitationId, now) =>
      Effect.suspend(() => {
        const stored = invitations.get(invitationId)
        if (stored === undefined || stored.teamId !== teamId) return Effect.succeed(Option.none())
        const revoked = { ...stored, revokedAt: stored.revokedAt ?? now }
        const { tokenHash: _, ...invitation } = revoked
        return Effect.as(write(invitations, invitationId, revoked), Option.some(invitation))
      }),
    acceptInvitation: ({ email, now, tokenHash, userId }) =>
      Effect.suspend((): Effect.Effect<{ readonly team: Team; readonly invitation: Invitation }, AcceptRefused> => {
        const found = [...invitations.values()].find((invitation) => invitation.tokenHash === tokenHash)
        const refused = refusal(found, email, now)
        if (found === undefined || refused !== undefined) return Effect.fail(refused ?? invitationNotFound())
        const stored = found
        const team = teams.get(stored.teamId)
        if (team === undefined) return Effect.fail(invitationNotFound())
        if (memberships.has(key(team.id, userId))) return Effect.fail(alreadyMember(team.id, userId))
        const joined = write(memberships, key(team.id, userId), { teamId: team.id, userId, role: stored.role, joinedAt: now })
        const accepted = { ...stored, acceptedAt: now }
        const marked = write(invitations, stored.id, accepted)
        const { tokenHash: _, ...invitation } = accepted
        return Effect.as(Effect.andThen(joined, marked), { team, invitation })
      })
  })
})

export const layerMemory: Layer.Layer<Teams, never, People> = Layer.effect(Teams, makeMemory)
