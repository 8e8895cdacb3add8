/**
 * Postgres stopped and restarted in the middle of rollouts: the scheduler loop backs off while
 * the database is gone, reconnects when it is back, and carries on. Nothing wedges, and no
 * release fails or repeats a step because of the outage. This file runs its own embedded server,
 * since stopping the shared test server would stop every other test file's database too.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit, Fiber, Layer, Redacted, Scope, Stream, SubscriptionRef } from "effect"
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { EmbeddedPostgres, SchedulerLoop } from "../../src/index.ts"
import * as Processes from "./Processes.ts"

const releases = 50

describe("Postgres restarted mid-run", () => {
  it.live("the scheduler reconnects and every release completes, each step once", () =>
    Effect.gen(function*() {
      const dataDirectory = mkdtempSync(join(tmpdir(), "canaryroll-restart-"))
      const serve = (port?: number) =>
        Effect.gen(function*() {
          const scope = yield* Scope.make()
          const server = yield* EmbeddedPostgres.start({ dataDirectory, durable: false, port }).pipe(Scope.provide(scope))
          return { server, stop: Scope.close(scope, Exit.void) }
        })
      const first = yield* serve()
      const databaseUrl = Redacted.value(first.server.url)

      const account = yield* Effect.acquireRelease(
        Effect.promise(() => Processes.simulatedAccount(releases)),
        (account) => Effect.promise(() => account.sim.close())
      )
      const plan = Processes.quickPlan([10, 50, 100])
      const orchestrator = Processes.orchestratorLayer(databaseUrl, account)
      const withLoop = SchedulerLoop.layer({ owner: "survivor-of-restart", safetyPollMs: 500, maxBackoffMs: 1_000 }).pipe(
        Layer.provideMerge(orchestrator)
      )

      const outcome = yield* Effect.gen(function*() {
        const loop = yield* SchedulerLoop.SchedulerLoop
        const sawOutage = yield* Effect.forkScoped(
          SubscriptionRef.changes(loop.state).pipe(Stream.filter((state) => state.phase === "backing_off"), Stream.runHead)
        )
        yield* Processes.startReleases(account, plan)
        yield* Processes.untilSomePromoted

        // The outage: the server goes away mid-rollout, then comes back on the same port and data.
        yield* first.stop
        const outage = yield* Fiber.await(sawOutage)
        const second = yield* serve(first.server.port)
        yield* Effect.addFinalizer(() => second.stop)

        yield* Processes.untilAllTerminal(releases, 120_000)
        return { outage, tally: yield* Processes.tally }
      }).pipe(Effect.provide(withLoop))

      assert.isTrue(Exit.isSuccess(outcome.outage), "the loop noticed the outage and backed off")
      Processes.assertEveryStepOnce(account, outcome.tally, plan.steps.length)
    }).pipe(Effect.scoped), { timeout: 240_000 })
})
