/**
 * The directory contracts of people, sessions, teams and API tokens on PostgreSQL, exactly as
 * they run on memory: every test gets a new, migrated schema in this file's database, and the
 * ports share its client, so `PgTransactions` makes their writes one transaction.
 */
import { ApiTokensContract, PeopleContract, SessionsContract, TeamsContract } from "@canaryroll/app/testing"
import { Effect, Layer } from "effect"
import { SqlClient } from "effect/sql"
import * as PgApiTokens from "../src/directory/PgApiTokens.ts"
import * as PgPeople from "../src/directory/PgPeople.ts"
import * as PgSessions from "../src/directory/PgSessions.ts"
import * as PgTeams from "../src/directory/PgTeams.ts"
import * as PgTransactions from "../src/directory/PgTransactions.ts"
import * as Migrations from "../src/Migrations.ts"
import * as TestDatabase from "./database/TestDatabase.ts"

const database = TestDatabase.forFile()

const fresh = () => Migrations.layer.pipe(Layer.provideMerge(database.freshSchema()))

/** The Sessions suite's people (sessions reference users). */
const sessionUsers = Layer.effectDiscard(Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  for (const id of SessionsContract.users) {
    yield* sql`INSERT INTO users (id, email, name, password_hash) VALUES (${id}, ${`${id}@example.com`}, ${id}, 'unused')`
  }
}))

const directory = () =>
  Layer.mergeAll(PgPeople.layer, PgTeams.layer, PgApiTokens.layer, PgTransactions.layer).pipe(Layer.provide(fresh()))

PeopleContract.suite("postgres", () => PgPeople.layer.pipe(Layer.provide(fresh())))
SessionsContract.suite("postgres", () => PgSessions.layer.pipe(Layer.provide(sessionUsers), Layer.provide(fresh())))
TeamsContract.suite("postgres", directory)
ApiTokensContract.suite("postgres", directory)
