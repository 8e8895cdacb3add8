/**
 * Whole releases through the core's orchestrator with the simulator as Cloudflare: real HTTP,
 * the real SDK, GraphQL analytics, simulated time. Also counts what a release costs in
 * Cloudflare calls: REST mutations per step, and analytics queries per account per interval.
 */
import { ActiveReleases, Actor, EventStore, Orchestrator, Plan, Release, Scheduler, TrafficSplit } from "@canaryroll/core"
import { SimulatedTime } from "@canaryroll/memory"
import { assert, describe, it } from "@effect/vitest"
import { Clock, Duration, Effect, Layer } from "effect"
import { FetchHttpClient } from "effect/http"
import { TestClock } from "effect/testing"
import { AnalyticsHealthSource, ApiBudget, Credentials, WorkersTrafficRouter } from "../src/index.ts"
import { start } from "../src/simulator/index.ts"

const t0 = Date.parse("2026-11-26T10:00:00Z")
const person = Actor.user("usr_ada", "Ada")

const plan = Plan.make({
  steps: [
    { percentage: 1, waitSeconds: 300 },
    { percentage: 10, waitSeconds: 300 },
    { percentage: 50, waitSeconds: 300 },
    { percentage: 100, waitSeconds: 300 }
  ],
  health: { intervalSeconds: 60, analyticsDelaySeconds: 60, minRequests: 50, maxErrorRate: 0.02 }
})

/** A simulated account with `scripts` Workers (v1 live), each with a canary at `canaryErrorRate`. */
const cloudflareWorld = (scripts: ReadonlyArray<string>, canaryErrorRate: number) =>
  Effect.gen(function*() {
    yield* TestClock.setTime(t0)
    const clock = yield* Clock.clockWith(Effect.succeed)
    const sim = yield* Effect.acquireRelease(
      Effect.promise(() => start({ clock: () => clock.currentTimeMillisUnsafe(), analyticsDelayMs: 60_000 })),
      (sim) => Effect.promise(() => sim.close())
    )
    const account = sim.createAccount()
    const token = sim.createToken({ accountIds: [account.id] })
    const workers = scripts.map((scriptName) => {
      const live = sim.createScript({ accountId: account.id, scriptName, requestsPerMinute: 12_000, errorRate: 0.002 })
      const canary = sim.createVersion({ accountId: account.id, scriptName, errorRate: canaryErrorRate })
      return { scriptName, stable: live.versionId, canary: canary.id }
    })
    const ports = Layer.mergeAll(
      WorkersTrafficRouter.layer(),
      AnalyticsHealthSource.layer(),
      EventStore.layerMemory,
      Scheduler.layerMemory,
      ActiveReleases.layerMemory
    ).pipe(
      Layer.provide([
        Credentials.layerStatic({ apiToken: token.value, baseUrl: sim.baseUrl }),
        ApiBudget.layer(),
        FetchHttpClient.layer
      ])
    )
    return { sim, accountId: account.id, token: token.value, workers, ports }
  })

const createAndStart = (accountId: string, worker: { scriptName: string; canary: string }, releaseId: string) =>
  Effect.gen(function*() {
    yield* Orchestrator.create({
      releaseId,
      teamId: "team_1",
      workerId: `wkr_${worker.scriptName}`,
      accountId,
      scriptName: worker.scriptName,
      canaryVersionId: worker.canary,
      planId: null,
      plan,
      autoAdvance: true,
      name: null,
      ticketUrl: null,
      actor: person
    })
    return yield* Orchestrator.execute(releaseId, { _tag: "Start", actor: person })
  })

describe("a release on the Cloudflare simulator", () => {
  it.effect("a healthy version completes after the plan's soak, with at most 2 REST mutations per step", () =>
    Effect.gen(function*() {
      const world = yield* cloudflareWorld(["storefront"], 0.002)
      const worker = world.workers[0]!
      const outcome = yield* Effect.gen(function*() {
        yield* createAndStart(world.accountId, worker, "rel_healthy")
        const took = yield* SimulatedTime.runUntilSettled("3 hours")
        const { state } = yield* Orchestrator.load("rel_healthy")
        return { took, state }
      }).pipe(Effect.provide(world.ports))

      assert.strictEqual(outcome.state.status, "completed")
      // each step moves on once its whole soak was judged: the soak plus the 60 s analytics delay
      assert.strictEqual(Duration.toSeconds(outcome.took), Plan.totalWaitSeconds(plan) + plan.steps.length * 60)
      const live = world.sim.activeDeployment({ accountId: world.accountId, scriptName: worker.scriptName })
      assert.deepStrictEqual(live?.versions, [{ version_id: worker.canary, percentage: 100 }])

      const calls = world.sim.counters().tokens[world.token]!
      const mutations = Object.entries(calls.rest).filter(([route]) => route.startsWith("POST")).reduce((n, [, c]) => n + c, 0)
      const steps = plan.steps.length
      assert.strictEqual(world.sim.counters().deploymentsCreated[`${world.accountId}/${worker.scriptName}`], steps)
      assert.isAtMost(mutations / steps, 2)
      // one analytics query per check: 5 in each 5-minute step (the window ending at the soak's
      // end is judged, once the 60 s analytics delay has passed, before the release moves on)
      assert.strictEqual(calls.graphql, 20)
    }))

  it.effect("a version with 10% errors is rolled back after three failed checks", () =>
    Effect.gen(function*() {
      const world = yield* cloudflareWorld(["storefront"], 0.1)
      const worker = world.workers[0]!
      const state = yield* Effect.gen(function*() {
        yield* createAndStart(world.accountId, worker, "rel_bad")
        yield* SimulatedTime.runUntilSettled("3 hours")
        return (yield* Orchestrator.load("rel_bad")).state as Release.Release
      }).pipe(Effect.provide(world.ports))

      assert.strictEqual(state.status, "rolled_back")
      assert.match(state.phase._tag === "Ended" ? state.phase.reason ?? "" : "", /3 consecutive failed health checks.*error rate 10\.0\d% > maxErrorRate \(2\.00%\)/)
      const live = world.sim.activeDeployment({ accountId: world.accountId, scriptName: worker.scriptName })
      assert.deepStrictEqual(live?.versions, [{ version_id: worker.stable, percentage: 100 }])
      assert.strictEqual(world.sim.counters().tokens[world.token]!.graphql, 3)
    }))

  it.effect("five releases in one account share one analytics query per interval", () =>
    Effect.gen(function*() {
      const scripts = ["api", "web", "auth", "billing", "search"]
      const world = yield* cloudflareWorld(scripts, 0.002)
      const statuses = yield* Effect.gen(function*() {
        yield* Effect.forEach(world.workers, (worker, i) => createAndStart(world.accountId, worker, `rel_${i}`))
        yield* SimulatedTime.runUntilSettled("3 hours")
        return yield* Effect.forEach(world.workers, (_, i) => Effect.map(Orchestrator.load(`rel_${i}`), (l) => l.state.status))
      }).pipe(Effect.provide(world.ports))

      assert.deepStrictEqual(statuses, scripts.map(() => "completed"))
      // the same 20 queries as one release: cost does not grow with the number of releases
      assert.strictEqual(world.sim.counters().tokens[world.token]!.graphql, 20)
    }))

  it.effect("a hand-made deployment mid-release pauses it with DriftDetected", () =>
    Effect.gen(function*() {
      const world = yield* cloudflareWorld(["storefront"], 0.002)
      const worker = world.workers[0]!
      const state = yield* Effect.gen(function*() {
        yield* createAndStart(world.accountId, worker, "rel_drift")
        yield* SimulatedTime.runFor("3 minutes")
        world.sim.deployOutOfBand({
          accountId: world.accountId,
          scriptName: worker.scriptName,
          versions: [{ version_id: worker.stable, percentage: 100 }]
        })
        yield* SimulatedTime.runUntilSettled("1 hour")
        return (yield* Orchestrator.load("rel_drift")).state as Release.Release
      }).pipe(Effect.provide(world.ports))
      assert.strictEqual(state.status, "paused")
      assert.strictEqual(state.phase._tag === "Paused" ? state.phase.cause : undefined, "drift")
      assert.isTrue(
        TrafficSplit.equals(
          world.sim.activeDeployment({ accountId: world.accountId, scriptName: worker.scriptName })!.versions.map((v) => ({
            versionId: v.version_id,
            percentage: v.percentage
          })),
          TrafficSplit.whole(worker.stable)
        )
      )
    }))

  it.effect("a step that crashes between the Cloudflare call and the append completes on retry, with no second deployment", () =>
    Effect.gen(function*() {
      const world = yield* cloudflareWorld(["storefront"], 0.002)
      const worker = world.workers[0]!
      // The store loses the first append that follows a traffic change: the process "died" after
      // Cloudflare deployed the split and before the events were written.
      let crashes = 0
      const crashingStore = Layer.effect(
        EventStore.EventStore,
        Effect.map(EventStore.makeMemory, (store) =>
          EventStore.EventStore.of({
            ...store,
            append: (streamId, expectedVersion, events) =>
              crashes === 0 && events.some((event) => event._tag === "TrafficShifted" && event.stepIndex === 1)
                ? Effect.sync(() => crashes++).pipe(
                  Effect.andThen(Effect.fail(new EventStore.EventStoreUnavailable({ message: "process died before the append" })))
                )
                : store.append(streamId, expectedVersion, events)
          }))
      )
      const ports = Layer.mergeAll(world.ports, crashingStore)
      const { state, events } = yield* Effect.gen(function*() {
        yield* createAndStart(world.accountId, worker, "rel_crash")
        yield* SimulatedTime.runUntilSettled("3 hours")
        const loaded = yield* Orchestrator.load("rel_crash")
        return { state: loaded.state as Release.Release, events: loaded.events }
      }).pipe(Effect.provide(ports))

      assert.strictEqual(crashes, 1)
      assert.strictEqual(state.status, "completed")
      assert.strictEqual(world.sim.counters().deploymentsCreated[`${world.accountId}/${worker.scriptName}`], plan.steps.length)
      const shifts = events.flatMap((e) => e.event._tag === "TrafficShifted" ? [e.event] : [])
      assert.deepStrictEqual(shifts.map((e) => [e.stepIndex, e.reusedExisting]), [[0, false], [1, true], [2, false], [3, false]])
    }))
})
