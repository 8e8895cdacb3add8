/**
 * Databases for the Postgres benchmarks: one per system measured, on the same server, created
 * for the run and dropped after it, so the systems never share tables or caches of each other's.
 */
import { layerClient } from "@canaryroll/postgres"
// Named so that the exported layer type can be written in declarations.
import type { EmbeddedPostgres } from "@canaryroll/postgres"
import { ConfigProvider, Effect, Layer, Redacted } from "effect"
import { SqlClient } from "effect/sql"

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
