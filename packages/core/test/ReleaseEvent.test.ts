/**
 * The storage contract: streams recorded by earlier versions decode and fold forever. The JSON
 * below is as 0.1.0 stored it (one event per line of `events.data`), including what today's rules
 * refuse: a plan with a percentage below 0.01, one a float error away from two decimals, a
 * threshold with six decimals, and a `Failed` recorded straight after transient failures.
 */
import { assert, describe, it } from "@effect/vitest"
import { Schema } from "effect"
import { Plan, Release, ReleaseEvent } from "../src/index.ts"

const recorded = [
  `{"_tag":"ReleaseCreated","releaseId":"rel_old","teamId":"team_1","workerId":"wkr_1","accountId":"acc_1","scriptName":"api","canaryVersionId":"v2","planId":null,"plan":{"steps":[{"percentage":1e-11,"waitSeconds":60},{"percentage":50.000000000001,"waitSeconds":60},{"percentage":100,"waitSeconds":60}],"health":{"intervalSeconds":60,"failuresBeforeAction":3,"maxErrorRate":0.012345,"minRequests":100,"onInconclusive":"hold","analyticsDelaySeconds":60,"onFailure":"rollback"}},"autoAdvance":true,"name":null,"ticketUrl":null,"actor":{"_tag":"User","id":"usr_1","name":"Ada"},"at":1764000000000}`,
  `{"_tag":"ReleaseStarted","stableVersionId":"v1","liveDeployment":{"deploymentId":"d1","split":[{"versionId":"v1","percentage":100}]},"actor":{"_tag":"User","id":"usr_1","name":"Ada"},"at":1764000001000}`,
  `{"_tag":"StepStarted","stepIndex":0,"percentage":1e-11,"actor":{"_tag":"User","id":"usr_1","name":"Ada"},"at":1764000001000}`,
  `{"_tag":"TrafficShiftFailed","purpose":"step","attempt":1,"error":"10021: invalid split","retryAt":1764000006000,"actor":{"_tag":"System"},"at":1764000001000}`,
  `{"_tag":"Failed","reason":"Cloudflare refused shifting traffic for step 0: 10021: invalid split","actor":{"_tag":"System"},"at":1764000006000}`
]

describe("ReleaseEvent storage", () => {
  it("a stream recorded under the looser plan rules still decodes and folds", () => {
    const events = recorded.map((line) => Schema.decodeUnknownSync(ReleaseEvent.Json)(line))
    const created = events[0]
    assert.strictEqual(created?._tag, "ReleaseCreated")
    if (created?._tag !== "ReleaseCreated") return
    assert.strictEqual(created.plan.steps[0]!.percentage, 1e-11)
    assert.strictEqual(created.plan.health.maxErrorRate, 0.012345)
    // today's rules refuse that plan from people
    assert.isTrue(Plan.decode(created.plan)._tag === "Failure")

    const state = Release.fold(events)
    assert.isTrue(Release.exists(state))
    assert.strictEqual(state.status, "failed")
    if (!Release.exists(state) || state.phase._tag !== "Ended") return
    assert.match(state.phase.reason ?? "", /Cloudflare refused/)
    assert.deepStrictEqual(state.phase.run?.liveSplit, [{ versionId: "v1", percentage: 100 }])
  })

  it("events round-trip through their stored JSON, the new ones included", () => {
    const stalled: ReleaseEvent.ReleaseEvent = {
      _tag: "Stalled",
      cause: "no_data",
      stepIndex: 1,
      since: 1764000060000,
      reason: "held at step 2: no judged health data since 2025-11-24T16:01:00.000Z",
      actor: { _tag: "System" },
      at: 1764000180000
    }
    const failing: ReleaseEvent.ReleaseEvent = {
      _tag: "RollbackStarted",
      reason: "Cloudflare kept failing; restoring the stable version",
      failing: true,
      actor: { _tag: "System" },
      at: 1764000180000
    }
    for (const event of [stalled, failing]) {
      const json = Schema.encodeSync(ReleaseEvent.Json)(event)
      assert.deepStrictEqual(Schema.decodeUnknownSync(ReleaseEvent.Json)(json), event)
    }
    assert.include(ReleaseEvent.eventTypes, "Stalled")
  })
})
