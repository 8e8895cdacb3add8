/**
 * Reads a test server's whole database, every table of its schema, found in `pg_tables` rather
 * than listed by hand, so a table added by a later migration is read too. Each row comes back as
 * its JSON text (`row_to_json`), sorted: "nothing changed" compares two dumps, and "no secret in
 * clear" searches one.
 */
import { Context, Effect } from "effect"
import { SqlClient } from "effect/sql"
import type * as TestServer from "./TestServer.ts"

const sqlOf = (server: TestServer.PostgresRunning) => Context.get(server.context, SqlClient.SqlClient)

/** The tables of the server's schema, by name. */
export const names = (server: TestServer.PostgresRunning): Effect.Effect<ReadonlyArray<string>> => {
  const sql = sqlOf(server)
  return sql<{ readonly tablename: string }>`
    SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY tablename`.pipe(
    Effect.map((rows) => rows.map((row) => row.tablename)),
    Effect.orDie
  )
}

/** Every row of every table, as JSON text, sorted within each table. */
export const dump = (server: TestServer.PostgresRunning): Effect.Effect<Readonly<Record<string, ReadonlyArray<string>>>> =>
  Effect.gen(function*() {
    const sql = sqlOf(server)
    const tables: Record<string, ReadonlyArray<string>> = {}
    for (const table of yield* names(server)) {
      const rows = yield* sql<{ readonly row: string }>`SELECT row_to_json(t)::text AS row FROM ${sql(table)} t`.pipe(Effect.orDie)
      tables[table] = rows.map((row) => row.row).sort()
    }
    return tables
  })

/** The events table's size and head: `SELECT count(*), max(position) FROM events`. */
export const eventsHead = (server: TestServer.PostgresRunning) => {
  const sql = sqlOf(server)
  return sql<{ readonly count: string; readonly max: string | null }>`
    SELECT count(*)::text AS count, max(position)::text AS max FROM events`.pipe(
    Effect.map((rows) => ({ count: Number(rows[0]!.count), maxPosition: rows[0]!.max })),
    Effect.orDie
  )
}

/** How many entries the audit log holds (release events and settings changes). */
export const auditLogCount = (server: TestServer.PostgresRunning) => {
  const sql = sqlOf(server)
  return sql<{ readonly count: string }>`SELECT count(*)::text AS count FROM audit_log`.pipe(
    Effect.map((rows) => Number(rows[0]!.count)),
    Effect.orDie
  )
}

/** Runs one statement against the server's schema (tests that read or tamper with a row). */
export const query = <A extends object>(server: TestServer.PostgresRunning, text: string, params: ReadonlyArray<unknown> = []) =>
  sqlOf(server).unsafe<A>(text, params).pipe(Effect.orDie)
