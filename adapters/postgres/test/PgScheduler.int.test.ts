/**
 * PgScheduler on real Postgres: the core's Scheduler contract (with Effect's clock, so TestClock
 * drives it), then what only a shared database shows: two owners claiming at once never get the
 * same release, an expired lease is recovered by another owner, due times follow the database's
 * clock, and `schedule` notifies sleepers only when something became due sooner.
 */
import { Scheduler } from "@canaryroll/core"
import { SchedulerContract } from "@canaryroll/core/testing"
import { PgClient } from "@effect/sql-pg"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer, Option, Queue } from "effect"
import { SqlClient } from "effect/sql"
import * as Migrations from "../src/Migrations.ts"
import * as PgScheduler from "../src/PgScheduler.ts"
import * as TestDatabase from "./database/TestDatabase.ts"

const database = TestDatabase.forFile()

const withScheduler = (options: PgScheduler.Options) =>
  PgScheduler.layer(options).pipe(
    Layer.provideMerge(Layer.effectDiscard(Migrations.run)),
    Layer.provideMerge(database.freshSchema())
  )

SchedulerContract.suite("postgres", () => withScheduler({ clock: "effect" }))

/** The database's clock, in epoch milliseconds. */
const databaseNow = SqlClient.SqlClient.use((sql) =>
  sql<{ readonly now: number }>`SELECT (extract(epoch FROM now()) * 1000)::float8 AS now`
).pipe(Effect.map(([row]) => Math.round(row!.now)))

interface LeaseRow {
  readonly release_id: string
  readonly lease_owner: string | null
}
const leases = SqlClient.SqlClient.use((sql) =>
  sql<LeaseRow>`SELECT release_id, lease_owner FROM release_schedule ORDER BY release_id`
)

describe("PgScheduler", () => {
  it.live("two owners claiming 1,000 due releases at once never get the same release", () =>
    Effect.gen(function*() {
      // Each `process()` is a pool of its own on one schema: two processes.
      const schema = "claim_race"
      const process = () =>
        PgScheduler.layer({}).pipe(
          Layer.provideMerge(Layer.effectDiscard(Migrations.run)),
          Layer.provideMerge(database.schema(schema))
        )
      const claimAll = (owner: string) =>
        Effect.gen(function*() {
          const scheduler = yield* Scheduler.Scheduler
          const sql = yield* SqlClient.SqlClient
          yield* sql`SELECT 1` // connect before the race starts
          const mine: Array<string> = []
          while (true) {
            const claimed = yield* scheduler.claim(owner, 0, 25, 60_000)
            if (claimed.length === 0) return mine
            mine.push(...claimed.map((d) => d.releaseId))
          }
        })

      const all = Array.from({ length: 1_000 }, (_, i) => `release-${String(i).padStart(4, "0")}`)
      const start = yield* databaseNow.pipe(Effect.provide(process(), { local: true }))
      yield* Effect.gen(function*() {
        const scheduler = yield* Scheduler.Scheduler
        yield* Effect.forEach(all, (id, i) => scheduler.schedule(id, start - 60_000 + i), { concurrency: 8, discard: true })
      }).pipe(Effect.provide(process(), { local: true }))

      const [a, b] = yield* Effect.all([
        claimAll("owner-a").pipe(Effect.provide(process(), { local: true })),
        claimAll("owner-b").pipe(Effect.provide(process(), { local: true }))
      ], { concurrency: 2 })

      assert.strictEqual(a.length + b.length, 1_000)
      assert.deepStrictEqual([...new Set([...a, ...b])].sort(), all)
      assert.isAbove(a.length, 0, "owner-a claimed nothing: no race happened")
      assert.isAbove(b.length, 0, "owner-b claimed nothing: no race happened")
      const owners = new Map((yield* leases.pipe(Effect.provide(process(), { local: true }))).map((row) => [row.release_id, row.lease_owner]))
      for (const id of a) assert.strictEqual(owners.get(id), "owner-a")
      for (const id of b) assert.strictEqual(owners.get(id), "owner-b")
    }), { timeout: 60_000 })

  it.live("an expired lease is recovered by another owner, by the database's clock", () =>
    Effect.gen(function*() {
      const scheduler = yield* Scheduler.Scheduler
      const sql = yield* SqlClient.SqlClient
      yield* scheduler.schedule("release-1", (yield* databaseNow) - 1_000)
      assert.deepStrictEqual((yield* scheduler.claim("crashed", 0, 10, 300)).map((d) => d.releaseId), ["release-1"])
      assert.deepStrictEqual(yield* scheduler.claim("survivor", 0, 10, 10_000), [])
      // the crashed owner never renews; wait out its lease on the database's clock
      const [row] = yield* sql<{ readonly left: number }>`
        SELECT (extract(epoch FROM lease_until - now()) * 1000)::float8 AS left FROM release_schedule`
      yield* Effect.sleep(Math.max(0, Math.ceil(row!.left)) + 20)
      assert.deepStrictEqual((yield* scheduler.claim("survivor", 0, 10, 10_000)).map((d) => d.releaseId), ["release-1"])
      assert.deepStrictEqual(yield* leases, [{ release_id: "release-1", lease_owner: "survivor" }])
      // the crashed owner coming back cannot renew or give up what it lost
      yield* scheduler.renew("crashed", ["release-1"], 0, 60_000)
      yield* scheduler.release("crashed", ["release-1"])
      assert.deepStrictEqual(yield* leases, [{ release_id: "release-1", lease_owner: "survivor" }])
    }).pipe(Effect.provide(withScheduler({}), { local: true })))

  it.effect("with the database clock, what is due follows the database, not the caller's now", () =>
    Effect.gen(function*() {
      // TestClock says 1970; the database says today.
      const scheduler = yield* Scheduler.Scheduler
      const pgScheduler = yield* PgScheduler.PgScheduler
      const now = yield* databaseNow
      yield* scheduler.schedule("release-past", now - 60_000)
      yield* scheduler.schedule("release-future", now + 3_600_000)
      assert.deepStrictEqual((yield* scheduler.due(0, 10)).map((d) => d.releaseId), ["release-past"])
      assert.deepStrictEqual((yield* scheduler.due(Number.MAX_SAFE_INTEGER, 10)).map((d) => d.releaseId), ["release-past"])
      assert.deepStrictEqual((yield* scheduler.claim("a", 0, 10, 10_000)).map((d) => d.releaseId), ["release-past"])
      // the claimed one is leased for 10 s by the database's clock, the other is due in an hour
      const wait = Option.getOrThrow(yield* pgScheduler.nextClaimableIn(0))
      assert.isAbove(wait, 8_000)
      assert.isAtMost(wait, 10_000)
      yield* scheduler.unschedule("release-past")
      assert.isAbove(Option.getOrThrow(yield* pgScheduler.nextClaimableIn(0)), 3_500_000)
    }).pipe(Effect.provide(withScheduler({ clock: "database" }), { local: true })))

  it.live("schedule notifies sleepers only when something is due sooner than they wait for; giving up leases notifies", () =>
    Effect.scoped(Effect.gen(function*() {
      const scheduler = yield* Scheduler.Scheduler
      const pg = yield* PgClient.PgClient
      const notifications = yield* pg.listen(PgScheduler.defaultChannel)
      const next = Queue.take(notifications).pipe(Effect.map((n) => n.payload))
      const now = yield* databaseNow

      yield* scheduler.schedule("release-a", now + 600_000) // the only one: sleepers wait for nothing yet
      assert.strictEqual(yield* next, "release-a")
      yield* scheduler.schedule("release-b", now + 1_200_000) // later than a: nobody needs to wake
      yield* scheduler.schedule("release-a", now + 900_000) // a moves later: sleepers waiting for its old time wake early, harmlessly
      yield* scheduler.schedule("release-c", now + 300_000) // sooner than anything: wake up
      assert.strictEqual(yield* next, "release-c")
      yield* scheduler.schedule("release-c", now - 1_000) // due now
      assert.strictEqual(yield* next, "release-c")

      const claimed = yield* scheduler.claim("owner-1", 0, 10, 60_000)
      assert.deepStrictEqual(claimed.map((d) => d.releaseId), ["release-c"])
      yield* scheduler.schedule("release-d", now + 90_000) // after c's lease ends (in 60 s): sleepers wake for that anyway
      yield* scheduler.schedule("release-d", now + 30_000) // before it: wake up
      assert.strictEqual(yield* next, "release-d")
      const pgScheduler = yield* PgScheduler.PgScheduler
      assert.deepStrictEqual(yield* pgScheduler.releaseAll("owner-1"), ["release-c"])
      assert.strictEqual(yield* next, "")
      assert.deepStrictEqual(yield* pgScheduler.releaseAll("owner-1"), [])
      yield* scheduler.unschedule("release-c")
      yield* scheduler.schedule("release-e", now + 5_000) // proves nothing else was sent in between
      assert.strictEqual(yield* next, "release-e")
      assert.strictEqual(yield* Queue.size(notifications), 0)
    })).pipe(Effect.provide(withScheduler({}), { local: true })))
})
