/**
 * A Worker's removal and the creation of a release of it, sent at the same moment, on each
 * storage: one of them wins, never both. Removing refuses a Worker with an unfinished release;
 * creating holds the Worker (`Workers.hold`) while it records the release, so a removal cannot
 * slip in between its check and its write and leave a release of a Worker that is gone.
 */
import { assert, describe, it } from "@effect/vitest"
import * as TestDatabase from "@canaryroll/postgres/test-database"
import { Effect } from "effect"
import * as TestServer from "./support/TestServer.ts"
import * as TestTeam from "./support/TestTeam.ts"

const database = TestDatabase.forFile()

/** Rounds of the race, each on a Worker of its own: without the hold, Postgres lets both win within a few. */
const rounds = 30

for (const storage of TestServer.storages(database)) {
  describe(`removing a Worker while a release of it is created (${storage.name})`, () => {
    it.effect("either the release is created and the removal refused (409 worker_busy), or the Worker is removed and the creation finds no Worker (404)", () =>
      Effect.gen(function*() {
        const server = yield* storage.start()
        const team = yield* TestTeam.create(server)
        const { seeded, simulator } = server
        const base = `/api/teams/${team.slug}`
        const cookie = team.adminCookie
        const outcomes: Array<string> = []
        for (let round = 0; round < rounds; round++) {
          const scriptName = `race-${round}`
          simulator.createScript({ accountId: seeded.accountId, scriptName, requestsPerMinute: 600, errorRate: 0.001 })
          const candidate = simulator.createVersion({ accountId: seeded.accountId, scriptName, errorRate: 0.001, message: "candidate" })
          const registered = yield* server.client.request("POST", `${base}/workers`, {
            cookie,
            body: { accountId: seeded.accountId, scriptName, defaultPlanId: "fast" }
          })
          TestTeam.expectStatus(registered, 201, `register ${scriptName}`)
          const workerId: string = registered.body.id
          const [created, removed] = yield* Effect.all([
            server.client.request("POST", `${base}/deployments/workers/${workerId}/deployments`, {
              cookie,
              body: { versionId: candidate.id }
            }),
            server.client.request("DELETE", `${base}/workers/${workerId}`, { cookie })
          ], { concurrency: 2 })
          const outcome = `create ${created.status}, remove ${removed.status}`
          outcomes.push(outcome)
          if (created.status === 201) {
            assert.strictEqual(removed.status, 409, `${outcome}: ${JSON.stringify(removed.body)}`)
            assert.strictEqual(removed.body.error, "worker_busy", outcome)
            // The release's Worker is still there.
            const worker = yield* server.client.request("GET", `${base}/workers/${workerId}`, { cookie })
            TestTeam.expectStatus(worker, 200, `the Worker of ${created.body.id}`)
          } else {
            assert.strictEqual(created.status, 404, `${outcome}: ${JSON.stringify(created.body)}`)
            assert.isTrue(removed.status >= 200 && removed.status < 300, `${outcome}: ${JSON.stringify(removed.body)}`)
            const releases = yield* server.client.request("GET", `${base}/deployments?workerId=${workerId}`, { cookie })
            TestTeam.expectStatus(releases, 200, "the removed Worker's releases")
            assert.deepStrictEqual(releases.body.deployments, [], outcome)
          }
        }
        assert.lengthOf(outcomes, rounds)
      }))
  })
}
