/**
 * TestDatabase (`@canaryroll/postgres/test-database`): real Postgres for integration tests.
 *
 * Three levels, each as cheap as it can be:
 * - one server per test run, started by the global setup (`./globalSetup.ts`; or `DATABASE_URL`
 *   when set, which must allow CREATE DATABASE) and handed to the workers with vitest's
 *   `provide`/`inject`;
 * - one database per test file, `TestDatabase.forFile()`: created before the file's tests and
 *   dropped after them, so test files can run in parallel without seeing each other;
 * - one schema per test, `database.freshSchema()`: what the contract suites' `makeLayer` (called
 *   for every test) should return. A schema costs one CREATE SCHEMA plus the migrations (a few
 *   milliseconds), where a database per test would cost a CREATE DATABASE (~20 ms) and truncating a
 *   shared schema would make tests depend on each other's cleanup. The client's `search_path` is
 *   the schema, so the adapter's SQL is the production SQL, unqualified.
 *
 * ```ts
 * // vitest.config.ts of a package:
 * //   globalSetup: [fileURLToPath(import.meta.resolve("@canaryroll/postgres/test-database/global-setup"))]
 * const database = TestDatabase.forFile()
 * EventStoreContract.suite("postgres", () => layerPorts().pipe(Layer.provide(database.freshSchema())))
 * ```
 *
 * @since 0.1.0
 */
import { PgClient } from "@effect/sql-pg"
import { Effect, Layer, Redacted } from "effect"
import { SqlClient, type SqlError } from "effect/sql"
import { randomBytes } from "node:crypto"
import { afterAll, beforeAll, inject } from "vitest"

declare module "vitest" {
  export interface ProvidedContext {
    /** The test server's maintenance database (`postgres`), or `DATABASE_URL`; set by the global setup. */
    readonly canaryrollPostgresServerUrl: string
  }
}

/** The server every test file of this run shares; only inside vitest workers. */
export const serverUrl = (): Redacted.Redacted<string> => {
  const url = inject("canaryrollPostgresServerUrl")
  if (url === undefined) {
    throw new Error("no test Postgres: add @canaryroll/postgres/test-database/global-setup to this project's globalSetup")
  }
  return Redacted.make(url)
}

/** `url` with another database name, keeping credentials and parameters. */
export const databaseUrl = (url: Redacted.Redacted<string>, database: string): Redacted.Redacted<string> => {
  const parsed = new URL(Redacted.value(url))
  parsed.pathname = `/${encodeURIComponent(database)}`
  return Redacted.make(parsed.toString())
}

const onServer = <A>(
  statement: (sql: SqlClient.SqlClient) => Effect.Effect<A, SqlError.SqlError>
): Promise<A> =>
  Effect.runPromise(
    SqlClient.SqlClient.use(statement).pipe(
      Effect.provide(PgClient.layer({ url: serverUrl(), maxConnections: 1 }))
    )
  )

export interface FileDatabase {
  /** The database's name, `canaryroll_test_<random>`. */
  readonly name: string
  /** Its URL. The database exists from the file's `beforeAll` to its `afterAll`. */
  readonly url: () => Redacted.Redacted<string>
  /**
   * A client whose `search_path` is schema `schema` of this database, created if missing: two
   * layers with the same schema see the same tables (a restart, or two processes).
   */
  readonly schema: (schema: string) => Layer.Layer<PgClient.PgClient | SqlClient.SqlClient, SqlError.SqlError>
  /** A client on a new, empty schema. */
  readonly freshSchema: () => Layer.Layer<PgClient.PgClient | SqlClient.SqlClient, SqlError.SqlError>
}

/** A database for the calling test file; registers the `beforeAll` that creates it and the `afterAll` that drops it. */
export const forFile = (): FileDatabase => {
  const name = `canaryroll_test_${randomBytes(6).toString("hex")}`
  beforeAll(() => onServer((sql) => sql`CREATE DATABASE ${sql(name)}`))
  // FORCE: a pool a failed test left open must not keep the database alive.
  afterAll(() => onServer((sql) => sql`DROP DATABASE IF EXISTS ${sql(name)} WITH (FORCE)`))

  const url = () => databaseUrl(serverUrl(), name)
  const schema = (schema: string) =>
    Layer.effectDiscard(SqlClient.SqlClient.use((sql) => sql`CREATE SCHEMA IF NOT EXISTS ${sql(schema)}`)).pipe(
      // A search_path naming a schema that does not exist yet is fine: it counts once created.
      Layer.provideMerge(PgClient.layer({ url: url(), startupParameters: { search_path: schema }, maxConnections: 12 }))
    )
  let schemas = 0
  return { name, url, schema, freshSchema: () => schema(`test_${++schemas}`) }
}
