/**
 * Two scheduler processes racing over 1,000 releases on one Postgres, against the Cloudflare
 * simulator, on the real clock: every step of every release happens exactly once (one Promoted
 * per step in the events, one deployment per step in the simulator's own count).
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Redacted } from "effect"
import * as TestDatabase from "../database/TestDatabase.ts"
import * as Processes from "./Processes.ts"

const database = TestDatabase.forFile()

describe("scheduler processes sharing one Postgres", () => {
  it.live("two schedulers racing over 1,000 releases step each one exactly once", () =>
    Effect.gen(function*() {
      const databaseUrl = Redacted.value(database.url())
      const account = yield* Effect.acquireRelease(
        Effect.promise(() => Processes.simulatedAccount(1_000)),
        (account) => Effect.promise(() => account.sim.close())
      )
      const plan = Processes.quickPlan([50, 100])
      const layer = Processes.orchestratorLayer(databaseUrl, account)
      yield* Processes.startReleases(account, plan).pipe(Effect.provide(layer))

      const environment = { databaseUrl, baseUrl: account.sim.baseUrl, apiToken: account.apiToken }
      const schedulers = yield* Effect.acquireRelease(
        Effect.sync(() => [Processes.spawnScheduler("racer-a", environment), Processes.spawnScheduler("racer-b", environment)]),
        (all) => Effect.sync(() => all.forEach((s) => s.child.kill("SIGKILL")))
      )
      yield* Effect.promise(() => Promise.all(schedulers.map((s) => s.ready)))
      yield* Processes.untilAllTerminal(1_000, 150_000).pipe(Effect.provide(layer))
      schedulers.forEach((s) => s.child.kill("SIGTERM"))
      const exits = yield* Effect.promise(() => Promise.all(schedulers.map((s) => s.exited)))

      const tally = yield* Processes.tally.pipe(Effect.provide(layer))
      Processes.assertEveryStepOnce(account, tally, plan.steps.length)
      // both took part: the race was real
      for (const [i, exit] of exits.entries()) {
        assert.isAbove(exit.claimed ?? 0, 0, `${schedulers[i]!.owner} claimed nothing:\n${schedulers[i]!.output()}`)
      }
    }).pipe(Effect.scoped), { timeout: 240_000 })
})
