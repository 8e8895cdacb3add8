import { Actor, Plan, TrafficRouter, TrafficSplit } from "@canaryroll/core"
import { assert, describe, it } from "@effect/vitest"
import { Duration, Effect } from "effect"
import { ErrorRate, Harness } from "../src/index.ts"

const fiveMinuteSteps = (health: Plan.PlanInput["health"] = {}) =>
  Plan.make({
    steps: [
      { percentage: 1, waitSeconds: 300 },
      { percentage: 10, waitSeconds: 300 },
      { percentage: 50, waitSeconds: 300 },
      { percentage: 100, waitSeconds: 300 }
    ],
    health: { intervalSeconds: 60, analyticsDelaySeconds: 0, minRequests: 50, maxErrorRate: 0.01, ...health }
  })

/** A Worker at 6,000 requests a minute whose stable version v1 is healthy. */
const setUp = (errorRates: Record<string, ErrorRate.ErrorRate | number> = {}) =>
  Effect.gen(function*() {
    const harness = yield* Harness.Harness
    const worker = yield* harness.addWorker({
      scriptName: "api",
      liveVersionId: "v1",
      requestsPerMinute: 6_000,
      errorRates: { v1: 0.001, v2: 0.001, ...errorRates }
    })
    return { harness, worker }
  })

const eventTags = (harness: Harness.Harness["Service"], releaseId: string) =>
  Effect.map(harness.events(releaseId), (events) => events.map((e) => e.event._tag))

const liveSplit = (harness: Harness.Harness["Service"], worker: TrafficRouter.WorkerTarget) => {
  const deployments = harness.fleet.deployments(worker)
  return deployments[deployments.length - 1]!.split
}

const run = <A, E>(effect: Effect.Effect<A, E, Harness.Harness>) => effect.pipe(Effect.provide(Harness.layer))

describe("Harness scenarios", () => {
  it.effect("a healthy 1 → 10 → 50 → 100 release completes after the sum of its soak times", () =>
    run(Effect.gen(function*() {
      const { harness, worker } = yield* setUp()
      const plan = fiveMinuteSteps()
      const releaseId = yield* harness.release({ worker, versionId: "v2", plan })
      const took = yield* harness.runUntilSettled("2 hours")

      const summary = yield* harness.summary(releaseId)
      assert.strictEqual(summary.status, "completed")
      assert.strictEqual(Duration.toSeconds(took), Plan.totalWaitSeconds(plan))
      assert.deepStrictEqual(
        harness.fleet.deployments(worker).map((d) => TrafficSplit.describe(d.split)),
        ["v1 100%", "v2 1% / v1 99%", "v2 10% / v1 90%", "v2 50% / v1 50%", "v2 100%"]
      )
      const tags = yield* eventTags(harness, releaseId)
      assert.strictEqual(tags.filter((t) => t === "Promoted").length, 3)
      assert.strictEqual(tags.filter((t) => t === "HealthChecked").length, 20)
      assert.strictEqual(tags[tags.length - 1], "Completed")
    })))

  it.effect("three unhealthy checks in a row roll back to the stable version", () =>
    run(Effect.gen(function*() {
      const { harness, worker } = yield* setUp({ v2: 0.05 })
      const releaseId = yield* harness.release({ worker, versionId: "v2", plan: fiveMinuteSteps() })
      const took = yield* harness.runUntilSettled("2 hours")

      const summary = yield* harness.summary(releaseId)
      assert.strictEqual(summary.status, "rolled_back")
      assert.strictEqual(Duration.toSeconds(took), 180)
      assert.deepStrictEqual(liveSplit(harness, worker), TrafficSplit.whole("v1"))
      assert.match(summary.statusReason ?? "", /3 consecutive failed health checks.*error rate 5\.00% > maxErrorRate \(1\.00%\)/)
      const tags = yield* eventTags(harness, releaseId)
      assert.deepStrictEqual(tags.slice(-3), ["HealthChecked", "RollbackStarted", "RolledBack"])
      assert.isFalse(tags.includes("Promoted"))
    })))

  it.effect("two unhealthy checks and then a healthy one do not roll back", () =>
    run(Effect.gen(function*() {
      const { harness, worker } = yield* setUp({
        v2: ErrorRate.schedule([{ from: 0, rate: 0.2 }, { from: "2 minutes", rate: 0.001 }])
      })
      const releaseId = yield* harness.release({ worker, versionId: "v2", plan: fiveMinuteSteps() })
      yield* harness.runUntilSettled("2 hours")

      assert.strictEqual((yield* harness.summary(releaseId)).status, "completed")
      const checks = (yield* harness.events(releaseId)).flatMap((e) => e.event._tag === "HealthChecked" ? [e.event] : [])
      assert.deepStrictEqual(checks.slice(0, 3).map((c) => [c.verdict, c.consecutiveFailures]), [
        ["unhealthy", 1],
        ["unhealthy", 2],
        ["healthy", 0]
      ])
    })))

  it.effect("with onFailure: pause, failing checks pause the release instead of rolling back", () =>
    run(Effect.gen(function*() {
      const { harness, worker } = yield* setUp({ v2: 0.05 })
      const releaseId = yield* harness.release({ worker, versionId: "v2", plan: fiveMinuteSteps({ onFailure: "pause" }) })
      yield* harness.runUntilSettled("1 hour")
      const summary = yield* harness.summary(releaseId)
      assert.strictEqual(summary.status, "paused")
      assert.deepStrictEqual(liveSplit(harness, worker), TrafficSplit.canaryAt("v2", "v1", 1))
    })))

  it.effect("manual mode waits at each step until a person advances", () =>
    run(Effect.gen(function*() {
      const { harness, worker } = yield* setUp()
      const releaseId = yield* harness.release({ worker, versionId: "v2", plan: fiveMinuteSteps(), autoAdvance: false })
      const person = Actor.user("usr_ada", "Ada")

      yield* harness.runFor("30 minutes")
      let summary = yield* harness.summary(releaseId)
      assert.strictEqual(summary.status, "in_progress")
      assert.strictEqual(summary.currentStep, 0)
      assert.strictEqual(summary.currentPercentage, 1)

      for (const step of [1, 2, 3]) {
        yield* harness.execute(releaseId, { _tag: "Advance", actor: person })
        yield* harness.runFor("2 minutes")
        summary = yield* harness.summary(releaseId)
        assert.strictEqual(summary.currentStep, step)
        assert.strictEqual(summary.status, "in_progress")
      }
      yield* harness.runFor("1 hour")
      assert.strictEqual((yield* harness.summary(releaseId)).status, "in_progress")
      yield* harness.execute(releaseId, { _tag: "Advance", actor: person })
      assert.strictEqual((yield* harness.summary(releaseId)).status, "completed")

      const promotions = (yield* harness.audit(releaseId)).filter((entry) => entry.type === "Promoted")
      assert.deepStrictEqual(promotions.map((entry) => entry.actor), [person, person, person])
      assert.match(promotions[0]!.sentence, /^Ada promoted api version v2 to 10% \(step 2\)/)
    })))

  it.effect("a person cannot advance before a healthy check", () =>
    run(Effect.gen(function*() {
      const { harness, worker } = yield* setUp()
      const releaseId = yield* harness.release({ worker, versionId: "v2", plan: fiveMinuteSteps(), autoAdvance: false })
      yield* harness.runFor("10 seconds")
      const rejection = yield* harness.execute(releaseId, { _tag: "Advance", actor: Harness.defaultActor }).pipe(Effect.flip)
      assert.strictEqual(rejection._tag, "ReleaseRejected")
      assert.match(rejection.message, /no health check has passed at step 0 yet/)
    })))

  it.effect("pause stops the clock on a release; resume carries on from the same step", () =>
    run(Effect.gen(function*() {
      const { harness, worker } = yield* setUp()
      const plan = fiveMinuteSteps()
      const releaseId = yield* harness.release({ worker, versionId: "v2", plan })
      yield* harness.runFor("6 minutes") // step 2 (10%) began at 5 minutes
      yield* harness.execute(releaseId, { _tag: "Pause", actor: Harness.defaultActor, reason: "investigating a ticket" })
      const checksBefore = (yield* eventTags(harness, releaseId)).filter((t) => t === "HealthChecked").length

      yield* harness.runFor("1 hour")
      const paused = yield* harness.summary(releaseId)
      assert.strictEqual(paused.status, "paused")
      assert.strictEqual(paused.currentStep, 1)
      assert.strictEqual(paused.statusReason, "investigating a ticket")
      assert.strictEqual((yield* eventTags(harness, releaseId)).filter((t) => t === "HealthChecked").length, checksBefore)

      yield* harness.execute(releaseId, { _tag: "Resume", actor: Harness.defaultActor })
      const took = yield* harness.runUntilSettled("2 hours")
      assert.strictEqual((yield* harness.summary(releaseId)).status, "completed")
      // the paused step soaks afresh, then the two remaining steps
      assert.strictEqual(Duration.toSeconds(took), 900)
    })))

  it.effect("low traffic holds the step: windows are asked again, widened until they hold minRequests, never promoted on less", () =>
    run(Effect.gen(function*() {
      const { harness, worker } = yield* setUp()
      harness.fleet.setRequestRate(worker, 100) // 1% of 100/min: one request a minute, minRequests is 50
      const releaseId = yield* harness.release({ worker, versionId: "v2", plan: fiveMinuteSteps() })
      yield* harness.runFor("30 minutes")

      const summary = yield* harness.summary(releaseId)
      assert.strictEqual(summary.status, "in_progress")
      assert.strictEqual(summary.currentStep, 0)
      assert.match(summary.statusReason ?? "", /^held at step 1: no judged health data since .*requests \d+ < minRequests \(50\)/)
      const events = (yield* harness.events(releaseId)).map((e) => e.event)
      const applied = events.find((e) => e._tag === "TrafficShifted")!.at
      const checks = events.flatMap((e) => e._tag === "HealthChecked" ? [e] : [])
      assert.strictEqual(checks.length, 30)
      assert.isTrue(checks.every((c) => c.verdict === "inconclusive" && c.consecutiveFailures === 0))
      // every check asks about everything since the step went live: nothing unjudged is dropped
      assert.isTrue(checks.every((c) => c.window.start === applied))
      assert.match(checks[0]!.reasons[0]!, /requests 1 < minRequests \(50\)/)
      assert.strictEqual(events.filter((e) => e._tag === "Stalled").length, 1)

      // once the widened window holds 50 requests it is judged, over the whole of it
      yield* harness.runFor("25 minutes")
      const judged = (yield* harness.events(releaseId)).flatMap((e) => e.event._tag === "HealthChecked" && e.event.verdict === "healthy" ? [e.event] : [])
      assert.strictEqual(judged[0]!.window.start, applied)
      assert.isAtLeast(judged[0]!.canary!.requests, 50)

      harness.fleet.setRequestRate(worker, 100_000)
      yield* harness.runUntilSettled("2 hours")
      assert.strictEqual((yield* harness.summary(releaseId)).status, "completed")
    })))

  it.effect("a deployment made by hand pauses the release with DriftDetected instead of being overwritten", () =>
    run(Effect.gen(function*() {
      const { harness, worker } = yield* setUp()
      harness.fleet.addVersion(worker, "v3")
      const releaseId = yield* harness.release({ worker, versionId: "v2", plan: fiveMinuteSteps() })
      yield* harness.runFor("2 minutes")
      const handMade = yield* harness.fleet.deployOutOfBand(worker, TrafficSplit.whole("v3"))
      yield* harness.runFor("1 hour")

      const summary = yield* harness.summary(releaseId)
      assert.strictEqual(summary.status, "paused")
      assert.strictEqual(summary.currentStep, 0, "drift is caught at the next health check, not the next step")
      assert.deepStrictEqual(liveSplit(harness, worker), TrafficSplit.whole("v3"))
      const drift = (yield* harness.events(releaseId)).flatMap((e) => e.event._tag === "DriftDetected" ? [e.event] : [])
      assert.strictEqual(drift.length, 1)
      assert.strictEqual(drift[0]!.observed.deploymentId, handMade.deploymentId)

      // v3 is neither stable nor canary: resuming is refused until someone restores the Worker
      const refused = yield* harness.execute(releaseId, { _tag: "Resume", actor: Harness.defaultActor }).pipe(Effect.flip)
      assert.match(refused.message, /serves version v3, which is neither the stable/)
      yield* harness.fleet.deployOutOfBand(worker, TrafficSplit.canaryAt("v2", "v1", 1))
      yield* harness.execute(releaseId, { _tag: "Resume", actor: Harness.defaultActor })
      yield* harness.runUntilSettled("2 hours")
      assert.strictEqual((yield* harness.summary(releaseId)).status, "completed")
    })))

  it.effect("transient Cloudflare errors are retried with backoff and never duplicate a deployment", () =>
    run(Effect.gen(function*() {
      const { harness, worker } = yield* setUp()
      const releaseId = yield* harness.release({ worker, versionId: "v2", plan: fiveMinuteSteps() })
      // a lost response: the deployment is made but the caller hears a 5xx, then two plain 5xx
      harness.fleet.failRouter(
        1,
        new TrafficRouter.TrafficRouterError({ kind: "transient", message: "502 Bad Gateway" }),
        { operation: "apply", afterWrite: true }
      )
      yield* harness.runFor("1 minute")
      harness.fleet.failRouter(2, new TrafficRouter.TrafficRouterError({ kind: "transient", message: "503" }), {
        operation: "apply"
      })
      yield* harness.runUntilSettled("3 hours")

      assert.strictEqual((yield* harness.summary(releaseId)).status, "completed")
      const splits = harness.fleet.deployments(worker).map((d) => TrafficSplit.describe(d.split))
      assert.deepStrictEqual(splits, ["v1 100%", "v2 1% / v1 99%", "v2 10% / v1 90%", "v2 50% / v1 50%", "v2 100%"])
      const events = (yield* harness.events(releaseId)).map((e) => e.event)
      const failures = events.flatMap((e) => e._tag === "TrafficShiftFailed" ? [e] : [])
      assert.deepStrictEqual(failures.map((f) => f.attempt), [1, 1, 2])
      assert.isTrue(failures.every((f) => f.retryAt > f.at))
      const reused = events.flatMap((e) => e._tag === "TrafficShifted" && e.reusedExisting ? [e] : [])
      assert.strictEqual(reused.length, 1, "the retry after the lost response recorded its own deployment")
    })))

  it.effect("a rate-limited call waits for retry-after", () =>
    run(Effect.gen(function*() {
      const { harness, worker } = yield* setUp()
      harness.fleet.failRouter(
        1,
        new TrafficRouter.TrafficRouterError({ kind: "rate_limited", message: "429", retryAfterSeconds: 90 }),
        { operation: "apply" }
      )
      const releaseId = yield* harness.release({ worker, versionId: "v2", plan: fiveMinuteSteps() })
      // never before retry-after; spread up to 20% later so that releases do not retry together
      yield* harness.runFor("89 seconds")
      assert.strictEqual(harness.fleet.deployments(worker).length, 1)
      yield* harness.runFor("19 seconds")
      assert.strictEqual(harness.fleet.deployments(worker).length, 2)
      assert.strictEqual((yield* harness.summary(releaseId)).currentPercentage, 1)
    })))

  it.effect("a permanent Cloudflare refusal fails the release", () =>
    run(Effect.gen(function*() {
      const { harness, worker } = yield* setUp()
      harness.fleet.failRouter(
        1,
        new TrafficRouter.TrafficRouterError({ kind: "permanent", message: "400 version is not deployable" }),
        { operation: "apply" }
      )
      const releaseId = yield* harness.release({ worker, versionId: "v2", plan: fiveMinuteSteps() })
      yield* harness.runUntilSettled("1 hour")
      const summary = yield* harness.summary(releaseId)
      assert.strictEqual(summary.status, "failed")
      assert.match(summary.statusReason ?? "", /Cloudflare refused shifting traffic for step 0: 400 version is not deployable/)
      assert.strictEqual(harness.fleet.deployments(worker).length, 1)
    })))

  it.effect("rejected credentials pause the release for a person", () =>
    run(Effect.gen(function*() {
      const { harness, worker } = yield* setUp()
      const releaseId = yield* harness.release({ worker, versionId: "v2", plan: fiveMinuteSteps() })
      harness.fleet.failRouter(1, new TrafficRouter.TrafficRouterError({ kind: "credentials", message: "403 Forbidden" }))
      yield* harness.runFor("10 minutes")
      const summary = yield* harness.summary(releaseId)
      assert.strictEqual(summary.status, "paused")
      assert.match(summary.statusReason ?? "", /rejected the credentials.*403 Forbidden/)
    })))

  it.effect("analytics outages make checks inconclusive: no promotion, no rollback", () =>
    run(Effect.gen(function*() {
      const { harness, worker } = yield* setUp({ v2: 0.5 })
      harness.fleet.failAnalytics(1_000, "GraphQL budget exhausted")
      const releaseId = yield* harness.release({ worker, versionId: "v2", plan: fiveMinuteSteps() })
      yield* harness.runFor("30 minutes")
      const summary = yield* harness.summary(releaseId)
      assert.strictEqual(summary.status, "in_progress")
      assert.strictEqual(summary.currentStep, 0)
      const audit = yield* harness.audit(releaseId)
      assert.match(audit[audit.length - 1]!.sentence, /inconclusive \(no data; analytics unavailable: GraphQL budget exhausted\)/)
    })))

  it.effect("a manual rollback from the middle of a release restores the stable version", () =>
    run(Effect.gen(function*() {
      const { harness, worker } = yield* setUp()
      const releaseId = yield* harness.release({ worker, versionId: "v2", plan: fiveMinuteSteps() })
      yield* harness.runFor("11 minutes")
      yield* harness.execute(releaseId, { _tag: "Rollback", actor: Harness.defaultActor, reason: "customer reports" })
      yield* harness.runUntilSettled("1 hour")
      const summary = yield* harness.summary(releaseId)
      assert.strictEqual(summary.status, "rolled_back")
      assert.strictEqual(summary.statusReason, "customer reports")
      assert.deepStrictEqual(liveSplit(harness, worker), TrafficSplit.whole("v1"))
    })))

  it.effect("a pending release waits until started, and can be cancelled", () =>
    run(Effect.gen(function*() {
      const { harness, worker } = yield* setUp()
      const releaseId = yield* harness.release({ worker, versionId: "v2", plan: fiveMinuteSteps(), start: false })
      yield* harness.runFor("1 hour")
      assert.strictEqual((yield* harness.summary(releaseId)).status, "pending")
      assert.strictEqual(harness.fleet.deployments(worker).length, 1)
      yield* harness.execute(releaseId, { _tag: "Cancel", actor: Harness.defaultActor })
      assert.strictEqual((yield* harness.summary(releaseId)).status, "cancelled")
    })))
})
