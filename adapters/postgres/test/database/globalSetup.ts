/**
 * The vitest global setup behind `TestDatabase` (`@canaryroll/postgres/test-database/global-setup`):
 * ONE Postgres for the whole test run, handed to the workers as `canaryrollPostgresServerUrl`.
 *
 * With `DATABASE_URL` set, that server is used as it is. Otherwise an embedded server starts on a
 * fresh data directory under the system temp directory (nothing to clean up from an earlier run,
 * no clash with a concurrent run), without fsync (a test cluster need not survive a crash), and is
 * stopped and deleted at the end of the run. Several projects may list this setup: they share the
 * first one's server, counted on `globalThis`, which every project's setup sees in vitest's main
 * process; the last one to finish stops it. A run killed before its teardown leaves its directory
 * (and maybe its server) behind: the next run removes those that are over ten minutes old.
 *
 * @since 0.1.0
 */
import { Clock, Effect, Exit, Redacted, References, Scope } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import type { TestProject } from "vitest/node"
import * as EmbeddedPostgres from "../../src/EmbeddedPostgres.ts"
import type {} from "./TestDatabase.ts" // its `ProvidedContext` key

interface SharedServer {
  users: number
  readonly started: Promise<{ readonly url: string; readonly scope: Scope.Closeable }>
}

const shared = Symbol.for("@canaryroll/postgres/test-server")
const registry = globalThis as { [shared]?: SharedServer }

const prefix = "canaryroll-test-postgres-"

/** Test clusters of runs that were killed before their teardown: their server stopped, their directory deleted. */
const removeAbandoned = Effect.gen(function*() {
  const now = yield* Clock.currentTimeMillis
  const abandoned = yield* Effect.sync(() =>
    fs.readdirSync(os.tmpdir())
      .filter((name) => name.startsWith(prefix))
      .map((name) => path.join(os.tmpdir(), name))
      .filter((dir) => now - fs.statSync(dir).mtimeMs > 10 * 60_000)
  )
  // `recover` refuses a directory whose server's owner is alive: a run still going.
  yield* Effect.forEach(abandoned, (dir) =>
    EmbeddedPostgres.recover(dir).pipe(
      Effect.andThen(Effect.sync(() => fs.rmSync(dir, { recursive: true, force: true }))),
      Effect.ignore
    ))
}).pipe(Effect.ignore)

const startServer = Effect.gen(function*() {
  yield* removeAbandoned
  const scope = yield* Scope.make()
  const dataDirectory = yield* Effect.sync(() => fs.mkdtempSync(path.join(os.tmpdir(), prefix)))
  const server = yield* EmbeddedPostgres.start({
    dataDirectory,
    database: "postgres",
    durable: false,
    removeOnStop: true,
    // every test file runs its own pools; the default 100 is tight when files run in parallel
    settings: { max_connections: "300" }
  }).pipe(
    Scope.provide(scope),
    Effect.onError((cause) => Scope.close(scope, Exit.failCause(cause)))
  )
  return { url: Redacted.value(server.url), scope }
}).pipe(Effect.provideService(References.MinimumLogLevel, "Warn"))

export default async function setup(project: TestProject) {
  const external = process.env["DATABASE_URL"]
  if (external !== undefined && external !== "") {
    project.provide("canaryrollPostgresServerUrl", external)
    return
  }
  const server = registry[shared] ??= { users: 0, started: Effect.runPromise(startServer) }
  server.users++
  project.provide("canaryrollPostgresServerUrl", (await server.started).url)
  return async () => {
    if (--server.users > 0) return
    delete registry[shared]
    await Effect.runPromise(Scope.close((await server.started).scope, Exit.void))
  }
}
