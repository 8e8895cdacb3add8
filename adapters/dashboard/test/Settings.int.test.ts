/**
 * The dashboard's plans, team settings, account page and audit log, as people use them: a real
 * headless Chromium against the real server process (`main.ts`, embedded Postgres, the
 * Cloudflare simulator in sandbox mode), one server and one browser for the file. Every wait is
 * for something on the page (or the API), never a fixed sleep.
 *
 * - a plan with a bad step shows the API's field error beside the step, and nothing is saved;
 *   fixed, it saves, and the timeline preview follows the edits;
 * - an admin invites someone as deploy; the page says the invitation was emailed, and they sign
 *   up from the link in the email (caught by an SMTP server on loopback, the server's
 *   CANARYROLL_SMTP_URL) and get that role; opening the settings address they see a clear
 *   refusal (and the API refuses them too);
 * - a team token is shown once, works against the API, and is never shown again;
 * - a webhook channel's "Send test" reaches a receiver on loopback and the page says so; the
 *   deliveries list shows it;
 * - the Cloudflare account's token is checked for what releases need;
 * - the account page lists sessions and issues a user token once;
 * - the audit log lists each of these actions with its actor, filters by actor, and links to
 *   what an entry touched;
 * - axe finds no violation on any of these screens, and none needs anything the CSP refuses.
 */
import * as SmtpServer from "@canaryroll/notifier/test-smtp-server"
import * as TestDatabase from "@canaryroll/postgres/test-database"
import { Effect, Exit, Redacted, Scope } from "effect"
import * as http from "node:http"
import type { AddressInfo } from "node:net"
import type { Browser, Page } from "playwright-core"
import { afterAll, assert, beforeAll, describe, it } from "vitest"
import * as ApiSession from "./support/ApiSession.ts"
import { launch } from "./support/Browser.ts"
import * as Pages from "./support/Pages.ts"
import * as ServerProcess from "./support/ServerProcess.ts"

const database = TestDatabase.forFile()
let server: ServerProcess.ServerProcess
let browser: Browser
let admin: ApiSession.ApiSession
let adminPage: Pages.PersonPage
let team: string
/** Where the server's invitation emails arrive. */
const mailScope = Effect.runSync(Scope.make())
let mailbox: SmtpServer.SmtpServer
const password = "a long enough test password"

/** A webhook receiver on loopback: every request it gets, as `{ path, headers, body }`. */
interface Received {
  readonly path: string
  readonly headers: http.IncomingHttpHeaders
  readonly body: string
}
const received: Array<Received> = []
const arrivals = new Set<() => void>()
const receiver = http.createServer((request, response) => {
  let body = ""
  request.on("data", (chunk) => (body += chunk))
  request.on("end", () => {
    received.push({ path: request.url ?? "", headers: request.headers, body })
    arrivals.forEach((arrived) => arrived())
    response.writeHead(200, { "content-type": "text/plain" }).end("ok")
  })
})

beforeAll(async () => {
  await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve))
  mailbox = await Effect.runPromise(Scope.provide(SmtpServer.make(), mailScope))
  const mail = {
    CANARYROLL_SMTP_URL: `smtp://mailer:s3cret@127.0.0.1:${mailbox.port}?security=none`,
    CANARYROLL_MAIL_FROM: "CanaryRoll <canaryroll@example.com>"
  }
  ;[server, browser] = await Promise.all([ServerProcess.start(Redacted.value(database.url()), mail), launch()])
  team = server.details.teamSlug
  admin = await ApiSession.login(server.details.url, server.details.adminEmail, server.details.adminPassword)
  adminPage = await Pages.open(browser, server.details.url)
  await adminPage.page.goto("/login")
  await Pages.signIn(adminPage.page, server.details.adminEmail, server.details.adminPassword)
  await adminPage.page.getByRole("heading", { name: "CanaryRoll demo: Workers" }).waitFor()
})

afterAll(async () => {
  await adminPage?.close()
  await browser?.close()
  await server?.stop()
  await new Promise<void>((resolve) => receiver.close(() => resolve()))
  await Effect.runPromise(Scope.close(mailScope, Exit.void))
})

const expectAccessible = async (page: Page, screen: string) => {
  const violations = await Pages.accessibilityViolations(page)
  assert.deepStrictEqual(violations, [], `axe on ${screen}`)
}

const plans = async () => ((await admin.request("GET", `/api/teams/${team}/plans`)).body as Array<{ slug: string; steps: Array<{ percentage: number }> }>)

describe("plans", () => {
  it("a bad step shows the API's error beside it and saves nothing; fixed, the plan saves; the preview follows the edits", async () => {
    const { page } = adminPage
    await page.getByRole("navigation", { name: "Team" }).getByRole("link", { name: "Plans" }).click()
    await page.getByRole("heading", { name: "CanaryRoll demo: Plans" }).waitFor()
    await page.getByRole("heading", { name: /Demo \(about a minute\)/ }).waitFor()
    await expectAccessible(page, "plans")
    await Pages.screenshot(page, "plans")

    await page.getByRole("button", { name: "New plan" }).click()
    const form = page.getByRole("form", { name: "New plan" })
    await form.getByLabel("Name").fill("Careful")
    await form.getByLabel("Slug").fill("careful")
    // Four steps by default: 1, 10, 50, 100. Make the second lower than the first's.
    await form.getByLabel("Step 2 traffic (%)").fill("0.5")
    const preview = page.getByTestId("earliest-completion")
    const before = await preview.innerText()
    await form.getByLabel("Step 4 soak (seconds)").fill("3600")
    await page.getByTestId("earliest-completion").getByText(/1 h/).waitFor()
    assert.notStrictEqual(await preview.innerText(), before, "the preview follows the soak")
    await form.getByRole("button", { name: "Create the plan" }).click()
    const step2 = form.getByRole("textbox", { name: "Step 2 traffic (%)" })
    await form.getByText("must be greater than the previous step's 1 (percentages strictly increase)").waitFor()
    assert.strictEqual(await step2.getAttribute("aria-invalid"), "true")
    // The message is the field's own: described by it, under it.
    const describedBy = (await step2.getAttribute("aria-describedby")) ?? ""
    const descriptions = await Promise.all(describedBy.split(" ").filter(Boolean).map((id) => page.locator(`[id="${id}"]`).innerText()))
    assert.isTrue(descriptions.some((text) => text.includes("must be greater than the previous step's 1")), descriptions.join(" | "))
    await form.getByText(/Nothing was saved/).waitFor()
    assert.isUndefined((await plans()).find((plan) => plan.slug === "careful"), "nothing saved")
    await expectAccessible(page, "plan editor with a field error")
    await Pages.screenshot(page, "plan-field-error")

    await form.getByLabel("Step 2 traffic (%)").fill("5")
    await form.getByRole("button", { name: "Create the plan" }).click()
    await page.getByText("Saved the plan Careful.").waitFor()
    await page.getByRole("heading", { name: /Careful/ }).waitFor()
    assert.deepStrictEqual((await plans()).find((plan) => plan.slug === "careful")?.steps.map((step) => step.percentage), [1, 5, 50, 100])
    assert.deepStrictEqual(adminPage.cspViolations(), [])
  })
})

describe("team settings", () => {
  it("an admin invites someone as deploy; they sign up from the emailed link and get that role, and the settings address refuses them clearly", async () => {
    const { page } = adminPage
    await page.getByRole("navigation", { name: "Team" }).getByRole("link", { name: "Settings" }).click()
    await page.getByRole("heading", { name: "CanaryRoll demo: Settings" }).waitFor()
    await page.getByRole("table", { name: "Members" }).getByRole("rowheader", { name: new RegExp(server.details.adminEmail) }).waitFor()
    // The only admin: their role cannot be lowered, nor can they be removed.
    assert.isTrue(await page.getByLabel(`Role of ${server.details.adminEmail}`).isDisabled())
    assert.isTrue(await page.getByRole("button", { name: `Remove ${server.details.adminEmail}` }).isDisabled())

    const invite = page.getByRole("form", { name: "Invite someone" })
    await invite.getByLabel("Email").fill("newcomer@example.com")
    await invite.getByLabel("Role").selectOption("deploy")
    await invite.getByRole("button", { name: "Invite" }).click()
    const shown = page.getByRole("region", { name: "Invitation link for newcomer@example.com" })
    await shown.getByText("Emailed to newcomer@example.com.").waitFor()
    const email = await Effect.runPromise(mailbox.next)
    assert.deepStrictEqual(email.to, ["newcomer@example.com"])
    assert.include(email.mail.subject ?? "", "CanaryRoll demo")
    // The person follows the link in the email; it is the one the admin was shown.
    const link = /https?:\/\/\S+\/invitations\/accept\?token=\S+/.exec(email.mail.text ?? "")?.[0] ?? ""
    assert.strictEqual(link, await shown.getByTestId("one-time-secret").innerText())
    await page.getByRole("table", { name: "Pending invitations" }).getByRole("rowheader", { name: "newcomer@example.com" }).waitFor()
    await expectAccessible(page, "settings")
    await Pages.screenshot(page, "settings")

    const newcomer = await Pages.open(browser, server.details.url)
    try {
      const url = new URL(link)
      await newcomer.page.goto(url.pathname + url.search)
      await newcomer.page.getByRole("heading", { name: "Sign in to CanaryRoll" }).waitFor()
      await newcomer.page.getByRole("link", { name: "Create an account" }).click()
      await newcomer.page.getByLabel("Name").fill("Newcomer")
      await newcomer.page.getByLabel("Email").fill("newcomer@example.com")
      await newcomer.page.getByLabel("Password").fill(password)
      await newcomer.page.getByRole("button", { name: "Create the account" }).click()
      await newcomer.page.getByRole("heading", { name: "CanaryRoll demo: Workers" }).waitFor()
      const members = (await admin.request("GET", `/api/teams/${team}/members`)).body as Array<{ email: string; role: string }>
      assert.strictEqual(members.find((member) => member.email === "newcomer@example.com")?.role, "deploy")
      // No settings link for them, and the address itself says why.
      assert.strictEqual(await newcomer.page.getByRole("navigation", { name: "Team" }).getByRole("link", { name: "Settings" }).count(), 0)
      await newcomer.page.goto(`/teams/${team}/settings`)
      await newcomer.page.getByRole("alert").getByText("Team settings are for the team's admins.").waitFor()
      await newcomer.page.getByText("You are deploy in CanaryRoll demo").waitFor()
      assert.strictEqual(await newcomer.page.getByRole("table", { name: "Members" }).count(), 0)
      await expectAccessible(newcomer.page, "settings refused")
      await Pages.screenshot(newcomer.page, "settings-refused")
      // The API refuses them as well.
      const forged = await newcomer.page.evaluate(async (path) => (await fetch(path)).status, `/api/teams/${team}/tokens`)
      assert.strictEqual(forged, 403)
      // Plans they read, and may not change.
      await newcomer.page.getByRole("navigation", { name: "Team" }).getByRole("link", { name: "Plans" }).click()
      await newcomer.page.getByText("Plans are changed by the team's admins; you can read them.").waitFor()
      await newcomer.page.getByRole("heading", { name: /Careful/ }).waitFor()
      assert.strictEqual(await newcomer.page.getByRole("button", { name: /New plan|Change|Delete/ }).count(), 0)
      assert.deepStrictEqual(newcomer.cspViolations(), [])
    } finally {
      await newcomer.close()
    }
    await page.reload()
    await page.getByRole("table", { name: "Members" }).getByRole("rowheader", { name: /newcomer@example\.com/ }).waitFor()
  })

  it("a team token is shown once, works against the API, and is never shown again", async () => {
    const { page } = adminPage
    await page.goto(`/teams/${team}/settings#tokens`)
    const form = page.getByRole("form", { name: "Create a team token" })
    await form.getByLabel("Token name").fill("ci deploys")
    await form.getByLabel("Role").selectOption("read_only")
    await form.getByRole("button", { name: "Create the token" }).click()
    const shown = page.getByRole("region", { name: "Team token ci deploys" })
    const token = await shown.getByTestId("one-time-secret").innerText()
    assert.match(token, /^crt_/)
    await expectAccessible(page, "team token shown once")
    await Pages.screenshot(page, "team-token-once")

    const works = await fetch(`${server.details.url}/api/teams/${team}/workers`, { headers: { authorization: `Bearer ${token}` } })
    assert.strictEqual(works.status, 200)
    // Read-only: it may not change anything.
    const refused = await fetch(`${server.details.url}/api/teams/${team}/plans/careful`, { method: "DELETE", headers: { authorization: `Bearer ${token}` } })
    assert.strictEqual(refused.status, 403)

    await shown.getByRole("button", { name: "Done, hide it" }).click()
    assert.strictEqual(await page.getByRole("region", { name: "Team token ci deploys" }).count(), 0)
    const row = page.getByRole("table", { name: "Team tokens" }).getByRole("row", { name: /ci deploys/ })
    await row.getByText("read-only").waitFor()
    await row.getByText(/^crt_/).waitFor()
    assert.notInclude(await page.content(), token)
    await page.reload()
    await page.getByRole("table", { name: "Team tokens" }).getByRole("row", { name: /ci deploys/ }).waitFor()
    assert.notInclude(await page.content(), token)
    const listed = JSON.stringify((await admin.request("GET", `/api/teams/${team}/tokens`)).body)
    assert.notInclude(listed, token)
    // Its last use is shown.
    assert.notStrictEqual(await page.getByRole("table", { name: "Team tokens" }).getByRole("row", { name: /ci deploys/ }).getByRole("cell").nth(2).innerText(), "never")
  })

  it("a webhook channel's Send test reaches a receiver on loopback, and the page and the deliveries say so", async () => {
    const { page } = adminPage
    await page.goto(`/teams/${team}/settings#channels`)
    const form = page.getByRole("form", { name: "Add a notification channel" })
    await form.getByLabel("Kind").selectOption("webhook")
    await form.getByLabel("Channel name").fill("Ops hook")
    const port = (receiver.address() as AddressInfo).port
    await form.getByLabel("Url").fill(`http://127.0.0.1:${port}/canaryroll`)
    await form.getByRole("button", { name: "Add the channel" }).click()
    // A webhook's generated signing secret is shown once.
    const secret = await page.getByRole("region", { name: "The webhook's signing secret" }).getByTestId("one-time-secret").innerText()
    assert.match(secret, /^whsec_/)
    const channel = page.getByRole("listitem", { name: "Ops hook" })
    await channel.waitFor()
    assert.notInclude(await channel.innerText(), "/canaryroll", "the URL is a credential: shown as its scheme and host only")

    const arrived = new Promise<void>((resolve) => arrivals.add(resolve))
    await channel.getByRole("button", { name: "Send test to Ops hook" }).click()
    await arrived
    await channel.getByText(/^Test message delivered/).waitFor()
    const got = received.at(-1)!
    assert.strictEqual(got.path, "/canaryroll")
    assert.include(got.body, "test")
    await page.getByRole("table", { name: "Deliveries" }).getByRole("row", { name: /test message/ }).getByText("delivered").waitFor()

    // Its events change in place.
    await channel.getByText("Change the events").click()
    const events = channel.getByRole("form", { name: "Events of Ops hook" })
    await events.getByLabel("Started").uncheck()
    await events.getByRole("button", { name: "Save the events" }).click()
    await channel.getByText(/^Events: Health check failed, Rolled back/).waitFor()
    const saved = (await admin.request("GET", `/api/teams/${team}/notifications/channels`)).body as Array<{ name: string; events: Array<string> }>
    assert.notInclude(saved.find((item) => item.name === "Ops hook")!.events, "release.started")

    // Disabled: the API keeps what the switch says.
    await channel.getByText("Enabled").click()
    await channel.getByText("Disabled").waitFor()
    const listed = (await admin.request("GET", `/api/teams/${team}/notifications/channels`)).body as Array<{ name: string; enabled: boolean }>
    assert.isFalse(listed.find((item) => item.name === "Ops hook")!.enabled)
    await expectAccessible(page, "channels")
    await Pages.screenshot(page, "channels")
  })

  it("the Cloudflare account's token is checked for what releases need", async () => {
    const { page } = adminPage
    await page.goto(`/teams/${team}/settings#cloudflare`)
    await page.getByRole("button", { name: `Check permissions of ${server.details.accountId}` }).click()
    const report = page.getByRole("region", { name: `Permissions of the token for ${server.details.accountId}` })
    await report.getByRole("heading", { name: "The token can do everything releases need" }).waitFor()
    await report.getByText(/Read their analytics \(Account Analytics Read\): yes/).waitFor()
    await report.getByText(/storefront/).waitFor()
    // A token Cloudflare refuses is not saved, and the form says why.
    await page.getByRole("button", { name: `Rotate the token of ${server.details.accountId}` }).click()
    const rotate = page.getByRole("form", { name: `New token for ${server.details.accountId}` })
    await rotate.getByLabel("API token").fill("not-a-real-token")
    await rotate.getByRole("button", { name: "Save the new token" }).click()
    await rotate.locator(".problem").first().waitFor()
    const accounts = (await admin.request("GET", `/api/teams/${team}/cloudflare/accounts`)).body as Array<{ tokenDisplay: string }>
    assert.notInclude(JSON.stringify(accounts), "not-a-real-token")
    await expectAccessible(page, "Cloudflare accounts")
    await Pages.screenshot(page, "cloudflare-accounts")
  })
})

describe("the account page", () => {
  it("lists the sessions and issues a user token once", async () => {
    const { page } = adminPage
    await page.getByRole("navigation", { name: "Team" }).getByRole("link", { name: "Your account" }).click()
    await page.getByRole("heading", { name: "Your account" }).waitFor()
    await page.getByRole("table", { name: "Sessions" }).getByText("this one").waitFor()
    const form = page.getByRole("form", { name: "Create a user token" })
    await form.getByLabel("Token name").fill("laptop cli")
    await form.getByRole("button", { name: "Create the token" }).click()
    const token = await page.getByRole("region", { name: "User token laptop cli" }).getByTestId("one-time-secret").innerText()
    assert.match(token, /^cru_/)
    const me = await fetch(`${server.details.url}/api/me`, { headers: { authorization: `Bearer ${token}` } })
    assert.strictEqual(me.status, 200)
    assert.strictEqual((await me.json()).user.email, server.details.adminEmail)
    // A wrong current password: refused, with the message, and the password stays.
    const passwordForm = page.getByRole("form", { name: "Change your password" })
    await passwordForm.getByLabel("Current password").fill("not the password at all")
    await passwordForm.getByLabel("New password").fill("another long enough password")
    await passwordForm.getByRole("button", { name: "Change the password" }).click()
    await passwordForm.getByText("the current password is wrong").waitFor()
    await ApiSession.login(server.details.url, server.details.adminEmail, server.details.adminPassword)
    await expectAccessible(page, "account")
    await Pages.screenshot(page, "account")
    // The server answers the address itself, and the token is not shown again.
    await page.goto("/account")
    await page.getByRole("table", { name: "User tokens" }).getByRole("row", { name: /laptop cli/ }).getByText(/^cru_/).waitFor()
    assert.notInclude(await page.content(), token)
  })
})

describe("the audit log", () => {
  it("lists each action with its actor, filters by actor, and links to what an entry touched", async () => {
    const { page } = adminPage
    // A settings change made on screen: the team's name (the switcher follows), then back.
    await page.goto(`/teams/${team}/settings`)
    const rename = page.getByRole("form", { name: "Rename the team" })
    await rename.getByLabel("Team name").fill("Demo team")
    await rename.getByRole("button", { name: "Rename" }).click()
    await rename.getByText("The team is now called Demo team.").waitFor()
    await page.getByRole("banner").getByText("Demo team (admin)").waitFor()
    await rename.getByLabel("Team name").fill("CanaryRoll demo")
    await rename.getByRole("button", { name: "Rename" }).click()
    await rename.getByText("The team is now called CanaryRoll demo.").waitFor()
    await page.goto(`/teams/${team}`)
    await page.getByRole("navigation", { name: "Team" }).getByRole("link", { name: "Audit log" }).click()
    await page.getByRole("heading", { name: "CanaryRoll demo: Audit log" }).waitFor()
    const log = page.getByRole("table", { name: "Audit log" })
    const adminEmail = server.details.adminEmail
    const expected: ReadonlyArray<readonly [string, RegExp]> = [
      ["PlanCreated", /created the plan Careful/],
      ["InvitationCreated", /invited newcomer@example\.com as deploy/],
      ["TeamTokenCreated", /created the team token ci deploys/],
      ["NotificationChannelCreated", /Ops hook/],
      ["TeamUpdated", /renamed the team from CanaryRoll demo to Demo team/]
    ]
    for (const [type, message] of expected) {
      const row = log.getByRole("row").filter({ hasText: type }).filter({ hasText: message })
      await row.first().waitFor()
      assert.include(await row.first().innerText(), adminEmail, `${type}'s actor`)
    }
    // The newcomer's own action is theirs.
    const accepted = log.getByRole("row").filter({ hasText: "InvitationAccepted" })
    await accepted.first().waitFor()
    assert.include(await accepted.first().innerText(), "newcomer@example.com")
    await expectAccessible(page, "audit log")
    await Pages.screenshot(page, "audit-log")

    // Only the newcomer's entries.
    const members = (await admin.request("GET", `/api/teams/${team}/members`)).body as Array<{ userId: string; email: string }>
    const newcomerId = members.find((member) => member.email === "newcomer@example.com")!.userId
    await page.getByLabel("Who").selectOption(`user:${newcomerId}`)
    await page.getByRole("button", { name: "Filter" }).click()
    await log.getByRole("row").filter({ hasText: "TeamTokenCreated" }).first().waitFor({ state: "detached" })
    const rows = await log.getByRole("row").allInnerTexts()
    assert.isAbove(rows.length, 1)
    for (const row of rows.slice(1)) assert.include(row, "newcomer@example.com")

    // Keyset pages: 30 renames make more entries than a page (25) holds.
    for (let i = 1; i <= 30; i++) {
      const renamed = await admin.request("PATCH", `/api/teams/${team}`, { name: i === 30 ? "CanaryRoll demo" : `CanaryRoll demo ${i}` })
      assert.strictEqual(renamed.status, 200)
    }
    await page.getByRole("button", { name: "Clear" }).click()
    await log.getByRole("row").filter({ hasText: "renamed the team from CanaryRoll demo 29 to CanaryRoll demo" }).waitFor()
    const firstPage = await log.getByRole("row").allInnerTexts()
    assert.strictEqual(firstPage.length, 26)
    await page.getByRole("group", { name: "Pages" }).getByRole("button", { name: "Older" }).click()
    await page.getByText("Page 2").waitFor()
    await log.getByRole("row").filter({ hasText: "renamed the team from CanaryRoll demo 29 to CanaryRoll demo" }).waitFor({ state: "detached" })
    const secondPage = await log.getByRole("row").allInnerTexts()
    assert.isAbove(secondPage.length, 1)
    for (const row of secondPage.slice(1)) assert.notInclude(firstPage, row, "no entry on two pages")
    await page.getByRole("group", { name: "Pages" }).getByRole("button", { name: "Newer" }).click()
    await log.getByRole("row").filter({ hasText: "renamed the team from CanaryRoll demo 29 to CanaryRoll demo" }).waitFor()

    // From an entry to what it touched.
    await page.getByLabel("Types (comma-separated)").fill("PlanCreated")
    await page.getByRole("button", { name: "Filter" }).click()
    await log.getByRole("row").filter({ hasText: "PlanCreated" }).filter({ hasText: /Careful/ }).getByRole("link", { name: "Open the plans" }).click()
    await page.getByRole("heading", { name: "CanaryRoll demo: Plans" }).waitFor()
    assert.deepStrictEqual(adminPage.cspViolations(), [])
  })
})
