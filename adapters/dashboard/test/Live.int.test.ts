/**
 * The release page's live updates in a real Chromium, as deployed behind a load balancer: two
 * server processes on one database (the first a sandbox that serves the page and steps releases,
 * the second steps none), and in front of the first a reverse proxy on loopback whose handling of
 * the stream the test controls (support/StreamProxy.ts). The heartbeat is 1 s
 * (`CANARYROLL_LIVE_HEARTBEAT_MS`), which the page learns from the heartbeats themselves.
 *
 * One release, followed by one open page, without a reload:
 * - an event appended by the second process appears on the page, which stays live;
 * - the stream is dropped while the second process appends events: the page reconnects with
 *   `Last-Event-ID` and its timeline is the release's events, each once, in order;
 * - a proxy starts buffering (one heartbeat gets through, then nothing): the page falls back to
 *   polling, says so, and still shows what the second process appends.
 */
import * as TestDatabase from "@canaryroll/postgres/test-database"
import { Redacted } from "effect"
import { randomBytes } from "node:crypto"
import type { Browser, Page } from "playwright-core"
import { afterAll, assert, beforeAll, describe, it } from "vitest"
import { launch } from "./support/Browser.ts"
import * as Pages from "./support/Pages.ts"
import * as ServerProcess from "./support/ServerProcess.ts"
import * as StreamProxy from "./support/StreamProxy.ts"

const database = TestDatabase.forFile()
const heartbeatMs = 1_000
let proxy: StreamProxy.StreamProxy
let first: ServerProcess.ServerProcess
let second: ServerProcess.OtherServerProcess
let browser: Browser

beforeAll(async () => {
  proxy = await StreamProxy.start()
  const shared = { CANARYROLL_SECRET_KEY: randomBytes(32).toString("hex"), CANARYROLL_LIVE_HEARTBEAT_MS: String(heartbeatMs) }
  ;[first, browser] = await Promise.all([
    ServerProcess.start(Redacted.value(database.url()), { ...shared, CANARYROLL_PUBLIC_URL: proxy.url }),
    launch()
  ])
  proxy.target(first.address)
  // After the sandbox has made the schema and the demo team; it steps no release itself.
  second = await ServerProcess.startAnother(Redacted.value(database.url()), {
    ...shared,
    CANARYROLL_SCHEDULER: "false",
    CANARYROLL_DASHBOARD: "false"
  })
})

afterAll(async () => {
  await browser?.close()
  await Promise.all([first?.stop(), second?.stop()])
  await proxy?.close()
})

/** A call with the team's deploy token, to a given server process. */
const call = async (baseUrl: string, method: string, path: string, body?: unknown) => {
  const response = await fetch(`${baseUrl}/api/teams/${first.details.teamSlug}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${first.details.teamToken}`,
      ...(body === undefined ? {} : { "content-type": "application/json" })
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) })
  })
  const text = await response.text()
  assert.isTrue(response.ok, `${method} ${path}: ${response.status} ${text}`)
  return text === "" ? null : JSON.parse(text)
}

/** The page's timeline, oldest first, as event types and sentences. */
const timeline = async (page: Page) =>
  (await page.getByRole("list", { name: "Events" }).locator("li").evaluateAll((items) =>
    items.map((item) => `${item.querySelector(".event-type")?.textContent} ${item.querySelector(".event-text")?.textContent}`)
  )).reverse()

/** The release's events as the API lists them, in the timeline's words. */
const listed = async (id: string) =>
  ((await call(second.address, "GET", `/deployments/${id}/events`)) as Array<{ eventType: string; details: { message?: string } }>)
    .map((event) => `${event.eventType} ${event.details.message ?? event.eventType}`)

/** Waits until the page shows exactly the listed events; the last difference when it never does. */
const expectTimelineOf = async (page: Page, id: string) => {
  let shown: Array<string> = []
  let expected: Array<string> = []
  for (let attempt = 0; attempt < 50; attempt++) {
    ;[shown, expected] = await Promise.all([timeline(page), listed(id)])
    if (JSON.stringify(shown) === JSON.stringify(expected)) return
    await page.waitForTimeout(200)
  }
  assert.deepStrictEqual(shown, expected, "the timeline is the release's events, each once, in order")
}

describe("the release page, live across server processes", () => {
  it("shows what another process appends, resumes a dropped stream with nothing missed or doubled, and falls back to polling behind a buffering proxy", async () => {
    const worker = first.details.workers[0]!
    // Manual advance: the release waits at its first step, so every later event is the test's.
    const release = await call(proxy.url, "POST", `/deployments/workers/${worker.workerId}/deployments`, {
      versionId: worker.goodVersionId,
      autoAdvance: false
    })
    const person = await Pages.open(browser, proxy.url)
    try {
      const { page } = person
      await page.goto("/login")
      await Pages.signIn(page, first.details.adminEmail, first.details.adminPassword)
      await page.getByRole("heading", { name: "CanaryRoll demo: Workers" }).waitFor()
      await page.goto(`/teams/${first.details.teamSlug}/deployments/${release.id}`)
      await page.getByText("Live: events appear as they happen.").waitFor()
      await page.evaluate(() => Object.assign(window, { sameDocument: true }))

      // (a) Started on the second process; the first's scheduler shifts the traffic: both on the page.
      await call(second.address, "POST", `/deployments/${release.id}/start`)
      await page.getByRole("list", { name: "Events" }).getByText("ReleaseStarted").waitFor()
      await page.getByRole("list", { name: "Events" }).getByText("TrafficShifted").first().waitFor()
      await expectTimelineOf(page, release.id)
      await page.getByText("Live: events appear as they happen.").waitFor()

      // (b) The stream is dropped; while the page is cut off, the second process pauses and resumes.
      const seenBeforeCut = (await timeline(page)).length
      const requestsBeforeCut = proxy.streamRequests().length
      proxy.cut()
      await call(second.address, "POST", `/deployments/${release.id}/pause`, { reason: "checking the graphs" })
      await call(second.address, "POST", `/deployments/${release.id}/resume`, { reason: "graphs fine" })
      proxy.pass()
      await page.getByRole("list", { name: "Events" }).getByText(/Resumed/).first().waitFor()
      await expectTimelineOf(page, release.id)
      // It came back over the stream, from where it was: the reconnect named the last event it
      // had (at least what it showed before the cut: the scheduler's checks may append meanwhile),
      // and the pause and resume came after it, on the resumed stream.
      const reconnects = proxy.streamRequests().slice(requestsBeforeCut)
      assert.isAtLeast(reconnects.length, 1)
      const resumedAfter = Number(reconnects[0])
      assert.isAtLeast(resumedAfter, seenBeforeCut, `Last-Event-ID ${reconnects[0]}`)
      const versionOf = async (type: string) => (await listed(release.id)).findIndex((event) => event.startsWith(`${type} `)) + 1
      assert.isAbove(await versionOf("Paused"), resumedAfter)
      await page.getByText("Live: events appear as they happen.").waitFor()

      // (c) A buffering proxy: the reconnect's first heartbeat (1 s, it says) gets through, then
      // nothing. Silent past two heartbeats, the page polls and says so. (With the 15 s it
      // assumed before heartbeats named the interval, it would wait 35 s: past this timeout.)
      proxy.cut()
      proxy.buffer()
      await page.getByText(
        /Live updates unavailable \(the live stream has been silent for two heartbeats.*\); refreshing every 3 s instead/
      ).waitFor({ timeout: 20_000 })
      await call(second.address, "POST", `/deployments/${release.id}/pause`, { reason: "behind the proxy" })
      await page.getByTestId("status-sentence").getByText(/^Paused at step 1/).waitFor()
      await expectTimelineOf(page, release.id)
      assert.isTrue(await page.evaluate(() => (window as { sameDocument?: boolean }).sameDocument === true), "the page was reloaded")
      assert.deepStrictEqual(await Pages.accessibilityViolations(page), [], "axe on the polling release page")
      await Pages.screenshot(page, "release-buffered-polling")
      assert.deepStrictEqual(person.cspViolations(), [])
    } finally {
      await person.close()
    }
  })
})
