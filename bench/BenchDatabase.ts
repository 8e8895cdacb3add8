/**
 * Databases for the Postgres benchmarks: one per system measured, on the same server, created
 * for the run and dropped after it, so the systems never share tables or caches of each other's.
 */
import { EmbeddedPostgres, layerClient } from "@canaryroll/postgres"
// Named so that the exported layer type can be written in declarations.
import { ConfigProvider, Effect, Layer, Redacted } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { SqlClient } from "effect/sql"

/**
 * The server the run's databases go on: `DATABASE_URL`, or an embedded PostgreSQL without fsync
 * in a temporary directory (`prefix` names it), stopped and removed when the scope closes.
 */
export const postgresServer = (prefix: string) =>
  Effect.gen(function*() {
    const external = process.env["DATABASE_URL"]
    if (external !== undefined && external !== "") return Redacted.make(external)
    const server = yield* EmbeddedPostgres.start({
      dataDirectory: yield* Effect.sync(() => fs.mkdtempSync(path.join(os.tmpdir(), prefix))),
      database: "postgres",
      durable: false,
      removeOnStop: true
    })
    return server.url
  })

/** A database on the shared server, dropped when the scope closes. */
export const database = (server: Redacted.Redacted<string>, name: string) =>
  Effect.acquireRelease(
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      yield* sql`CREATE DATABASE ${sql(name)}`
      const url = new URL(Redacted.value(server))
      url.pathname = `/${name}`
      return url.toString()
    }),
    () => SqlClient.SqlClient.use((sql) => sql`DROP DATABASE IF EXISTS ${sql(name)} WITH (FORCE)`).pipe(Effect.ignore)
  )

/** `layerClient` on a given URL: the adapter reads it from `DATABASE_URL`. */
export const clientOn = (url: string) =>
  layerClient().pipe(Layer.provide(ConfigProvider.layer(ConfigProvider.fromUnknown({ DATABASE_URL: url }))))
