/**
 * Core's Sessions contract on PostgreSQL, exactly as it runs on memory: every test gets a new,
 * migrated schema in this file's database, holding the suite's users (sessions reference them).
 */
import { SessionsContract } from "@canaryroll/core/testing"
import { Effect, Layer } from "effect"
import { SqlClient } from "effect/sql"
import * as Migrations from "../src/Migrations.ts"
import * as PgSessions from "../src/PgSessions.ts"
import * as TestDatabase from "./database/TestDatabase.ts"

const database = TestDatabase.forFile()

const users = Layer.effectDiscard(Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  for (const id of SessionsContract.users) {
    yield* sql`INSERT INTO users (id, email, name, password_hash) VALUES (${id}, ${`${id}@example.com`}, ${id}, 'unused')`
  }
}))

SessionsContract.suite("postgres", () =>
  PgSessions.layer.pipe(
    Layer.provide(users),
    Layer.provide(Migrations.layer),
    Layer.provide(database.freshSchema())
  ))
