/**
 * The Teams contract, run against every layer: teams by id or slug, members with roles and the
 * last-admin rule (also when two admins demote each other at once), invitations from creation to
 * acceptance, and `Storage.Transactions`: a failed transaction leaves none of its writes.
 *
 * `makeLayer` is called once per test and must give empty stores: `People` (members are people),
 * `Teams` and the `Transactions` of the same storage.
 *
 * @since 0.2.0
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, type Layer, Option } from "effect"
import { TestClock } from "effect/testing"
import { People, Storage, Teams } from "../../src/index.ts"

/** 2026-01-01T00:00:00Z, in epoch milliseconds. */
const t0 = 1_767_225_600_000
const hour = 3_600_000

type Services = People.People | Teams.Teams | Storage.Transactions

export const suite = (name: string, makeLayer: () => Layer.Layer<Services, unknown>) => {
  const test = <A, E>(title: string, body: () => Effect.Effect<A, E, Services>) =>
    it.effect(title, () => Effect.andThen(TestClock.setTime(t0), body().pipe(Effect.provide(makeLayer(), { local: true }))))

  const person = (email: string, now = t0) =>
    Effect.map(
      People.People.use((people) => people.create({ email, name: email.split("@")[0]!, passwordHash: "hash", now })),
      (account) => account.person
    )

  const team = (slug: string, adminUserId: string, now = t0) =>
    Teams.Teams.use((teams) => teams.create({ name: ` Team ${slug} `, slug, adminUserId, now }))

  const roles = (teamId: string) =>
    Teams.Teams.use((teams) => Effect.map(teams.members(teamId), (members) => members.map((m) => [m.email, m.role])))

  describe(`Teams contract (${name})`, () => {
    test("a team starts with its creator as admin, is found by id or slug, and owns its slug", () =>
      Effect.gen(function*() {
        const teams = yield* Teams.Teams
        const ada = yield* person("ada@example.com")
        const ops = yield* team("ops", ada.id)
        assert.deepStrictEqual(ops, { id: ops.id, slug: "ops", name: "Team ops", createdAt: t0 })
        assert.deepStrictEqual(yield* teams.byRef(ops.id), Option.some(ops))
        assert.deepStrictEqual(yield* teams.byRef("ops"), Option.some(ops))
        assert.isTrue(Option.isNone(yield* teams.byRef("nope")))
        assert.deepStrictEqual(yield* teams.roleOf(ops.id, ada.id), Option.some("admin" as const))
        const taken = yield* team("ops", ada.id).pipe(Effect.flip)
        assert.strictEqual(taken._tag, "SlugTaken")
        yield* TestClock.adjust("1 minute")
        const dev = yield* team("dev", ada.id, t0 + 60_000)
        assert.deepStrictEqual(yield* teams.teamsOf(ada.id), [{ team: ops, role: "admin" }, { team: dev, role: "admin" }])
        const renamed = yield* teams.rename(ops.id, "  Operations ")
        assert.deepStrictEqual(renamed, Option.some({ ...ops, name: "Operations" }))
        assert.isTrue(Option.isNone(yield* teams.rename("team_unknown", "x")))
      }))

    test("members are listed with their person, the earliest first; a person is a member once", () =>
      Effect.gen(function*() {
        const teams = yield* Teams.Teams
        const ada = yield* person("ada@example.com")
        const bo = yield* person("bo@example.com")
        const ops = yield* team("ops", ada.id)
        yield* teams.addMember(ops.id, bo.id, "deploy", t0 + hour)
        const again = yield* teams.addMember(ops.id, bo.id, "admin", t0 + hour).pipe(Effect.flip)
        assert.strictEqual(again._tag, "AlreadyMember")
        assert.deepStrictEqual(yield* teams.members(ops.id), [
          { userId: ada.id, email: "ada@example.com", name: "ada", role: "admin", joinedAt: t0 },
          { userId: bo.id, email: "bo@example.com", name: "bo", role: "deploy", joinedAt: t0 + hour }
        ])
        assert.deepStrictEqual(
          yield* teams.member(ops.id, bo.id),
          Option.some({ userId: bo.id, email: "bo@example.com", name: "bo", role: "deploy" as const, joinedAt: t0 + hour })
        )
        assert.isTrue(Option.isNone(yield* teams.member(ops.id, "usr_unknown")))
        assert.isTrue(Option.isNone(yield* teams.roleOf("team_other", bo.id)))
      }))

    test("the last admin can be neither demoted nor removed", () =>
      Effect.gen(function*() {
        const teams = yield* Teams.Teams
        const ada = yield* person("ada@example.com")
        const bo = yield* person("bo@example.com")
        const ops = yield* team("ops", ada.id)
        yield* teams.addMember(ops.id, bo.id, "read_only", t0)
        const demoted = yield* teams.changeRole(ops.id, ada.id, "deploy").pipe(Effect.flip)
        assert.strictEqual(demoted._tag, "LastAdmin")
        const removed = yield* teams.removeMember(ops.id, ada.id).pipe(Effect.flip)
        assert.strictEqual(removed._tag, "LastAdmin")
        const unchanged = yield* teams.changeRole(ops.id, ada.id, "admin")
        assert.deepStrictEqual(unchanged.before, unchanged.after, "already admin: nothing changes")
        const promoted = yield* teams.changeRole(ops.id, bo.id, "admin")
        assert.strictEqual(promoted.before.role, "read_only")
        assert.strictEqual(promoted.after.role, "admin")
        yield* teams.changeRole(ops.id, ada.id, "deploy")
        const left = yield* teams.removeMember(ops.id, ada.id)
        assert.strictEqual(left.role, "deploy")
        assert.deepStrictEqual(yield* roles(ops.id), [["bo@example.com", "admin"]])
        const missing = yield* teams.removeMember(ops.id, ada.id).pipe(Effect.flip)
        assert.strictEqual(missing._tag, "MemberNotFound")
        const missingRole = yield* teams.changeRole(ops.id, "usr_unknown", "admin").pipe(Effect.flip)
        assert.strictEqual(missingRole._tag, "MemberNotFound")
      }))

    test("two admins demoting each other at once: one succeeds, the other is the last admin", () =>
      Effect.gen(function*() {
        const teams = yield* Teams.Teams
        const ada = yield* person("ada@example.com")
        const bo = yield* person("bo@example.com")
        const ops = yield* team("ops", ada.id)
        yield* teams.addMember(ops.id, bo.id, "admin", t0)
        const outcomes = yield* Effect.all([
          Effect.result(teams.changeRole(ops.id, ada.id, "read_only")),
          Effect.result(teams.removeMember(ops.id, bo.id))
        ], { concurrency: "unbounded" })
        const failed = outcomes.filter((outcome) => outcome._tag === "Failure")
        assert.strictEqual(failed.length, 1)
        const admins = (yield* teams.members(ops.id)).filter((member) => member.role === "admin")
        assert.strictEqual(admins.length, 1)
      }))

    test("an invitation is accepted once, by the person it is for, while it is pending", () =>
      Effect.gen(function*() {
        const teams = yield* Teams.Teams
        const ada = yield* person("ada@example.com")
        const bo = yield* person("bo@example.com")
        const cy = yield* person("cy@example.com")
        const ops = yield* team("ops", ada.id)
        // Each a millisecond after the one before: the list's order is theirs.
        let sent = 0
        const invite = (email: string, tokenHash: string, hours = 24) =>
          teams.invite({
            teamId: ops.id,
            email,
            role: "deploy",
            invitedBy: "ada@example.com",
            tokenHash,
            now: t0 + sent++,
            expiresAt: t0 + hours * hour
          })
        const member = yield* invite("ADA@example.com", "hash-ada").pipe(Effect.flip)
        assert.strictEqual(member._tag, "AlreadyMember", "a member's email, in any case")
        const forBo = yield* invite("Bo@Example.com", "hash-bo")
        assert.deepStrictEqual(forBo, {
          id: forBo.id,
          teamId: ops.id,
          email: "Bo@Example.com",
          role: "deploy",
          invitedBy: "ada@example.com",
          createdAt: t0 + 1,
          expiresAt: t0 + 24 * hour,
          acceptedAt: null,
          revokedAt: null
        })
        const accept = (tokenHash: string, who: People.Person, now = t0) =>
          teams.acceptInvitation({ tokenHash, userId: who.id, email: who.email, now })
        assert.strictEqual((yield* accept("hash-unknown", bo).pipe(Effect.flip))._tag, "InvitationNotFound")
        const someoneElse = yield* accept("hash-bo", cy).pipe(Effect.flip)
        assert.strictEqual(someoneElse._tag, "InvitationForSomeoneElse")
        const accepted = yield* accept("hash-bo", bo, t0 + hour)
        assert.deepStrictEqual(accepted.team, ops)
        assert.deepStrictEqual(accepted.invitation, { ...forBo, acceptedAt: t0 + hour })
        assert.deepStrictEqual(yield* teams.roleOf(ops.id, bo.id), Option.some("deploy" as const))
        const twice = yield* accept("hash-bo", bo).pipe(Effect.flip)
        assert.deepStrictEqual(twice._tag === "InvitationNotPending" ? twice.status : twice._tag, "accepted")

        const expiring = yield* invite("cy@example.com", "hash-cy", 1)
        const expired = yield* accept("hash-cy", cy, t0 + hour).pipe(Effect.flip)
        assert.deepStrictEqual(expired._tag === "InvitationNotPending" ? expired.status : expired._tag, "expired")
        const revoked = yield* teams.revokeInvitation(ops.id, expiring.id, t0 + 2 * hour)
        assert.deepStrictEqual(Option.map(revoked, (invitation) => invitation.revokedAt), Option.some(t0 + 2 * hour))
        const again = yield* teams.revokeInvitation(ops.id, expiring.id, t0 + 3 * hour)
        assert.deepStrictEqual(Option.map(again, (invitation) => invitation.revokedAt), Option.some(t0 + 2 * hour), "the first revocation stays")
        assert.isTrue(Option.isNone(yield* teams.revokeInvitation("team_other", expiring.id, t0)), "another team's id")
        const viaRevoked = yield* invite("dee@example.com", "hash-dee")
        yield* teams.revokeInvitation(ops.id, viaRevoked.id, t0)
        const dee = yield* person("dee@example.com")
        const refused = yield* accept("hash-dee", dee).pipe(Effect.flip)
        assert.deepStrictEqual(refused._tag === "InvitationNotPending" ? refused.status : refused._tag, "revoked")

        const listed = yield* teams.invitations(ops.id)
        assert.deepStrictEqual(listed.map((invitation) => [invitation.email, Teams.statusOf(invitation, t0 + 2 * hour)]), [
          ["Bo@Example.com", "accepted"],
          ["cy@example.com", "revoked"],
          ["dee@example.com", "revoked"]
        ])
      }))

    test("a failed transaction leaves none of its writes", () =>
      Effect.gen(function*() {
        const teams = yield* Teams.Teams
        const people = yield* People.People
        const transactions = yield* Storage.Transactions
        const ada = yield* person("ada@example.com")
        const failed = yield* transactions.atomically(Effect.gen(function*() {
          const bo = yield* person("bo@example.com")
          const ops = yield* team("ops", bo.id)
          yield* teams.addMember(ops.id, ada.id, "deploy", t0)
          return yield* Effect.fail("refused" as const)
        })).pipe(Effect.flip)
        assert.strictEqual(failed, "refused")
        assert.isTrue(Option.isNone(yield* people.byEmail("bo@example.com")))
        assert.isTrue(Option.isNone(yield* teams.byRef("ops")))
        assert.deepStrictEqual(yield* teams.teamsOf(ada.id), [])
        const made = yield* transactions.atomically(Effect.gen(function*() {
          const bo = yield* person("bo@example.com")
          return yield* team("ops", bo.id)
        }))
        assert.deepStrictEqual(yield* teams.byRef("ops"), Option.some(made))
      }))
  })
}
