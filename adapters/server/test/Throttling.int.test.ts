/**
 * Log-in cannot be turned against people, over HTTP on the real server: guesses from one address
 * get growing waits (429 with `Retry-After`, never a lock-out) while the person logs in from
 * elsewhere; our own 503s count for nothing; two servers on one database count together; and
 * `X-Forwarded-For` names the client only when the peer is a trusted proxy. Clients are told apart
 * by their real source address (127.0.0.2, 127.0.0.3, … on loopback).
 */
import * as TestDatabase from "@canaryroll/postgres/test-database"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Result } from "effect"
import { SqlClient } from "effect/sql"
import { TestClock } from "effect/testing"
import * as ClientAddress from "../src/security/ClientAddress.ts"
import * as LoginThrottle from "../src/security/LoginThrottle.ts"
import * as FromAddress from "./support/FromAddress.ts"
import * as TestServer from "./support/TestServer.ts"
import * as TestTeam from "./support/TestTeam.ts"

const database = TestDatabase.forFile()

const password = "correct horse battery staple"

const logIn = (client: TestServer.Client, email: string, guess: string, headers?: Record<string, string>) =>
  client.request("POST", "/api/auth/login", { body: { email, password: guess }, ...(headers === undefined ? {} : { headers }) })

const expectWait = (response: TestServer.Response, seconds: number, what: string) => {
  TestTeam.expectStatus(response, 429, what)
  assert.strictEqual(response.body.error, "too_many_attempts")
  assert.strictEqual(response.headers.get("retry-after"), String(seconds), `${what}: Retry-After`)
  assert.include(response.body.message, `try again in ${seconds} second`)
  assert.notMatch(response.body.message, /lock/i)
}

/** The production rule: five free failures per account, then 1 s, 2 s, 4 s, … */
const free = LoginThrottle.defaults.account.freeFailures

describe("log-in throttle", () => {
  it.effect("guesses from one address get growing waits; the person logs in from another address meanwhile", () =>
    Effect.gen(function*() {
      const server = yield* TestServer.start(database)
      yield* TestTeam.signUp(server, "ada@example.com")
      const attacker = FromAddress.client(server, "127.0.0.2")
      const ada = FromAddress.client(server, "127.0.0.3")
      for (let n = 0; n < free; n++) TestTeam.expectStatus(yield* logIn(attacker, "ada@example.com", `guess ${n}`), 401, "a free guess")
      for (const seconds of [1, 2, 4, 8]) {
        expectWait(yield* logIn(attacker, "ada@example.com", "another guess"), seconds, "the next guess waits")
        // Waiting out the delay buys exactly one more guess.
        yield* TestClock.adjust(seconds * 1000)
        TestTeam.expectStatus(yield* logIn(attacker, "ada@example.com", `after ${seconds} s`), 401, "a guess after the wait")
      }
      // Even the right password waits there: a 429 tells the guesser nothing.
      expectWait(yield* logIn(attacker, "ada@example.com", password), 16, "the right password from the guessing address")
      // Ada, from her own address, is not delayed at all.
      TestTeam.expectStatus(yield* logIn(ada, "ada@example.com", password), 200, "Ada from another address")
      TestTeam.expectStatus(yield* logIn(ada, "ada@example.com", password), 200, "and again")
    }).pipe(Effect.scoped))

  it.effect("a 503 (the database failing under the request) counts for nothing", () =>
    Effect.gen(function*() {
      const server = yield* TestServer.start(database)
      yield* TestTeam.signUp(server, "bo@example.com")
      const sql = yield* SqlClient.SqlClient.pipe(Effect.provideContext(server.context))
      const client = FromAddress.client(server, "127.0.0.2")
      // The accounts table goes away; the throttle's own table stays.
      yield* sql`ALTER TABLE users RENAME TO users_away`
      for (let n = 0; n < 3 * free; n++) {
        const response = yield* logIn(client, "bo@example.com", `attempt ${n}`)
        TestTeam.expectStatus(response, 503, "storage down")
        assert.strictEqual(response.body.error, "unavailable")
      }
      yield* sql`ALTER TABLE users_away RENAME TO users`
      // None of them counted: every free failure is still there, then the right password works.
      for (let n = 0; n < free; n++) TestTeam.expectStatus(yield* logIn(client, "bo@example.com", `guess ${n}`), 401, "still free")
      expectWait(yield* logIn(client, "bo@example.com", password), 1, "the sixth attempt waits")
    }).pipe(Effect.scoped))

  it.effect("two servers on one database count the same failures", () =>
    Effect.gen(function*() {
      const first = yield* TestServer.start(database, { schema: "two_servers" })
      const second = yield* TestServer.start(database, { schema: "two_servers" })
      yield* TestTeam.signUp(first, "cy@example.com")
      const onFirst = FromAddress.client(first, "127.0.0.2")
      const onSecond = FromAddress.client(second, "127.0.0.2")
      for (let n = 0; n < free; n++) {
        TestTeam.expectStatus(yield* logIn(n % 2 === 0 ? onFirst : onSecond, "cy@example.com", `guess ${n}`), 401, "a free guess")
      }
      expectWait(yield* logIn(onSecond, "cy@example.com", "guess"), 1, "the second server knows the first's failures")
      expectWait(yield* logIn(onFirst, "cy@example.com", "guess"), 1, "and the first the second's")
      TestTeam.expectStatus(yield* logIn(FromAddress.client(second, "127.0.0.3"), "cy@example.com", password), 200, "Cy elsewhere")
    }).pipe(Effect.scoped))

  it.effect("X-Forwarded-For names the client only when the peer is a trusted proxy", () =>
    Effect.gen(function*() {
      const trustedProxies = Result.getOrThrow(ClientAddress.parseTrustedProxies("127.0.0.2/32"))
      const server = yield* TestServer.start(database, { config: { trustedProxies } })
      yield* TestTeam.signUp(server, "di@example.com")
      const proxy = FromAddress.client(server, "127.0.0.2")
      const forwarded = (client: string) => ({ "x-forwarded-for": client })
      // Through the proxy: the attacker at 203.0.113.5 waits, Di at 203.0.113.6 does not.
      for (let n = 0; n < free; n++) {
        TestTeam.expectStatus(yield* logIn(proxy, "di@example.com", `guess ${n}`, forwarded("203.0.113.5")), 401, "a free guess")
      }
      expectWait(yield* logIn(proxy, "di@example.com", "guess", forwarded("203.0.113.5")), 1, "the attacker, behind the proxy")
      // A client cannot choose its address by prepending to the header: the proxy appends the real one.
      expectWait(yield* logIn(proxy, "di@example.com", "guess", forwarded("198.51.100.1, 203.0.113.5")), 1, "a spoofed entry")
      TestTeam.expectStatus(yield* logIn(proxy, "di@example.com", password, forwarded("203.0.113.6")), 200, "Di, behind the proxy")
      // From a peer that is not a trusted proxy the header is ignored: every guess is the peer's.
      const direct = FromAddress.client(server, "127.0.0.3")
      for (let n = 0; n < free; n++) {
        TestTeam.expectStatus(yield* logIn(direct, "di@example.com", `guess ${n}`, forwarded(`192.0.2.${n}`)), 401, "a free guess")
      }
      expectWait(yield* logIn(direct, "di@example.com", "guess", forwarded("192.0.2.99")), 1, "a fresh header changes nothing")
    }).pipe(Effect.scoped))

  it("reads CANARYROLL_TRUSTED_PROXIES: addresses and networks, or says which entry it cannot read", () => {
    const parsed = Result.getOrThrow(ClientAddress.parseTrustedProxies("10.0.0.0/8, 192.0.2.7 2001:db8::/32"))
    assert.strictEqual(parsed.length, 3)
    assert.deepStrictEqual(Result.getOrThrow(ClientAddress.parseTrustedProxies("")), [])
    const refused = ClientAddress.parseTrustedProxies("10.0.0.0/8, proxy.internal")
    assert.isTrue(Result.isFailure(refused))
    assert.include(Result.isFailure(refused) ? refused.failure : "", `"proxy.internal" is not an IP address`)
  })
})
