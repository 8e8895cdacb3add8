/**
 * `/metrics` over real HTTP, scraped during releases run through the API (real Postgres, the
 * Cloudflare simulator, every clock on the TestClock): every counter the operator's manual lists
 * moves when what it counts happens (releases by status, steps, health checks by verdict,
 * rollbacks by cause, Cloudflare calls by endpoint, budget left per token, scheduler lag,
 * notification deliveries by outcome, HTTP requests by route template and status), and the text
 * names no team, Worker, token or path. Requests carry a request id, answered in `X-Request-Id`.
 */
import * as TestDatabase from "@canaryroll/postgres/test-database"
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { TestClock } from "effect/testing"
import { createHash } from "node:crypto"
import * as TestServer from "./support/TestServer.ts"
import * as TestTeam from "./support/TestTeam.ts"

const database = TestDatabase.forFile()

const terminal = new Set(["completed", "rolled_back", "failed", "cancelled"])

/** Every sample of the text format, as `name{labels}` → value. */
const parse = (text: string): Map<string, number> => {
  const samples = new Map<string, number>()
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue
    const at = line.lastIndexOf(" ")
    samples.set(line.slice(0, at), Number(line.slice(at + 1)))
  }
  return samples
}

/** The sum of the samples of `name` whose labels include every one of `labels`. */
const sum = (samples: Map<string, number>, name: string, labels: Record<string, string> = {}) => {
  let total = 0
  for (const [key, value] of samples) {
    const brace = key.indexOf("{")
    const sampleName = brace === -1 ? key : key.slice(0, brace)
    if (sampleName !== name) continue
    if (Object.entries(labels).every(([label, wanted]) => key.includes(`${label}="${wanted}"`))) total += value
  }
  return total
}

const scrape = (server: TestServer.Running) =>
  Effect.gen(function*() {
    const response = yield* server.client.request("GET", "/metrics")
    TestTeam.expectStatus(response, 200, "scrape /metrics")
    assert.match(response.headers.get("content-type") ?? "", /^text\/plain; version=0\.0\.4/)
    return { text: response.body as string, samples: parse(response.body as string) }
  })

/** Steps the release through the scheduler until it ends, 5 s of TestClock between passes. */
const runToEnd = (server: TestServer.Running, path: string, token: string) =>
  Effect.gen(function*() {
    for (let poll = 0; poll < 200; poll++) {
      const current = yield* server.client.request("GET", path, { token })
      if (terminal.has(current.body.status)) return current.body
      yield* TestServer.runDue(server)
      yield* TestClock.adjust("5 seconds")
    }
    return assert.fail("the release did not end")
  })

describe("/metrics", () => {
  it.effect("counters move while releases run, and name no team, Worker, token or path", () =>
    Effect.gen(function*() {
      const server = yield* TestServer.start(database)
      const team = yield* TestTeam.create(server, "metrics-team")
      const hook = yield* TestServer.receiver()
      const channel = yield* server.client.request("POST", `/api/teams/${team.slug}/notifications/channels`, {
        token: team.tokens.admin,
        body: { name: "ops", events: ["release.started", "release.completed", "release.rolled_back"], config: { kind: "webhook", url: `${hook.origin}/hook` } }
      })
      TestTeam.expectStatus(channel, 201, "create channel")
      const [good, bad] = team.workers
      const base = `/api/teams/${team.slug}/deployments`
      const token = team.tokens.deploy

      const before = (yield* scrape(server)).samples
      const created = yield* server.client.request("POST", `${base}/workers/${good!.workerId}/deployments`, {
        token,
        body: { versionId: good!.goodVersionId }
      })
      TestTeam.expectStatus(created, 201, "create")
      TestTeam.expectStatus(yield* server.client.request("POST", `${base}/${created.body.id}/start`, { token }), 200, "start")
      // A few scheduler passes: the release is under way, not finished.
      for (let pass = 0; pass < 4; pass++) {
        yield* TestServer.runDue(server)
        yield* TestClock.adjust("10 seconds")
      }
      const during = (yield* scrape(server)).samples
      assert.strictEqual(sum(during, "canaryroll_releases_total", { status: "pending" }) - sum(before, "canaryroll_releases_total", { status: "pending" }), 1)
      assert.strictEqual(sum(during, "canaryroll_releases_total", { status: "in_progress" }), 1)
      assert.isAbove(sum(during, "canaryroll_release_steps_total"), 0, "steps claimed")
      assert.isAbove(sum(during, "canaryroll_scheduler_lag_seconds_count"), 0, "lag observed for each claim")
      assert.strictEqual(
        sum(during, "canaryroll_scheduler_lag_seconds_count"),
        sum(during, "canaryroll_release_steps_total"),
        "one lag sample per claimed step"
      )
      assert.isAbove(sum(during, "canaryroll_health_checks_total", { verdict: "healthy" }), 0, "healthy checks")
      assert.strictEqual(sum(during, "canaryroll_release_events_total", { type: "TrafficShifted" }), 1)
      assert.isAbove(sum(during, "canaryroll_cloudflare_requests_total", { endpoint: "list_deployments" }), 0)
      assert.strictEqual(sum(during, "canaryroll_cloudflare_requests_total", { endpoint: "create_deployment" }), 1)
      assert.isAbove(sum(during, "canaryroll_cloudflare_requests_total", { endpoint: "graphql" }), 0)
      // The token's budget, named by its fingerprint only: spent by the calls above.
      const fingerprint = createHash("sha256").update(server.seeded.apiToken).digest("hex").slice(0, 12)
      const restLeft = sum(during, "canaryroll_cloudflare_budget_remaining", { budget: "releases", token: fingerprint, api: "rest" })
      assert.isAbove(restLeft, 0)
      assert.isBelow(restLeft, Math.floor(1_200 * 0.5 * 0.8), "the orchestrator's REST budget is being spent")
      assert.strictEqual(
        sum(during, "canaryroll_http_requests_total", { method: "POST", route: "/api/teams/:team/deployments/:id/start", status: "200" }),
        1
      )

      const finished = yield* runToEnd(server, `${base}/${created.body.id}`, token)
      assert.strictEqual(finished.status, "completed")

      // A bad version, rolled back by its failed checks; then a manual rollback of a healthy one.
      const failing = yield* server.client.request("POST", `${base}/workers/${bad!.workerId}/deployments`, {
        token,
        body: { versionId: bad!.badVersionId }
      })
      TestTeam.expectStatus(yield* server.client.request("POST", `${base}/${failing.body.id}/start`, { token }), 200, "start bad")
      assert.strictEqual((yield* runToEnd(server, `${base}/${failing.body.id}`, token)).status, "rolled_back")
      const manual = yield* server.client.request("POST", `${base}/workers/${good!.workerId}/deployments`, {
        token,
        body: { versionId: good!.liveVersionId === good!.goodVersionId ? good!.badVersionId : good!.liveVersionId }
      })
      TestTeam.expectStatus(manual, 201, "create the third")
      TestTeam.expectStatus(yield* server.client.request("POST", `${base}/${manual.body.id}/start`, { token }), 200, "start the third")
      yield* TestServer.runDue(server)
      TestTeam.expectStatus(
        yield* server.client.request("POST", `${base}/${manual.body.id}/rollback`, { token, body: { reason: "not today" } }),
        200,
        "roll back by hand"
      )
      assert.strictEqual((yield* runToEnd(server, `${base}/${manual.body.id}`, token)).status, "rolled_back")
      const delivered = yield* TestServer.deliverDue(server)
      assert.isAbove(delivered, 0)

      // Unknown paths count under one label, not one per path a stranger makes up.
      for (const path of ["/nothing/here", "/api/nothing/else"]) {
        TestTeam.expectStatus(yield* server.client.request("GET", path), 404, path)
      }
      const after = yield* scrape(server)
      const samples = after.samples
      assert.strictEqual(sum(samples, "canaryroll_releases_total", { status: "completed" }), 1)
      assert.strictEqual(sum(samples, "canaryroll_releases_total", { status: "rolled_back" }), 2)
      assert.strictEqual(sum(samples, "canaryroll_rollbacks_total", { cause: "unhealthy" }), 1)
      assert.strictEqual(sum(samples, "canaryroll_rollbacks_total", { cause: "manual" }), 1)
      assert.isAtLeast(sum(samples, "canaryroll_health_checks_total", { verdict: "unhealthy" }), 3)
      assert.strictEqual(sum(samples, "canaryroll_notification_deliveries_total", { outcome: "delivered" }), delivered)
      assert.strictEqual(sum(samples, "canaryroll_http_requests_total", { route: "unmatched", status: "404" }), 2)
      assert.isAbove(sum(samples, "canaryroll_http_requests_total", { route: "/metrics" }), 1)
      assert.isAbove(sum(samples, "canaryroll_http_request_duration_seconds_count", { route: "/api/teams/:team/deployments/:id" }), 0)

      // Nothing in it says who uses the server.
      for (const secret of [team.slug, team.teamId, created.body.id, good!.workerId, good!.scriptName, server.seeded.accountId, server.seeded.apiToken, token, hook.origin]) {
        assert.notInclude(after.text, secret)
      }
    }))

  it.effect("a request id is kept when plain, replaced when not, and answered", () =>
    Effect.gen(function*() {
      const server = yield* TestServer.start(database)
      const kept = yield* server.client.request("GET", "/api/health", { headers: { "x-request-id": "lb-7f3a.42" } })
      assert.strictEqual(kept.headers.get("x-request-id"), "lb-7f3a.42")
      const replaced = yield* server.client.request("GET", "/api/health", { headers: { "x-request-id": "<script>alert(1)</script>" } })
      assert.match(replaced.headers.get("x-request-id") ?? "", /^[0-9a-f-]{36}$/)
      const fresh = yield* server.client.request("GET", "/api/nothing")
      assert.match(fresh.headers.get("x-request-id") ?? "", /^[0-9a-f-]{36}$/, "404s carry one too")
    }))
})
