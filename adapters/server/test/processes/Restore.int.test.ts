/**
 * A restore, as docs/operations.md describes it: the database of a running server is copied in
 * the middle of a release (`CREATE DATABASE … TEMPLATE …`, the test's stand-in for a backup of a
 * live database), the server is then lost (`kill -9`), and a new server started on the copy
 * carries the release on from its events to completion: the step already live is recorded, not
 * made again, and no traffic change is lost or doubled.
 */
import * as TestDatabase from "@canaryroll/postgres/test-database"
import { assert, describe, it } from "@effect/vitest"
import { PgClient } from "@effect/sql-pg"
import { Effect, Redacted } from "effect"
import { SqlClient } from "effect/sql"
import { randomBytes } from "node:crypto"
import * as fs from "node:fs/promises"
import * as os from "node:os"
import * as path from "node:path"
import { setTimeout as delay } from "node:timers/promises"
import { type ServerProcess, spawnServer } from "./ServerProcess.ts"
import * as SimulatedTeam from "./SimulatedTeam.ts"

const database = TestDatabase.forFile()

const onServer = (statement: (sql: SqlClient.SqlClient) => Effect.Effect<unknown, unknown>) =>
  Effect.runPromise(
    SqlClient.SqlClient.use(statement).pipe(Effect.provide(PgClient.layer({ url: TestDatabase.serverUrl(), maxConnections: 1 })))
  )

describe("restore", () => {
  it("a copy taken mid-release, started after the server was lost, completes the release from its events", async () => {
    const cloudflare = await SimulatedTeam.startCloudflare()
    const dataDirectory = await fs.mkdtemp(path.join(os.tmpdir(), "canaryroll-restore-"))
    const copy = `${database.name}_restored`
    const environment = {
      CANARYROLL_SECRET_KEY: randomBytes(32).toString("hex"),
      CANARYROLL_DATA_DIR: dataDirectory,
      CANARYROLL_SANDBOX: "false",
      CANARYROLL_DASHBOARD: "false",
      CLOUDFLARE_API_BASE_URL: cloudflare.simulator.baseUrl,
      PORT: "0"
    }
    const original = spawnServer({ ...environment, DATABASE_URL: Redacted.value(database.url()) })
    let restored: ServerProcess | undefined
    try {
      const originalUrl = await original.listening
      assert.notStrictEqual(originalUrl, "", original.output())
      const team = await SimulatedTeam.create(originalUrl, cloudflare)
      const worker = team.workers[0]!
      const base = `/api/teams/${team.slug}/deployments`
      const token = team.tokens.deploy
      const created = await SimulatedTeam.call(originalUrl, "POST", `${base}/workers/${worker.workerId}/deployments`, token, {
        versionId: worker.goodVersionId,
        planId: "quick"
      })
      await SimulatedTeam.call(originalUrl, "POST", `${base}/${created.id}/start`, token)
      const deadline = Date.now() + 60_000
      let events: Array<any> = []
      while (!events.some((event) => event.eventType === "TrafficShifted") && Date.now() < deadline) {
        await delay(200)
        events = await SimulatedTeam.call(originalUrl, "GET", `${base}/${created.id}/events`, token)
      }
      assert.isTrue(events.some((event) => event.eventType === "TrafficShifted"), "mid-release: the first step is live")

      // The backup: a copy needs the source without sessions, so the live server is cut off
      // for the moment it takes (its loop backs off and reconnects, as on any database blip).
      await onServer((sql) =>
        Effect.gen(function*() {
          yield* sql`ALTER DATABASE ${sql(database.name)} WITH ALLOW_CONNECTIONS false`
          yield* sql`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = ${database.name} AND pid <> pg_backend_pid()`
          yield* sql`CREATE DATABASE ${sql(copy)} TEMPLATE ${sql(database.name)}`
        })
      )
      // The server is lost, and its database with it.
      original.child.kill("SIGKILL")
      await original.exited
      await onServer((sql) => sql`DROP DATABASE ${sql(database.name)} WITH (FORCE)`)
      const live = cloudflare.simulator.activeDeployment({ accountId: cloudflare.seeded.accountId, scriptName: worker.scriptName })
      assert.isTrue(live?.versions.some((version) => version.version_id === worker.goodVersionId), "the canary serves part of the traffic")

      restored = spawnServer({ ...environment, DATABASE_URL: Redacted.value(TestDatabase.databaseUrl(TestDatabase.serverUrl(), copy)) })
      const restoredUrl = await restored.listening
      assert.notStrictEqual(restoredUrl, "", restored.output())
      let finished: any
      // Within the lease the lost server held (10 s), plus the rest of the plan.
      const carryOn = Date.now() + 120_000
      while (Date.now() < carryOn) {
        finished = await SimulatedTeam.call(restoredUrl, "GET", `${base}/${created.id}`, token)
        if (SimulatedTeam.terminal.has(finished.status)) break
        await delay(500)
      }
      assert.strictEqual(finished?.status, "completed", `${JSON.stringify(finished)}\n${restored.output()}`)
      events = await SimulatedTeam.call(restoredUrl, "GET", `${base}/${created.id}/events`, token)
      assert.deepStrictEqual(
        events.filter((event) => event.eventType === "TrafficShifted").map((event) => event.stepIndex),
        [0, 1],
        "each step's traffic change recorded once"
      )
      assert.strictEqual(events.filter((event) => event.eventType === "Completed").length, 1)
      const after = cloudflare.simulator.activeDeployment({ accountId: cloudflare.seeded.accountId, scriptName: worker.scriptName })
      assert.deepStrictEqual(after?.versions.map((version) => [version.version_id, version.percentage]), [[worker.goodVersionId, 100]])
    } finally {
      original.child.kill("SIGKILL")
      if (restored !== undefined) await restored.stop()
      await cloudflare.simulator.close()
      await onServer((sql) => sql`DROP DATABASE IF EXISTS ${sql(copy)} WITH (FORCE)`)
      await fs.rm(dataDirectory, { recursive: true, force: true })
    }
  })
})
