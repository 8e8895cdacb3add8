/**
 * A scheduler process killed with `kill -9` in the middle of rollouts: another process carries on
 * within the lease, and no step is lost or applied twice.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Redacted } from "effect"
import { SqlClient } from "effect/sql"
import * as TestDatabase from "../database/TestDatabase.ts"
import * as Processes from "./Processes.ts"

const database = TestDatabase.forFile()

describe("a scheduler process killed mid-rollout", () => {
  it.live("kill -9 of a scheduler mid-rollout: another carries on within the lease, no step lost or repeated", () =>
    Effect.gen(function*() {
      const databaseUrl = Redacted.value(database.url())
      const account = yield* Effect.acquireRelease(
        Effect.promise(() => Processes.simulatedAccount(100)),
        (account) => Effect.promise(() => account.sim.close())
      )
      const plan = Processes.quickPlan([10, 50, 100])
      const layer = Processes.orchestratorLayer(databaseUrl, account)
      yield* Processes.startReleases(account, plan).pipe(Effect.provide(layer))

      const environment = { databaseUrl, baseUrl: account.sim.baseUrl, apiToken: account.apiToken }
      const victim = Processes.spawnScheduler("victim", environment)
      yield* Effect.addFinalizer(() => Effect.sync(() => victim.child.kill("SIGKILL")))
      yield* Effect.promise(() => victim.ready)

      // Kill it once the rollouts are under way: some releases promoted, none finished.
      const leasedAtKill = yield* Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        yield* Processes.untilSomePromoted
        victim.child.kill("SIGKILL")
        yield* Effect.promise(() => victim.exited)
        return yield* sql<{ release_id: string }>`
          SELECT release_id FROM release_schedule WHERE lease_owner = 'victim' AND lease_until > now()`
      }).pipe(Effect.provide(layer))
      const killedAt = Date.now()

      const survivor = Processes.spawnScheduler("survivor", environment)
      yield* Effect.addFinalizer(() => Effect.sync(() => survivor.child.kill("SIGKILL")))
      yield* Effect.promise(() => survivor.ready)
      yield* Processes.untilAllTerminal(100, 120_000).pipe(Effect.provide(layer))
      survivor.child.kill("SIGTERM")
      yield* Effect.promise(() => survivor.exited)

      const tally = yield* Processes.tally.pipe(Effect.provide(layer))
      Processes.assertEveryStepOnce(account, tally, plan.steps.length)
      // the releases the victim held were picked up within the lease (10 s) and a little slack
      const recovered = yield* Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        return yield* Effect.forEach(leasedAtKill, ({ release_id }) =>
          sql<{ first: Date }>`SELECT min(recorded_at) AS first FROM events
            WHERE stream_id = ${release_id} AND recorded_at > to_timestamp(${killedAt / 1000})`)
      }).pipe(Effect.provide(layer))
      for (const rows of recovered) {
        const first = rows[0]?.first
        if (first !== undefined && first !== null) assert.isAtMost(new Date(first).getTime() - killedAt, 15_000)
      }
    }).pipe(Effect.scoped), { timeout: 240_000 })
})
