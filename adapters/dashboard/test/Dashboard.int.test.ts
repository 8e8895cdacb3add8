/**
 * The dashboard as people use it: a real headless Chromium (no download: `@sparticuz/chromium`
 * and `playwright-core`) against the real server process (`main.ts`, embedded Postgres, the
 * Cloudflare simulator in sandbox mode), on the real clock, with a plan of two-second steps
 * checked every 10 s. Every wait is for something on the page (or the API), never a fixed sleep.
 *
 * - an admin signs in, adds a Worker, creates a release, starts it from its page (preflight,
 *   confirmation) and watches it reach `completed` without a reload; the API's message shows
 *   when it refuses something;
 * - a bad version rolls back by itself, and the page says why (beside the first release, in time);
 * - a person invited read-only signs up from the invitation link, sees no action and is told
 *   why; a request forged from their session is refused;
 * - a deploy member accepts an invitation, sees release actions and no settings, and cancels a
 *   release with a reason;
 * - when the live stream cannot open, the release page says so and keeps up by polling;
 * - the server serves the build as it should (CSP, caching, client routes, `/api` untouched);
 * - axe finds no violation on any screen, and no screen needs anything the CSP refuses.
 */
import * as TestDatabase from "@canaryroll/postgres/test-database"
import { Redacted } from "effect"
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
let team: string
let quickPlanId: string
const password = "a long enough test password"

const storefront = () => server.details.workers.find((worker) => worker.scriptName === "storefront")!
const checkout = () => server.details.workers.find((worker) => worker.scriptName === "checkout-api")!

beforeAll(async () => {
  ;[server, browser] = await Promise.all([ServerProcess.start(Redacted.value(database.url())), launch()])
  team = server.details.teamSlug
  admin = await ApiSession.login(server.details.url, server.details.adminEmail, server.details.adminPassword)
  // Two-second steps, checked every 10 s (the shortest interval), one failure rolls back: a
  // release ends in well under a minute. The simulator's analytics lag 5 s in the sandbox.
  const plan = await admin.request("POST", `/api/teams/${team}/plans`, {
    slug: "quick",
    name: "Quick (tests)",
    steps: [{ percentage: 50, waitSeconds: 2 }, { percentage: 100, waitSeconds: 2 }],
    health: { intervalSeconds: 10, failuresBeforeAction: 1, maxErrorRate: 0.05, minRequests: 10, analyticsDelaySeconds: 5 }
  })
  assert.strictEqual(plan.status, 201, JSON.stringify(plan.body))
  quickPlanId = plan.body.id
  // The admin adds checkout-api back from the dashboard.
  const removed = await admin.request("DELETE", `/api/teams/${team}/workers/${checkout().workerId}`)
  assert.strictEqual(removed.status, 204, JSON.stringify(removed.body))
})

afterAll(async () => {
  await browser?.close()
  await server?.stop()
})

const expectAccessible = async (page: Page, screen: string) => {
  const violations = await Pages.accessibilityViolations(page)
  assert.deepStrictEqual(violations, [], `axe on ${screen}`)
}

/** A release created with the team's deploy token, as the GitHub Action creates them. */
const createRelease = async (workerId: string, versionId: string, autoAdvance = true) => {
  const created = await fetch(`${server.details.url}/api/teams/${team}/deployments/workers/${workerId}/deployments`, {
    method: "POST",
    headers: { authorization: `Bearer ${server.details.teamToken}`, "content-type": "application/json" },
    body: JSON.stringify({ versionId, planId: "quick", autoAdvance })
  })
  assert.strictEqual(created.status, 201)
  return (await created.json()) as { id: string }
}

/** A Worker's id now (checkout-api gets a new one when the admin adds it back). */
const workerIdOf = async (scriptName: string) =>
  ((await admin.request("GET", `/api/teams/${team}/workers`)).body as Array<{ id: string; scriptName: string }>)
    .find((worker) => worker.scriptName === scriptName)!.id

const releaseStatus = async (id: string) => (await admin.request("GET", `/api/teams/${team}/deployments/${id}`)).body.status as string

describe("the server serves the dashboard", () => {
  it("index.html for client routes with a strict CSP, hashed files cached for good, /api and unknown paths untouched", async () => {
    const base = server.details.url
    for (const route of ["/", "/login", `/teams/${team}`, `/teams/${team}/deployments/dep_x`, "/invitations/accept?token=x"]) {
      const response = await fetch(base + route)
      assert.strictEqual(response.status, 200, route)
      const csp = response.headers.get("content-security-policy") ?? ""
      assert.include(csp, "script-src 'self'", route)
      assert.notInclude(csp, "unsafe-inline", route)
      assert.strictEqual(response.headers.get("cache-control"), "no-store", route)
      const html = await response.text()
      assert.include(html, `<div id="root"></div>`, route)
      // Scripts only as files: no inline <script> with content.
      assert.notMatch(html, /<script(?![^>]*\bsrc=)[^>]*>\s*\S/, route)
    }
    const html = await (await fetch(base + "/")).text()
    const script = /src="(\/static\/[^"]+\.js)"/.exec(html)?.[1]
    assert.isDefined(script)
    const asset = await fetch(base + script!, { headers: { "accept-encoding": "gzip" } })
    assert.strictEqual(asset.status, 200)
    assert.strictEqual(asset.headers.get("cache-control"), "public, max-age=31536000, immutable")
    assert.include(asset.headers.get("content-type") ?? "", "javascript")
    const api = await fetch(base + "/api/nope")
    assert.strictEqual(api.status, 404)
    assert.strictEqual((await api.json()).error, "not_found")
    const health = await fetch(base + "/api/health")
    assert.deepStrictEqual(await health.json(), { ok: true })
    assert.strictEqual((await fetch(base + "/static/missing.js")).status, 404)
    assert.strictEqual((await fetch(base + "/nothing-here")).status, 404)
  })
})

// The admin's two releases run side by side on the real clock (different Workers, each in its own
// browser context): the rollback starts once the first test has added checkout-api back.
describe("an admin", () => {
  let person: Pages.PersonPage
  let checkoutIsBack: () => void
  const checkoutAdded = new Promise<void>((resolve) => (checkoutIsBack = resolve))
  beforeAll(async () => {
    person = await Pages.open(browser, server.details.url)
  })
  afterAll(() => person?.close())

  it.concurrent("signs in, adds a Worker, creates a release, starts it from its page and watches it complete without a reload", async () => {
    try {
      await releaseFromTheDashboard(person)
    } finally {
      // Failed before adding it: the rollback test then fails at once rather than waiting.
      checkoutIsBack()
    }
  })

  const releaseFromTheDashboard = async (person: Pages.PersonPage) => {
    const { page } = person
    await page.goto("/")
    await page.getByRole("heading", { name: "Sign in to CanaryRoll" }).waitFor()
    await expectAccessible(page, "sign in")
    await Pages.screenshot(page, "sign-in")
    await Pages.signIn(page, server.details.adminEmail, server.details.adminPassword)
    await page.getByRole("heading", { name: "CanaryRoll demo: Workers" }).waitFor()
    await page.getByRole("rowheader", { name: /storefront/ }).waitFor()
    // An admin picks each Worker's default plan in its row; read-only and deploy members see its name.
    await page.getByRole("combobox", { name: "Default plan of storefront" }).waitFor()
    // The filter: nothing needs attention yet.
    const attentionOnly = page.getByRole("switch", { name: /Needs attention only \(0\)/ })
    await page.getByText(/Needs attention only/).click()
    assert.isTrue(await attentionOnly.isChecked())
    await page.getByText("Nothing needs attention.").waitFor()
    assert.strictEqual(await page.getByRole("rowheader").count(), 0)
    await page.getByText(/Needs attention only/).click()
    await page.getByRole("rowheader", { name: /storefront/ }).waitFor()
    await expectAccessible(page, "overview")

    // Add a Worker: one of the account's scripts as Cloudflare lists them (storefront is added already).
    await page.getByRole("button", { name: "Add a Worker" }).first().click()
    const dialog = page.getByRole("dialog")
    await dialog.getByRole("button", { name: /Pick a script/ }).click()
    await page.getByRole("option", { name: /storefront/ }).waitFor()
    assert.strictEqual(await page.getByRole("option", { name: /storefront/ }).getAttribute("aria-disabled"), "true")
    await expectAccessible(page, "add a Worker")
    await page.getByRole("option", { name: "checkout-api" }).click()
    await dialog.getByRole("button", { name: "Add the Worker" }).click()
    await dialog.waitFor({ state: "detached" })
    await page.getByRole("rowheader", { name: /checkout-api/ }).waitFor()
    checkoutIsBack()
    // Its live split is read from Cloudflare.
    await page.getByRole("row", { name: /checkout-api/ }).getByText(/^100% /).waitFor()
    await Pages.screenshot(page, "overview")

    // Create a release: the Worker, a version from Cloudflare's list, the quick plan.
    await page.getByRole("link", { name: "New release" }).click()
    await page.getByRole("heading", { name: "New release" }).waitFor()
    await page.getByLabel("Worker").selectOption({ label: "storefront" })
    const versions = page.getByLabel("Version (from Cloudflare)")
    await versions.selectOption((await versions.locator("option", { hasText: "a good version" }).getAttribute("value"))!)
    // The Worker's default plan is chosen until another is picked.
    const plans = page.getByLabel("Plan")
    assert.match(await plans.locator("option:checked").innerText(), /^Demo \(about a minute\) \(the Worker's default\)/)
    await plans.selectOption((await plans.locator("option", { hasText: "Quick (tests)" }).getAttribute("value"))!)
    await expectAccessible(page, "new release")
    await Pages.screenshot(page, "new-release")
    // A refusal shows the API's own message (it names the field), and nothing is created.
    await page.getByLabel(/Ticket link/).fill("ftp://tickets.example/42")
    await page.getByRole("button", { name: "Create the release" }).click()
    const refusal = page.getByRole("alert")
    await refusal.waitFor()
    assert.match(await refusal.innerText(), /ticketUrl.*https: or http:/)
    await page.getByLabel(/Ticket link/).fill("https://tickets.example/42")
    // No reload from here on: a marker set in this document must survive to the end.
    await page.evaluate(() => Object.assign(window, { sameDocument: true }))
    await page.getByRole("button", { name: "Create the release" }).click()

    // Its page: pending, the preflight first, then Start.
    await page.getByRole("heading", { name: "Preflight: ready to start" }).waitFor()
    assert.match(page.url(), new RegExp(`/teams/${team}/deployments/[^/]+$`))
    await expectAccessible(page, "pending release")
    await Pages.screenshot(page, "release-pending")
    await page.getByRole("button", { name: "Start" }).click()
    const confirm = page.getByRole("dialog")
    await confirm.getByRole("heading", { name: "Start this release?" }).waitFor()
    await expectAccessible(page, "confirmation dialog")
    await confirm.getByLabel(/Reason/).fill("browser test")
    await confirm.getByRole("button", { name: "Start" }).click()
    await page.getByText("Live: events appear as they happen.").waitFor({ timeout: 30_000 })
    await page.getByRole("listitem").filter({ hasText: /^\d.*StepStarted/ }).first().waitFor()
    await page.locator(".verdict-healthy").first().waitFor({ timeout: 60_000 })
    await Pages.screenshot(page, "release-in-progress")
    await page.getByTestId("status-sentence").getByText(/^Completed: the new version serves 100%/).waitFor({ timeout: 120_000 })
    await page.getByText(/found storefront at 100% healthy/).first().waitFor()
    assert.isTrue(await page.evaluate(() => (window as { sameDocument?: boolean }).sameDocument === true), "the page was reloaded")
    assert.strictEqual(await page.getByRole("button", { name: /Advance|Pause|Roll back/ }).count(), 0)
    await expectAccessible(page, "completed release")
    await Pages.screenshot(page, "release-completed")
    assert.deepStrictEqual(person.cspViolations(), [])
  }

  it.concurrent("sees a bad version rolled back by itself, with the reason on screen", async () => {
    await checkoutAdded
    const release = await createRelease(await workerIdOf("checkout-api"), checkout().badVersionId)
    const person = await Pages.open(browser, server.details.url)
    try {
      await watchRollback(person, release.id)
    } finally {
      await person.close()
    }
  })

  const watchRollback = async (person: Pages.PersonPage, releaseId: string) => {
    const { page } = person
    const release = { id: releaseId }
    await page.goto("/login")
    await Pages.signIn(page, server.details.adminEmail, server.details.adminPassword)
    await page.getByRole("heading", { name: "CanaryRoll demo: Workers" }).waitFor()
    await page.goto(`/teams/${team}/deployments/${release.id}`)
    await page.getByRole("heading", { name: "Preflight: ready to start" }).waitFor()
    await page.getByRole("button", { name: "Start" }).click()
    await page.getByRole("dialog").getByRole("button", { name: "Start" }).click()
    await page.getByTestId("status-sentence").getByText(/^Rolled back: the stable version serves 100% again, because/).waitFor({ timeout: 120_000 })
    const sentence = await page.getByTestId("status-sentence").innerText()
    // The reason names the limit it broke.
    assert.match(sentence, /maxErrorRate \(5\.00%\)/)
    await page.locator(".verdict-unhealthy").first().waitFor()
    assert.strictEqual(await releaseStatus(release.id), "rolled_back")
    await expectAccessible(page, "rolled back release")
    await Pages.screenshot(page, "release-rolled-back")
    assert.deepStrictEqual(person.cspViolations(), [])
  }
})

describe("roles", () => {
  it("a person invited read-only signs up from the link, sees no action and is told why; a forged request is refused", async () => {
    const invitation = await admin.request("POST", `/api/teams/${team}/invitations`, { email: "reader@example.com", role: "read_only" })
    assert.strictEqual(invitation.status, 201)
    // storefront serves its good version since the admin's release: the bad one is the candidate.
    const pending = await createRelease(storefront().workerId, storefront().badVersionId)
    const person = await Pages.open(browser, server.details.url)
    try {
      const { page } = person
      await page.goto(new URL(invitation.body.acceptUrl).pathname + new URL(invitation.body.acceptUrl).search)
      await page.getByRole("heading", { name: "Sign in to CanaryRoll" }).waitFor()
      await page.getByRole("link", { name: "Create an account" }).click()
      await page.getByLabel("Name").fill("Reader")
      await page.getByLabel("Email").fill("reader@example.com")
      await page.getByLabel("Password").fill(password)
      await expectAccessible(page, "sign up")
      await page.getByRole("button", { name: "Create the account" }).click()
      await page.getByRole("heading", { name: "CanaryRoll demo: Workers" }).waitFor()
      await page.getByText("You are read-only in this team").waitFor()
      await page.getByRole("rowheader", { name: /storefront/ }).waitFor()
      assert.strictEqual(await page.getByRole("link", { name: "New release" }).count(), 0)
      assert.strictEqual(await page.getByRole("button", { name: "Add a Worker" }).count(), 0)
      assert.strictEqual(await page.getByRole("combobox").count(), 0, "no plan picker")
      await expectAccessible(page, "read-only overview")
      await Pages.screenshot(page, "overview-read-only")

      await page.goto(`/teams/${team}/deployments/${pending.id}`)
      await page.getByRole("heading", { name: "Preflight: ready to start" }).waitFor()
      await page.getByText("You are read-only in this team").waitFor()
      assert.strictEqual(await page.getByRole("group", { name: "Release actions" }).count(), 0)
      assert.strictEqual(await page.getByRole("button", { name: /Start|Cancel/ }).count(), 0)
      await expectAccessible(page, "read-only release")

      // The same request the Start button would send, forged from this session: refused, nothing changes.
      const forged = await page.evaluate(async (path) => {
        const response = await fetch(path, { method: "POST", headers: { "content-type": "application/json", "idempotency-key": crypto.randomUUID() }, body: "null" })
        return { status: response.status, body: await response.json() }
      }, `/api/teams/${team}/deployments/${pending.id}/start`)
      assert.strictEqual(forged.status, 403)
      assert.match(forged.body.message, /deploy/)
      assert.strictEqual(await releaseStatus(pending.id), "pending")
      assert.deepStrictEqual(person.cspViolations(), [])
    } finally {
      await person.close()
      await admin.request("POST", `/api/teams/${team}/deployments/${pending.id}/cancel`, null)
    }
  })

  it("a deploy member accepts an invitation, sees release actions and no settings, and cancels a release with a reason", async () => {
    // Someone with an account already: they accept on the invitation page.
    const signedUp = await fetch(`${server.details.url}/api/auth/signup`, {
      method: "POST",
      headers: { "content-type": "application/json", origin: server.details.url },
      body: JSON.stringify({ email: "deployer@example.com", name: "Deployer", password })
    })
    assert.strictEqual(signedUp.status, 201)
    const invitation = await admin.request("POST", `/api/teams/${team}/invitations`, { email: "deployer@example.com", role: "deploy" })
    assert.strictEqual(invitation.status, 201)
    const pending = await createRelease(storefront().workerId, storefront().badVersionId)
    const person = await Pages.open(browser, server.details.url)
    try {
      const { page } = person
      await page.goto("/login")
      await Pages.signIn(page, "deployer@example.com", password)
      await page.getByRole("heading", { name: "You are not in a team yet" }).waitFor()
      await expectAccessible(page, "no team yet")
      const link = new URL(invitation.body.acceptUrl)
      await page.goto(link.pathname + link.search)
      await page.getByRole("button", { name: "Accept the invitation" }).click()
      await page.getByText("You joined CanaryRoll demo as deploy.").waitFor()
      await expectAccessible(page, "invitation accepted")
      await page.getByRole("link", { name: "Open CanaryRoll demo" }).click()
      await page.getByRole("heading", { name: "CanaryRoll demo: Workers" }).waitFor()
      await page.getByRole("rowheader", { name: /storefront/ }).waitFor()
      await page.getByRole("link", { name: "New release" }).waitFor()
      assert.strictEqual(await page.getByRole("button", { name: "Add a Worker" }).count(), 0)
      assert.strictEqual(await page.getByRole("combobox").count(), 0, "no plan picker")
      assert.strictEqual(await page.getByText("You are read-only").count(), 0)

      await page.goto(`/teams/${team}/deployments/${pending.id}`)
      await page.getByRole("heading", { name: "Preflight: ready to start" }).waitFor()
      await page.getByRole("button", { name: "Start" }).waitFor()
      await page.getByRole("button", { name: "Cancel release" }).click()
      const confirm = page.getByRole("dialog")
      await confirm.getByLabel(/Reason/).fill("wrong version picked")
      await confirm.getByRole("button", { name: "Cancel release" }).click()
      await page.getByTestId("status-sentence").getByText("Cancelled before it started: wrong version picked.").waitFor()
      assert.strictEqual(await releaseStatus(pending.id), "cancelled")
      assert.deepStrictEqual(person.cspViolations(), [])
    } finally {
      await person.close()
    }
  })
})

describe("the release page without the live stream", () => {
  it("says it is polling, and still shows what happens without a reload", async () => {
    const release = await createRelease(storefront().workerId, storefront().badVersionId)
    const person = await Pages.open(browser, server.details.url)
    try {
      const { page } = person
      // A proxy that refuses the stream.
      await page.route("**/events/stream*", (route) => route.fulfill({ status: 502, contentType: "text/plain", body: "bad gateway" }))
      await page.goto("/login")
      await Pages.signIn(page, server.details.adminEmail, server.details.adminPassword)
      await page.getByRole("heading", { name: "CanaryRoll demo: Workers" }).waitFor()
      await page.goto(`/teams/${team}/deployments/${release.id}`)
      await page.getByText(/Live updates unavailable \(the live stream could not be opened\); refreshing every 3 s instead/).waitFor()
      await page.evaluate(() => Object.assign(window, { sameDocument: true }))
      // Started by someone else (the Action, with its token): the page catches up by polling.
      const started = await fetch(`${server.details.url}/api/teams/${team}/deployments/${release.id}/start`, {
        method: "POST",
        headers: { authorization: `Bearer ${server.details.teamToken}` }
      })
      assert.strictEqual(started.status, 200)
      await page.locator(".status-line .status").getByText("in progress").waitFor()
      await page.getByText(/ReleaseStarted/).waitFor()
      assert.isTrue(await page.evaluate(() => (window as { sameDocument?: boolean }).sameDocument === true))
      await Pages.screenshot(page, "release-polling")
      // Paused from this page before its first health check (10 s) can roll it back.
      await page.getByRole("button", { name: "Pause" }).click()
      await page.getByRole("dialog").getByRole("button", { name: "Pause" }).click()
      await page.getByTestId("status-sentence").getByText(/^Paused at step 1 of 2/).waitFor()
      assert.strictEqual(await releaseStatus(release.id), "paused")
    } finally {
      await person.close()
      await admin.request("POST", `/api/teams/${team}/deployments/${release.id}/rollback`, null)
    }
  })
})
