/**
 * The core's benchmarks: folding a long stream, decoding stored events, decide + evolve, and a
 * simulated 2-hour release through the orchestrator and the memory harness.
 */
import { Actor, NextAction, Plan, Release, ReleaseCommand, ReleaseDecider, ReleaseEvent, type TrafficSplit } from "@canaryroll/core"
import { Harness } from "@canaryroll/memory"
import { Effect, Schema } from "effect"
import { TestClock } from "effect/testing"
import { measure } from "./Measure.ts"

export const run = async (samples: (full: number) => number) => {
  /** Four steps of `soakSeconds` each, checked every minute. */
  const fourSteps = (soakSeconds: number) =>
    Plan.make({
      steps: [1, 10, 50, 100].map((percentage) => ({ percentage, waitSeconds: soakSeconds })),
      health: { intervalSeconds: 60, analyticsDelaySeconds: 0, minRequests: 10 }
    })
  /** 2 hours in all: the simulated release. */
  const twoHourPlan = fourSteps(1800)
  /** 5 hours a step: long enough for a 1,000-event stream. */
  const longPlan = fourSteps(5 * 3600)

  const t0 = 1_700_000_000_000
  const healthy = { requests: 1_000, errors: 1 }

  /**
   * Drives a release with the decider alone, the way the orchestrator would, until it has `size`
   * events: mostly health checks, with the shifts and promotions between them.
   */
  const releaseStream = (size: number): ReadonlyArray<ReleaseEvent.ReleaseEvent> => {
    const events: Array<ReleaseEvent.ReleaseEvent> = []
    let state = Release.initial
    const apply = (command: ReleaseCommand.ReleaseCommand) => {
      const decision = ReleaseDecider.decide(command, state)
      if (decision._tag === "Failure") throw decision.failure
      for (const event of decision.success) {
        events.push(event)
        state = Release.evolve(state, event)
      }
    }
    const actor = Actor.system
    apply({
      _tag: "Create", releaseId: "rel_bench", teamId: "team", workerId: "wkr", accountId: "acc", scriptName: "api",
      canaryVersionId: "v2", planId: null, plan: longPlan, autoAdvance: true, name: null, ticketUrl: null, actor, now: t0
    })
    apply({ _tag: "Start", liveDeployment: { deploymentId: "d1", split: [{ versionId: "v1", percentage: 100 }] }, actor, now: t0 })
    let deployments = 1
    let live: TrafficSplit.ActiveDeployment = { deploymentId: "d1", split: [{ versionId: "v1", percentage: 100 }] }
    while (events.length < size && !Release.isTerminal(state)) {
      const action = NextAction.nextAction(state, t0)
      if (action._tag === "Wait") break
      const now = action.at
      switch (action._tag) {
        case "ShiftTraffic":
          live = { deploymentId: `d${++deployments}`, split: action.split }
          apply({ _tag: "RecordTrafficShift", stepIndex: action.stepIndex, reusedExisting: false, actor, now, deployment: live })
          break
        case "CheckHealth":
          apply({ _tag: "RecordHealthCheck", window: { start: action.window.start, end: now }, canary: healthy, stable: healthy, actor, now })
          break
        case "Advance":
          // completing reads the live deployment first
          apply({ _tag: "Advance", fromStep: action.fromStep, liveDeployment: live, actor, now })
          break
        case "ApplyRollback":
          throw new Error("a healthy benchmark release never rolls back")
      }
    }
    return events.slice(0, size)
  }

  const stream = releaseStream(1_000)
  if (stream.length !== 1_000) throw new Error(`expected 1,000 events, built ${stream.length}`)

  await measure({ name: "core.fold_1000_events", samples: samples(2_000), target: "p50 <= 1 ms" }, () => Release.fold(stream))

  // What loading really costs before the fold: decoding the stored JSON of the same 1,000 events
  const decodeEvents = Schema.decodeUnknownSync(Schema.Array(ReleaseEvent.ReleaseEvent))
  const storedJson = JSON.parse(JSON.stringify(Schema.encodeSync(Schema.Array(ReleaseEvent.ReleaseEvent))(stream)))
  await measure({ name: "core.decode_1000_stored_events", samples: samples(500) }, () => decodeEvents(storedJson))

  // decide + evolve throughput: rebuild the same 1,000-event release from its commands
  await measure({ name: "core.decide_evolve", samples: samples(500), ops: 1_000 }, () => releaseStream(1_000))

  // One 4-step release, 1-minute checks, 2 hours of TestClock time, through the full orchestrator
  const simulated = Effect.gen(function*() {
    const harness = yield* Harness.Harness
    const worker = yield* harness.addWorker({
      scriptName: "api",
      liveVersionId: "v1",
      requestsPerMinute: 6_000,
      errorRates: { v2: 0.001 }
    })
    const releaseId = yield* harness.release({ worker, versionId: "v2", plan: twoHourPlan })
    yield* harness.runUntilSettled("3 hours")
    const summary = yield* harness.summary(releaseId)
    if (summary.status !== "completed") throw new Error(`benchmark release ended ${summary.status}`)
  }).pipe(Effect.provide(Harness.layer), Effect.provide(TestClock.layer()))

  await measure(
    { name: "orchestrator.simulated_release_2h", samples: samples(200), target: "p50 <= 50 ms" },
    () => Effect.runPromise(simulated)
  )
}
