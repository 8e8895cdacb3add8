/**
 * Requests that race, and Cloudflare failing under a request: concurrent saves of one Cloudflare
 * account leave a token that still decrypts; parallel password guesses cannot slip past the
 * log-in throttle; a Cloudflare outage during preflight is a 503, not a failed "credentials" check.
 */
import * as TestDatabase from "@canaryroll/postgres/test-database"
import { assert, describe, it } from "@effect/vitest"
import { Context, Deferred, Effect, Fiber } from "effect"
import { SqlClient } from "effect/sql"
import * as LoginThrottle from "../src/security/LoginThrottle.ts"
import * as TestServer from "./support/TestServer.ts"
import * as TestTeam from "./support/TestTeam.ts"

const database = TestDatabase.forFile()

describe("racing requests", () => {
  it.effect("two first saves of one Cloudflare account at once: both succeed and the saved token still decrypts", () =>
    Effect.gen(function*() {
      const server = yield* TestServer.start(database)
      const team = yield* TestTeam.create(server)
      const { simulator } = server
      const sql = Context.get(server.context, SqlClient.SqlClient)
      const account = simulator.createAccount({ name: "new" }).id
      simulator.createScript({ accountId: account, scriptName: "fresh", requestsPerMinute: 60 })
      const tokens = [1, 2].map(() => simulator.createToken({ accountIds: [account] }).value)
      const path = `/api/teams/${team.slug}/cloudflare/accounts/${account}`
      // Hold the audit log, which each save writes last: both saves are then inside their
      // transactions at once, the moment a missing lock would let them interleave.
      const release = yield* Deferred.make<void>()
      const locked = yield* Deferred.make<void>()
      const holder = yield* Effect.forkChild(
        sql.withTransaction(Effect.gen(function*() {
          yield* sql`LOCK TABLE audit_log IN EXCLUSIVE MODE`
          yield* Deferred.succeed(locked, undefined)
          yield* Deferred.await(release)
        }))
      )
      yield* Deferred.await(locked)
      const saves = yield* Effect.forkChild(Effect.all(
        tokens.map((apiToken) => server.client.request("PUT", path, { cookie: team.adminCookie, body: { apiToken } })),
        { concurrency: "unbounded" }
      ))
      // Both saves are waiting on a lock (the audit log's, or the account's) before it is let go.
      yield* sql<{ waiting: number }>`
        SELECT count(*)::int AS waiting FROM pg_stat_activity
        WHERE wait_event_type = 'Lock' AND datname = current_database()`.pipe(
        Effect.repeat({ until: (rows) => rows[0]!.waiting >= 2 }),
        Effect.orDie
      )
      yield* Deferred.succeed(release, undefined)
      yield* Fiber.join(holder).pipe(Effect.orDie)
      for (const save of yield* Fiber.join(saves)) TestTeam.expectStatus(save, 200, "save")
      const registered = yield* server.client.request("POST", `/api/teams/${team.slug}/workers`, {
        cookie: team.adminCookie,
        body: { accountId: account, scriptName: "fresh" }
      })
      TestTeam.expectStatus(registered, 201, "register")
      const live = yield* server.client.request("GET", `/api/teams/${team.slug}/workers/${registered.body.id}/deployment`, {
        token: team.tokens.read_only
      })
      TestTeam.expectStatus(live, 200, "a Cloudflare call with the saved token")
    }).pipe(Effect.scoped))

  it.effect("parallel wrong passwords cannot slip past the throttle: no more than the free failures are checked", () =>
    Effect.gen(function*() {
      const server = yield* TestServer.start(database)
      yield* TestTeam.signUp(server, "cy@example.com")
      const answers = yield* Effect.all(
        Array.from({ length: 30 }, (_, n) =>
          server.client.request("POST", "/api/auth/login", { body: { email: "cy@example.com", password: `guess number ${n}` } })),
        { concurrency: "unbounded" }
      )
      const statuses = answers.map((answer) => answer.status)
      // Checks in flight count toward the free failures, so thirty at once get no more checked.
      const free = LoginThrottle.defaults.account.freeFailures
      assert.strictEqual(statuses.filter((status) => status === 401).length, free, JSON.stringify(statuses))
      assert.strictEqual(statuses.filter((status) => status === 429).length, 30 - free)
    }).pipe(Effect.scoped))

  it.effect("Cloudflare failing during preflight is 503 cloudflare_unavailable", () =>
    Effect.gen(function*() {
      const server = yield* TestServer.start(database)
      const team = yield* TestTeam.create(server)
      const worker = team.workers[0]!
      const base = `/api/teams/${team.slug}/deployments`
      const created = yield* server.client.request("POST", `${base}/workers/${worker.workerId}/deployments`, {
        token: team.tokens.deploy,
        body: { versionId: worker.goodVersionId }
      })
      TestTeam.expectStatus(created, 201, "create")
      server.simulator.injectFault({ kind: "status", status: 503, match: { path: "/versions" } })
      const preflight = yield* server.client.request("GET", `${base}/${created.body.id}/preflight`, { token: team.tokens.deploy })
      TestTeam.expectStatus(preflight, 503, "preflight while Cloudflare fails")
      assert.strictEqual(preflight.body.error, "cloudflare_unavailable")
      const again = yield* server.client.request("GET", `${base}/${created.body.id}/preflight`, { token: team.tokens.deploy })
      TestTeam.expectStatus(again, 200, "preflight once Cloudflare answers")
      assert.isTrue(again.body.passed)
    }).pipe(Effect.scoped))

  it.effect("people's Cloudflare reads cannot spend the budget a running release needs", () =>
    Effect.gen(function*() {
      // 100 REST calls per 5 minutes: half for this process, a fifth of that for requests (10).
      const server = yield* TestServer.start(database, {
        cloudflareLimits: { rest: { requests: 100, windowSeconds: 300 }, graphql: { requests: 300, windowSeconds: 300 }, share: 0.5 }
      })
      const team = yield* TestTeam.create(server)
      const worker = team.workers[0]!
      const base = `/api/teams/${team.slug}/deployments`
      const token = team.tokens.deploy
      const created = yield* server.client.request("POST", `${base}/workers/${worker.workerId}/deployments`, {
        token,
        body: { versionId: worker.goodVersionId }
      })
      TestTeam.expectStatus(created, 201, "create")
      TestTeam.expectStatus(yield* server.client.request("POST", `${base}/${created.body.id}/start`, { token }), 200, "start")
      // A dashboard polling the live deployment until the requests' share is spent.
      let refused = 0
      for (let poll = 0; poll < 15; poll++) {
        const live = yield* server.client.request("GET", `/api/teams/${team.slug}/workers/${worker.workerId}/deployment`, { token })
        if (live.status === 503) refused++
      }
      assert.isAtLeast(refused, 4, "the requests' share ran out")
      // The release still gets its traffic change and checks: the orchestrator's share is untouched.
      yield* TestServer.runDue(server)
      const events = yield* server.client.request("GET", `${base}/${created.body.id}/events`, { token })
      assert.include(events.body.map((event: any) => event.eventType), "TrafficShifted")
    }).pipe(Effect.scoped))
})
