/**
 * `pnpm start`'s entry point, as processes on the real clock: the first runs the sandbox (the
 * simulator in-process, the demo team, `sandbox.json`), the second shares its database (not a
 * sandbox: it reaches the simulator through the saved credentials). Releases created and started
 * through either server run to completion, stepped by both schedulers, each traffic change once.
 */
import * as TestDatabase from "@canaryroll/postgres/test-database"
import { assert, describe, it } from "@effect/vitest"
import { Redacted } from "effect"
import { randomBytes } from "node:crypto"
import * as fs from "node:fs/promises"
import * as os from "node:os"
import * as path from "node:path"
import { setTimeout as delay } from "node:timers/promises"
import { ApiToken } from "../../src/index.ts"
import { spawnServer } from "./ServerProcess.ts"

const database = TestDatabase.forFile()

const call = async (url: string, method: string, route: string, token: string, body?: unknown) => {
  const response = await fetch(`${url}${route}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) })
  })
  const json = await response.json() as any
  assert.isTrue(response.ok, `${method} ${route}: ${response.status} ${JSON.stringify(json)}`)
  return json
}

describe("two server processes on one database", () => {
  it("run the sandbox's releases to completion together", async () => {
    const dataDirectory = await fs.mkdtemp(path.join(os.tmpdir(), "canaryroll-servers-"))
    const environment = {
      DATABASE_URL: Redacted.value(database.url()),
      CANARYROLL_SECRET_KEY: randomBytes(32).toString("hex"),
      CANARYROLL_DATA_DIR: dataDirectory,
      PORT: "0",
      CANARYROLL_LOG_LEVEL: "info"
    }
    const first = spawnServer({ ...environment, CANARYROLL_SANDBOX: "true" })
    const second = spawnServer({ ...environment, CANARYROLL_SANDBOX: "false" })
    try {
      const firstUrl = await first.listening
      await first.said("These details are in")
      const sandbox = JSON.parse(await fs.readFile(path.join(dataDirectory, "sandbox.json"), "utf8"))
      for (const field of ["url", "teamId", "teamSlug", "adminEmail", "adminPassword", "teamToken"]) {
        assert.isString(sandbox[field], field)
      }
      assert.isTrue(ApiToken.isWellFormed(sandbox.teamToken), "a well-formed crt_ token")
      assert.strictEqual(sandbox.workers.length, 2)
      for (const worker of sandbox.workers) {
        for (const field of ["workerId", "scriptName", "goodVersionId", "badVersionId", "planId"]) {
          assert.isString(worker[field], field)
        }
      }
      const secondUrl = await second.listening
      assert.notStrictEqual(secondUrl, "", `the second server did not start:\n${second.output()}`)

      const login = await fetch(`${secondUrl}/api/auth/login`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ email: sandbox.adminEmail, password: sandbox.adminPassword })
      })
      assert.strictEqual(login.status, 200, "the printed admin password works")

      const base = `/api/teams/${sandbox.teamSlug}/deployments`
      const token = sandbox.teamToken
      const ids: Array<string> = []
      for (const [index, worker] of sandbox.workers.entries()) {
        const [creator, starter] = index === 0 ? [firstUrl, secondUrl] : [secondUrl, firstUrl]
        const created = await call(creator, "POST", `${base}/workers/${worker.workerId}/deployments`, token, {
          versionId: worker.goodVersionId
        })
        await call(starter, "POST", `${base}/${created.id}/start`, token)
        ids.push(created.id)
      }

      // Polled like the GitHub Action polls: the demo plan takes about a minute.
      const deadline = Date.now() + 180_000
      const finished = new Map<string, any>()
      while (finished.size < ids.length && Date.now() < deadline) {
        for (const [index, id] of ids.entries()) {
          const deployment = await call(index % 2 === 0 ? firstUrl : secondUrl, "GET", `${base}/${id}`, token)
          if (["completed", "rolled_back", "failed", "cancelled"].includes(deployment.status)) finished.set(id, deployment)
        }
        if (finished.size < ids.length) await delay(1_000)
      }
      for (const id of ids) {
        assert.strictEqual(finished.get(id)?.status, "completed", `${id}: ${JSON.stringify(finished.get(id))}`)
        const events: Array<any> = await call(firstUrl, "GET", `${base}/${id}/events`, token)
        const shifts = events.filter((event) => event.eventType === "TrafficShifted").map((event) => event.stepIndex)
        assert.deepStrictEqual(shifts, [0, 1, 2], "one traffic change per step")
        assert.strictEqual(events.filter((event) => event.eventType === "Completed").length, 1)
      }
    } finally {
      const [a, b] = await Promise.all([first.stop(), second.stop()])
      await fs.rm(dataDirectory, { recursive: true, force: true })
      // A graceful stop: the scheduler gave up its leases and said so (exit codes: Shutdown.int.test.ts).
      assert.include(first.output(), "stopped after claiming", `first server:\n${first.output()}`)
      assert.include(second.output(), "stopped after claiming", `second server:\n${second.output()}`)
      assert.isAbove((a.claimed ?? 0) + (b.claimed ?? 0), 0, "the schedulers stepped the releases")
      console.log(`release steps claimed: first server ${a.claimed}, second ${b.claimed}`)
    }
  })
})
