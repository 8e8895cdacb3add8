/**
 * The live stream across server processes, as `pnpm start` runs them on one database: a page
 * watching a release on the first server sees the events the second server appends (a person's
 * start sent to the second, the schedulers' steps wherever they run), heartbeats on the interval
 * set by `CANARYROLL_LIVE_HEARTBEAT_MS`, and a stream cut and resumed on the other server from
 * `Last-Event-ID` with nothing missed or doubled; a server stopping with a stream open ends it.
 */
import * as TestDatabase from "@canaryroll/postgres/test-database"
import { assert, describe, it } from "@effect/vitest"
import { Redacted } from "effect"
import { randomBytes } from "node:crypto"
import * as fs from "node:fs/promises"
import * as os from "node:os"
import * as path from "node:path"
import * as EventStream from "../support/EventStream.ts"
import { spawnServer } from "./ServerProcess.ts"
import { call } from "./SimulatedTeam.ts"

const database = TestDatabase.forFile()

describe("the live stream, two server processes on one database", () => {
  it("shows on one server what the other appends; resumes on the other from Last-Event-ID", async () => {
    const dataDirectory = await fs.mkdtemp(path.join(os.tmpdir(), "canaryroll-live-"))
    const environment = {
      DATABASE_URL: Redacted.value(database.url()),
      CANARYROLL_SECRET_KEY: randomBytes(32).toString("hex"),
      CANARYROLL_DATA_DIR: dataDirectory,
      CANARYROLL_DASHBOARD: "false",
      CANARYROLL_LIVE_HEARTBEAT_MS: "300",
      PORT: "0",
      CANARYROLL_LOG_LEVEL: "info"
    }
    const first = spawnServer({ ...environment, CANARYROLL_SANDBOX: "true" })
    // The second steps no releases: every event after the start is the first's scheduler's or a person's.
    const second = spawnServer({ ...environment, CANARYROLL_SANDBOX: "false", CANARYROLL_SCHEDULER: "false" })
    const streams: Array<EventStream.EventStream> = []
    try {
      const firstUrl = await first.listening
      assert.notStrictEqual(firstUrl, "", `the first server did not start:\n${first.output()}`)
      await first.said("These details are in")
      const sandbox = JSON.parse(await fs.readFile(path.join(dataDirectory, "sandbox.json"), "utf8"))
      const secondUrl = await second.listening
      assert.notStrictEqual(secondUrl, "", `the second server did not start:\n${second.output()}`)
      const token: string = sandbox.teamToken
      const worker = sandbox.workers[0]
      const base = `/api/teams/${sandbox.teamSlug}/deployments`
      // Manual advance: the release waits at its first step, so the test knows when nothing more comes.
      const created = await call(firstUrl, "POST", `${base}/workers/${worker.workerId}/deployments`, token, {
        versionId: worker.goodVersionId,
        autoAdvance: false
      })
      const auth = { authorization: `Bearer ${token}` }
      const onFirst = await EventStream.open(`${firstUrl}${base}/${created.id}/events/stream`, auth)
      streams.push(onFirst)
      assert.strictEqual(onFirst.status, 200, JSON.stringify(onFirst.error))
      await onFirst.next((message) => message.id === "1")

      // The start goes to the second process: its events reach the first's stream.
      await call(secondUrl, "POST", `${base}/${created.id}/start`, token)
      const started = await onFirst.next((message) => message.event === "message" && JSON.parse(message.data).eventType === "ReleaseStarted")
      assert.strictEqual(started.id, "2")
      // The first's scheduler shifts traffic to the first step: also on the stream.
      await onFirst.next((message) => message.event === "message" && JSON.parse(message.data).eventType === "TrafficShifted")

      // Heartbeats on the configured interval: at least two more after the events so far.
      const heard = onFirst.messages.length
      await onFirst.next((message) => message.event === "heartbeat", { from: heard })
      await onFirst.next((message) => message.event === "heartbeat", {
        from: onFirst.messages.findLastIndex((message) => message.event === "heartbeat") + 1
      })

      // Cut; while no one listens, a person pauses on the first; resumed on the second.
      onFirst.close()
      const lastEventId = onFirst.lastEventId()!
      await call(firstUrl, "POST", `${base}/${created.id}/pause`, token, { reason: "checking the graphs" })
      const onSecond = await EventStream.open(`${secondUrl}${base}/${created.id}/events/stream`, { ...auth, "last-event-id": lastEventId })
      streams.push(onSecond)
      await onSecond.next((message) => message.event === "message" && JSON.parse(message.data).eventType === "Paused")
      const listed: Array<any> = await call(secondUrl, "GET", `${base}/${created.id}/events`, token)
      const seen = [...EventStream.releaseEvents(onFirst.messages), ...EventStream.releaseEvents(onSecond.messages)]
      assert.deepStrictEqual(seen.map((event) => event.id), listed.map((event) => event.id), "every event once, in order")
      assert.deepStrictEqual(seen.map((event) => event.version), listed.map((_, index) => index + 1))

      // A server stopping with a stream open ends the stream (it would otherwise hold the
      // listener's close until the graceful-shutdown timeout) and exits.
      await second.stop()
      assert.strictEqual(await onSecond.ended, "complete", "the server ended the stream")
    } finally {
      for (const stream of streams) stream.close()
      await Promise.all([first.stop(), second.stop()])
      await fs.rm(dataDirectory, { recursive: true, force: true })
    }
  })
})
