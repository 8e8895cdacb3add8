/**
 * Settings changes share the audit log with release events: one log per team, the same filters
 * and the same cursor, with positions that never collide with the events'.
 */
import { Actor, EventStore } from "@canaryroll/core"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { SqlClient } from "effect/sql"
import { layerPorts, PgAuditLog, PgSettingsAudit } from "../src/index.ts"
import * as TestDatabase from "./database/TestDatabase.ts"
import * as ReleaseHistories from "./support/ReleaseHistories.ts"

const database = TestDatabase.forFile()

const storage = () =>
  PgAuditLog.layer.pipe(Layer.provideMerge(layerPorts()), Layer.provideMerge(database.freshSchema()))

const alice = Actor.user("u-alice", "alice@example.com")

describe("PgSettingsAudit", () => {
  it.effect("settings entries page with release entries, newest first, filtered by type and actor", () =>
    Effect.gen(function*() {
      const events = yield* EventStore.EventStore
      const recorded = yield* ReleaseHistories.appendAll(events, ReleaseHistories.make({ teams: 1, releasesPerTeam: 2 }))
      const teamId = recorded[0]!.event._tag === "ReleaseCreated" ? recorded[0]!.event.teamId : assert.fail("no release")
      const latest = Math.max(...recorded.map((event) => event.event.at))
      const sql = yield* SqlClient.SqlClient
      for (let n = 0; n < 5; n++) {
        yield* PgSettingsAudit.record({
          teamId,
          type: n % 2 === 0 ? "TeamTokenCreated" : "PlanUpdated",
          actor: alice,
          // Two changes share each millisecond: the position must order them.
          at: latest + 1_000 + Math.floor(n / 2),
          sentence: `change ${n}`,
          details: { n }
        }).pipe(Effect.provideService(SqlClient.SqlClient, sql))
      }
      const log = yield* PgAuditLog.PgAuditLog
      const all: Array<PgAuditLog.Entry> = []
      let cursor: string | undefined
      do {
        const page = yield* log.page({ teamId, limit: 3, cursor })
        all.push(...page.entries)
        cursor = page.nextCursor ?? undefined
      } while (cursor !== undefined)
      const eventCount = (yield* events.readAll(0, 10_000)).length
      assert.strictEqual(all.length, eventCount + 5, "every entry once")
      assert.deepStrictEqual(all.slice(0, 5).map((entry) => entry.sentence), [
        "change 4",
        "change 3",
        "change 2",
        "change 1",
        "change 0"
      ])
      const first = all[0]!
      assert.strictEqual(first.releaseId, null)
      assert.deepStrictEqual(first.actor, alice)
      assert.deepStrictEqual(first.details, { n: 4 })
      const tokens = yield* log.page({ teamId, types: ["TeamTokenCreated"] })
      assert.deepStrictEqual(tokens.entries.map((entry) => entry.sentence), ["change 4", "change 2", "change 0"])
      const byAlice = yield* log.page({ teamId, actor: { _tag: "User", id: "u-alice" } })
      assert.strictEqual(byAlice.entries.length, 5)
    }).pipe(Effect.provide(storage())))
})
