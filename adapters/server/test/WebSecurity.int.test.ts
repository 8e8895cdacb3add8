/**
 * The web-facing security rules (issue 13, items 1, 3 and 6), over real HTTP against a whole
 * server on real Postgres:
 *
 * - No stored XSS: a URL a person gives is `https:`/`http:` or refused (400 naming the field,
 *   nothing stored); a bad URL already stored is shown as text, never as a link (the release page's
 *   own scripts run against the API, see support/PageHarness.ts); every HTML answer carries a
 *   Content-Security-Policy without `'unsafe-inline'`, and any inline script it holds is allowed by
 *   its hash.
 * - CSRF beyond SameSite: with the session cookie, a request that changes something from another
 *   origin (a page on another localhost port) is refused (403 `cross_origin`) and changes nothing;
 *   the same from the server's own origin works; a bearer token works from anywhere; a body that
 *   is not JSON is 415; a log-in from another origin is refused.
 * - Bad input is a 4xx: a NUL character in any string is 400 naming the field (it was a 503 from
 *   Postgres), and a method a path does not have is 405 with `Allow`.
 */
import { assert, describe, it } from "@effect/vitest"
import * as TestDatabase from "@canaryroll/postgres/test-database"
import { Context, Effect } from "effect"
import { SqlClient } from "effect/sql"
import { createHash } from "node:crypto"
import * as http from "node:http"
import * as net from "node:net"
import * as Server from "../src/Server.ts"
import * as PageHarness from "./support/PageHarness.ts"
import * as Tables from "./support/Tables.ts"
import * as TestServer from "./support/TestServer.ts"
import * as TestTeam from "./support/TestTeam.ts"

const database = TestDatabase.forFile()

/** The test server's public URL (support/TestServer.ts): the only origin its pages have. */
const publicOrigin = "http://canaryroll.test"

const expectError = (response: TestServer.Response, status: number, error: string, mentions?: string) => {
  const what = `${response.status} ${JSON.stringify(response.body)}`
  assert.strictEqual(response.status, status, what)
  assert.include(response.headers.get("content-type") ?? "", "application/json", what)
  assert.deepStrictEqual(Object.keys(response.body ?? {}).sort(), ["error", "message"], what)
  assert.strictEqual(response.body.error, error, what)
  if (mentions !== undefined) assert.include(response.body.message, mentions, what)
}

/** Runs `request` and checks that every row of every table is as it was. */
const unchanged = <A>(server: TestServer.PostgresRunning, request: Effect.Effect<A>) =>
  Effect.gen(function*() {
    const strip = (tables: Readonly<Record<string, ReadonlyArray<string>>>) =>
      Object.fromEntries(Object.entries(tables).map(([table, rows]) => [
        table,
        rows.map((row) => {
          const { last_used_at: _lastUse, ...rest } = JSON.parse(row)
          return JSON.stringify(rest)
        })
      ]))
    const before = strip(yield* Tables.dump(server))
    const result = yield* request
    const after = strip(yield* Tables.dump(server))
    for (const table of Object.keys(before)) assert.deepStrictEqual(after[table], before[table], `the table ${table} changed`)
    return result
  })

const setup = Effect.gen(function*() {
  const server = yield* TestServer.start(database)
  const team = yield* TestTeam.create(server)
  return { server, team, base: `/api/teams/${team.slug}` }
})

/** A page server on another localhost port, as an attacker's page would be: its origin. */
const otherPortOrigin = Effect.acquireRelease(
  Effect.promise(() =>
    new Promise<http.Server>((resolve) => {
      const server = http.createServer((_request, response) => response.end("<!doctype html><p>another app</p>"))
      server.listen(0, "127.0.0.1", () => resolve(server))
    })
  ),
  (server) => Effect.promise(() => new Promise<void>((resolve) => server.close(() => resolve())))
).pipe(Effect.map((server) => `http://localhost:${(server.address() as { port: number }).port}`))

describe("no stored XSS", () => {
  it.effect("a ticketUrl that is not https: or http: is 400 naming ticketUrl, and nothing is created", () =>
    Effect.gen(function*() {
      const { server, team, base } = yield* setup
      const worker = team.workers[0]!
      const create = (ticketUrl: unknown) =>
        server.client.request("POST", `${base}/deployments/workers/${worker.workerId}/deployments`, {
          token: team.tokens.deploy,
          body: { versionId: worker.goodVersionId, ticketUrl }
        })
      for (
        const ticketUrl of [
          "javascript:alert(document.cookie)",
          " JavaScript:fetch('/api/me/tokens',{method:'POST'})",
          "data:text/html,<script>alert(1)</script>",
          "vbscript:msgbox(1)",
          "/relative/path",
          "tickets.example/T-1"
        ]
      ) {
        const refused = yield* unchanged(server, create(ticketUrl))
        expectError(refused, 400, "invalid_request", "ticketUrl: ")
      }
      const listed = yield* server.client.request("GET", `${base}/deployments`, { token: team.tokens.deploy })
      assert.deepStrictEqual(listed.body.deployments, [], "a refused release was stored")

      const accepted = yield* create("https://tickets.example/T-1?x=1")
      TestTeam.expectStatus(accepted, 201, "an https ticket URL")
      assert.strictEqual(accepted.body.ticketUrl, "https://tickets.example/T-1?x=1")
    }).pipe(Effect.scoped))

  it.effect("every HTML answer has a strict CSP: no 'unsafe-inline', every inline script allowed by its hash", () =>
    Effect.gen(function*() {
      const { server } = yield* setup
      for (const path of ["/teams/acme/deployments/dep_123", "/invitations/accept?token=cri_x", "/api/docs"]) {
        const page = yield* server.client.request("GET", path)
        assert.strictEqual(page.status, 200, path)
        assert.include(page.headers.get("content-type") ?? "", "text/html", path)
        const policy = page.headers.get("content-security-policy") ?? ""
        assert.include(policy, "default-src 'none'", `${path}: ${policy}`)
        assert.notInclude(policy, "unsafe-inline", `${path}: ${policy}`)
        assert.notInclude(policy, "unsafe-eval", `${path}: ${policy}`)
        assert.notInclude(policy, "*", `${path}: ${policy}`)
        assert.strictEqual(page.headers.get("x-content-type-options"), "nosniff", path)
        const directive = (name: string) => policy.split(";").map((part) => part.trim()).find((part) => part.startsWith(`${name} `)) ?? ""
        const html = String(page.body)
        for (const match of html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script\s*>/gi)) {
          const attributes = match[1] ?? ""
          if (/\bsrc\s*=/i.test(attributes) || /type\s*=\s*"application\/json"/i.test(attributes)) continue
          const hash = `'sha256-${createHash("sha256").update(match[2] ?? "", "utf8").digest("base64")}'`
          assert.include(directive("script-src"), hash, `${path}: an inline script without its hash in the policy`)
        }
        for (const match of html.matchAll(/<style\b[^>]*>([\s\S]*?)<\/style\s*>/gi)) {
          const hash = `'sha256-${createHash("sha256").update(match[1] ?? "", "utf8").digest("base64")}'`
          assert.include(directive("style-src"), hash, `${path}: an inline style without its hash in the policy`)
        }
        // The pages themselves hold no inline code at all: scripts and styles are files from 'self'.
        if (!path.startsWith("/api/")) {
          assert.notMatch(html, /<script(?![^>]*\bsrc=)[^>]*>/i, `${path} has an inline script`)
          assert.notMatch(html, /<style\b|\sstyle=/i, `${path} has an inline style`)
          assert.include(directive("script-src"), "'self'", path)
          for (const src of Array.from(html.matchAll(/(?:src|href)="(\/assets\/[^"]+)"/g), (found) => found[1]!)) {
            const file = yield* server.client.request("GET", src)
            assert.strictEqual(file.status, 200, src)
            assert.match(file.headers.get("content-type") ?? "", src.endsWith(".css") ? /^text\/css/ : /^text\/javascript/, src)
            assert.strictEqual(file.headers.get("x-content-type-options"), "nosniff", src)
          }
        }
      }
    }).pipe(Effect.scoped))

  it.effect("a javascript: ticketUrl already stored (an old row) is shown on the release page as text, not as a link", () =>
    Effect.gen(function*() {
      const { server, team, base } = yield* setup
      const worker = team.workers[0]!
      const created = yield* server.client.request("POST", `${base}/deployments/workers/${worker.workerId}/deployments`, {
        token: team.tokens.deploy,
        body: { versionId: worker.goodVersionId, ticketUrl: "https://tickets.example/T-1" }
      })
      TestTeam.expectStatus(created, 201, "create")
      const id: string = created.body.id
      // What a row written before the check holds: the release's creation event and its summary.
      const evil = "javascript:fetch('/api/me/tokens',{method:'POST'})"
      const sql = Context.get(server.context, SqlClient.SqlClient)
      yield* sql`UPDATE events SET data = jsonb_set(data, '{ticketUrl}', to_jsonb(${evil}::text))
        WHERE stream_id LIKE ${`%${id}%`} AND data ? 'ticketUrl'`.pipe(Effect.orDie)
      yield* sql`UPDATE release_summaries SET summary = jsonb_set(summary, '{ticketUrl}', to_jsonb(${evil}::text))
        WHERE release_id = ${id}`.pipe(Effect.orDie)
      const stored = yield* server.client.request("GET", `${base}/deployments/${id}`, { token: team.tokens.deploy })
      assert.strictEqual(stored.body.ticketUrl, evil, "the API reports what is stored")

      const page = yield* PageHarness.render(server.url, `/teams/${team.slug}/deployments/${id}`, team.adminCookie)
      assert.include(page.text, created.body.cfVersionId, `the page did not render: ${page.text}`)
      for (const link of page.links) {
        assert.match(link.href ?? "", /^https?:\/\//, `the page made a link to ${JSON.stringify(link.href)}`)
      }
      assert.include(page.text, evil, "the stored URL is shown, as text")
      assert.notInclude(page.scripts, "inline", "the page ran inline script")

      // A good stored URL is still a link.
      yield* sql`UPDATE release_summaries SET summary = jsonb_set(summary, '{ticketUrl}', to_jsonb(${"https://tickets.example/T-2"}::text))
        WHERE release_id = ${id}`.pipe(Effect.orDie)
      const good = yield* PageHarness.render(server.url, `/teams/${team.slug}/deployments/${id}`, team.adminCookie)
      assert.deepStrictEqual(good.links.map((link) => link.href), ["https://tickets.example/T-2"])
    }).pipe(Effect.scoped))
})

describe("CSRF beyond SameSite", () => {
  it.effect("with the session cookie, a change from another localhost port is 403 and changes nothing", () =>
    Effect.gen(function*() {
      const { server, team, base } = yield* setup
      const foreign = yield* otherPortOrigin
      const plan = { slug: "csrf", name: "CSRF", steps: [{ percentage: 100, waitSeconds: 0 }] }
      const attempts: ReadonlyArray<readonly [string, string, unknown]> = [
        ["POST", `${base}/plans`, plan],
        ["PATCH", base, { name: "Owned" }],
        ["POST", `${base}/tokens`, { name: "stolen", role: "admin" }],
        ["DELETE", `${base}/tokens/${team.tokenIds.deploy}`, undefined],
        ["POST", "/api/me/tokens", { name: "stolen" }],
        ["POST", "/api/auth/logout", undefined]
      ]
      for (const [method, path, body] of attempts) {
        for (const headers of [{ origin: foreign }, { referer: `${foreign}/attack.html` }, { origin: "null" }]) {
          const response = yield* unchanged(
            server,
            server.client.request(method, path, { cookie: team.adminCookie, headers, ...(body === undefined ? {} : { body }) })
          )
          expectError(response, 403, "cross_origin", publicOrigin)
        }
      }
      // The session still works: the refused log-out did not end it.
      TestTeam.expectStatus(yield* server.client.request("GET", "/api/me", { cookie: team.adminCookie }), 200, "the session")
    }).pipe(Effect.scoped))

  it.effect("the same requests from the server's own origin work; a bearer token works from any origin", () =>
    Effect.gen(function*() {
      const { server, team, base } = yield* setup
      const foreign = yield* otherPortOrigin
      const own = { origin: publicOrigin }
      const plan = { slug: "own", name: "Own", steps: [{ percentage: 100, waitSeconds: 0 }] }
      const created = yield* server.client.request("POST", `${base}/plans`, { cookie: team.adminCookie, headers: own, body: plan })
      TestTeam.expectStatus(created, 201, "a plan from the server's own page")
      const referred = yield* server.client.request("PATCH", base, {
        cookie: team.adminCookie,
        headers: { referer: `${publicOrigin}/teams/${team.slug}/deployments/x` },
        body: { name: "Renamed" }
      })
      TestTeam.expectStatus(referred, 200, "a change whose Referer is the server's page")
      assert.strictEqual(referred.body.name, "Renamed")

      const withToken = yield* server.client.request("POST", `${base}/plans`, {
        token: team.tokens.admin,
        headers: { origin: foreign },
        body: { ...plan, slug: "token" }
      })
      TestTeam.expectStatus(withToken, 201, "a bearer token with a foreign Origin")
      const removed = yield* server.client.request("DELETE", `${base}/plans/token`, { token: team.tokens.admin, headers: { origin: foreign } })
      TestTeam.expectStatus(removed, 204, "a bearer DELETE with a foreign Origin")

      // A script with the cookie and no Origin or Referer is not a browser: not forged.
      const scripted = yield* server.client.request("PATCH", base, { cookie: team.adminCookie, body: { name: "Scripted" } })
      TestTeam.expectStatus(scripted, 200, "a cookie without Origin or Referer")
    }).pipe(Effect.scoped))

  it.effect("with the session cookie a body must be JSON (415), even from the server's own origin", () =>
    Effect.gen(function*() {
      const { server, team, base } = yield* setup
      for (const contentType of ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"]) {
        for (const [method, path] of [["POST", `${base}/deployments/dep_x/pause`], ["POST", "/api/auth/logout"], ["PATCH", base]] as const) {
          const response = yield* unchanged(
            server,
            server.client.request(method, path, {
              cookie: team.adminCookie,
              raw: JSON.stringify({ name: "Form" }),
              headers: { origin: publicOrigin, "content-type": contentType }
            })
          )
          expectError(response, 415, "unsupported_media_type", "application/json")
        }
      }
      // No body at all is fine (the page's action buttons send none).
      const logout = yield* server.client.request("POST", "/api/auth/logout", { cookie: team.adminCookie, headers: { origin: publicOrigin } })
      TestTeam.expectStatus(logout, 204, "a log-out without a body")
    }).pipe(Effect.scoped))

  it.effect("a log-in or sign-up from another origin is refused (login CSRF); from the server's own origin it works", () =>
    Effect.gen(function*() {
      const { server, team } = yield* setup
      const foreign = yield* otherPortOrigin
      const credentials = { email: team.adminEmail, password: "correct horse battery staple" }
      const forged = yield* unchanged(server, server.client.request("POST", "/api/auth/login", { body: credentials, headers: { origin: foreign } }))
      expectError(forged, 403, "cross_origin")
      assert.isNull(forged.headers.get("set-cookie"), "a forged log-in set a session")
      const signup = yield* unchanged(
        server,
        server.client.request("POST", "/api/auth/signup", {
          body: { email: "new@example.com", name: "New", password: "correct horse battery staple" },
          headers: { origin: foreign }
        })
      )
      expectError(signup, 403, "cross_origin")

      const own = yield* server.client.request("POST", "/api/auth/login", { body: credentials, headers: { origin: publicOrigin } })
      TestTeam.expectStatus(own, 200, "a log-in from the server's own page")
      assert.include(own.headers.get("set-cookie") ?? "", "canaryroll_session=")
    }).pipe(Effect.scoped))
})

describe("bad input is a 4xx, never an outage", () => {
  it.effect("a NUL character in a string field is 400 naming the field, and changes nothing", () =>
    Effect.gen(function*() {
      const { server, team, base } = yield* setup
      const worker = team.workers[0]!
      const admin = (method: string, path: string, body?: unknown) =>
        server.client.request(method, path, { cookie: team.adminCookie, ...(body === undefined ? {} : { body }) })
      const release = yield* admin("POST", `${base}/deployments/workers/${worker.workerId}/deployments`, { versionId: worker.goodVersionId })
      TestTeam.expectStatus(release, 201, "create a release")
      const nul = "bad\u0000name"
      const cases: ReadonlyArray<readonly [string, string, unknown, string]> = [
        ["PATCH", base, { name: nul }, "name"],
        ["POST", "/api/teams", { name: nul, slug: "nul" }, "name"],
        ["POST", `${base}/plans`, { slug: "nul", name: nul, steps: [{ percentage: 100, waitSeconds: 0 }] }, "name"],
        ["PUT", `${base}/plans/fast`, { name: nul, steps: [{ percentage: 100, waitSeconds: 0 }] }, "name"],
        ["POST", `${base}/deployments/workers/${worker.workerId}/deployments`, { versionId: worker.goodVersionId, name: nul }, "name"],
        ["POST", `${base}/deployments/workers/${worker.workerId}/deployments`, { versionId: nul }, "versionId"],
        ["POST", `${base}/deployments/${release.body.id}/cancel`, { reason: nul }, "reason"],
        ["POST", `${base}/deployments/${release.body.id}/pause`, { reason: `stop${"\u0000"}` }, "reason"],
        ["POST", `${base}/tokens`, { name: nul, role: "deploy" }, "name"],
        ["POST", `${base}/invitations`, { email: `a${"\u0000"}@example.com`, role: "deploy" }, "email"],
        ["POST", `${base}/notifications/channels`, { name: nul, kind: "webhook", url: "https://hooks.example/x", events: ["release.started"] }, "name"],
        ["GET", `${base}/deployments?workerId=${encodeURIComponent(nul)}`, undefined, "workerId"],
        ["GET", `/api/teams/${encodeURIComponent(nul)}/plans`, undefined, "team"],
        ["GET", `${base}/plans/${encodeURIComponent(nul)}`, undefined, "plan"]
      ]
      for (const [method, path, body, field] of cases) {
        const response = yield* unchanged(server, admin(method, path, body))
        expectError(response, 400, "invalid_request", `${field}: `)
        assert.include(response.body.message, "NUL", `${method} ${path}`)
      }
      // A raw NUL in the request line never reaches the application (so only a `%00` in the URL
      // can put NUL in a path or query parameter, which the check relies on): Node answers 400.
      const rawLine = yield* Effect.promise(() =>
        new Promise<string>((resolve, reject) => {
          const socket = net.connect(Number(new URL(server.url).port), "127.0.0.1", () =>
            socket.write(`GET /api/teams/a\u0000b/plans HTTP/1.1\r\nHost: localhost\r\n\r\n`))
          socket.once("data", (data) => {
            resolve(data.toString("latin1").split("\r\n")[0]!)
            socket.destroy()
          })
          socket.once("error", reject)
        })
      )
      assert.strictEqual(rawLine, "HTTP/1.1 400 Bad Request")
      // Before signing in, too: the log-in's email reaches the database.
      const login = yield* unchanged(
        server,
        server.client.request("POST", "/api/auth/login", { body: { email: `admin${"\u0000"}@acme.example`, password: "x" } })
      )
      expectError(login, 400, "invalid_request", "email: ")
      const signup = yield* unchanged(
        server,
        server.client.request("POST", "/api/auth/signup", { body: { email: "nul@example.com", name: nul, password: "correct horse battery staple" } })
      )
      expectError(signup, 400, "invalid_request", "name: ")
      const still = yield* admin("GET", `${base}/deployments/${release.body.id}`)
      assert.strictEqual(still.body.status, "pending")
    }).pipe(Effect.scoped))

  it.effect("Postgres refusing text it cannot store is recognised (the middleware's 400 safety net, never a 503)", () =>
    Effect.gen(function*() {
      const { server } = yield* setup
      const sql = Context.get(server.context, SqlClient.SqlClient)
      const text = yield* Effect.flip(sql`SELECT ${"a\u0000b"}::text AS value`)
      assert.isTrue(Server.isUnstorableText(text), `not recognised: ${String(text)}`)
      const json = yield* Effect.flip(sql`SELECT ${'{"a":"\\u0000"}'}::jsonb->>'a' AS value`)
      assert.isTrue(Server.isUnstorableText(json), `not recognised: ${String(json)}`)
      const other = yield* Effect.flip(sql`SELECT 1/0 AS value`)
      assert.isFalse(Server.isUnstorableText(other), "a division by zero is not unstorable text")
    }).pipe(Effect.scoped))

  it.effect("a method a path does not have is 405 with Allow, built from the API's definition; an unknown path stays 404", () =>
    Effect.gen(function*() {
      const { server, team, base } = yield* setup
      const admin = (method: string, path: string) => server.client.request(method, path, { cookie: team.adminCookie })
      const cases: ReadonlyArray<readonly [string, string, string]> = [
        ["DELETE", "/api/health", "GET, HEAD"],
        ["DELETE", `${base}/deployments/dep_x/events`, "GET, HEAD"],
        ["PUT", `${base}/deployments/dep_x/preflight`, "GET, HEAD"],
        ["DELETE", `${base}/audit`, "GET, HEAD"],
        ["PUT", `${base}/plans`, "GET, HEAD, POST"],
        ["POST", base, "GET, HEAD, PATCH"],
        ["GET", `${base}/deployments/dep_x/start`, "POST"],
        ["GET", "/api/auth/login", "POST"],
        ["DELETE", "/api/openapi.json", "GET, HEAD"],
        ["POST", "/api/docs", "GET, HEAD"],
        ["DELETE", `/teams/${team.slug}/deployments/dep_x`, "GET, HEAD"],
        ["PUT", "/assets/release.js", "GET, HEAD"]
      ]
      for (const [method, path, allow] of cases) {
        const response = yield* unchanged(server, admin(method, path))
        expectError(response, 405, "method_not_allowed", method)
        assert.strictEqual(response.headers.get("allow"), allow, `${method} ${path}`)
      }
      expectError(yield* admin("DELETE", "/api/no-such-endpoint"), 404, "not_found")
      expectError(yield* admin("GET", `${base}/deployments/dep_x/nothing`), 404, "not_found")
    }).pipe(Effect.scoped))
})
