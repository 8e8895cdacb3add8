/**
 * Sessions people control, over real HTTP (issue 13, item 8): changing the password ends every
 * other session of the person (the one making the change goes on; user tokens are kept); "log
 * out everywhere" ends them all, this one too; a team admin ends a member's sessions, where a
 * deploy member may not (403) and an admin of another team cannot even see the member (404);
 * the account page lists the live sessions without their secrets. Each change is in the audit
 * log of the person's teams.
 */
import * as TestDatabase from "@canaryroll/postgres/test-database"
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { TestClock } from "effect/testing"
import * as TestServer from "./support/TestServer.ts"
import * as TestTeam from "./support/TestTeam.ts"

const database = TestDatabase.forFile()

const password = "correct horse battery staple"
const newPassword = "a brand new passphrase, long enough"

/** Logs `email` in with `secret` from a browser called `userAgent`; returns the response. */
const logIn = (server: TestServer.Running, email: string, secret: string, userAgent = "Vitest") =>
  server.client.request("POST", "/api/auth/login", { body: { email, password: secret }, headers: { "user-agent": userAgent } })

const me = (server: TestServer.Running, credentials: { readonly cookie?: string; readonly token?: string }) =>
  Effect.map(server.client.request("GET", "/api/me", credentials), (response) => response.status)

/** The audit entries of `type` in the team's log, as its admin reads them. */
const auditOf = (server: TestServer.Running, team: TestTeam.Team, type: string) =>
  Effect.map(
    server.client.request("GET", `/api/teams/${team.slug}/audit?type=${type}`, { cookie: team.adminCookie }),
    (response) => {
      TestTeam.expectStatus(response, 200, `the audit log of ${team.slug}`)
      return response.body.entries as ReadonlyArray<any>
    }
  )

/** A person who joined `team` through an invitation, with the role given. */
const member = (server: TestServer.Running, team: TestTeam.Team, email: string, role: string) =>
  Effect.gen(function*() {
    const person = yield* TestTeam.signUp(server, email)
    const invitation = yield* server.client.request("POST", `/api/teams/${team.slug}/invitations`, {
      cookie: team.adminCookie,
      body: { email, role }
    })
    TestTeam.expectStatus(invitation, 201, `invite ${email}`)
    const accepted = yield* server.client.request("POST", "/api/invitations/accept", {
      cookie: person.cookie,
      body: { token: invitation.body.token }
    })
    TestTeam.expectStatus(accepted, 200, `${email} accepts`)
    return { ...person, email }
  })

describe("sessions", () => {
  it.effect("changing the password ends the other sessions; this one goes on, and so do user tokens", () =>
    Effect.gen(function*() {
      const server = yield* TestServer.start(database)
      const team = yield* TestTeam.create(server)
      const email = team.adminEmail
      const here = team.adminCookie
      const laptop = TestTeam.cookieOf(yield* logIn(server, email, password, "Laptop"))
      const phone = TestTeam.cookieOf(yield* logIn(server, email, password, "Phone"))
      const userToken = yield* server.client.request("POST", "/api/me/tokens", { cookie: here, body: { name: "cli" } })
      TestTeam.expectStatus(userToken, 201, "a user token")
      const change = (body: unknown) => server.client.request("POST", "/api/me/password", { cookie: here, body })

      const wrong = yield* change({ currentPassword: "not the password at all", newPassword })
      TestTeam.expectStatus(wrong, 403, "a wrong current password")
      assert.strictEqual(wrong.body.error, "wrong_password")
      assert.match(wrong.body.message, /^currentPassword: /)
      const weak = yield* change({ currentPassword: password, newPassword: "short" })
      TestTeam.expectStatus(weak, 400, "a new password the policy refuses")
      assert.strictEqual(weak.body.error, "invalid_password")
      assert.include(weak.body.message, "newPassword")
      assert.strictEqual(yield* me(server, { cookie: laptop }), 200, "nothing changed yet")

      const changed = yield* change({ currentPassword: password, newPassword })
      TestTeam.expectStatus(changed, 200, "change the password")
      assert.deepStrictEqual(changed.body, { endedSessions: 2 })
      assert.strictEqual(yield* me(server, { cookie: here }), 200, "the session that changed it goes on")
      assert.strictEqual(yield* me(server, { cookie: laptop }), 401, "another session ended")
      assert.strictEqual(yield* me(server, { cookie: phone }), 401, "another session ended")
      assert.strictEqual(yield* me(server, { token: userToken.body.token }), 200, "user tokens are kept")
      TestTeam.expectStatus(yield* logIn(server, email, password), 401, "the old password")
      TestTeam.expectStatus(yield* logIn(server, email, newPassword), 200, "the new password")

      const [entry] = yield* auditOf(server, team, "PasswordChanged")
      assert.isDefined(entry, "in the audit log of the person's team")
      assert.include(entry.message, `${email} changed their password`)
      assert.strictEqual(entry.details.endedSessions, 2)
      for (const secret of [password, newPassword]) assert.notInclude(JSON.stringify(entry), secret)
    }).pipe(Effect.scoped))

  it.effect("a wrong current password counts as a failed log-in: guessing it is throttled", () =>
    Effect.gen(function*() {
      const server = yield* TestServer.start(database)
      const person = yield* TestTeam.signUp(server, "guesser@example.com")
      let refused: TestServer.Response | undefined
      for (let guess = 0; guess < 50 && refused === undefined; guess++) {
        const response = yield* server.client.request("POST", "/api/me/password", {
          cookie: person.cookie,
          body: { currentPassword: `guess number ${guess}`, newPassword }
        })
        if (response.status === 429) refused = response
        else TestTeam.expectStatus(response, 403, `guess ${guess}`)
      }
      assert.isDefined(refused, "guessing is slowed down")
      assert.strictEqual(refused!.body.error, "too_many_attempts")
      assert.isDefined(refused!.headers.get("retry-after"))
    }).pipe(Effect.scoped))

  it.effect("log out everywhere ends every session of the caller, the current one too", () =>
    Effect.gen(function*() {
      const server = yield* TestServer.start(database)
      const team = yield* TestTeam.create(server)
      const here = TestTeam.cookieOf(yield* logIn(server, team.adminEmail, password, "Laptop"))
      const there = TestTeam.cookieOf(yield* logIn(server, team.adminEmail, password, "Phone"))
      const other = yield* TestTeam.signUp(server, "someone.else@example.com")

      const ended = yield* server.client.request("DELETE", "/api/me/sessions", { cookie: here })
      TestTeam.expectStatus(ended, 204, "log out everywhere")
      assert.match(ended.headers.get("set-cookie") ?? "", /^canaryroll_session=;/, "the cookie is cleared")
      for (const [cookie, what] of [[here, "this session"], [there, "another"], [team.adminCookie, "the first"]] as const) {
        assert.strictEqual(yield* me(server, { cookie }), 401, what)
      }
      assert.strictEqual(yield* me(server, { cookie: other.cookie }), 200, "someone else's session")
      const again = yield* logIn(server, team.adminEmail, password)
      TestTeam.expectStatus(again, 200, "the password still works")

      const entries = yield* auditOf(server, { ...team, adminCookie: TestTeam.cookieOf(again) }, "SessionsEnded")
      assert.lengthOf(entries, 1)
      assert.include(entries[0].message, "logged out everywhere; 3 sessions ended")
    }).pipe(Effect.scoped))

  it.effect("the account page lists the live sessions: id, start, last use and browser, never a secret", () =>
    Effect.gen(function*() {
      const server = yield* TestServer.start(database)
      yield* TestTeam.signUp(server, "ada@example.com")
      yield* TestClock.adjust("1 minute")
      const laptop = TestTeam.cookieOf(yield* logIn(server, "ada@example.com", password, "Laptop Firefox"))
      yield* TestClock.adjust("1 minute")
      const phone = TestTeam.cookieOf(yield* logIn(server, "ada@example.com", password, "Phone Safari"))
      yield* TestClock.adjust("1 minute")
      assert.strictEqual(yield* me(server, { cookie: laptop }), 200, "the laptop is used 3 minutes in")
      yield* TestClock.adjust("3 minutes")

      const listed = yield* server.client.request("GET", "/api/me/sessions", { cookie: phone })
      TestTeam.expectStatus(listed, 200, "list sessions")
      const sessions = listed.body as ReadonlyArray<any>
      // The most recently started first: the phone, the laptop, then the session signing up started.
      assert.lengthOf(sessions, 3)
      assert.deepStrictEqual(sessions.slice(0, 2).map((session) => session.userAgent), ["Phone Safari", "Laptop Firefox"])
      assert.deepStrictEqual(sessions.map((session) => session.current), [true, false, false])
      const [onPhone, onLaptop, signedUp] = sessions
      assert.deepStrictEqual(Object.keys(onPhone).sort(), ["createdAt", "current", "expiresAt", "id", "lastSeenAt", "userAgent"])
      assert.match(onPhone.id, /^ses_[0-9a-f]{32}$/)
      const minutes = (n: number) => new Date(TestServer.t0 + n * 60_000).toISOString()
      assert.deepStrictEqual(
        sessions.map((session) => [session.createdAt, session.lastSeenAt]),
        [[minutes(2), minutes(6)], [minutes(1), minutes(3)], [minutes(0), minutes(0)]],
        "started, and last used (the phone by this very request)"
      )
      assert.strictEqual(onLaptop.expiresAt, new Date(TestServer.t0 + 60_000 + 14 * 24 * 3_600_000).toISOString())
      const text = JSON.stringify(listed.body)
      for (const cookie of [laptop, phone]) assert.notInclude(text, cookie.split("=")[1]!, "a session's secret")

      TestTeam.expectStatus(yield* server.client.request("POST", "/api/auth/logout", { cookie: laptop }), 204, "log out")
      const after = yield* server.client.request("GET", "/api/me/sessions", { cookie: phone })
      assert.deepStrictEqual(after.body.map((session: any) => session.id), [onPhone.id, signedUp.id], "an ended session is gone")
    }).pipe(Effect.scoped))

  it.effect("a team admin ends a member's sessions; a deploy member may not; another team's admin cannot see them", () =>
    Effect.gen(function*() {
      const server = yield* TestServer.start(database)
      const acme = yield* TestTeam.create(server, "acme")
      const other = yield* TestTeam.create(server, "other", { account: "own" })
      const deployer = yield* member(server, acme, "deployer@acme.example", "deploy")
      const reader = yield* member(server, acme, "reader@acme.example", "read_only")
      const readerToken = yield* server.client.request("POST", "/api/me/tokens", { cookie: reader.cookie, body: { name: "cli" } })
      const readerLaptop = TestTeam.cookieOf(yield* logIn(server, reader.email, password))
      const end = (team: string, userId: string, credentials: { readonly cookie?: string; readonly token?: string }) =>
        server.client.request("DELETE", `/api/teams/${team}/members/${userId}/sessions`, credentials)

      const byDeployer = yield* end("acme", reader.userId, { cookie: deployer.cookie })
      TestTeam.expectStatus(byDeployer, 403, "a deploy member")
      assert.include(byDeployer.body.message, "the admin role")
      TestTeam.expectStatus(yield* end("acme", reader.userId, { cookie: other.adminCookie }), 404, "another team's admin, on acme")
      const foreign = yield* end("other", reader.userId, { cookie: other.adminCookie })
      TestTeam.expectStatus(foreign, 404, "another team's admin, naming acme's member on their own team")
      assert.strictEqual(foreign.body.error, "not_found")
      TestTeam.expectStatus(yield* end("other", reader.userId, { token: other.tokens.admin }), 404, "another team's admin token")
      assert.strictEqual(yield* me(server, { cookie: reader.cookie }), 200, "untouched so far")

      TestTeam.expectStatus(yield* end("acme", reader.userId, { cookie: acme.adminCookie }), 204, "acme's admin")
      assert.strictEqual(yield* me(server, { cookie: reader.cookie }), 401, "the member's session ended")
      assert.strictEqual(yield* me(server, { cookie: readerLaptop }), 401, "and their other one")
      assert.strictEqual(yield* me(server, { token: readerToken.body.token }), 200, "their user token is kept")
      assert.strictEqual(yield* me(server, { cookie: deployer.cookie }), 200, "another member's session")
      assert.strictEqual(yield* me(server, { cookie: acme.adminCookie }), 200, "the admin's own")
      TestTeam.expectStatus(yield* end("acme", other.adminUserId, { cookie: acme.adminCookie }), 404, "not a member of acme")
      assert.strictEqual(yield* me(server, { cookie: other.adminCookie }), 200, "another team's admin is untouched")

      const [entry] = yield* auditOf(server, acme, "MemberSessionsEnded")
      assert.isDefined(entry)
      assert.include(entry.message, `signed ${reader.email} out everywhere; 2 sessions ended`)
      assert.strictEqual(entry.details.userId, reader.userId)
      assert.lengthOf(yield* auditOf(server, other, "MemberSessionsEnded"), 0, "nothing in the other team's log")
    }).pipe(Effect.scoped))
})
