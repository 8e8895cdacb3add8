/**
 * What the dashboard's screens read (issue 16), over real HTTP on each storage, releases stepped
 * by the scheduler on the TestClock against the Cloudflare simulator: the overview (every Worker,
 * the split its release put live, its release, what needs attention, and the filter), an
 * account's scripts for adding a Worker, and a release's health checks for the chart. Who may
 * read each, and another team's data kept out.
 */
import { ApiError } from "@canaryroll/api"
import * as TestDatabase from "@canaryroll/postgres/test-database"
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { SqlClient } from "effect/sql"
import { TestClock } from "effect/testing"
import * as TestServer from "./support/TestServer.ts"
import * as TestTeam from "./support/TestTeam.ts"

const database = TestDatabase.forFile()

/** Steps the scheduler and 5 s of time until `done` holds for the team's overview. */
const stepUntil = (
  server: TestServer.Running,
  team: TestTeam.Team,
  done: (overview: any) => boolean,
  maxSteps = 200
) =>
  Effect.gen(function*() {
    for (let step = 0; step < maxSteps; step++) {
      const overview = yield* server.client.request("GET", `/api/teams/${team.slug}/overview`, { token: team.tokens.read_only })
      TestTeam.expectStatus(overview, 200, "overview")
      if (done(overview.body)) return overview.body
      yield* TestServer.runDue(server)
      yield* TestClock.adjust("5 seconds")
    }
    return assert.fail(`not done after ${maxSteps} steps`)
  })

const workerIn = (overview: any, workerId: string) => overview.workers.find((entry: any) => entry.worker.id === workerId)
const kindsOf = (entry: any): Array<string> => entry.attention.map((item: any) => item.kind)

for (const storage of TestServer.storages(database)) {
  describe(`the dashboard's reads (${storage.name})`, () => {
    it.effect("the overview: each Worker's split, release and what needs attention; the filter; a release's checks for the chart", () =>
      Effect.gen(function*() {
        const server = yield* storage.start()
        const team = yield* TestTeam.create(server)
        const [steady, manual] = [team.workers[0]!, team.workers[1]!]
        const base = `/api/teams/${team.slug}`
        const deploy = { token: team.tokens.deploy }

        // No release yet: every Worker, nothing known of its split, nothing to do.
        const empty = yield* server.client.request("GET", `${base}/overview`, { token: team.tokens.read_only })
        TestTeam.expectStatus(empty, 200, "overview")
        assert.deepStrictEqual(empty.body.workers.map((entry: any) => entry.worker.id).sort(), team.workers.map((worker) => worker.workerId).sort())
        for (const entry of empty.body.workers) {
          assert.isNull(entry.split)
          assert.isNull(entry.release)
          assert.deepStrictEqual(entry.attention, [])
        }

        // A bad version on one Worker (automatic), a good one by hand on the other.
        const failing = yield* server.client.request("POST", `${base}/deployments/workers/${steady.workerId}/deployments`, {
          ...deploy,
          body: { versionId: steady.badVersionId }
        })
        TestTeam.expectStatus(failing, 201, "create the bad release")
        TestTeam.expectStatus(yield* server.client.request("POST", `${base}/deployments/${failing.body.id}/start`, deploy), 200, "start")
        const byHand = yield* server.client.request("POST", `${base}/deployments/workers/${manual.workerId}/deployments`, {
          ...deploy,
          body: { versionId: manual.goodVersionId, autoAdvance: false }
        })
        TestTeam.expectStatus(byHand, 201, "create the manual release")
        TestTeam.expectStatus(yield* server.client.request("POST", `${base}/deployments/${byHand.body.id}/start`, deploy), 200, "start")

        // The bad canary's first failed check is reported before the release acts on it.
        const failingChecks = yield* stepUntil(server, team, (overview) => kindsOf(workerIn(overview, steady.workerId)).includes("failing_checks"))
        const failingEntry = workerIn(failingChecks, steady.workerId)
        assert.strictEqual(failingEntry.release.id, failing.body.id)
        assert.strictEqual(failingEntry.release.status, "in_progress")
        assert.match(failingEntry.attention[0].message, /consecutive failed health check/)
        assert.sameDeepMembers(failingEntry.split, [
          { versionId: steady.badVersionId, percentage: 50 },
          { versionId: steady.liveVersionId, percentage: 50 }
        ])

        // Where it stands, by the core at the server's clock: soaking step 1 at 50%, a check due next.
        const progress = yield* server.client.request("GET", `${base}/deployments/${failing.body.id}/progress`, { token: team.tokens.read_only })
        TestTeam.expectStatus(progress, 200, "progress")
        assert.strictEqual(progress.body.phase, "soaking")
        assert.strictEqual(progress.body.stepIndex, 0)
        assert.strictEqual(progress.body.canaryPercentage, 50)
        assert.strictEqual(progress.body.next.action, "check_health")
        assert.isAbove(Date.parse(progress.body.next.at), Date.parse(progress.body.now) - 1)
        assert.isNull(progress.body.next.waitingFor)
        assert.strictEqual(Date.parse(progress.body.soak.endsAt) - Date.parse(progress.body.soak.from), 60_000, "the fast plan's 60 s soak")
        assert.strictEqual(progress.body.soak.leftSeconds, Math.max(0, Math.ceil((Date.parse(progress.body.soak.endsAt) - Date.parse(progress.body.now)) / 1000)))
        assert.isFalse(progress.body.soak.covered)
        assert.strictEqual(progress.body.checks.lastVerdict, "unhealthy")
        assert.isAtLeast(progress.body.checks.consecutiveFailures, 1)
        assert.strictEqual(progress.body.checks.failuresBeforeAction, 3)
        assert.deepStrictEqual(progress.body.attention.map((item: any) => item.kind), ["failing_checks"])

        // The chart's data: the checks so far, with samples, verdicts and the policy's limits.
        const checks = yield* server.client.request("GET", `${base}/deployments/${failing.body.id}/checks`, { token: team.tokens.read_only })
        TestTeam.expectStatus(checks, 200, "checks")
        assert.deepStrictEqual(checks.body.policy, {
          intervalSeconds: 10,
          failuresBeforeAction: 3,
          maxErrorRate: 0.05,
          maxErrorRateIncrease: null,
          minRequests: 10
        })
        const unhealthy = checks.body.checks.filter((check: any) => check.verdict === "unhealthy")
        assert.isAtLeast(unhealthy.length, 1)
        for (const check of unhealthy) {
          assert.isAbove(check.canary.errorRate, 0.05)
          assert.strictEqual(check.canary.errorRate, check.canary.errors / check.canary.requests)
          assert.isBelow(check.stable.errorRate, 0.05)
          assert.strictEqual(check.percentage, 50)
          assert.isAbove(check.reasons.length, 0)
          assert.isBelow(Date.parse(check.window.start), Date.parse(check.window.end))
        }
        const listed: Array<any> = (yield* server.client.request("GET", `${base}/deployments/${failing.body.id}/events`, deploy)).body
        assert.deepStrictEqual(
          checks.body.checks.map((check: any) => check.version),
          listed.flatMap((event, index) => event.eventType === "HealthChecked" ? [index + 1] : [])
        )

        // The manual release soaks healthy, then waits for a person.
        const waiting = yield* stepUntil(server, team, (overview) => kindsOf(workerIn(overview, manual.workerId)).includes("awaiting_advance"))
        assert.match(workerIn(waiting, manual.workerId).attention[0].message, /waiting for a person to advance/)
        // By now the bad release has rolled back: its Worker is back on its stable version, nothing to do.
        const rolledBack = workerIn(waiting, steady.workerId)
        assert.strictEqual(rolledBack.release.status, "rolled_back")
        assert.deepStrictEqual(rolledBack.split, [{ versionId: steady.liveVersionId, percentage: 100 }])
        assert.deepStrictEqual(rolledBack.attention, [])
        const progressOf = (id: string) =>
          Effect.map(server.client.request("GET", `${base}/deployments/${id}/progress`, { token: team.tokens.read_only }), (response) => response.body)
        const awaiting = yield* progressOf(byHand.body.id)
        assert.strictEqual(awaiting.next.waitingFor, "advance")
        assert.isTrue(awaiting.soak.covered)
        assert.isFalse(awaiting.autoAdvance)
        const ended = yield* progressOf(failing.body.id)
        assert.strictEqual(ended.phase, "ended")
        assert.deepStrictEqual(ended.next, { action: "wait", at: null, waitingFor: "nothing" })
        assert.strictEqual(ended.canaryPercentage, 0)
        const filtered = yield* server.client.request("GET", `${base}/overview?attention=true`, { token: team.tokens.read_only })
        assert.deepStrictEqual(filtered.body.workers.map((entry: any) => entry.worker.id), [manual.workerId])

        // Paused by a person: the reason is what needs attention.
        TestTeam.expectStatus(
          yield* server.client.request("POST", `${base}/deployments/${byHand.body.id}/pause`, { ...deploy, body: { reason: "checking the graphs" } }),
          200,
          "pause"
        )
        const paused = yield* server.client.request("GET", `${base}/overview?attention=true`, { token: team.tokens.read_only })
        assert.deepStrictEqual(workerIn(paused.body, manual.workerId).attention, [{ kind: "paused", message: "checking the graphs" }])
        assert.strictEqual((yield* progressOf(byHand.body.id)).next.waitingFor, "resume")

        const badFilter = yield* server.client.request("GET", `${base}/overview?attention=yes`, { token: team.tokens.read_only })
        TestTeam.expectStatus(badFilter, 400, "a bad filter")
        assert.match(badFilter.body.message, /attention/)
      }))

    it.effect("the account's scripts for adding a Worker: admin only, the team's own accounts only", () =>
      Effect.gen(function*() {
        const server = yield* storage.start()
        const team = yield* TestTeam.create(server)
        const other = yield* TestTeam.create(server, "other", { account: "own" })
        const path = `/api/teams/${team.slug}/cloudflare/accounts/${server.seeded.accountId}/scripts`
        const scripts = yield* server.client.request("GET", path, { token: team.tokens.admin })
        TestTeam.expectStatus(scripts, 200, "scripts")
        assert.deepStrictEqual(
          scripts.body,
          [...team.workers]
            .sort((a, b) => a.scriptName.localeCompare(b.scriptName))
            .map((worker) => ({ scriptName: worker.scriptName, workerId: worker.workerId }))
        )
        // A script with no Worker yet is listed to be added.
        server.simulator.createScript({ accountId: server.seeded.accountId, scriptName: "zz-new", requestsPerMinute: 10 })
        const more = yield* server.client.request("GET", path, { cookie: team.adminCookie })
        assert.deepStrictEqual(more.body.at(-1), { scriptName: "zz-new", workerId: null })

        for (const role of ["read_only", "deploy"] as const) {
          TestTeam.expectStatus(yield* server.client.request("GET", path, { token: team.tokens[role] }), 403, role)
        }
        // Another team's account, through one's own team: not theirs to read.
        const foreign = yield* server.client.request(
          "GET",
          `/api/teams/${other.slug}/cloudflare/accounts/${server.seeded.accountId}/scripts`,
          { token: other.tokens.admin }
        )
        TestTeam.expectStatus(foreign, 404, "another team's account")
        TestTeam.expectStatus(yield* server.client.request("GET", path, { token: other.tokens.admin }), 404, "another team")
      }))

    it.effect("a Worker's versions for creating a release: each with its message and workers/tag, read by any member", () =>
      Effect.gen(function*() {
        const server = yield* storage.start()
        const team = yield* TestTeam.create(server)
        const worker = team.workers[0]!
        const tagged = server.simulator.createVersion({
          accountId: server.seeded.accountId,
          scriptName: worker.scriptName,
          message: "fix the checkout total",
          tag: "v1.4.2"
        })
        const versions = yield* server.client.request("GET", `/api/teams/${team.slug}/workers/${worker.workerId}/versions`, {
          token: team.tokens.read_only
        })
        TestTeam.expectStatus(versions, 200, "versions")
        const listed = versions.body.find((version: any) => version.id === tagged.id)
        assert.strictEqual(listed?.message, "fix the checkout total")
        assert.strictEqual(listed?.tag, "v1.4.2")
        assert.strictEqual(listed?.number, tagged.number)
        assert.include(versions.body.map((version: any) => version.id), worker.goodVersionId)
        // Named by its tag, the version makes a release as its id does.
        const created = yield* server.client.request("POST", `/api/teams/${team.slug}/deployments/workers/${worker.workerId}/deployments`, {
          token: team.tokens.deploy,
          body: { versionId: "v1.4.2" }
        })
        TestTeam.expectStatus(created, 201, "create by tag")
        assert.strictEqual(created.body.cfVersionId, tagged.id)
      }))

    it.effect("another team's release has no checks to show; another team's overview is not one's own", () =>
      Effect.gen(function*() {
        const server = yield* storage.start()
        const team = yield* TestTeam.create(server)
        const other = yield* TestTeam.create(server, "other", { account: "own" })
        const worker = team.workers[0]!
        const created = yield* server.client.request("POST", `/api/teams/${team.slug}/deployments/workers/${worker.workerId}/deployments`, {
          token: team.tokens.deploy,
          body: { versionId: worker.goodVersionId }
        })
        const own = yield* server.client.request("GET", `/api/teams/${team.slug}/deployments/${created.body.id}/checks`, { token: team.tokens.read_only })
        TestTeam.expectStatus(own, 200, "a pending release's checks")
        assert.deepStrictEqual(own.body.checks, [])
        const pending = yield* server.client.request("GET", `/api/teams/${team.slug}/deployments/${created.body.id}/progress`, { token: team.tokens.read_only })
        assert.strictEqual(pending.body.phase, "pending")
        assert.isNull(pending.body.stepIndex)
        assert.deepStrictEqual(pending.body.next, { action: "wait", at: null, waitingFor: "start" })
        TestTeam.expectStatus(
          yield* server.client.request("GET", `/api/teams/${other.slug}/deployments/${created.body.id}/progress`, { token: other.tokens.admin }),
          404,
          "another team's progress"
        )
        const foreign = yield* server.client.request("GET", `/api/teams/${other.slug}/deployments/${created.body.id}/checks`, {
          token: other.tokens.admin
        })
        TestTeam.expectStatus(foreign, 404, "through another team")
        const theirs = yield* server.client.request("GET", `/api/teams/${other.slug}/overview`, { token: other.tokens.read_only })
        assert.notInclude(JSON.stringify(theirs.body), created.body.id)
        TestTeam.expectStatus(yield* server.client.request("GET", `/api/teams/${team.slug}/overview`, { token: other.tokens.admin }), 404, "not a member")
        TestTeam.expectStatus(yield* server.client.request("GET", `/api/teams/${team.slug}/overview`, {}), 401, "anonymous")
      }))
  })
}

describe("the dashboard's reads with the storage failing", () => {
  it.effect("are 503 unavailable with Retry-After, the live stream too (before it opens)", () =>
    Effect.gen(function*() {
      const server = yield* TestServer.start(database)
      const team = yield* TestTeam.create(server)
      const worker = team.workers[0]!
      const created = yield* server.client.request("POST", `/api/teams/${team.slug}/deployments/workers/${worker.workerId}/deployments`, {
        token: team.tokens.deploy,
        body: { versionId: worker.goodVersionId }
      })
      const sql = yield* SqlClient.SqlClient.pipe(Effect.provideContext(server.context))
      yield* sql`ALTER TABLE release_summaries RENAME TO release_summaries_away`
      const base = `/api/teams/${team.slug}`
      for (const path of ["/overview", `/deployments/${created.body.id}/progress`, `/deployments/${created.body.id}/checks`, `/deployments/${created.body.id}/events/stream`]) {
        const response = yield* server.client.request("GET", `${base}${path}`, { token: team.tokens.read_only })
        TestTeam.expectStatus(response, 503, path)
        assert.strictEqual(response.body.error, "unavailable", path)
        assert.strictEqual(response.headers.get("retry-after"), String(ApiError.storageRetryAfterSeconds), path)
      }
      yield* sql`ALTER TABLE release_summaries_away RENAME TO release_summaries`
      const back = yield* server.client.request("GET", `${base}/overview`, { token: team.tokens.read_only })
      TestTeam.expectStatus(back, 200, "the storage back")
    }))
})
