/**
 * The embedded server's life cycle on one data directory: initialised once and reused with its
 * data, and recovered from what a killed process leaves behind (a stale `postmaster.pid`, an
 * orphaned server), while a directory whose server is in use is refused. Also `layer` without
 * `DATABASE_URL`, which is what `pnpm start` runs.
 */
import { EventStore } from "@canaryroll/core"
import { PgClient } from "@effect/sql-pg"
import { assert, describe, it } from "@effect/vitest"
import { ConfigProvider, Effect, Layer, References } from "effect"
import { SqlClient } from "effect/sql"
import { execFileSync, spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { afterAll } from "vitest"
import { EmbeddedPostgres, layer } from "../src/index.ts"

const dataDirectory = fs.mkdtempSync(path.join(os.tmpdir(), "canaryroll-embedded-test-"))
afterAll(() => fs.rmSync(dataDirectory, { recursive: true, force: true }))

const pidFile = path.join(dataDirectory, "postmaster.pid")
const ownerFile = path.join(dataDirectory, "canaryroll.owner")

const start = EmbeddedPostgres.start({ dataDirectory, durable: false })

const query = <A extends object>(server: EmbeddedPostgres.Server, statement: (sql: SqlClient.SqlClient) => Effect.Effect<ReadonlyArray<A>, unknown>) =>
  SqlClient.SqlClient.use(statement).pipe(Effect.provide(PgClient.layer({ url: server.url, maxConnections: 1 })))

/** A pid no process has: that of a process that has exited. */
const deadPid = (): number => spawnSync("true").pid!

const isRunning = (pid: number) => {
  try {
    process.kill(pid, 0)
    return fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").includes("postgres")
  } catch {
    return false
  }
}

const postmasterPid = () => Number.parseInt(fs.readFileSync(pidFile, "utf8").split("\n")[0]!, 10)

const quietly = Effect.provideService(References.MinimumLogLevel, "Warn")

describe("EmbeddedPostgres", () => {
  it.live("initialises a fresh directory once, stops cleanly, and a second start reuses it with its data", () =>
    Effect.gen(function*() {
      yield* Effect.scoped(Effect.gen(function*() {
        const server = yield* start
        yield* query(server, (sql) => sql`CREATE TABLE kept (note text)`)
        yield* query(server, (sql) => sql`INSERT INTO kept VALUES ('still here')`)
      }))
      assert.isFalse(fs.existsSync(pidFile), "a stopped server leaves no postmaster.pid")
      assert.isFalse(fs.existsSync(ownerFile))
      if (process.getuid?.() === 0) {
        const postgresUid = Number(execFileSync("id", ["-u", "postgres"], { encoding: "utf8" }).trim())
        assert.strictEqual(fs.statSync(dataDirectory).uid, postgresUid, "as root, the postgres user owns the cluster")
      }

      const rows = yield* Effect.scoped(Effect.flatMap(start, (server) => query<{ note: string }>(server, (sql) => sql`SELECT note FROM kept`)))
      assert.deepStrictEqual(rows.map((row) => row.note), ["still here"])
    }).pipe(quietly))

  it.live("removes a stale postmaster.pid whose process is gone", () =>
    Effect.gen(function*() {
      fs.writeFileSync(pidFile, `${deadPid()}\n${dataDirectory}\n0\n5432\n\n127.0.0.1\n  0  0\nready\n`)
      const rows = yield* Effect.scoped(Effect.flatMap(start, (server) => query<{ one: number }>(server, (sql) => sql`SELECT 1 AS one`)))
      assert.deepStrictEqual(rows.map((row) => row.one), [1])
    }).pipe(quietly))

  it.live("stops the server a killed process left running, and starts afresh", () =>
    Effect.gen(function*() {
      // A server whose owner then "dies": its owner file names a process that no longer exists.
      const orphan = yield* Effect.scoped(Effect.gen(function*() {
        yield* start
        const pid = postmasterPid()
        fs.writeFileSync(ownerFile, `${deadPid()}\n`)
        const rows = yield* Effect.scoped(Effect.flatMap(start, (server) => query<{ one: number }>(server, (sql) => sql`SELECT 1 AS one`)))
        assert.deepStrictEqual(rows.map((row) => row.one), [1])
        return pid
      }))
      assert.isFalse(isRunning(orphan), "the orphaned server was stopped")
      assert.isFalse(fs.existsSync(pidFile))
    }).pipe(quietly))

  it.live("refuses a directory whose server is in use, saying by whom", () =>
    Effect.scoped(Effect.gen(function*() {
      const server = yield* start
      const refused = yield* Effect.scoped(start).pipe(Effect.flip)
      assert.strictEqual(refused._tag, "EmbeddedPostgresError")
      assert.include(refused.message, "in use")
      assert.include(refused.message, "of this process")
      assert.include(refused.message, `:${server.port}/`)
      // the first server is untouched
      const rows = yield* query<{ one: number }>(server, (sql) => sql`SELECT 1 AS one`)
      assert.deepStrictEqual(rows.map((row) => row.one), [1])
    })).pipe(quietly))

  it.live("layer() without DATABASE_URL runs the ports on an embedded server", () =>
    Effect.gen(function*() {
      const store = yield* EventStore.EventStore
      assert.deepStrictEqual(yield* store.readAll(0, 10), [])
      const sql = yield* SqlClient.SqlClient
      const [row] = yield* sql<{ database: string }>`SELECT current_database() AS database`
      assert.strictEqual(row!.database, "canaryroll")
    }).pipe(
      Effect.provide(
        layer({ embedded: { dataDirectory, durable: false } }).pipe(
          Layer.provide(ConfigProvider.layer(ConfigProvider.fromEnvRecord({})))
        ),
        { local: true }
      ),
      quietly
    ))
})
