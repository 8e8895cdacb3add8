/**
 * Sign-up over HTTP: throttled per client address (429 with `Retry-After`, other addresses
 * unaffected; an invitation is not throttled), and closed with `signup: "invite-only"`: refused
 * (403, saying how to get in) without an invitation, accepted with one, which the new account
 * joins. The first admin of such a server comes from `AdminAccount.create` (`canaryroll admin
 * create`, tested in the CLI).
 */
import * as TestDatabase from "@canaryroll/postgres/test-database"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Redacted } from "effect"
import * as AdminAccount from "../src/AdminAccount.ts"
import * as LoginThrottle from "../src/security/LoginThrottle.ts"
import * as PasswordHash from "../src/security/PasswordHash.ts"
import * as FromAddress from "./support/FromAddress.ts"
import * as TestServer from "./support/TestServer.ts"
import * as TestTeam from "./support/TestTeam.ts"

const database = TestDatabase.forFile()

const password = "correct horse battery staple"

const signUp = (client: TestServer.Client, email: string, invitationToken?: string) =>
  client.request("POST", "/api/auth/signup", {
    body: { email, name: email.split("@")[0], password, ...(invitationToken === undefined ? {} : { invitationToken }) }
  })

/** An invite-only server with its first admin (made as `canaryroll admin create` does) signed in. */
const inviteOnly = Effect.gen(function*() {
  const server = yield* TestServer.start(database, { config: { signup: "invite-only" } })
  yield* AdminAccount.create(
    { email: "root@example.com", name: "Root", password: Redacted.make(password), teamSlug: "ops", teamName: "Ops" },
    PasswordHash.testParameters
  ).pipe(Effect.provideContext(server.context))
  const login = yield* server.client.request("POST", "/api/auth/login", { body: { email: "root@example.com", password } })
  TestTeam.expectStatus(login, 200, "the first admin logs in")
  const adminCookie = TestTeam.cookieOf(login)
  const invite = (email: string) =>
    Effect.map(
      server.client.request("POST", "/api/teams/ops/invitations", { cookie: adminCookie, body: { email, role: "deploy" } }),
      (response) => {
        TestTeam.expectStatus(response, 201, `invite ${email}`)
        return response.body.token as string
      }
    )
  return { server, adminCookie, invite }
})

describe("sign-up", () => {
  it.effect("invite-only: refused without an invitation, accepted with one, which the account joins", () =>
    Effect.gen(function*() {
      const { invite, server } = yield* inviteOnly
      const refused = yield* signUp(server.client, "eve@example.com")
      TestTeam.expectStatus(refused, 403, "no invitation")
      assert.strictEqual(refused.body.error, "signup_invite_only")
      assert.include(refused.body.message, "by invitation only")
      const token = yield* invite("fay@example.com")
      const forSomeoneElse = yield* signUp(server.client, "eve@example.com", token)
      TestTeam.expectStatus(forSomeoneElse, 403, "someone else's invitation")
      assert.include(forSomeoneElse.body.message, "the invitation is for fay@example.com")
      TestTeam.expectStatus(yield* signUp(server.client, "eve@example.com", "cri_not-a-real-one"), 403, "a made-up token")
      const accepted = yield* signUp(server.client, "Fay@example.com", token)
      TestTeam.expectStatus(accepted, 201, "with the invitation")
      const me = yield* server.client.request("GET", "/api/me", { cookie: TestTeam.cookieOf(accepted) })
      TestTeam.expectStatus(me, 200, "me")
      assert.deepStrictEqual(me.body.teams.map((team: any) => [team.slug, team.role]), [["ops", "deploy"]])
      const again = yield* signUp(server.client, "fay2@example.com", token)
      TestTeam.expectStatus(again, 403, "an invitation is used once")
      // Nothing was created by the refusals.
      const eve = yield* server.client.request("POST", "/api/auth/login", { body: { email: "eve@example.com", password } })
      TestTeam.expectStatus(eve, 401, "no account for eve")
    }).pipe(Effect.scoped))

  it.effect("open sign-up takes an invitation too: the new account joins its team", () =>
    Effect.gen(function*() {
      const server = yield* TestServer.start(database)
      const team = yield* TestTeam.create(server, "acme")
      const invitation = yield* server.client.request("POST", "/api/teams/acme/invitations", {
        cookie: team.adminCookie,
        body: { email: "gus@example.com", role: "read_only" }
      })
      TestTeam.expectStatus(invitation, 201, "invite")
      const joined = yield* signUp(server.client, "gus@example.com", invitation.body.token)
      TestTeam.expectStatus(joined, 201, "sign up with the invitation")
      const teams = yield* server.client.request("GET", "/api/teams", { cookie: TestTeam.cookieOf(joined) })
      assert.deepStrictEqual(teams.body.map((team: any) => [team.slug, team.role]), [["acme", "read_only"]])
    }).pipe(Effect.scoped))

  it.effect("sign-ups are throttled per client address", () =>
    Effect.gen(function*() {
      const server = yield* TestServer.start(database, { config: { loginThrottle: LoginThrottle.defaults } })
      const here = FromAddress.client(server, "127.0.0.2")
      const free = LoginThrottle.defaults.signup.freeFailures
      for (let n = 0; n < free; n++) TestTeam.expectStatus(yield* signUp(here, `person${n}@example.com`), 201, "a free sign-up")
      // Taken emails count too, so sign-up cannot probe which emails have accounts at speed.
      const refused = yield* signUp(here, "person0@example.com")
      TestTeam.expectStatus(refused, 429, "past the free sign-ups")
      assert.strictEqual(refused.headers.get("retry-after"), "60")
      assert.include(refused.body.message, "try again in 60 seconds")
      TestTeam.expectStatus(yield* signUp(FromAddress.client(server, "127.0.0.3"), "hal@example.com"), 201, "another address")
    }).pipe(Effect.scoped))
})
