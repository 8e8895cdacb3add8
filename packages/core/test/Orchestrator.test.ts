import { assert, describe, it } from "@effect/vitest"
import { Effect, Fiber, Layer, Option } from "effect"
import { TestClock } from "effect/testing"
import {
  ActiveReleases,
  Actor,
  EventStore,
  Orchestrator,
  Plan,
  type ReleaseEvent,
  Scheduler,
  TrafficRouter
} from "../src/index.ts"
import { create, healthyAnalytics, person, target } from "./support/OrchestratorFixture.ts"

const ports = (router: TrafficRouter.TrafficRouter["Service"], store = EventStore.layerMemory) =>
  Layer.mergeAll(
    store,
    Scheduler.layerMemory,
    ActiveReleases.layerMemory,
    Layer.succeed(TrafficRouter.TrafficRouter, router),
    healthyAnalytics
  )

describe("Orchestrator", () => {
  it.effect("a hung step is abandoned after stepTimeoutMs, and the release is due again when its lease ends", () =>
    Effect.gen(function*() {
      const memory = TrafficRouter.makeMemory([{ ...target, liveVersionId: "v1" }])
      let hang = false
      const router = TrafficRouter.TrafficRouter.of({
        readActive: (t) => hang ? Effect.never : memory.router.readActive(t),
        apply: memory.router.apply
      })
      yield* Effect.gen(function*() {
        yield* create("rel_1")
        yield* Orchestrator.execute("rel_1", { _tag: "Start", actor: person })
        hang = true
        const run = yield* Effect.forkChild(Orchestrator.runDue({ stepTimeoutMs: 5_000, leaseMs: 10_000 }))
        yield* TestClock.adjust("5 seconds")
        assert.strictEqual(yield* Fiber.join(run), 1)

        // the lease, renewed while the step ran, has not run out yet
        const scheduler = yield* Scheduler.Scheduler
        assert.deepStrictEqual(yield* scheduler.claim("other", 5_000, 10, 10_000), [], "still leased")
        hang = false
        yield* TestClock.adjust("10 seconds")
        assert.strictEqual(yield* Orchestrator.runDue({ owner: "other" }), 1)
        assert.strictEqual(memory.deployments(target).length, 2, "the retried step shifted traffic once")
      }).pipe(Effect.provide(ports(router)))
    }))

  it.effect("a version conflict (someone acted in between) reloads and recomputes the command", () =>
    Effect.gen(function*() {
      const memory = TrafficRouter.makeMemory([{ ...target, liveVersionId: "v1" }])
      // Another process pauses the release between our load and our append, once.
      let interfered = false
      const racingStore = Layer.effect(
        EventStore.EventStore,
        Effect.map(EventStore.makeMemory, (store) =>
          EventStore.EventStore.of({
            ...store,
            append: (streamId, expectedVersion, events) =>
              Effect.gen(function*() {
                if (!interfered && events.some((e) => e._tag === "Promoted")) {
                  interfered = true
                  const pause: ReleaseEvent.ReleaseEvent = {
                    _tag: "Paused",
                    cause: "requested",
                    reason: "someone else paused it",
                    actor: Actor.user("usr_2", "Grace"),
                    at: 0
                  }
                  yield* store.append(streamId, expectedVersion, [pause])
                }
                return yield* store.append(streamId, expectedVersion, events)
              })
          }))
      )
      const outcome = yield* Effect.gen(function*() {
        yield* create("rel_1")
        yield* Orchestrator.execute("rel_1", { _tag: "Start", actor: person })
        yield* Orchestrator.runDue() // shift to 10%
        yield* TestClock.adjust("60 seconds")
        yield* Orchestrator.runDue() // healthy check
        const advance = yield* Orchestrator.execute("rel_1", { _tag: "Advance", actor: person }).pipe(Effect.flip)
        return { advance, loaded: yield* Orchestrator.load("rel_1") }
      }).pipe(Effect.provide(ports(memory.router, racingStore)))

      // recomputed against the newer events: the release is paused now, so the advance is refused
      assert.strictEqual(outcome.advance._tag, "ReleaseRejected")
      assert.match(outcome.advance.message, /cannot advance: the release is paused \(someone else paused it\)/)
      assert.strictEqual(outcome.loaded.state.status, "paused")
      assert.isFalse(outcome.loaded.events.some((e) => e.event._tag === "Promoted"))
    }))
})

describe("Orchestrator: drift is checked before every traffic change and before completing", () => {
  const tags = (loaded: Orchestrator.Loaded) => loaded.events.map((e) => e.event._tag)
  const handMade = [{ versionId: "v3", percentage: 100 }]

  it.effect("a hand-made deployment between Start and step 0's shift pauses the release and is not overwritten", () =>
    Effect.gen(function*() {
      const memory = TrafficRouter.makeMemory([{ ...target, liveVersionId: "v1" }])
      yield* Effect.gen(function*() {
        yield* create("rel_1")
        yield* Orchestrator.execute("rel_1", { _tag: "Start", actor: person })
        memory.deployOutOfBand(target, handMade)
        yield* Orchestrator.runDue()
        const loaded = yield* Orchestrator.load("rel_1")
        assert.strictEqual(loaded.state.status, "paused")
        assert.include(tags(loaded), "DriftDetected")
        assert.deepStrictEqual(memory.deployments(target).map((d) => d.message), ["initial", "deployed by hand"])
      }).pipe(Effect.provide(ports(memory.router)))
    }))

  it.effect("a hand-made deployment between the last check and the next step's shift pauses the release and is not overwritten", () =>
    Effect.gen(function*() {
      const memory = TrafficRouter.makeMemory([{ ...target, liveVersionId: "v1" }])
      yield* Effect.gen(function*() {
        yield* create("rel_1")
        yield* Orchestrator.execute("rel_1", { _tag: "Start", actor: person })
        yield* Orchestrator.runDue() // step 0 live at 10%
        yield* TestClock.adjust("60 seconds")
        yield* Orchestrator.runDue() // the step's only check, healthy
        memory.deployOutOfBand(target, handMade)
        yield* Orchestrator.runDue() // promotes (no traffic change yet)
        yield* Orchestrator.runDue() // step 1's shift reads first: drift
        const loaded = yield* Orchestrator.load("rel_1")
        assert.strictEqual(loaded.state.status, "paused")
        assert.deepStrictEqual(tags(loaded).slice(-3), ["Promoted", "StepStarted", "DriftDetected"])
        const messages = memory.deployments(target).map((d) => d.message)
        assert.strictEqual(messages[messages.length - 1], "deployed by hand")
      }).pipe(Effect.provide(ports(memory.router)))
    }))

  it.effect("a hand-made deployment during the last soak: paused with DriftDetected, never Completed", () =>
    Effect.gen(function*() {
      const memory = TrafficRouter.makeMemory([{ ...target, liveVersionId: "v1" }])
      const single = Plan.make({
        steps: [{ percentage: 100, waitSeconds: 60 }],
        health: { intervalSeconds: 60, analyticsDelaySeconds: 0, minRequests: 1 }
      })
      yield* Effect.gen(function*() {
        yield* create("rel_1", single)
        yield* Orchestrator.execute("rel_1", { _tag: "Start", actor: person })
        yield* Orchestrator.runDue() // v2 at 100%
        yield* TestClock.adjust("60 seconds")
        yield* Orchestrator.runDue() // the soak's check, healthy: completing is due now
        memory.deployOutOfBand(target, handMade)
        yield* Orchestrator.runDue()
        const loaded = yield* Orchestrator.load("rel_1")
        assert.strictEqual(loaded.state.status, "paused")
        assert.notInclude(tags(loaded), "Completed")
        assert.strictEqual(tags(loaded).at(-1), "DriftDetected")
      }).pipe(Effect.provide(ports(memory.router)))
    }))

  it.effect("a person's Advance from the last step reads the live deployment too", () =>
    Effect.gen(function*() {
      const memory = TrafficRouter.makeMemory([{ ...target, liveVersionId: "v1" }])
      yield* Effect.gen(function*() {
        yield* create("rel_1")
        yield* Orchestrator.execute("rel_1", { _tag: "Start", actor: person })
        yield* Orchestrator.runDue()
        yield* TestClock.adjust("60 seconds")
        yield* Orchestrator.runDue()
        yield* Orchestrator.runDue() // promoted to 100%
        yield* Orchestrator.runDue() // 100% live
        yield* TestClock.adjust("60 seconds")
        yield* Orchestrator.runDue() // healthy check at the last step
        memory.deployOutOfBand(target, handMade)
        const state = yield* Orchestrator.execute("rel_1", { _tag: "Advance", actor: person, fromStep: 1 })
        assert.strictEqual(state.status, "paused")
      }).pipe(Effect.provide(ports(memory.router)))
    }))
})

describe("Orchestrator: the schedule", () => {
  it.effect("a no-op request on a terminal release does not put it back on the scheduler", () =>
    Effect.gen(function*() {
      const memory = TrafficRouter.makeMemory([{ ...target, liveVersionId: "v1" }])
      yield* Effect.gen(function*() {
        yield* create("rel_1")
        yield* Orchestrator.execute("rel_1", { _tag: "Start", actor: person })
        yield* Orchestrator.execute("rel_1", { _tag: "Rollback", actor: person })
        yield* Orchestrator.runDue()
        const scheduler = yield* Scheduler.Scheduler
        assert.strictEqual((yield* Orchestrator.load("rel_1")).state.status, "rolled_back")
        assert.isTrue(Option.isNone(yield* scheduler.nextDueAt), "nothing scheduled once rolled back")
        for (const request of [{ _tag: "Rollback", actor: person }, { _tag: "Pause", actor: person }] as const) {
          yield* Orchestrator.execute("rel_1", request).pipe(Effect.ignore)
          assert.isTrue(Option.isNone(yield* scheduler.nextDueAt), `${request._tag} put the terminal release back on the scheduler`)
        }
      }).pipe(Effect.provide(ports(memory.router)))
    }))
})

describe("Orchestrator: one release per Worker (ActiveReleases)", () => {
  it.effect("a second release of a Worker cannot start while the first is in progress or paused; it can once the first ended", () =>
    Effect.gen(function*() {
      const memory = TrafficRouter.makeMemory([{ ...target, liveVersionId: "v1" }])
      yield* Effect.gen(function*() {
        yield* create("rel_1")
        yield* create("rel_2")
        yield* Orchestrator.execute("rel_1", { _tag: "Start", actor: person })
        const busy = yield* Effect.flip(Orchestrator.execute("rel_2", { _tag: "Start", actor: person }))
        assert.strictEqual(busy._tag, "WorkerBusy")
        assert.strictEqual((yield* Orchestrator.load("rel_2")).state.status, "pending")

        yield* Orchestrator.execute("rel_1", { _tag: "Pause", actor: person })
        assert.strictEqual((yield* Effect.flip(Orchestrator.execute("rel_2", { _tag: "Start", actor: person })))._tag, "WorkerBusy")

        yield* Orchestrator.execute("rel_1", { _tag: "Rollback", actor: person })
        yield* Orchestrator.runDue() // the rollback ends rel_1, which frees the Worker
        assert.strictEqual((yield* Orchestrator.load("rel_1")).state.status, "rolled_back")
        const started = yield* Orchestrator.execute("rel_2", { _tag: "Start", actor: person })
        assert.strictEqual(started.status, "in_progress")
      }).pipe(Effect.provide(ports(memory.router)))
    }))

  it.effect("32 pending releases of one Worker started at once: exactly one starts, the others are WorkerBusy", () =>
    Effect.gen(function*() {
      const memory = TrafficRouter.makeMemory([{ ...target, liveVersionId: "v1" }])
      const ids = Array.from({ length: 32 }, (_, i) => `rel_${i}`)
      const outcomes = yield* Effect.gen(function*() {
        yield* Effect.forEach(ids, (releaseId) => create(releaseId))
        return yield* Effect.forEach(
          ids,
          (releaseId) => Effect.result(Orchestrator.execute(releaseId, { _tag: "Start", actor: person })),
          { concurrency: "unbounded" }
        )
      }).pipe(Effect.provide(ports(memory.router)))
      assert.strictEqual(outcomes.filter((outcome) => outcome._tag === "Success").length, 1)
      for (const outcome of outcomes) {
        if (outcome._tag === "Failure") assert.strictEqual(outcome.failure._tag, "WorkerBusy")
      }
    }))

  it.effect("a refused start gives the Worker back; a start that died half-way is taken over after abandonedClaimMs", () =>
    Effect.gen(function*() {
      const memory = TrafficRouter.makeMemory([{ ...target, liveVersionId: "v2" }])
      yield* Effect.gen(function*() {
        yield* create("rel_1")
        yield* create("rel_2")
        // v2 already serves 100%: the decider refuses the start, and the claim is given back
        const refused = yield* Effect.flip(Orchestrator.execute("rel_1", { _tag: "Start", actor: person }))
        assert.strictEqual(refused._tag, "ReleaseRejected")
        const active = yield* ActiveReleases.ActiveReleases
        assert.isTrue(Option.isNone(yield* active.holder("wkr")))

        // a process claimed for rel_1 and died before recording the start
        yield* active.claim("wkr", "rel_1", 0)
        memory.deployOutOfBand(target, [{ versionId: "v1", percentage: 100 }])
        assert.strictEqual((yield* Effect.flip(Orchestrator.execute("rel_2", { _tag: "Start", actor: person })))._tag, "WorkerBusy")
        yield* TestClock.adjust(Orchestrator.abandonedClaimMs + 1)
        const started = yield* Orchestrator.execute("rel_2", { _tag: "Start", actor: person })
        assert.strictEqual(started.status, "in_progress")
      }).pipe(Effect.provide(ports(memory.router)))
    }))

  it.effect("starting a finished release is refused by the decider (create a new release)", () =>
    Effect.gen(function*() {
      const memory = TrafficRouter.makeMemory([{ ...target, liveVersionId: "v1" }])
      yield* Effect.gen(function*() {
        yield* create("rel_1")
        yield* Orchestrator.execute("rel_1", { _tag: "Start", actor: person })
        yield* Orchestrator.execute("rel_1", { _tag: "Rollback", actor: person })
        yield* Orchestrator.runDue()
        const refused = yield* Effect.flip(Orchestrator.execute("rel_1", { _tag: "Start", actor: person }))
        assert.strictEqual(refused._tag, "ReleaseRejected")
        assert.match(refused.message, /cannot start: the release was rolled back; create a new release/)
      }).pipe(Effect.provide(ports(memory.router)))
    }))
})
