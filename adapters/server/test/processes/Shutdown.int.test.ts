/**
 * SIGTERM, as systemd, Docker and Kubernetes send it: a server stopped in the middle of a release
 * stops taking work, finishes or gives up its running steps, and exits 0; another server on the
 * same database carries the release on to completion, each traffic change made once. The first
 * server logs JSON (`CANARYROLL_LOG_FORMAT=json`): every line it wrote is one JSON object.
 */
import * as TestDatabase from "@canaryroll/postgres/test-database"
import { assert, describe, it } from "@effect/vitest"
import { Redacted } from "effect"
import { randomBytes } from "node:crypto"
import * as fs from "node:fs/promises"
import * as os from "node:os"
import * as path from "node:path"
import { setTimeout as delay } from "node:timers/promises"
import { type ServerProcess, spawnServer } from "./ServerProcess.ts"
import * as SimulatedTeam from "./SimulatedTeam.ts"

const database = TestDatabase.forFile()

describe("SIGTERM", () => {
  it("mid-release: the process exits 0 and another carries the release on", async () => {
    const cloudflare = await SimulatedTeam.startCloudflare()
    const dataDirectory = await fs.mkdtemp(path.join(os.tmpdir(), "canaryroll-shutdown-"))
    const environment = {
      DATABASE_URL: Redacted.value(database.url()),
      CANARYROLL_SECRET_KEY: randomBytes(32).toString("hex"),
      CANARYROLL_DATA_DIR: dataDirectory,
      CANARYROLL_SANDBOX: "false",
      CANARYROLL_DASHBOARD: "false",
      CLOUDFLARE_API_BASE_URL: cloudflare.simulator.baseUrl,
      PORT: "0",
      CANARYROLL_LOG_LEVEL: "info"
    }
    const first = spawnServer({ ...environment, CANARYROLL_LOG_FORMAT: "json" })
    // Started once the first is mid-release, so that the first is the one stepping it.
    let second: ServerProcess | undefined
    try {
      const firstUrl = await first.listening
      assert.notStrictEqual(firstUrl, "", `the first server did not start:\n${first.output()}`)
      const team = await SimulatedTeam.create(firstUrl, cloudflare)
      const worker = team.workers[0]!
      const base = `/api/teams/${team.slug}/deployments`
      const token = team.tokens.deploy
      const created = await SimulatedTeam.call(firstUrl, "POST", `${base}/workers/${worker.workerId}/deployments`, token, {
        versionId: worker.goodVersionId,
        planId: "quick"
      })
      await SimulatedTeam.call(firstUrl, "POST", `${base}/${created.id}/start`, token)

      // Mid-release: the first step's traffic is live, the release is far from done.
      const deadline = Date.now() + 60_000
      let events: Array<any> = []
      while (!events.some((event) => event.eventType === "TrafficShifted") && Date.now() < deadline) {
        await delay(200)
        events = await SimulatedTeam.call(firstUrl, "GET", `${base}/${created.id}/events`, token)
      }
      assert.isTrue(events.some((event) => event.eventType === "TrafficShifted"), "the first step's traffic shifted")

      second = spawnServer(environment)
      const secondUrl = await second.listening
      assert.notStrictEqual(secondUrl, "", `the second server did not start:\n${second.output()}`)

      first.child.kill("SIGTERM")
      const stopped = await first.exited
      assert.deepStrictEqual({ code: stopped.code, signal: stopped.signal }, { code: 0, signal: null }, first.output())
      assert.include(first.output(), "stopped after claiming", "the scheduler stopped gracefully")
      assert.isAbove(stopped.claimed ?? 0, 0, "the first server stepped the release before it stopped")
      const answers = await fetch(`${firstUrl}/api/health`).then(() => true, () => false)
      assert.isFalse(answers, "the first server no longer answers")

      // Every line the first server wrote to standard output was one JSON object.
      const lines = first.stdoutLines()
      assert.isAbove(lines.length, 2)
      for (const line of lines) {
        const parsed = JSON.parse(line)
        for (const field of ["time", "level", "message"]) assert.property(parsed, field, line)
        assert.isFalse(Number.isNaN(Date.parse(parsed.time)), line)
      }

      let finished: any
      const carryOn = Date.now() + 120_000
      while (Date.now() < carryOn) {
        finished = await SimulatedTeam.call(secondUrl, "GET", `${base}/${created.id}`, token)
        if (SimulatedTeam.terminal.has(finished.status)) break
        await delay(500)
      }
      assert.strictEqual(finished?.status, "completed", JSON.stringify(finished))
      events = await SimulatedTeam.call(secondUrl, "GET", `${base}/${created.id}/events`, token)
      const shifts = events.filter((event) => event.eventType === "TrafficShifted").map((event) => event.stepIndex)
      assert.deepStrictEqual(shifts, [0, 1], "each traffic change once")
      assert.strictEqual(events.filter((event) => event.eventType === "Completed").length, 1)
      const live = cloudflare.simulator.activeDeployment({ accountId: cloudflare.seeded.accountId, scriptName: worker.scriptName })
      assert.deepStrictEqual(
        live?.versions.map((version) => [version.version_id, version.percentage]),
        [[worker.goodVersionId, 100]],
        "the new version serves everything"
      )
    } finally {
      first.child.kill("SIGKILL")
      if (second !== undefined) {
        const stoppedSecond = await second.stop()
        assert.strictEqual(stoppedSecond.code, 0, `SIGTERM exits 0 when idle too:\n${second.output()}`)
      }
      await cloudflare.simulator.close()
      await fs.rm(dataDirectory, { recursive: true, force: true })
    }
  })
})
