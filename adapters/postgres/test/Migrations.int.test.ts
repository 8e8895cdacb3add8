/**
 * Migrations run on start in every process, so several may run them at the same moment against
 * one database: each migration must run exactly once and every process must come up.
 */
import { assert, describe, it } from "@effect/vitest"
import { Context, Effect, Layer } from "effect"
import { SqlClient } from "effect/sql"
import { Migrations } from "../src/index.ts"
import * as TestDatabase from "./database/TestDatabase.ts"

const database = TestDatabase.forFile()

describe("Migrations", () => {
  it.live("four pools migrating one empty schema at once: each migration runs once, and all four succeed", () =>
    Effect.gen(function*() {
      // Separate pools, so separate connections: to the server, four processes starting together.
      const pools = yield* Effect.forEach([1, 2, 3, 4], () => Layer.build(database.schema("racing")))
      const runs = yield* Effect.all(pools.map((pool) => Migrations.run.pipe(Effect.provide(pool))), {
        concurrency: "unbounded"
      })
      const ran = runs.filter((completed) => completed.length > 0)
      assert.strictEqual(ran.length, 1, `exactly one run applies the migrations, got ${JSON.stringify(runs)}`)
      // every migration there is, whoever adds the next one
      const all = (yield* Migrations.migrations).map(([id]) => id)
      assert.deepStrictEqual(ran[0]!.map(([id]) => id), all)

      const sql = Context.get(pools[0]!, SqlClient.SqlClient)
      const recorded = yield* sql<{ migration_id: number }>`
        SELECT migration_id FROM ${sql(Migrations.table)} ORDER BY migration_id`
      assert.deepStrictEqual(recorded.map((row) => row.migration_id), all)
      const tables = yield* sql<{ table_name: string }>`
        SELECT table_name FROM information_schema.tables WHERE table_schema = 'racing' ORDER BY table_name`
      assert.includeMembers(tables.map((row) => row.table_name), [
        Migrations.table,
        "events",
        "outbox_checkpoints",
        "release_schedule"
      ])
    }))

  it.live("migrating a migrated schema does nothing", () =>
    Effect.gen(function*() {
      const first = yield* Migrations.run
      const again = yield* Migrations.run
      assert.strictEqual(first.length, (yield* Migrations.migrations).length)
      assert.deepStrictEqual(again, [])
    }).pipe(Effect.provide(database.freshSchema())))
})
