/**
 * Invitations by email (issues 16 and 17, "the link in the email"): with the server's outgoing
 * mail set, an invited person receives a plain-text and HTML email naming the team, the inviter,
 * the role and the expiry, whose link is the one the admin is shown and accepts the invitation;
 * sending again (revoke, re-issue) mails a new link and the old one stops working. A team name
 * full of markup and line breaks is escaped in the HTML and stays on the subject's one line.
 * Without the setting, with the mail server down, refusing or silent (the whole send's limit, on
 * the TestClock), the answer says `emailed: false` and why, and the invitation is saved and its
 * link works all the same.
 *
 * A real SMTP server on loopback (the notifier's test server), real HTTP, real Postgres.
 */
import * as SmtpServer from "@canaryroll/notifier/test-smtp-server"
import * as TestDatabase from "@canaryroll/postgres/test-database"
import { assert, describe, it } from "@effect/vitest"
import { Deferred, Effect, Fiber, Redacted } from "effect"
import { TestClock } from "effect/testing"
import * as net from "node:net"
import type * as OutgoingMail from "../src/mail/OutgoingMail.ts"
import * as TestServer from "./support/TestServer.ts"
import * as TestTeam from "./support/TestTeam.ts"

const database = TestDatabase.forFile()

const password = "correct horse battery staple"

const mailTo = (port: number, overrides: Partial<OutgoingMail.Settings> = {}): OutgoingMail.Settings => ({
  host: "127.0.0.1",
  port,
  security: "none",
  username: "mailer",
  password: Redacted.make("s3cret"),
  from: "CanaryRoll <canaryroll@example.com>",
  ...overrides
})

const invite = (server: TestServer.Running, team: TestTeam.Team, email: string, role: string) =>
  Effect.gen(function*() {
    const issued = yield* server.client.request("POST", `/api/teams/${team.slug}/invitations`, {
      cookie: team.adminCookie,
      body: { email, role }
    })
    TestTeam.expectStatus(issued, 201, `invite ${email}`)
    return issued.body
  })

/** The one accept link in a plain-text email. */
const linkIn = (text: string): string => {
  const links = text.match(/https?:\/\/\S+\/invitations\/accept\?token=\S+/g) ?? []
  assert.strictEqual(links.length, 1, `one accept link in ${text}`)
  return links[0]!
}

/** Follows an emailed link on the test server: its page is served, and its token signs the person up into the team. */
const follow = (server: TestServer.Running, link: string, email: string) =>
  Effect.gen(function*() {
    const url = new URL(link)
    assert.strictEqual(url.origin, "http://canaryroll.test", "the link is on the server's public address")
    const page = yield* server.client.request("GET", `${url.pathname}${url.search}`)
    TestTeam.expectStatus(page, 200, "the accept page")
    return yield* server.client.request("POST", "/api/auth/signup", {
      body: { email, name: email.split("@")[0], password, invitationToken: url.searchParams.get("token") }
    })
  })

const teamsOf = (server: TestServer.Running, cookie: string) =>
  Effect.map(server.client.request("GET", "/api/teams", { cookie }), (teams) => teams.body.map((team: any) => [team.slug, team.role]))

describe("invitations by email", () => {
  it.effect("the invitee gets the team, inviter, role, expiry and the link, which accepts the invitation; sending again mails a new link", () =>
    Effect.gen(function*() {
      const smtp = yield* SmtpServer.make()
      const server = yield* TestServer.start(database, { mail: mailTo(smtp.port) })
      const team = yield* TestTeam.create(server, "acme")

      const issued = yield* invite(server, team, "bob@example.com", "deploy")
      assert.strictEqual(issued.emailed, true, issued.notEmailedReason)
      assert.isNull(issued.notEmailedReason)
      const received = yield* smtp.next
      assert.deepStrictEqual(received.to, ["bob@example.com"])
      assert.strictEqual(received.from, "canaryroll@example.com")
      assert.strictEqual(received.user, "mailer", "logged in with the configured user")
      assert.strictEqual(received.mail.subject, "You are invited to ACME on CanaryRoll")
      const text = received.mail.text ?? ""
      const link = linkIn(text)
      assert.strictEqual(link, issued.acceptUrl, "the emailed link is the one the admin is shown")
      assert.include(text, "admin@acme.example invited you to the team ACME")
      assert.include(text, "Your role: deploy")
      // Seven days after the test clock's start (t0, 26 November 10:00 UTC).
      assert.include(text, "3 December 2026 at 10:00 UTC")
      const html = String(received.mail.html)
      assert.include(html, `href="${issued.acceptUrl}"`)
      assert.include(html, "<strong>ACME</strong>")

      // Sent again (what the dashboard's "Send again" does): revoke, re-issue; a new link arrives.
      const revoked = yield* server.client.request("DELETE", `/api/teams/acme/invitations/${issued.id}`, { cookie: team.adminCookie })
      TestTeam.expectStatus(revoked, 204, "revoke")
      const again = yield* invite(server, team, "bob@example.com", "deploy")
      assert.isTrue(again.emailed)
      const second = linkIn((yield* smtp.next).mail.text ?? "")
      assert.notStrictEqual(second, link)
      TestTeam.expectStatus(yield* follow(server, link, "bob@example.com"), 403, "the first link, revoked")

      const joined = yield* follow(server, second, "bob@example.com")
      TestTeam.expectStatus(joined, 201, "sign up through the emailed link")
      assert.deepStrictEqual(yield* teamsOf(server, TestTeam.cookieOf(joined)), [["acme", "deploy"]])
    }).pipe(Effect.scoped))

  it.effect("a hostile team name is escaped in the HTML and cannot add a header", () =>
    Effect.gen(function*() {
      const smtp = yield* SmtpServer.make()
      const server = yield* TestServer.start(database, { mail: mailTo(smtp.port) })
      const team = yield* TestTeam.create(server, "acme")
      const hostile = `Ops <script>alert(1)</script> <a href="https://evil.example">"&'`
      const renamed = yield* server.client.request("PATCH", "/api/teams/acme", { cookie: team.adminCookie, body: { name: hostile } })
      TestTeam.expectStatus(renamed, 200, "rename")
      const issued = yield* invite(server, team, "cy@example.com", "read_only")
      assert.isTrue(issued.emailed, issued.notEmailedReason)
      const received = yield* smtp.next
      const html = String(received.mail.html)
      assert.notInclude(html, "<script>")
      assert.notInclude(html, "<a href=\"https://evil")
      assert.include(html, "Ops &lt;script&gt;alert(1)&lt;/script&gt; &lt;a href=&quot;https://evil.example&quot;&gt;&quot;&amp;&#39;")
      assert.strictEqual(received.mail.subject, `You are invited to ${hostile} on CanaryRoll`)
      assert.include(received.mail.text ?? "", `the team ${hostile} on CanaryRoll`, "plain text is text")
      assert.strictEqual(linkIn(received.mail.text ?? ""), issued.acceptUrl)

      // A name may hold line breaks (the API takes any text); in the subject they are spaces.
      const broken = yield* server.client.request("PATCH", "/api/teams/acme", {
        cookie: team.adminCookie,
        body: { name: "Ops\r\nBcc: victim@example.com\r\n\r\n<b>body</b>" }
      })
      TestTeam.expectStatus(broken, 200, "rename with line breaks")
      TestTeam.expectStatus(yield* server.client.request("POST", "/api/teams/acme/invitations", {
        cookie: team.adminCookie,
        body: { email: "dan@example.com", role: "deploy" }
      }), 201, "invite dan")
      const injected = yield* smtp.next
      assert.deepStrictEqual(injected.to, ["dan@example.com"], "no added recipient")
      assert.isUndefined(injected.mail.bcc)
      assert.isFalse(injected.mail.headers.has("bcc"))
      assert.strictEqual(injected.mail.subject, "You are invited to Ops Bcc: victim@example.com <b>body</b> on CanaryRoll")
      assert.notInclude(String(injected.mail.html), "<b>body</b>")
    }).pipe(Effect.scoped))

  it.effect("without outgoing mail: emailed false, with why, and the link still works", () =>
    Effect.gen(function*() {
      const server = yield* TestServer.start(database)
      const team = yield* TestTeam.create(server, "acme")
      const issued = yield* invite(server, team, "dee@example.com", "admin")
      assert.strictEqual(issued.emailed, false)
      assert.include(issued.notEmailedReason, "CANARYROLL_SMTP_URL")
      assert.include(issued.notEmailedReason, "pass the link on")
      const joined = yield* follow(server, issued.acceptUrl, "dee@example.com")
      TestTeam.expectStatus(joined, 201, "sign up through the link shown")
      assert.deepStrictEqual(yield* teamsOf(server, TestTeam.cookieOf(joined)), [["acme", "admin"]])
    }).pipe(Effect.scoped))

  it.effect("the mail server down or refusing: emailed false with the reason, and the invitation is saved and works", () =>
    Effect.gen(function*() {
      const refusing = yield* SmtpServer.make({ reject: { code: 550, message: "mailbox unavailable" } })
      // Port 1: nobody listens, the connection is refused.
      const down = yield* TestServer.start(database, { mail: mailTo(1) })
      const team = yield* TestTeam.create(down, "acme")
      const unsent = yield* invite(down, team, "eve@example.com", "deploy")
      assert.strictEqual(unsent.emailed, false)
      assert.include(unsent.notEmailedReason, "the mail server at 127.0.0.1:1 could not be reached")
      assert.include(unsent.notEmailedReason, "the invitation is saved")
      const listed = yield* down.client.request("GET", "/api/teams/acme/invitations", { cookie: team.adminCookie })
      assert.deepStrictEqual(listed.body.map((invitation: any) => [invitation.email, invitation.status]), [["eve@example.com", "pending"]])
      TestTeam.expectStatus(yield* follow(down, unsent.acceptUrl, "eve@example.com"), 201, "the link of an invitation not emailed")

      const refused = yield* TestServer.start(database, { mail: mailTo(refusing.port) })
      const other = yield* TestTeam.create(refused, "ops", { account: "own" })
      const rejected = yield* invite(refused, other, "fay@example.com", "deploy")
      assert.strictEqual(rejected.emailed, false)
      assert.include(rejected.notEmailedReason, `the mail server at 127.0.0.1:${refusing.port} refused the message`)
      assert.include(rejected.notEmailedReason, "550")
      assert.isAtLeast(refusing.connections(), 1)
    }).pipe(Effect.scoped))

  it.effect("a mail server that takes the connection and never answers: the send gives up and says so, and the invitation is saved", () =>
    Effect.gen(function*() {
      const connected = yield* Deferred.make<void>()
      const sockets: Array<net.Socket> = []
      const silent = yield* Effect.acquireRelease(
        Effect.callback<net.Server>((resume) => {
          const server = net.createServer((socket) => {
            sockets.push(socket)
            Deferred.doneUnsafe(connected, Effect.void)
          })
          server.listen(0, "127.0.0.1", () => resume(Effect.succeed(server)))
        }),
        (server) =>
          Effect.callback<void>((resume) => {
            for (const socket of sockets) socket.destroy()
            server.close(() => resume(Effect.void))
          })
      )
      const server = yield* TestServer.start(database, { mail: mailTo((silent.address() as net.AddressInfo).port) })
      const team = yield* TestTeam.create(server, "acme")
      const pending = yield* Effect.forkChild(invite(server, team, "gil@example.com", "deploy"))
      yield* Deferred.await(connected)
      // The whole send's limit, on the server's clock (the TestClock): the answer comes at once.
      yield* TestClock.adjust("31 seconds")
      const issued = yield* Fiber.join(pending)
      assert.strictEqual(issued.emailed, false)
      assert.include(issued.notEmailedReason, `did not finish taking the message within 30 seconds`)
      TestTeam.expectStatus(yield* follow(server, issued.acceptUrl, "gil@example.com"), 201, "the link still works")
    }).pipe(Effect.scoped))
})
