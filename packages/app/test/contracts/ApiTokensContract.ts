/**
 * The ApiTokens contract, run against every layer: team and user tokens found by their hash
 * until revoked, their last use stamped at most once per `lastUsedResolutionMs`, revoked only by
 * their own team or person (a second revocation keeps the first's time), listed oldest first with
 * the revoked ones.
 *
 * `makeLayer` is called once per test and must give empty stores: `People` and `Teams` (tokens
 * belong to them) and `ApiTokens`.
 *
 * @since 0.2.0
 */
import { assert, describe, it } from "@effect/vitest"
import { Clock, Effect, type Layer, Option } from "effect"
import { TestClock } from "effect/testing"
import { ApiTokens, People, Teams } from "../../src/index.ts"

/** 2026-01-01T00:00:00Z, in epoch milliseconds. */
const t0 = 1_767_225_600_000

type Services = People.People | Teams.Teams | ApiTokens.ApiTokens

export const suite = (name: string, makeLayer: () => Layer.Layer<Services, unknown>) => {
  const test = <A, E>(title: string, body: () => Effect.Effect<A, E, Services>) =>
    it.effect(title, () => Effect.andThen(TestClock.setTime(t0), body().pipe(Effect.provide(makeLayer(), { local: true }))))

  /** A person and a team they administer. */
  const owners = (slug: string) =>
    Effect.gen(function*() {
      const person = yield* People.People.use((people) =>
        people.create({ email: `${slug}@example.com`, name: slug, passwordHash: "hash", now: t0 })
      )
      const team = yield* Teams.Teams.use((teams) => teams.create({ name: slug, slug, adminUserId: person.person.id, now: t0 }))
      return { userId: person.person.id, teamId: team.id }
    })

  const now = Clock.currentTimeMillis

  describe(`ApiTokens contract (${name})`, () => {
    test("a team token is found by its hash until revoked; its last use is stamped once per resolution", () =>
      Effect.gen(function*() {
        const tokens = yield* ApiTokens.ApiTokens
        const { teamId } = yield* owners("ops")
        const created = yield* tokens.createTeamToken({
          teamId,
          name: " deploy bot ",
          role: "deploy",
          createdBy: "ada@example.com",
          hash: "hash-a",
          display: "crt_abcd…wxyz",
          now: t0
        })
        assert.deepStrictEqual(created, {
          id: created.id,
          teamId,
          name: "deploy bot",
          role: "deploy",
          display: "crt_abcd…wxyz",
          createdBy: "ada@example.com",
          createdAt: t0,
          lastUsedAt: null,
          revokedAt: null
        })
        const first = yield* tokens.teamTokenByHash("hash-a", yield* now)
        assert.deepStrictEqual(Option.map(first, (token) => token.lastUsedAt), Option.some(t0))
        yield* TestClock.adjust(ApiTokens.lastUsedResolutionMs)
        const within = yield* tokens.teamTokenByHash("hash-a", yield* now)
        assert.deepStrictEqual(Option.map(within, (token) => token.lastUsedAt), Option.some(t0), "within the resolution")
        yield* TestClock.adjust(1)
        const later = t0 + ApiTokens.lastUsedResolutionMs + 1
        const stamped = yield* tokens.teamTokenByHash("hash-a", yield* now)
        assert.deepStrictEqual(Option.map(stamped, (token) => token.lastUsedAt), Option.some(later))
        assert.deepStrictEqual((yield* tokens.teamTokens(teamId)).map((token) => token.lastUsedAt), [later], "the list shows it")
        assert.isTrue(Option.isNone(yield* tokens.teamTokenByHash("hash-unknown", yield* now)))
        assert.isTrue(Option.isNone(yield* tokens.userTokenByHash("hash-a", yield* now)), "a team token is no user token")

        const revoked = yield* tokens.revokeTeamToken(teamId, created.id, later)
        assert.deepStrictEqual(Option.map(revoked, (token) => token.revokedAt), Option.some(later))
        assert.isTrue(Option.isNone(yield* tokens.teamTokenByHash("hash-a", yield* now)), "revoked")
        const again = yield* tokens.revokeTeamToken(teamId, created.id, later + 5)
        assert.deepStrictEqual(Option.map(again, (token) => token.revokedAt), Option.some(later), "the first revocation stays")
      }))

    test("team tokens are revoked only by their team and listed oldest first with the revoked ones", () =>
      Effect.gen(function*() {
        const tokens = yield* ApiTokens.ApiTokens
        const ops = yield* owners("ops")
        const dev = yield* owners("dev")
        const make = (teamId: string, name: string, at: number) =>
          tokens.createTeamToken({ teamId, name, role: "read_only", createdBy: "x", hash: `hash-${name}`, display: name, now: at })
        const a = yield* make(ops.teamId, "a", t0 + 2)
        const b = yield* make(ops.teamId, "b", t0 + 1)
        yield* make(dev.teamId, "c", t0)
        assert.isTrue(Option.isNone(yield* tokens.revokeTeamToken(dev.teamId, a.id, t0)), "another team's token")
        assert.isTrue(Option.isSome(yield* tokens.teamTokenByHash("hash-a", t0)))
        yield* tokens.revokeTeamToken(ops.teamId, b.id, t0 + 3)
        assert.deepStrictEqual((yield* tokens.teamTokens(ops.teamId)).map((token) => [token.name, token.revokedAt]), [
          ["b", t0 + 3],
          ["a", null]
        ])
        assert.deepStrictEqual((yield* tokens.teamTokens(dev.teamId)).map((token) => token.name), ["c"])
      }))

    test("a user token acts for its person until revoked, and only its person revokes it", () =>
      Effect.gen(function*() {
        const tokens = yield* ApiTokens.ApiTokens
        const ada = yield* owners("ada")
        const bo = yield* owners("bo")
        const created = yield* tokens.createUserToken({ userId: ada.userId, name: " laptop ", hash: "hash-u", display: "cru_…", now: t0 })
        assert.deepStrictEqual(created, {
          id: created.id,
          userId: ada.userId,
          name: "laptop",
          display: "cru_…",
          createdAt: t0,
          lastUsedAt: null,
          revokedAt: null
        })
        const found = yield* tokens.userTokenByHash("hash-u", t0 + 10)
        assert.deepStrictEqual(Option.map(found, (token) => [token.userId, token.lastUsedAt]), Option.some([ada.userId, t0 + 10]))
        assert.isTrue(Option.isNone(yield* tokens.teamTokenByHash("hash-u", t0)), "a user token is no team token")
        const second = yield* tokens.createUserToken({ userId: ada.userId, name: "ci", hash: "hash-v", display: "cru_…", now: t0 + 1 })
        assert.isTrue(Option.isNone(yield* tokens.revokeUserToken(bo.userId, created.id, t0)), "someone else's token")
        const revoked = yield* tokens.revokeUserToken(ada.userId, created.id, t0 + 20)
        assert.deepStrictEqual(Option.map(revoked, (token) => token.revokedAt), Option.some(t0 + 20))
        assert.isTrue(Option.isNone(yield* tokens.userTokenByHash("hash-u", t0 + 30)))
        assert.deepStrictEqual((yield* tokens.userTokens(ada.userId)).map((token) => [token.id, token.revokedAt]), [
          [created.id, t0 + 20],
          [second.id, null]
        ])
        assert.deepStrictEqual(yield* tokens.userTokens(bo.userId), [])
      }))
  })
}
