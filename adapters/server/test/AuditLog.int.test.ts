/**
 * The audit log over HTTP: settings changes and release events in one log per team, newest
 * first, with who did what; filtered by actor, deployment, type and time; pages that follow
 * `nextCursor` return every entry once.
 */
import * as TestDatabase from "@canaryroll/postgres/test-database"
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { TestClock } from "effect/testing"
import * as TestServer from "./support/TestServer.ts"
import * as TestTeam from "./support/TestTeam.ts"

const database = TestDatabase.forFile()

// The same suite on each storage: Postgres and the memory layers.
for (const storage of TestServer.storages(database)) {
  describe(`the audit log (${storage.name})`, () => {
    it.effect("records settings changes and release events, and filters them", () =>
      Effect.gen(function*() {
        const server = yield* storage.start()
        const team = yield* TestTeam.create(server)
        const worker = team.workers[0]!
        const audit = (query: string) =>
          server.client.request("GET", `/api/teams/${team.slug}/audit${query}`, { token: team.tokens.read_only })
        yield* TestClock.adjust("1 minute")
        const created = yield* server.client.request("POST", `/api/teams/${team.slug}/deployments/workers/${worker.workerId}/deployments`, {
          token: team.tokens.deploy,
          body: { versionId: worker.goodVersionId }
        })
        TestTeam.expectStatus(created, 201, "create")
        yield* TestClock.adjust("1 minute")
        TestTeam.expectStatus(
          yield* server.client.request("POST", `/api/teams/${team.slug}/deployments/${created.body.id}/cancel`, {
            cookie: team.adminCookie,
            body: { reason: "not today" }
          }),
          200,
          "cancel"
        )

        const all = yield* audit("")
        TestTeam.expectStatus(all, 200, "the whole log")
        const types = all.body.entries.map((entry: any) => entry.type)
        assert.deepStrictEqual(types.slice(0, 2), ["Cancelled", "ReleaseCreated"], "newest first")
        assert.includeMembers(types, ["TeamCreated", "CloudflareCredentialsSaved", "PlanCreated", "WorkerRegistered", "TeamTokenCreated"])
        const [cancelled, releaseCreated] = all.body.entries
        assert.deepStrictEqual(cancelled.actor, { kind: "user", id: team.adminUserId, name: team.adminEmail })
        assert.strictEqual(releaseCreated.actor.kind, "token")
        assert.strictEqual(releaseCreated.actor.id, team.tokenIds.deploy)
        assert.strictEqual(cancelled.deploymentId, created.body.id)
        assert.match(cancelled.message, /not today/)

        const byToken = yield* audit(`?actor=token:${team.tokenIds.deploy}`)
        assert.deepStrictEqual(byToken.body.entries.map((entry: any) => entry.type), ["ReleaseCreated"])
        const byRelease = yield* audit(`?deploymentId=${created.body.id}`)
        assert.deepStrictEqual(byRelease.body.entries.map((entry: any) => entry.type), ["Cancelled", "ReleaseCreated"])
        const tokens = yield* audit("?type=TeamTokenCreated")
        assert.strictEqual(tokens.body.entries.length, 3, "one per role")
        const settings = yield* audit("?type=TeamTokenCreated,WorkerRegistered")
        assert.strictEqual(settings.body.entries.length, 5)
        const sinceRelease = yield* audit(`?from=${encodeURIComponent(new Date(TestServer.t0 + 60_000).toISOString())}`)
        assert.deepStrictEqual(sinceRelease.body.entries.map((entry: any) => entry.type), ["Cancelled", "ReleaseCreated"])
        const beforeRelease = yield* audit(`?to=${encodeURIComponent(new Date(TestServer.t0 + 60_000).toISOString())}`)
        assert.notInclude(beforeRelease.body.entries.map((entry: any) => entry.type), "ReleaseCreated")

        // Pages of 2 return every entry once, in the same order.
        const paged: Array<string> = []
        let cursor: string | null = null
        do {
          const page: TestServer.Response = yield* audit(`?limit=2${cursor === null ? "" : `&cursor=${encodeURIComponent(cursor)}`}`)
          TestTeam.expectStatus(page, 200, "a page")
          paged.push(...page.body.entries.map((entry: any) => entry.id))
          cursor = page.body.nextCursor
        } while (cursor !== null)
        assert.deepStrictEqual(paged, all.body.entries.map((entry: any) => entry.id))
      }).pipe(Effect.scoped))
  })
}
