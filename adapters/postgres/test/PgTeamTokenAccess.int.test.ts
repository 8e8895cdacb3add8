/**
 * The TeamTokenAccess contract on PostgreSQL, exactly as it runs on memory: `PgTeamTokenAccess`'s
 * one statement over the directory's tables and the summaries the event store's read-model hook
 * keeps (`layerPorts`), in a new migrated schema per test.
 *
 * Then what the layer remembers of the tokens it found: a remembered token is looked up by its id
 * (its hash is not read again), yet a revocation or a rename made by another process on the same
 * schema counts at the next request, and a token on another team's path is answered as by hash.
 */
import { ApiTokens, People, ReleaseSummaries, TeamTokenAccess, Teams } from "@canaryroll/app"
import { ReleaseHistories, TeamTokenAccessContract } from "@canaryroll/app/testing"
import { EventStore, type ReleaseEvent } from "@canaryroll/core"
import { assert, describe, it } from "@effect/vitest"
import { Context, Effect, Layer, Option } from "effect"
import { SqlClient } from "effect/sql"
import { layerPorts, Migrations, PgApiTokens, PgPeople, PgReleaseSummaries, PgTeams, PgTeamTokenAccess, PgTransactions } from "../src/index.ts"
import * as TestDatabase from "./database/TestDatabase.ts"

const database = TestDatabase.forFile()

const ports = (access: PgTeamTokenAccess.Options = {}) =>
  Layer.mergeAll(
    PgTeamTokenAccess.layer(access),
    PgPeople.layer,
    PgTeams.layer,
    PgApiTokens.layer,
    PgTransactions.layer,
    PgReleaseSummaries.layer,
    layerPorts()
  ).pipe(Layer.provide(Migrations.layer))

TeamTokenAccessContract.suite("postgres", () => ports().pipe(Layer.provideMerge(database.freshSchema())))

const t0 = ReleaseHistories.t0

type Ports = Layer.Success<ReturnType<typeof ports>> | SqlClient.SqlClient

/** Two processes on one new schema: each its own client and its own `PgTeamTokenAccess` (with `access`). */
const twoProcesses = (access: PgTeamTokenAccess.Options = {}) =>
  Effect.gen(function*() {
    const schema = `remembered_${Math.random().toString(36).slice(2, 10)}`
    const first = yield* Layer.build(ports(access).pipe(Layer.provideMerge(database.schema(schema))))
    const second = yield* Layer.build(ports(access).pipe(Layer.provideMerge(database.schema(schema))))
    return { first, second }
  })

/** A team `slug` with a deploy token (hash `hash-<slug>`) and one release; in `process`. */
const teamWithToken = (process: Context.Context<Ports>, slug: string) =>
  Effect.gen(function*() {
    const person = yield* People.People.use((people) =>
      people.create({ email: `${slug}@example.com`, name: slug, passwordHash: "hash", now: t0 })
    )
    const team = yield* Teams.Teams.use((teams) => teams.create({ name: slug, slug, adminUserId: person.person.id, now: t0 }))
    const token = yield* ApiTokens.ApiTokens.use((tokens) =>
      tokens.createTeamToken({
        teamId: team.id,
        name: `${slug} bot`,
        role: "deploy",
        createdBy: `${slug}@example.com`,
        hash: `hash-${slug}`,
        display: "crt_abcd…wxyz",
        now: t0
      })
    )
    const [history] = ReleaseHistories.make({ teams: 1, releasesPerTeam: 1 })
    const releaseId = `${history!.streamId}_${slug}`
    yield* EventStore.EventStore.use((store) =>
      store.append(
        releaseId,
        0,
        history!.events.map((event): ReleaseEvent.ReleaseEvent =>
          event._tag === "ReleaseCreated" ? { ...event, releaseId, teamId: team.id } : event
        )
      )
    )
    const summary = yield* ReleaseSummaries.ReleaseSummaries.use((summaries) => summaries.get(team.id, releaseId))
    return { team, token, releaseId, summary: Option.getOrThrow(summary) }
  }).pipe(Effect.provide(process))

const find = (process: Context.Context<Ports>, lookup: Omit<TeamTokenAccess.Lookup, "now">) =>
  TeamTokenAccess.TeamTokenAccess.use((access) => access.find({ ...lookup, now: t0 })).pipe(Effect.provide(process))

/** Gives the token another hash behind every layer's back: a lookup by hash no longer finds it, one by id does. */
const rehash = (process: Context.Context<Ports>, tokenId: string) =>
  SqlClient.SqlClient.use((sql) => sql`UPDATE team_tokens SET token_hash = ${`moved-${tokenId}`} WHERE id = ${tokenId}`).pipe(
    Effect.provide(process)
  )

describe("PgTeamTokenAccess: the tokens it remembers", () => {
  it.live("a token found once is looked up by its id, on its team's path by id or slug", () =>
    Effect.scoped(Effect.gen(function*() {
      const { first } = yield* twoProcesses()
      const ops = yield* teamWithToken(first, "ops")
      const expected = {
        token: Option.some({ ...ops.token, lastUsedAt: t0 }),
        team: Option.some(ops.team),
        release: Option.some(ops.summary)
      }
      assert.deepStrictEqual(yield* find(first, { hash: "hash-ops", teamRef: "ops", releaseId: ops.releaseId }), expected)
      yield* rehash(first, ops.token.id)
      // Remembered: the old hash still names the token, so the lookup went by id.
      assert.deepStrictEqual(yield* find(first, { hash: "hash-ops", teamRef: "ops", releaseId: ops.releaseId }), expected)
      assert.deepStrictEqual(yield* find(first, { hash: "hash-ops", teamRef: ops.team.id, releaseId: ops.releaseId }), expected)
      assert.deepStrictEqual(
        yield* find(first, { hash: "hash-ops", teamRef: ops.team.id, releaseId: null }),
        { ...expected, release: Option.none() }
      )
      assert.deepStrictEqual(
        (yield* find(first, { hash: "hash-ops", teamRef: "ops", releaseId: "dep_missing" })).release,
        Option.none()
      )
    })))

  it.live("a revocation or a rename by another process counts at the next lookup", () =>
    Effect.scoped(Effect.gen(function*() {
      const { first, second } = yield* twoProcesses()
      const ops = yield* teamWithToken(first, "ops")
      assert.isTrue(Option.isSome((yield* find(first, { hash: "hash-ops", teamRef: "ops", releaseId: null })).token))

      const renamed = yield* Teams.Teams.use((teams) => teams.rename(ops.team.id, "Operations")).pipe(Effect.provide(second))
      assert.isTrue(Option.isSome(renamed))
      const afterRename = yield* find(first, { hash: "hash-ops", teamRef: "ops", releaseId: ops.releaseId })
      assert.deepStrictEqual(afterRename.team, Option.some({ ...ops.team, name: "Operations" }))
      assert.isTrue(Option.isSome(afterRename.token))

      yield* ApiTokens.ApiTokens.use((tokens) => tokens.revokeTeamToken(ops.team.id, ops.token.id, t0 + 1)).pipe(
        Effect.provide(second)
      )
      const afterRevocation = yield* find(first, { hash: "hash-ops", teamRef: "ops", releaseId: ops.releaseId })
      assert.deepStrictEqual(afterRevocation, {
        token: Option.none(),
        team: Option.some({ ...ops.team, name: "Operations" }),
        release: Option.some(ops.summary)
      })
    })))

  it.live("a remembered token on another team's path is answered as by hash", () =>
    Effect.scoped(Effect.gen(function*() {
      const { first } = yield* twoProcesses()
      const ops = yield* teamWithToken(first, "ops")
      const web = yield* teamWithToken(first, "web")
      yield* find(first, { hash: "hash-ops", teamRef: "ops", releaseId: null })
      const foreign = yield* find(first, { hash: "hash-ops", teamRef: "web", releaseId: web.releaseId })
      assert.deepStrictEqual(Option.map(foreign.token, (token) => token.id), Option.some(ops.token.id))
      assert.deepStrictEqual(foreign.team, Option.some(web.team))
      assert.deepStrictEqual(foreign.release, Option.some(web.summary), "the path's team's release, as by hash")
      const own = yield* find(first, { hash: "hash-ops", teamRef: "web", releaseId: ops.releaseId })
      assert.isTrue(Option.isNone(own.release), "the token's own team's release is not the path's team's")
      // An id-shaped reference that is not the token's team (no team has it) finds no team.
      const nobody = yield* find(first, { hash: "hash-ops", teamRef: "team_00000000000000000000000000000000", releaseId: null })
      assert.isTrue(Option.isSome(nobody.token))
      assert.isTrue(Option.isNone(nobody.team))
    })))

  it.live("it remembers at most `knownTokens`, forgetting the least recently used", () =>
    Effect.scoped(Effect.gen(function*() {
      const { first } = yield* twoProcesses({ knownTokens: 2 })
      const [ops, web, api] = [yield* teamWithToken(first, "ops"), yield* teamWithToken(first, "web"), yield* teamWithToken(first, "api")]
      const found = (slug: string) =>
        Effect.map(find(first, { hash: `hash-${slug}`, teamRef: slug, releaseId: null }), (found) => Option.isSome(found.token))
      assert.isTrue(yield* found("ops"))
      assert.isTrue(yield* found("web"))
      assert.isTrue(yield* found("ops"), "ops used last: web is the least recently used")
      assert.isTrue(yield* found("api"), "remembering api forgets web")
      for (const { token } of [ops, web, api]) yield* rehash(first, token.id)
      assert.isTrue(yield* found("ops"), "remembered: looked up by id")
      assert.isTrue(yield* found("api"), "remembered: looked up by id")
      assert.isFalse(yield* found("web"), "forgotten: looked up by its old hash, which no longer matches")
    })))
})
