/**
 * Bad input gets a 4xx with a clear message and changes nothing (design: "Reliability and
 * security targets"). Over real HTTP against a whole server, once on real Postgres and once on
 * the memory layers, each refused request is checked for
 * - its status and stable `error` code;
 * - a body that is exactly JSON `{ error, message }`, both strings, the message naming the
 *   offending field as `field: …` (`steps[1].percentage: …`) or the unknown id;
 * - nothing changed: the events table's count and head position, the audit log's size, and every
 *   row of every table read before and after are the same. On memory there are no tables: the
 *   event log (its size and head) and everything the ports show of the suite's team (members,
 *   invitations, tokens, Cloudflare accounts, Workers, plans, channels, the audit log) are
 *   compared instead.
 *
 * Covered: malformed JSON, bodies over the limit (with a Content-Length, and chunked without
 * one), bodies that are not JSON, invalid fields on every create endpoint, a version of another
 * Worker, unknown ids, starting a finished release, a second release of a busy Worker, removing
 * the last admin, and unknown query values.
 */
import { assert, describe, it } from "@effect/vitest"
import * as TestDatabase from "@canaryroll/postgres/test-database"
import { ApiTokens, AuditLog, CloudflareAccounts, Plans, Teams, Workers } from "@canaryroll/app"
import { EventStore } from "@canaryroll/core"
import { NotificationStore } from "@canaryroll/notifier"
import { Effect, Option } from "effect"
import { TestClock } from "effect/testing"
import * as http from "node:http"
import * as Tables from "./support/Tables.ts"
import * as TestServer from "./support/TestServer.ts"
import * as TestTeam from "./support/TestTeam.ts"

const database = TestDatabase.forFile()

/** The refusal: `status`, code `error`, exactly `{ error, message }`, the message naming `mentions`. */
const expectError = (response: TestServer.Response, status: number, error: string, mentions?: string) => {
  const what = `${response.status} ${JSON.stringify(response.body)}`
  assert.strictEqual(response.status, status, what)
  assert.include(response.headers.get("content-type") ?? "", "application/json", what)
  assert.isObject(response.body, what)
  assert.deepStrictEqual(Object.keys(response.body).sort(), ["error", "message"], what)
  assert.isString(response.body.error, what)
  assert.isString(response.body.message, what)
  assert.strictEqual(response.body.error, error, what)
  assert.isAbove(response.body.message.length, 10, what)
  if (mentions !== undefined) assert.include(response.body.message, mentions, what)
}

/** A field's refusal: 400, and the message says `field: …`. */
const expectInvalidField = (response: TestServer.Response, field: string, error = "invalid_request") =>
  expectError(response, 400, error, `${field}: `)

/**
 * Every table's rows; `last_used_at` left out, since a refused request made with a token still
 * used that token (and the TestClock stands still, so even that stays the same in practice).
 */
const state = (server: TestServer.Running) => server.storage === "postgres" ? tablesState(server) : portsState(server)

/** The suite's team (`setup`): on memory, what a refused request could have changed is read through its ports. */
const teamSlug = "acme"

/** Every entry of the team's audit log, newest first. */
const auditEntries = (teamId: string) =>
  Effect.gen(function*() {
    const log = yield* AuditLog.AuditLog
    const entries: Array<AuditLog.Entry> = []
    let cursor: string | undefined
    do {
      const page = yield* log.page({ teamId, limit: 200, cursor })
      entries.push(...page.entries)
      cursor = page.nextCursor ?? undefined
    } while (cursor !== undefined)
    return entries
  })

const portsState = (server: TestServer.MemoryRunning) =>
  Effect.gen(function*() {
    const events = yield* (yield* EventStore.EventStore).readAll(0, Number.MAX_SAFE_INTEGER)
    const teams = yield* Teams.Teams
    const team = yield* Effect.flatMap(teams.byRef(teamSlug), Effect.fromOption)
    const audit = yield* auditEntries(team.id)
    const rows = (values: ReadonlyArray<unknown>) => values.map((value) => JSON.stringify(value)).sort()
    const tables: Record<string, ReadonlyArray<string>> = {
      team: rows([team]),
      members: rows(yield* teams.members(team.id)),
      invitations: rows(yield* teams.invitations(team.id)),
      // As the tables' `last_used_at`: a refused request made with a token still used it.
      tokens: rows((yield* ApiTokens.ApiTokens.use((tokens) => tokens.teamTokens(team.id))).map(
        ({ lastUsedAt: _lastUse, ...rest }) => rest
      )),
      accounts: rows(yield* CloudflareAccounts.CloudflareAccounts.use((accounts) => accounts.list(team.id))),
      workers: rows(yield* Workers.Workers.use((workers) => workers.list(team.id))),
      plans: rows(yield* Plans.Plans.use((plans) => plans.list(team.id))),
      channels: rows(yield* NotificationStore.NotificationStore.use((store) => store.listChannels(team.id))),
      audit: rows(audit)
    }
    return {
      events: { count: events.length, maxPosition: events.length === 0 ? null : String(events.at(-1)!.position) },
      auditLog: audit.length,
      tables
    }
  }).pipe(Effect.provideContext(server.context), Effect.orDie)

const tablesState = (server: TestServer.PostgresRunning) =>
  Effect.gen(function*() {
    const tables = yield* Tables.dump(server)
    return {
      events: yield* Tables.eventsHead(server),
      auditLog: yield* Tables.auditLogCount(server),
      tables: Object.fromEntries(
        // The log-in throttle's counters are meant to move on a refused attempt (a sign-up with a
        // taken email counts, so sign-up cannot probe emails at speed); nothing else may.
        Object.entries(tables).filter(([table]) => table !== "login_throttle").map(([table, rows]) => [
          table,
          rows.map((row) => {
            const { last_used_at: _lastUse, ...rest } = JSON.parse(row)
            return JSON.stringify(rest)
          })
        ])
      )
    }
  })

/** Runs `request` and checks that the storage is exactly as it was. */
const unchanged = <A>(server: TestServer.Running, request: Effect.Effect<A>) =>
  Effect.gen(function*() {
    const before = yield* state(server)
    const result = yield* request
    const after = yield* state(server)
    assert.deepStrictEqual(after.events, before.events, "the events table changed")
    assert.strictEqual(after.auditLog, before.auditLog, "the audit log changed")
    for (const table of Object.keys(before.tables)) {
      assert.deepStrictEqual(after.tables[table], before.tables[table], `the table ${table} changed`)
    }
    assert.deepStrictEqual(Object.keys(after.tables), Object.keys(before.tables))
    return result
  })

const setup = (storage: TestServer.Storage) => Effect.gen(function*() {
  const server = yield* storage.start()
  const team = yield* TestTeam.create(server, teamSlug)
  const base = `/api/teams/${team.slug}`
  const admin = (method: string, path: string, options: { readonly body?: unknown; readonly raw?: string; readonly headers?: Record<string, string> } = {}) =>
    server.client.request(method, path, { ...options, cookie: team.adminCookie })
  return { server, team, base, admin }
})

/** A POST whose body is sent chunked, without Content-Length (Node's default for a streamed body). */
const postChunked = (url: string, cookie: string, chunks: ReadonlyArray<string>) =>
  Effect.callback<TestServer.Response>((resume) => {
    const request = http.request(url, { method: "POST", headers: { "content-type": "application/json", cookie } }, (response) => {
      let text = ""
      response.setEncoding("utf8")
      response.on("data", (chunk: string) => (text += chunk))
      response.on("end", () => {
        const headers = new Headers()
        for (const [name, value] of Object.entries(response.headers)) if (typeof value === "string") headers.set(name, value)
        let body: unknown = text
        try {
          body = JSON.parse(text)
        } catch {
          // The assertion shows the text.
        }
        resume(Effect.succeed({ status: response.statusCode ?? 0, body, headers }))
      })
    })
    request.on("error", (error) => resume(Effect.die(error)))
    for (const chunk of chunks) request.write(chunk)
    request.end()
  })

// The same suites on each storage: Postgres and the memory layers.
for (const storage of TestServer.storages(database)) {
  describe(`request bodies (${storage.name})`, () => {
    it.effect("malformed JSON is 400 invalid_json", () =>
      Effect.gen(function*() {
        const { server, base, admin } = yield* setup(storage)
        for (const [path, raw] of [
          ["/api/teams", "{nope"],
          [`${base}/plans`, `{"slug":"half","name":"Half","steps":[`],
          [`${base}/tokens`, `{"name":"ci","role":"deploy"}}`]
        ] as const) {
          expectError(yield* unchanged(server, admin("POST", path, { raw })), 400, "invalid_json", "body: ")
        }
        const signup = yield* unchanged(server, server.client.request("POST", "/api/auth/signup", { raw: "{'email': 1}" }))
        expectError(signup, 400, "invalid_json", "body: ")
      }).pipe(Effect.scoped))

    it.effect("a body over the limit is 413, with a Content-Length and chunked without one", () =>
      Effect.gen(function*() {
        const { server, team, base, admin } = yield* setup(storage)
        const oversized = JSON.stringify({ slug: "big", name: "x".repeat(100_000), steps: [{ percentage: 100, waitSeconds: 0 }] })
        const counted = yield* unchanged(server, admin("POST", `${base}/plans`, { raw: oversized }))
        expectError(counted, 413, "payload_too_large", "limit")

        // Without Content-Length the limit is only met while reading: first chunk small, the rest large.
        const chunks = [oversized.slice(0, 20), oversized.slice(20, 40_000), oversized.slice(40_000)]
        const chunked = yield* unchanged(server, postChunked(`${server.url}${base}/plans`, team.adminCookie, chunks))
        expectError(chunked, 413, "payload_too_large", "limit")

        // Under the limit, chunked is fine: the refusal was the size, not the encoding.
        const small = JSON.stringify({ slug: "small", name: "Small", steps: [{ percentage: 100, waitSeconds: 0 }] })
        const accepted = yield* postChunked(`${server.url}${base}/plans`, team.adminCookie, [small.slice(0, 10), small.slice(10)])
        TestTeam.expectStatus(accepted, 201, "a small chunked body")
        assert.strictEqual(accepted.body.slug, "small")
      }).pipe(Effect.scoped))

    it.effect("a body that is not JSON is 415, answered in JSON", () =>
      Effect.gen(function*() {
        const { server, base, admin } = yield* setup(storage)
        const plan = JSON.stringify({ slug: "plain", name: "Plain", steps: [{ percentage: 100, waitSeconds: 0 }] })
        for (const contentType of ["text/plain", "application/x-www-form-urlencoded", "application/xml"]) {
          const response = yield* unchanged(server, admin("POST", `${base}/plans`, { raw: plan, headers: { "content-type": contentType } }))
          expectError(response, 415, "unsupported_media_type", "application/json")
        }
        const signup = yield* unchanged(
          server,
          server.client.request("POST", "/api/auth/signup", {
            raw: JSON.stringify({ email: "plain@example.com", name: "Plain", password: "correct horse battery staple" }),
            headers: { "content-type": "text/plain;charset=UTF-8" }
          })
        )
        expectError(signup, 415, "unsupported_media_type")
      }).pipe(Effect.scoped))
  })

  describe(`invalid fields on create endpoints (${storage.name})`, () => {
    it.effect("sign-up: a short password, an invalid email, a missing name, an email taken", () =>
      Effect.gen(function*() {
        const { server, team } = yield* setup(storage)
        const signup = (body: unknown) => unchanged(server, server.client.request("POST", "/api/auth/signup", { body }))
        expectInvalidField(yield* signup({ email: "new@example.com", name: "New", password: "short" }), "password", "invalid_password")
        expectInvalidField(yield* signup({ email: "not-an-email", name: "New", password: "correct horse battery staple" }), "email")
        expectInvalidField(yield* signup({ email: "new@example.com", password: "correct horse battery staple" }), "name")
        expectInvalidField(yield* signup({ email: "new@example.com", name: "   ", password: "correct horse battery staple" }), "name")
        expectInvalidField(yield* signup({ email: "new@example.com", name: "New", password: 12345678901234 }), "password")
        const taken = yield* signup({ email: team.adminEmail.toUpperCase(), name: "Again", password: "correct horse battery staple" })
        expectError(taken, 409, "email_taken", "email: ")
      }).pipe(Effect.scoped))

    it.effect("teams: an invalid slug, an empty name, a slug taken", () =>
      Effect.gen(function*() {
        const { server, team, admin } = yield* setup(storage)
        const create = (body: unknown) => unchanged(server, admin("POST", "/api/teams", { body }))
        expectInvalidField(yield* create({ name: "Bad", slug: "Bad Slug" }), "slug")
        expectInvalidField(yield* create({ name: "Bad", slug: "-dash" }), "slug")
        expectInvalidField(yield* create({ name: "Bad", slug: "x".repeat(51) }), "slug")
        expectInvalidField(yield* create({ name: "", slug: "fine" }), "name")
        expectInvalidField(yield* create({ slug: "fine" }), "name")
        expectError(yield* create({ name: "Again", slug: team.slug }), 409, "slug_taken", "slug: ")
      }).pipe(Effect.scoped))

    it.effect("plans: a bad step names steps[i].percentage, the last step must be 100; a bad update keeps the plan", () =>
      Effect.gen(function*() {
        const { server, base, admin } = yield* setup(storage)
        const create = (steps: unknown, extra: Record<string, unknown> = {}) =>
          unchanged(server, admin("POST", `${base}/plans`, { body: { slug: "new", name: "New", steps, ...extra } }))
        const step = (percentage: unknown, waitSeconds: unknown = 60) => ({ percentage, waitSeconds })
        expectInvalidField(yield* create([step(10), step(-5), step(100)]), "steps[1].percentage")
        expectInvalidField(yield* create([step(10), step(150), step(100)]), "steps[1].percentage")
        expectInvalidField(yield* create([step(10), step("50"), step(100)]), "steps[1].percentage")
        expectInvalidField(yield* create([step(10), step(50)]), "steps[1].percentage")
        assert.include((yield* create([step(10), step(50)])).body.message, "100")
        expectInvalidField(yield* create([step(50), step(10), step(100)]), "steps[1].percentage")
        expectInvalidField(yield* create([step(10), step(100, -1)]), "steps[1].waitSeconds")
        expectInvalidField(yield* create([]), "steps")
        expectInvalidField(yield* create([step(100)], { slug: "Not A Slug" }), "slug")
        expectInvalidField(yield* create([step(100)], { health: { maxErrorRate: 2 } }), "health.maxErrorRate")
        expectError(yield* create([step(100)], { slug: "fast" }), 409, "slug_taken", "slug: ")

        const update = yield* unchanged(
          server,
          admin("PUT", `${base}/plans/fast`, { body: { name: "Fast", steps: [step(10), step(5), step(100)] } })
        )
        expectInvalidField(update, "steps[1].percentage")
        const fast = yield* admin("GET", `${base}/plans/fast`)
        assert.deepStrictEqual(fast.body.steps, TestTeam.fastPlan.steps)
      }).pipe(Effect.scoped))

    it.effect("workers: a bad account id or script name, an account without credentials, an unknown default plan", () =>
      Effect.gen(function*() {
        const { server, base, admin } = yield* setup(storage)
        const accountId = server.seeded.accountId
        const register = (body: unknown) => unchanged(server, admin("POST", `${base}/workers`, { body }))
        expectInvalidField(yield* register({ accountId: "not-an-account", scriptName: "api" }), "accountId")
        expectInvalidField(yield* register({ accountId: accountId.toUpperCase(), scriptName: "api" }), "accountId")
        expectInvalidField(yield* register({ accountId, scriptName: "Bad Name!" }), "scriptName")
        expectInvalidField(yield* register({ accountId, scriptName: "" }), "scriptName")
        expectInvalidField(yield* register({ accountId }), "scriptName")
        expectInvalidField(yield* register({ accountId: "f".repeat(32), scriptName: "api" }), "accountId")
        expectInvalidField(yield* register({ accountId, scriptName: "api", defaultPlanId: "nope" }), "defaultPlanId")
        // Well formed, but no such script in the account on Cloudflare: refused, naming what it has.
        const missing = yield* register({ accountId, scriptName: "no-such-script" })
        expectInvalidField(missing, "scriptName")
        assert.include(missing.body.message, server.seeded.scripts[0]!.name)
        expectInvalidField(yield* register({ accountId, scriptName: "api", healthPolicy: { minRequests: -1 } }), "healthPolicy.minRequests")
        const again = yield* register({ accountId, scriptName: server.seeded.scripts[0]!.name })
        expectError(again, 409, "worker_exists", "scriptName: ")
      }).pipe(Effect.scoped))

    it.effect("deployments: a missing versionId, wrong types, an unknown plan, a version of another Worker of the account", () =>
      Effect.gen(function*() {
        const { server, team, base } = yield* setup(storage)
        const [worker, other] = team.workers
        const create = (body: unknown) =>
          unchanged(
            server,
            server.client.request("POST", `${base}/deployments/workers/${worker!.workerId}/deployments`, { token: team.tokens.deploy, body })
          )
        expectInvalidField(yield* create({}), "versionId")
        expectInvalidField(yield* create({ versionId: "" }), "versionId")
        expectInvalidField(yield* create({ versionId: 42 }), "versionId")
        expectInvalidField(yield* create({ versionId: worker!.goodVersionId, autoAdvance: "yes" }), "autoAdvance")
        expectInvalidField(yield* create({ versionId: worker!.goodVersionId, name: "n".repeat(201) }), "name")
        expectInvalidField(yield* create({ versionId: worker!.goodVersionId, planId: "no-such-plan" }), "planId")
        expectInvalidField(yield* create({ versionId: "00000000-0000-4000-8000-000000000000" }), "versionId", "invalid_version")

        // Same account, same token, a real version, but of the other Worker: not deployable here.
        assert.notStrictEqual(other!.scriptName, worker!.scriptName)
        const foreign = yield* create({ versionId: other!.goodVersionId })
        expectInvalidField(foreign, "versionId", "invalid_version")
        assert.include(foreign.body.message, other!.goodVersionId)
        assert.include(foreign.body.message, worker!.scriptName)

        const listed = yield* server.client.request("GET", `${base}/deployments`, { token: team.tokens.deploy })
        assert.deepStrictEqual(listed.body.deployments, [])
      }).pipe(Effect.scoped))
  })

  describe(`unknown ids (${storage.name})`, () => {
    it.effect("are 404 not_found naming the id, for every kind of thing", () =>
      Effect.gen(function*() {
        const { server, base, admin } = yield* setup(storage)
        const unknownAccount = "0".repeat(32)
        const calls: ReadonlyArray<readonly [string, string, string, unknown?]> = [
          ["GET", `${base}/deployments/dep_missing`, "dep_missing"],
          ["GET", `${base}/deployments/dep_missing/preflight`, "dep_missing"],
          ["GET", `${base}/deployments/dep_missing/events`, "dep_missing"],
          ...["start", "pause", "resume", "rollback", "cancel"].map((verb) =>
            ["POST", `${base}/deployments/dep_missing/${verb}`, "dep_missing"] as const
          ),
          ["POST", `${base}/deployments/dep_missing/advance`, "dep_missing", { fromStep: 0 }],
          ["POST", `${base}/deployments/workers/wrk_missing/deployments`, "wrk_missing", { versionId: "v1" }],
          ["GET", `${base}/workers/wrk_missing`, "wrk_missing"],
          ["PATCH", `${base}/workers/wrk_missing`, "wrk_missing", { defaultPlanId: "fast" }],
          ["DELETE", `${base}/workers/wrk_missing`, "wrk_missing"],
          ["GET", `${base}/workers/wrk_missing/versions`, "wrk_missing"],
          ["GET", `${base}/workers/wrk_missing/deployment`, "wrk_missing"],
          ["GET", `${base}/plans/plan_missing`, "plan_missing"],
          ["PUT", `${base}/plans/plan_missing`, "plan_missing", { name: "X", steps: [{ percentage: 100, waitSeconds: 0 }] }],
          ["DELETE", `${base}/plans/plan_missing`, "plan_missing"],
          ["DELETE", `${base}/tokens/tok_missing`, "tok_missing"],
          ["DELETE", "/api/me/tokens/utk_missing", "utk_missing"],
          ["PATCH", `${base}/members/usr_missing`, "usr_missing", { role: "deploy" }],
          ["DELETE", `${base}/members/usr_missing`, "usr_missing"],
          ["DELETE", `${base}/invitations/inv_missing`, "inv_missing"],
          ["DELETE", `${base}/cloudflare/accounts/${unknownAccount}`, unknownAccount]
        ]
        for (const [method, path, id, body] of calls) {
          const response = yield* unchanged(server, admin(method, path, body === undefined ? {} : { body }))
          assert.strictEqual(response.status, 404, `${method} ${path}: ${JSON.stringify(response.body)}`)
          expectError(response, 404, "not_found", id)
        }
        expectError(yield* admin("GET", "/api/no-such-endpoint"), 404, "not_found", "/api/no-such-endpoint")
      }).pipe(Effect.scoped))
  })

  /** Steps the scheduler and 5 s of TestClock time until the release is `status`. */
  const runUntil = (server: TestServer.Running, path: string, token: string, status: string) =>
    Effect.gen(function*() {
      for (let round = 0; round < 200; round++) {
        const response = yield* server.client.request("GET", path, { token })
        if (response.body.status === status) return response.body
        yield* TestServer.runDue(server)
        yield* TestClock.adjust("5 seconds")
      }
      return assert.fail(`${path} never became ${status}`)
    })

  describe(`releases in the wrong state (${storage.name})`, () => {
    it.effect("starting a finished release (cancelled, completed) is 409 with the rejection code", () =>
      Effect.gen(function*() {
        const { server, team, base } = yield* setup(storage)
        const token = team.tokens.deploy
        const request = (method: string, path: string, body?: unknown) =>
          server.client.request(method, path, body === undefined ? { token } : { token, body })
        const [first, second] = team.workers

        const cancelled = yield* request("POST", `${base}/deployments/workers/${first!.workerId}/deployments`, {
          versionId: first!.goodVersionId
        })
        TestTeam.expectStatus(cancelled, 201, "create")
        TestTeam.expectStatus(yield* request("POST", `${base}/deployments/${cancelled.body.id}/cancel`, { reason: "not today" }), 200, "cancel")
        const startCancelled = yield* unchanged(server, request("POST", `${base}/deployments/${cancelled.body.id}/start`))
        expectError(startCancelled, 409, "invalid_state", "cancelled")

        const completed = yield* request("POST", `${base}/deployments/workers/${second!.workerId}/deployments`, {
          versionId: second!.goodVersionId
        })
        TestTeam.expectStatus(completed, 201, "create")
        TestTeam.expectStatus(yield* request("POST", `${base}/deployments/${completed.body.id}/start`), 200, "start")
        const done = yield* runUntil(server, `${base}/deployments/${completed.body.id}`, token, "completed")
        assert.strictEqual(done.currentPercentage, 100)
        // `advance` is left out: advancing the last step again is "already done" (200), so that a
        // double click is harmless.
        for (const verb of ["start", "pause", "resume", "rollback", "cancel"]) {
          const response = yield* unchanged(server, request("POST", `${base}/deployments/${completed.body.id}/${verb}`))
          expectError(response, 409, "invalid_state", "completed")
        }
        const after = yield* request("GET", `${base}/deployments/${completed.body.id}`)
        assert.strictEqual(after.body.status, "completed")
      }).pipe(Effect.scoped))

    it.effect("a second release of a Worker cannot start while one is in progress: 409 worker_busy", () =>
      Effect.gen(function*() {
        const { server, team, base } = yield* setup(storage)
        const token = team.tokens.deploy
        const worker = team.workers[0]!
        const create = (versionId: string) =>
          server.client.request("POST", `${base}/deployments/workers/${worker.workerId}/deployments`, { token, body: { versionId } })
        const running = yield* create(worker.goodVersionId)
        TestTeam.expectStatus(running, 201, "create the first")
        const started = yield* server.client.request("POST", `${base}/deployments/${running.body.id}/start`, { token })
        TestTeam.expectStatus(started, 200, "start the first")
        assert.strictEqual(started.body.status, "in_progress")

        const waiting = yield* create(worker.badVersionId)
        TestTeam.expectStatus(waiting, 201, "create the second (pending is allowed)")
        const busy = yield* unchanged(server, server.client.request("POST", `${base}/deployments/${waiting.body.id}/start`, { token }))
        expectError(busy, 409, "worker_busy", running.body.id)
        const still = yield* server.client.request("GET", `${base}/deployments/${waiting.body.id}`, { token })
        assert.strictEqual(still.body.status, "pending")

        // Paused holds the Worker too.
        TestTeam.expectStatus(yield* server.client.request("POST", `${base}/deployments/${running.body.id}/pause`, { token }), 200, "pause")
        const paused = yield* unchanged(server, server.client.request("POST", `${base}/deployments/${waiting.body.id}/start`, { token }))
        expectError(paused, 409, "worker_busy", "paused")
      }).pipe(Effect.scoped))
  })

  describe(`team settings (${storage.name})`, () => {
    it.effect("the last admin can be neither removed nor demoted: 409 last_admin", () =>
      Effect.gen(function*() {
        const { server, team, base, admin } = yield* setup(storage)
        const member = `${base}/members/${team.adminUserId}`
        expectError(yield* unchanged(server, admin("DELETE", member)), 409, "last_admin", team.adminUserId)
        for (const role of ["deploy", "read_only"]) {
          expectError(yield* unchanged(server, admin("PATCH", member, { body: { role } })), 409, "last_admin", "role: ")
        }
        expectInvalidField(yield* unchanged(server, admin("PATCH", member, { body: { role: "owner" } })), "role")
        const members = yield* admin("GET", `${base}/members`)
        assert.deepStrictEqual(members.body.map((entry: any) => [entry.userId, entry.role]), [[team.adminUserId, "admin"]])
      }).pipe(Effect.scoped))

    it.effect("invitations and tokens: an invalid email or role, an empty name", () =>
      Effect.gen(function*() {
        const { server, base, admin } = yield* setup(storage)
        const invite = (body: unknown) => unchanged(server, admin("POST", `${base}/invitations`, { body }))
        expectInvalidField(yield* invite({ email: "nobody", role: "deploy" }), "email")
        expectInvalidField(yield* invite({ email: "someone@example.com", role: "superuser" }), "role")
        const token = (body: unknown) => unchanged(server, admin("POST", `${base}/tokens`, { body }))
        expectInvalidField(yield* token({ name: "", role: "deploy" }), "name")
        expectInvalidField(yield* token({ name: "ci" }), "role")
        const userToken = yield* unchanged(server, admin("POST", "/api/me/tokens", { body: { name: " " } }))
        expectInvalidField(userToken, "name")
      }).pipe(Effect.scoped))
  })

  describe(`query parameters (${storage.name})`, () => {
    it.effect("unknown values are 400 naming the parameter", () =>
      Effect.gen(function*() {
        const { server, base, admin } = yield* setup(storage)
        const cases: ReadonlyArray<readonly [string, string]> = [
          [`${base}/deployments?status=bogus`, "status"],
          [`${base}/deployments?status=pending,bogus`, "status"],
          [`${base}/deployments?cursor=not-a-cursor`, "cursor"],
          [`${base}/deployments?limit=0`, "limit"],
          [`${base}/deployments?limit=201`, "limit"],
          [`${base}/deployments?limit=ten`, "limit"],
          [`${base}/audit?type=Bogus`, "type"],
          [`${base}/audit?cursor=not-a-cursor`, "cursor"],
          [`${base}/audit?limit=0`, "limit"],
          [`${base}/audit?limit=-3`, "limit"],
          [`${base}/audit?from=yesterday`, "from"],
          [`${base}/audit?to=2026-13-45`, "to"],
          [`${base}/audit?actor=somebody`, "actor"]
        ]
        for (const [path, field] of cases) expectInvalidField(yield* unchanged(server, admin("GET", path)), field)
      }).pipe(Effect.scoped))
  })
}
