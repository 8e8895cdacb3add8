/**
 * The TeamTokenAccess contract on PostgreSQL, exactly as it runs on memory: `PgTeamTokenAccess`'s
 * one statement over the directory's tables and the summaries the event store's read-model hook
 * keeps (`layerPorts`), in a new migrated schema per test.
 *
 * Then what the layer remembers of the tokens it found: a remembered token is looked up by its id
 * (one statement by primary keys, the statements seen through `Statement.CurrentTransformer`), yet
 * a revocation, a rename or a changed hash counts at the next request, whichever process made it,
 * and a token on another team's path is answered as by hash.
 */
import { ApiTokens, TeamTokenAccess, Teams } from "@canaryroll/app"
import { TeamTokenAccessContract } from "@canaryroll/app/testing"
import { assert, describe, it } from "@effect/vitest"
import { Context, Effect, Layer, Option } from "effect"
import { SqlClient, Statement } from "effect/sql"
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

const t0 = TeamTokenAccessContract.t0

type Ports = Layer.Success<ReturnType<typeof ports>> | SqlClient.SqlClient

/** Two processes on one new schema: each its own client and its own `PgTeamTokenAccess` (with `access`). */
const twoProcesses = (access: PgTeamTokenAccess.Options = {}) =>
  Effect.gen(function*() {
    const schema = `remembered_${Math.random().toString(36).slice(2, 10)}`
    const first = yield* Layer.build(ports(access).pipe(Layer.provideMerge(database.schema(schema))))
    const second = yield* Layer.build(ports(access).pipe(Layer.provideMerge(database.schema(schema))))
    return { first, second }
  })

/** The contract's fixture (a team `slug`, a deploy token of it with hash `hash-<slug>`, one release), in `process`. */
const teamWithToken = (process: Context.Context<Ports>, slug: string) =>
  TeamTokenAccessContract.teamWithToken(slug).pipe(Effect.provide(process))

const find = (process: Context.Context<Ports>, lookup: Omit<TeamTokenAccess.Lookup, "now">) =>
  TeamTokenAccess.TeamTokenAccess.use((access) => access.find({ ...lookup, now: t0 })).pipe(Effect.provide(process))

/**
 * `find`, and how it looked the token up: `"by id"` (the token by its id, then at most the
 * last-use stamp) or `"by hash"` (the lookup by hash with the team by reference ran).
 */
const findHow = (process: Context.Context<Ports>, lookup: Omit<TeamTokenAccess.Lookup, "now">) =>
  Effect.gen(function*() {
    const statements: Array<string> = []
    const found = yield* find(process, lookup).pipe(Effect.provideService(
      Statement.CurrentTransformer,
      (statement) => Effect.sync(() => (statements.push(statement.compile()[0]), statement))
    ))
    const how = statements.some((text) => /WITH team AS/.test(text))
      ? "by hash" as const
      : /WHERE found\.id = /.test(statements[0] ?? "")
      ? "by id" as const
      : statements.join("\n")
    return { found, how }
  })

/** Gives the token another hash behind every layer's back, as a rotation would. */
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
      assert.deepStrictEqual(
        yield* findHow(first, { hash: "hash-ops", teamRef: "ops", releaseId: ops.releaseId }),
        { found: expected, how: "by hash" }
      )
      assert.deepStrictEqual(
        yield* findHow(first, { hash: "hash-ops", teamRef: "ops", releaseId: ops.releaseId }),
        { found: expected, how: "by id" }
      )
      assert.deepStrictEqual(
        yield* findHow(first, { hash: "hash-ops", teamRef: ops.team.id, releaseId: ops.releaseId }),
        { found: expected, how: "by id" }
      )
      assert.deepStrictEqual(
        yield* findHow(first, { hash: "hash-ops", teamRef: ops.team.id, releaseId: null }),
        { found: { ...expected, release: Option.none() }, how: "by id" }
      )
      const missing = yield* findHow(first, { hash: "hash-ops", teamRef: "ops", releaseId: "dep_missing" })
      assert.deepStrictEqual([missing.found.release, missing.how], [Option.none(), "by id"])
    })))

  it.live("a remembered token counts only while its row holds the hash it was found by", () =>
    Effect.scoped(Effect.gen(function*() {
      const { first } = yield* twoProcesses()
      const ops = yield* teamWithToken(first, "ops")
      assert.isTrue(Option.isSome((yield* find(first, { hash: "hash-ops", teamRef: "ops", releaseId: null })).token))
      yield* rehash(first, ops.token.id)
      const after = yield* findHow(first, { hash: "hash-ops", teamRef: "ops", releaseId: ops.releaseId })
      assert.isTrue(Option.isNone(after.found.token), "the old secret no longer counts")
      assert.strictEqual(after.how, "by hash", "looked up by hash after the lookup by id found nothing")
      assert.deepStrictEqual(after.found.team, Option.some(ops.team))
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
      for (const slug of ["ops", "web", "api"]) yield* teamWithToken(first, slug)
      const how = (slug: string) =>
        Effect.map(findHow(first, { hash: `hash-${slug}`, teamRef: slug, releaseId: null }), (found) => {
          assert.isTrue(Option.isSome(found.found.token))
          return found.how
        })
      assert.strictEqual(yield* how("ops"), "by hash")
      assert.strictEqual(yield* how("web"), "by hash")
      assert.strictEqual(yield* how("ops"), "by id", "ops used last: web is the least recently used")
      assert.strictEqual(yield* how("api"), "by hash", "remembering api forgets web")
      assert.strictEqual(yield* how("ops"), "by id")
      assert.strictEqual(yield* how("api"), "by id")
      assert.strictEqual(yield* how("web"), "by hash", "forgotten")
    })))
})
