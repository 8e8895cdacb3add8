/**
 * `pnpm start` until the server exists: two releases of a demo Worker run through the harness,
 * one healthy and one with 5% errors, and their audit logs are printed. Two simulated hours pass
 * in well under a second.
 */
import { Plan } from "@canaryroll/core"
import { Console, Duration, Effect } from "effect"
import { TestClock } from "effect/testing"
import * as Harness from "./Harness.ts"

const plan = Plan.make({
  steps: [
    { percentage: 1, waitSeconds: 300 },
    { percentage: 10, waitSeconds: 300 },
    { percentage: 50, waitSeconds: 600 },
    { percentage: 100, waitSeconds: 300 }
  ],
  health: { intervalSeconds: 60, maxErrorRate: 0.01, minRequests: 100, analyticsDelaySeconds: 60 }
})

const releaseOf = (versionId: string, errorRate: number) =>
  Effect.gen(function*() {
    const harness = yield* Harness.Harness
    const worker = yield* harness.addWorker({
      scriptName: "storefront",
      liveVersionId: "v1",
      requestsPerMinute: 12_000,
      errorRates: { v1: 0.002, [versionId]: errorRate }
    })
    const releaseId = yield* harness.release({ worker, versionId, plan, name: `storefront ${versionId}` })
    const took = yield* harness.runUntilSettled("3 hours")
    const summary = yield* harness.summary(releaseId)
    yield* Console.log(
      `\n== Release of storefront ${versionId} (error rate ${(errorRate * 100).toFixed(1)}%): ${summary.status} after ${
        Duration.format(took)
      } of simulated time`
    )
    const audit = yield* harness.audit(releaseId)
    const createdAt = audit[0]?.at ?? 0
    for (const entry of audit) {
      if (entry.type === "HealthChecked" && !/unhealthy/.test(entry.sentence)) continue
      yield* Console.log(`  +${Duration.format(Duration.millis(entry.at - createdAt)).padEnd(6)} ${entry.sentence}`)
    }
  }).pipe(Effect.provide(Harness.layer))

const program = Effect.gen(function*() {
  yield* Console.log("CanaryRoll harness demo: plan 1% → 10% → 50% → 100%, checks every minute, 3 failures roll back")
  yield* Console.log("(healthy checks are omitted below; the full audit log has one line per check)")
  yield* releaseOf("v2", 0.002)
  yield* releaseOf("v3", 0.05)
})

Effect.runPromise(program.pipe(Effect.provide(TestClock.layer()))).catch((error) => {
  console.error(error)
  process.exit(1)
})
