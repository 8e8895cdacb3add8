/**
 * The calls the public `canaryroll/action@v1` makes, over real HTTP, with a team token, against
 * the Cloudflare simulator: create (pending) → preflight → start → poll until the release ends.
 * Time is Effect's TestClock; between polls the test runs the scheduler once and moves the clock,
 * as the server's loop and the wall clock would.
 */
import { assert, describe, it } from "@effect/vitest"
import * as TestDatabase from "@canaryroll/postgres/test-database"
import { Effect } from "effect"
import { TestClock } from "effect/testing"
import * as TestServer from "./support/TestServer.ts"
import * as TestTeam from "./support/TestTeam.ts"

const database = TestDatabase.forFile()

const terminal = new Set(["completed", "rolled_back", "failed", "cancelled"])

/** Polls like the action does, stepping the scheduler and 5 s of time between polls. */
const pollUntil = (
  server: TestServer.Running,
  path: string,
  token: string,
  done: (deployment: any) => boolean,
  maxPolls = 200
) =>
  Effect.gen(function*() {
    for (let poll = 0; poll < maxPolls; poll++) {
      const response = yield* server.client.request("GET", path, { token })
      TestTeam.expectStatus(response, 200, "poll")
      if (done(response.body)) return response.body
      yield* TestServer.runDue(server)
      yield* TestClock.adjust("5 seconds")
    }
    return assert.fail(`not done after ${maxPolls} polls`)
  })

// The same suite on each storage: Postgres and the memory layers.
for (const storage of TestServer.storages(database)) {
  describe(`the GitHub Action's flow (${storage.name})`, () => {
    it.effect("create → preflight → start → completed, with a healthy version", () =>
      Effect.gen(function*() {
        const server = yield* storage.start()
        const team = yield* TestTeam.create(server)
        const worker = team.workers[0]!
        const base = `/api/teams/${team.slug}/deployments`
        const token = team.tokens.deploy

        const created = yield* server.client.request("POST", `${base}/workers/${worker.workerId}/deployments`, {
          token,
          headers: { "CF-Access-Client-Id": "ignored.access", "CF-Access-Client-Secret": "ignored" },
          // A field this server does not know (a newer action's) is ignored, not refused.
          body: { versionId: worker.goodVersionId, name: "Release 42", ticketUrl: "https://tickets.example/42", source: "action" }
        })
        TestTeam.expectStatus(created, 201, "create")
        const deployment = created.body
        assert.strictEqual(deployment.status, "pending")
        assert.strictEqual(deployment.workerId, worker.workerId)
        assert.strictEqual(deployment.teamId, team.teamId)
        assert.strictEqual(deployment.planId, team.fastPlanId)
        assert.strictEqual(deployment.cfVersionId, worker.goodVersionId)
        assert.strictEqual(deployment.cfPreviousVersionId, null)
        assert.strictEqual(deployment.autoAdvance, true)
        assert.strictEqual(deployment.name, "Release 42")
        assert.strictEqual(deployment.ticketUrl, "https://tickets.example/42")
        assert.deepStrictEqual(deployment.stepsSnapshot, TestTeam.fastPlan.steps)
        assert.strictEqual(deployment.startedAt, null)
        assert.strictEqual(deployment.completedAt, null)
        assert.strictEqual(deployment.createdAt, new Date(TestServer.t0).toISOString())

        const preflight = yield* server.client.request("GET", `${base}/${deployment.id}/preflight`, { token })
        TestTeam.expectStatus(preflight, 200, "preflight")
        assert.isTrue(preflight.body.passed, JSON.stringify(preflight.body))
        assert.deepStrictEqual(
          preflight.body.checks.map((check: any) => check.name),
          ["pending", "credentials", "version", "live_deployment", "not_already_live", "no_other_deployment"]
        )

        const started = yield* server.client.request("POST", `${base}/${deployment.id}/start`, { token })
        TestTeam.expectStatus(started, 200, "start")
        assert.strictEqual(started.body.status, "in_progress")
        assert.strictEqual(started.body.cfPreviousVersionId, worker.liveVersionId)

        const finished = yield* pollUntil(server, `${base}/${deployment.id}`, token, (d) => terminal.has(d.status))
        assert.strictEqual(finished.status, "completed", JSON.stringify(finished))
        assert.strictEqual(finished.currentStep, 1)
        assert.isString(finished.completedAt)
        const live = yield* server.client.request("GET", `/api/teams/${team.slug}/workers/${worker.workerId}/deployment`, { token })
        assert.deepStrictEqual(live.body.versions, [{ versionId: worker.goodVersionId, percentage: 100 }])

        const events = yield* server.client.request("GET", `${base}/${deployment.id}/events`, { token })
        TestTeam.expectStatus(events, 200, "events")
        const types = events.body.map((event: any) => event.eventType)
        assert.strictEqual(types[0], "ReleaseCreated")
        assert.strictEqual(types.at(-1), "Completed")
        assert.includeMembers(types, ["ReleaseStarted", "TrafficShifted", "HealthChecked", "Promoted"])
        for (const event of events.body) {
          assert.strictEqual(event.deploymentId, deployment.id)
          assert.isString(event.details.message)
          assert.isString(event.createdAt)
        }
      }).pipe(Effect.scoped))

    it.effect("the Worker by its script name and the version by its tag, as a workflow may name them", () =>
      Effect.gen(function*() {
        const server = yield* storage.start()
        const team = yield* TestTeam.create(server)
        const worker = team.workers[0]!
        const token = team.tokens.deploy
        const base = `/api/teams/${team.slug}/deployments`
        // `wrangler versions upload --tag git-4f2a9c1`, twice (a re-run job): the newest is meant.
        const account = server.seeded.accountId
        server.simulator.createVersion({ accountId: account, scriptName: worker.scriptName, errorRate: 0.001, tag: "git-4f2a9c1" })
        const newest = server.simulator.createVersion({ accountId: account, scriptName: worker.scriptName, errorRate: 0.001, tag: "git-4f2a9c1" })
        const created = yield* server.client.request("POST", `${base}/workers/${worker.scriptName}/deployments`, {
          token,
          body: { versionId: "git-4f2a9c1" }
        })
        TestTeam.expectStatus(created, 201, "create by name and tag")
        assert.strictEqual(created.body.workerId, worker.workerId)
        assert.strictEqual(created.body.cfVersionId, newest.id)
        const listed = yield* server.client.request("GET", `${base}?workerId=${worker.scriptName}`, { token })
        assert.deepStrictEqual(listed.body.deployments.map((deployment: any) => deployment.id), [created.body.id])
        // A tag no version has, and a script the team did not register: refused, naming what is wrong.
        const unknownTag = yield* server.client.request("POST", `${base}/workers/${worker.scriptName}/deployments`, {
          token,
          body: { versionId: "git-0000000" }
        })
        TestTeam.expectStatus(unknownTag, 400, "unknown tag")
        assert.match(unknownTag.body.message, /^versionId: /)
        const unknownWorker = yield* server.client.request("POST", `${base}/workers/no-such-script/deployments`, {
          token,
          body: { versionId: "git-4f2a9c1" }
        })
        TestTeam.expectStatus(unknownWorker, 404, "unknown Worker")
      }).pipe(Effect.scoped))

    it.effect("a version failing 20% of requests ends rolled_back, the stable version serving everything again", () =>
      Effect.gen(function*() {
        const server = yield* storage.start()
        const team = yield* TestTeam.create(server)
        const worker = team.workers[0]!
        const base = `/api/teams/${team.slug}/deployments`
        const token = team.tokens.deploy
        const created = yield* server.client.request("POST", `${base}/workers/${worker.workerId}/deployments`, {
          token,
          body: { versionId: worker.badVersionId, planId: "fast" }
        })
        TestTeam.expectStatus(created, 201, "create")
        TestTeam.expectStatus(yield* server.client.request("POST", `${base}/${created.body.id}/start`, { token }), 200, "start")
        const finished = yield* pollUntil(server, `${base}/${created.body.id}`, token, (d) => terminal.has(d.status))
        assert.strictEqual(finished.status, "rolled_back", JSON.stringify(finished))
        assert.match(finished.rollbackReason, /error rate/)
        const live = yield* server.client.request("GET", `/api/teams/${team.slug}/workers/${worker.workerId}/deployment`, { token })
        assert.deepStrictEqual(live.body.versions, [{ versionId: worker.liveVersionId, percentage: 100 }])
      }).pipe(Effect.scoped))

    it.effect("autoAdvance: false waits at step 0 until someone advances it", () =>
      Effect.gen(function*() {
        const server = yield* storage.start()
        const team = yield* TestTeam.create(server)
        const worker = team.workers[1]!
        const base = `/api/teams/${team.slug}/deployments`
        const token = team.tokens.deploy
        const created = yield* server.client.request("POST", `${base}/workers/${worker.workerId}/deployments`, {
          token,
          body: { versionId: worker.goodVersionId, autoAdvance: false }
        })
        TestTeam.expectStatus(created, 201, "create")
        assert.strictEqual(created.body.autoAdvance, false)
        TestTeam.expectStatus(yield* server.client.request("POST", `${base}/${created.body.id}/start`, { token }), 200, "start")
        // Three times the step's soak: an automatic release would have moved on long ago.
        let polls = 0
        const waiting = yield* pollUntil(server, `${base}/${created.body.id}`, token, () => ++polls > 36)
        assert.strictEqual(waiting.status, "in_progress")
        assert.strictEqual(waiting.currentStep, 0)
        assert.strictEqual(waiting.currentPercentage, 50)

        // Paused with a blank reason: the release records who paused it instead of nothing.
        const paused = yield* server.client.request("POST", `${base}/${created.body.id}/pause`, { token, body: { reason: "  " } })
        TestTeam.expectStatus(paused, 200, "pause")
        assert.strictEqual(paused.body.status, "paused")
        assert.match(paused.body.statusReason, /^paused by /)
        const resumed = yield* server.client.request("POST", `${base}/${created.body.id}/resume`, { token })
        TestTeam.expectStatus(resumed, 200, "resume")
        assert.strictEqual(resumed.body.status, "in_progress")
        polls = 0
        yield* pollUntil(server, `${base}/${created.body.id}`, token, () => ++polls > 6)

        const advanced = yield* server.client.request("POST", `${base}/${created.body.id}/advance`, { token, body: { fromStep: 0 } })
        TestTeam.expectStatus(advanced, 200, "advance")
        assert.strictEqual(advanced.body.currentStep, 1)
        // Too early: the scheduler has not shifted the new step's traffic yet (docs/lifecycle.md,
        // "Advance": traffic_not_live before the split is live, not_healthy before a healthy check).
        const early = yield* server.client.request("POST", `${base}/${created.body.id}/advance`, { token, body: { fromStep: 1 } })
        TestTeam.expectStatus(early, 409, "advance before the step's traffic is live")
        assert.strictEqual(early.body.error, "traffic_not_live")
        polls = 0
        const last = yield* pollUntil(server, `${base}/${created.body.id}`, token, () => ++polls > 6)
        assert.strictEqual(last.status, "in_progress", "the last step waits for a person too")
        assert.strictEqual(last.currentPercentage, 100)
        const completed = yield* server.client.request("POST", `${base}/${created.body.id}/advance`, { token, body: { fromStep: 1 } })
        TestTeam.expectStatus(completed, 200, "advance from the last step")
        assert.strictEqual(completed.body.status, "completed")
      }).pipe(Effect.scoped))
  })
}
