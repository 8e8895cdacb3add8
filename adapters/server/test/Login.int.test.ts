/**
 * Log-in over HTTP: the session cookie's attributes and log-out ending the session, and a
 * token's last use, as the token list shows it. Password guessing is slowed down without
 * locking anyone out: Throttling.int.test.ts.
 */
import * as TestDatabase from "@canaryroll/postgres/test-database"
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { TestClock } from "effect/testing"
import * as TestServer from "./support/TestServer.ts"
import * as TestTeam from "./support/TestTeam.ts"

const database = TestDatabase.forFile()

const password = "correct horse battery staple"

describe("log-in", () => {
  it.effect("sets a secure HttpOnly session cookie, and log-out ends the session", () =>
    Effect.gen(function*() {
      const server = yield* TestServer.start(database)
      yield* TestTeam.signUp(server, "ada@example.com")
      const login = yield* server.client.request("POST", "/api/auth/login", { body: { email: "ADA@example.com", password } })
      TestTeam.expectStatus(login, 200, "log in (email case does not matter)")
      const cookie = login.headers.get("set-cookie") ?? ""
      assert.match(cookie, /^canaryroll_session=[A-Za-z0-9_-]{43};/)
      for (const attribute of ["HttpOnly", "Secure", "SameSite=Strict", "Path=/"]) assert.include(cookie, attribute)
      const session = TestTeam.cookieOf(login)
      TestTeam.expectStatus(yield* server.client.request("GET", "/api/me", { cookie: session }), 200, "me")
      TestTeam.expectStatus(yield* server.client.request("POST", "/api/auth/logout", { cookie: session }), 204, "log out")
      const after = yield* server.client.request("GET", "/api/me", { cookie: session })
      TestTeam.expectStatus(after, 401, "the ended session")
    }).pipe(Effect.scoped))

  it.effect("a team token's last use is stamped, to the minute", () =>
    Effect.gen(function*() {
      const server = yield* TestServer.start(database)
      const team = yield* TestTeam.create(server)
      const lastUse = Effect.map(
        server.client.request("GET", `/api/teams/${team.slug}/tokens`, { cookie: team.adminCookie }),
        (response) => response.body.find((token: any) => token.id === team.tokenIds.read_only).lastUsedAt
      )
      assert.isNull(yield* lastUse, "never used")
      const use = server.client.request("GET", `/api/teams/${team.slug}`, { token: team.tokens.read_only })
      TestTeam.expectStatus(yield* use, 200, "use")
      assert.strictEqual(yield* lastUse, new Date(TestServer.t0).toISOString())
      yield* TestClock.adjust("30 seconds")
      yield* use
      assert.strictEqual(yield* lastUse, new Date(TestServer.t0).toISOString(), "not rewritten within the minute")
      yield* TestClock.adjust("31 seconds")
      yield* use
      assert.strictEqual(yield* lastUse, new Date(TestServer.t0 + 61_000).toISOString())
    }).pipe(Effect.scoped))
})
