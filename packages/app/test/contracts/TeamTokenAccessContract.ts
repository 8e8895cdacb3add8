/**
 * The TeamTokenAccess contract, run against every layer: one lookup answers, for a token hash, a
 * team reference and a release id, what `ApiTokens.teamTokenByHash` (last use stamped once per
 * `lastUsedResolutionMs`), `Teams.byRef` and `ReleaseSummaries.get` answer, each part whatever the
 * others found: an unknown or revoked token still finds the team, a token of another team too;
 * a release only within the team found, and only when asked for.
 *
 * `makeLayer` is called once per test and must give empty stores: `People`, `Teams`, `ApiTokens`,
 * an `EventStore` whose appends the `ReleaseSummaries` in the layer show, and `TeamTokenAccess`.
 *
 * @since 0.3.0
 */
// ReleaseSummary: named by the declaration of `teamWithToken`'s type.
import { EventStore, type ReleaseEvent, type ReleaseSummary } from "@canaryroll/core"
import { assert, describe, it } from "@effect/vitest"
import { Clock, Effect, type Layer, Option } from "effect"
import { TestClock } from "effect/testing"
import { ApiTokens, People, ReleaseSummaries, TeamTokenAccess, Teams } from "../../src/index.ts"
import * as ReleaseHistories from "./ReleaseHistories.ts"

/** 2026-01-01T00:00:00Z, in epoch milliseconds. */
export const t0 = 1_767_225_600_000

type Services =
  | People.People
  | Teams.Teams
  | ApiTokens.ApiTokens
  | EventStore.EventStore
  | ReleaseSummaries.ReleaseSummaries
  | TeamTokenAccess.TeamTokenAccess

/**
 * A team (its admin made first), a deploy token of it (hash `hash-<slug>`, made at `t0`) and one
 * release of it: the suite's fixture, for an adapter's own tests of its lookup.
 */
export const teamWithToken = (slug: string) =>
  Effect.gen(function*() {
    const person = yield* People.People.use((people) =>
      people.create({ email: `${slug}@example.com`, name: slug, passwordHash: "hash", now: t0 })
    )
    const created = yield* Teams.Teams.use((teams) =>
      teams.create({ name: slug, slug, adminUserId: person.person.id, now: t0 })
    )
    const token = yield* ApiTokens.ApiTokens.use((tokens) =>
      tokens.createTeamToken({
        teamId: created.id,
        name: `${slug} bot`,
        role: "deploy",
        createdBy: `${slug}@example.com`,
        hash: `hash-${slug}`,
        display: "crt_abcd…wxyz",
        now: t0
      })
    )
    // A release history of the shared fixtures, moved into this team.
    const [history] = ReleaseHistories.make({ teams: 1, releasesPerTeam: 1 }).slice(0, 1)
    const releaseId = `${history!.streamId}_${slug}`
    const events = history!.events.map((event): ReleaseEvent.ReleaseEvent =>
      event._tag === "ReleaseCreated" ? { ...event, releaseId, teamId: created.id } : event
    )
    yield* EventStore.EventStore.use((store) => store.append(releaseId, 0, events))
    const summary = yield* ReleaseSummaries.ReleaseSummaries.use((summaries) => summaries.get(created.id, releaseId))
    assert.isTrue(Option.isSome(summary), "the fixture's release is the team's")
    return { team: created, token, releaseId, summary: Option.getOrThrow(summary) }
  })

export const suite = (name: string, makeLayer: () => Layer.Layer<Services, unknown>) => {
  const test = <A, E>(title: string, body: () => Effect.Effect<A, E, Services>) =>
    it.effect(title, () => Effect.andThen(TestClock.setTime(t0), body().pipe(Effect.provide(makeLayer(), { local: true }))))

  const now = Clock.currentTimeMillis

  const find = (lookup: Omit<TeamTokenAccess.Lookup, "now">) =>
    Effect.flatMap(now, (at) => TeamTokenAccess.TeamTokenAccess.use((access) => access.find({ ...lookup, now: at })))

  describe(`TeamTokenAccess contract (${name})`, () => {
    test("a token, its team by slug or id and the team's release, in one lookup", () =>
      Effect.gen(function*() {
        const ops = yield* teamWithToken("ops")
        const bySlug = yield* find({ hash: "hash-ops", teamRef: "ops", releaseId: ops.releaseId })
        assert.deepStrictEqual(bySlug, {
          token: Option.some({ ...ops.token, lastUsedAt: t0 }),
          team: Option.some(ops.team),
          release: Option.some(ops.summary)
        })
        const byId = yield* find({ hash: "hash-ops", teamRef: ops.team.id, releaseId: null })
        assert.deepStrictEqual(byId, {
          token: Option.some({ ...ops.token, lastUsedAt: t0 }),
          team: Option.some(ops.team),
          release: Option.none()
        }, "no release asked for: none")
      }))

    test("each part is found whatever the others found", () =>
      Effect.gen(function*() {
        const ops = yield* teamWithToken("ops")
        const web = yield* teamWithToken("web")
        const unknown = yield* find({ hash: "hash-unknown", teamRef: "ops", releaseId: ops.releaseId })
        assert.deepStrictEqual(unknown, { token: Option.none(), team: Option.some(ops.team), release: Option.some(ops.summary) })
        const foreign = yield* find({ hash: "hash-web", teamRef: "ops", releaseId: web.releaseId })
        assert.deepStrictEqual(Option.map(foreign.token, (token) => token.teamId), Option.some(web.team.id))
        assert.deepStrictEqual(foreign.team, Option.some(ops.team))
        assert.isTrue(Option.isNone(foreign.release), "another team's release is as good as missing")
        const noTeam = yield* find({ hash: "hash-ops", teamRef: "nobody", releaseId: ops.releaseId })
        assert.isTrue(Option.isSome(noTeam.token))
        assert.isTrue(Option.isNone(noTeam.team))
        assert.isTrue(Option.isNone(noTeam.release), "no team: no release")
        const missing = yield* find({ hash: "hash-ops", teamRef: "ops", releaseId: "rel_missing" })
        assert.isTrue(Option.isNone(missing.release))
      }))

    test("a revoked token is not found; the last use is stamped once per resolution, as by ApiTokens", () =>
      Effect.gen(function*() {
        const ops = yield* teamWithToken("ops")
        const tokens = yield* ApiTokens.ApiTokens
        const lastUse = Effect.map(tokens.teamTokens(ops.team.id), (list) => list.map((token) => token.lastUsedAt))
        yield* find({ hash: "hash-ops", teamRef: "ops", releaseId: null })
        assert.deepStrictEqual(yield* lastUse, [t0])
        yield* TestClock.adjust(ApiTokens.lastUsedResolutionMs)
        const within = yield* find({ hash: "hash-ops", teamRef: "ops", releaseId: null })
        assert.deepStrictEqual(Option.map(within.token, (token) => token.lastUsedAt), Option.some(t0))
        assert.deepStrictEqual(yield* lastUse, [t0], "within the resolution")
        yield* TestClock.adjust(1)
        const later = t0 + ApiTokens.lastUsedResolutionMs + 1
        const stamped = yield* find({ hash: "hash-ops", teamRef: "ops", releaseId: null })
        assert.deepStrictEqual(Option.map(stamped.token, (token) => token.lastUsedAt), Option.some(later))
        assert.deepStrictEqual(yield* lastUse, [later])

        yield* tokens.revokeTeamToken(ops.team.id, ops.token.id, later)
        const revoked = yield* find({ hash: "hash-ops", teamRef: "ops", releaseId: ops.releaseId })
        assert.isTrue(Option.isNone(revoked.token))
        assert.deepStrictEqual(revoked.team, Option.some(ops.team))
      }))
  })
}
