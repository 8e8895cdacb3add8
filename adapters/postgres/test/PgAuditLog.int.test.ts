/**
 * The AuditLog contract on PostgreSQL, exactly as it runs on memory: release entries written by
 * the event store's read-model hook (`layerPorts`), settings entries by `PgAuditLog`'s `record`
 * in `PgTransactions`, in a new migrated schema per test. Then what only Postgres has: settings
 * entries recorded with `PgSettingsAudit.record` in a transaction of the caller's own, and
 * positions that never collide with the events'.
 */
import { Actor, EventStore } from "@canaryroll/core"
import { AuditLog } from "@canaryroll/app"
import { AuditLogContract, ReleaseHistories } from "@canaryroll/app/testing"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit, Layer } from "effect"
import { SqlClient } from "effect/sql"
import { TestClock } from "effect/testing"
import * as PgTransactions from "../src/directory/PgTransactions.ts"
import { layerPorts, PgAuditLog, PgSettingsAudit } from "../src/index.ts"
import * as TestDatabase from "./database/TestDatabase.ts"

const database = TestDatabase.forFile()

const storage = () =>
  Layer.mergeAll(PgAuditLog.layer, PgTransactions.layer).pipe(
    Layer.provideMerge(layerPorts()),
    Layer.provideMerge(database.freshSchema())
  )

AuditLogContract.suite("postgres", storage)

const alice = Actor.user("u-alice", "alice@example.com")

describe("PgAuditLog (postgres only)", () => {
  it.effect("PgSettingsAudit.record joins the caller's transaction; settings positions are above every event's", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(ReleaseHistories.t0)
      yield* Effect.gen(function*() {
        const events = yield* EventStore.EventStore
        const recorded = yield* ReleaseHistories.appendAll(events, ReleaseHistories.make({ teams: 1, releasesPerTeam: 1 }))
        const sql = yield* SqlClient.SqlClient
        const change = (sentence: string) =>
          PgSettingsAudit.record({ teamId: "team_0", type: "TeamTokenCreated", actor: alice, at: ReleaseHistories.t0, sentence, details: {} })
        yield* sql.withTransaction(change("kept"))
        const failed = yield* sql.withTransaction(Effect.andThen(change("rolled back"), Effect.fail("the change failed")))
          .pipe(Effect.exit)
        assert.isTrue(Exit.isFailure(failed))
        const log = yield* AuditLog.AuditLog
        const page = yield* log.page({ teamId: "team_0", types: ["TeamTokenCreated"] })
        assert.deepStrictEqual(page.entries.map((entry) => entry.sentence), ["kept"])
        const positions = yield* sql<{ position: bigint; release_id: string | null }>`SELECT position, release_id FROM audit_log`
        const settings = positions.filter((row) => row.release_id === null).map((row) => row.position)
        assert.strictEqual(settings.length, 1)
        assert.isTrue(settings.every((position) => position >= AuditLog.settingsPositionsStart))
        assert.strictEqual(positions.length - settings.length, recorded.length)
        assert.isTrue(Math.max(...recorded.map((event) => event.position)) < Number(AuditLog.settingsPositionsStart))
      }).pipe(Effect.provide(storage(), { local: true }))
    }))
})
