/**
 * A rolling upgrade's middle: a newer version has migrated the database while this version's
 * processes still serve. A newer migration only adds (docs/operations.md, Upgrades), so here one
 * adds a column (with a default) to every table of the schema and a table of its own, recorded in
 * `canaryroll_migrations` as the Migrator records it. This server stays ready (it asks only for
 * the migrations it knows), and a release runs through the API to completion, with its lists, its
 * events and the audit log read back: nothing this version does breaks on the grown schema.
 */
import * as Postgres from "@canaryroll/postgres"
import * as TestDatabase from "@canaryroll/postgres/test-database"
import { assert, describe, it } from "@effect/vitest"
import { Context, Effect } from "effect"
import { Migrator, SqlClient } from "effect/sql"
import { TestClock } from "effect/testing"
import * as TestServer from "./support/TestServer.ts"
import * as TestTeam from "./support/TestTeam.ts"

const database = TestDatabase.forFile()

/** What a newer version's migration may do: add to every table, and add a table. */
const newerMigrations = Migrator.fromRecord({
  "0999_a_newer_version": Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const tables = yield* sql<{ readonly tablename: string }>`
      SELECT tablename FROM pg_tables WHERE schemaname = current_schema() AND tablename <> ${Postgres.Migrations.table}`
    for (const { tablename } of tables) {
      yield* sql`ALTER TABLE ${sql(tablename)} ADD COLUMN added_by_a_newer_version text NOT NULL DEFAULT 'newer'`
    }
    yield* sql`CREATE TABLE added_by_a_newer_version (id text PRIMARY KEY)`
  })
})

describe("upgrades", () => {
  it.effect("this version keeps serving, and runs a release, on a schema a newer version migrated", () =>
    Effect.gen(function*() {
      const server = yield* TestServer.start(database)
      const team = yield* TestTeam.create(server)
      const sql = Context.get(server.context, SqlClient.SqlClient)
      const applied = yield* Migrator.make({})({
        loader: Effect.zipWith(Postgres.Migrations.migrations, newerMigrations, (known, newer) => [...known, ...newer]),
        table: Postgres.Migrations.table
      }).pipe(Effect.provideService(SqlClient.SqlClient, sql))
      assert.deepStrictEqual(applied.map(([id, name]) => `${id}_${name}`), ["999_a_newer_version"])

      const ready = yield* server.client.request("GET", "/api/ready")
      TestTeam.expectStatus(ready, 200, "ready on the newer schema")

      const worker = team.workers[0]!
      const base = `/api/teams/${team.slug}/deployments`
      const token = team.tokens.deploy
      const created = yield* server.client.request("POST", `${base}/workers/${worker.workerId}/deployments`, {
        token,
        body: { versionId: worker.goodVersionId }
      })
      TestTeam.expectStatus(created, 201, "create")
      TestTeam.expectStatus(yield* server.client.request("POST", `${base}/${created.body.id}/start`, { token }), 200, "start")
      let status = "in_progress"
      for (let poll = 0; poll < 200 && status === "in_progress"; poll++) {
        yield* TestServer.runDue(server)
        yield* TestClock.adjust("5 seconds")
        const current = yield* server.client.request("GET", `${base}/${created.body.id}`, { token })
        TestTeam.expectStatus(current, 200, "poll")
        status = current.body.status
      }
      assert.strictEqual(status, "completed")
      const list = yield* server.client.request("GET", base, { token })
      TestTeam.expectStatus(list, 200, "list releases")
      const events = yield* server.client.request("GET", `${base}/${created.body.id}/events`, { token })
      TestTeam.expectStatus(events, 200, "events")
      assert.isTrue(events.body.some((event: any) => event.eventType === "Completed"))
      const audit = yield* server.client.request("GET", `/api/teams/${team.slug}/audit`, { token: team.tokens.admin })
      TestTeam.expectStatus(audit, 200, "audit log")
      assert.isNotEmpty(audit.body.entries ?? audit.body.items ?? audit.body)
    }))
})
