/**
 * The EventStore contract, run against every adapter: `append` numbers a stream's events from 1
 * with ids `streamId:version`, succeeds only at the expected version (exactly one of many
 * concurrent writers wins) and writes nothing on a conflict; `readStream` returns a stream in
 * version order and events round-trip unchanged; `readAll` pages through the global log in
 * strictly increasing position order without skipping or repeating an event.
 *
 * `makeLayer` is called once per test and must give an empty store.
 *
 * @since 0.1.0
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer, Result } from "effect"
import { Actor, EventStore, Plan, type ReleaseEvent } from "../../src/index.ts"

/** 2026-01-01T00:00:00Z: event times are epoch milliseconds. */
const t0 = 1_767_225_600_000

const alice = Actor.user("user-1", "Alice")

/** A realistic release from creation to its first health check; every shape the store must keep. */
export const releaseEvents = (releaseId: string): ReadonlyArray<ReleaseEvent.ReleaseEvent> => [
  {
    _tag: "ReleaseCreated",
    releaseId,
    teamId: "team-1",
    workerId: "worker-1",
    accountId: "account-1",
    scriptName: "checkout",
    canaryVersionId: "version-canary",
    planId: null,
    plan: Plan.make({
      steps: [{ percentage: 1, waitSeconds: 300 }, { percentage: 10.5, waitSeconds: 600 }, { percentage: 100, waitSeconds: 0 }],
      health: { maxErrorRate: 0.02, maxErrorRateIncrease: 0.005, onFailure: "pause" }
    }),
    autoAdvance: true,
    name: "Checkout v42",
    ticketUrl: null,
    actor: alice,
    at: t0
  },
  {
    _tag: "ReleaseStarted",
    stableVersionId: "version-stable",
    liveDeployment: { deploymentId: "deployment-1", split: [{ versionId: "version-stable", percentage: 100 }] },
    actor: Actor.token("token-1", "ci"),
    at: t0 + 1_000
  },
  { _tag: "StepStarted", stepIndex: 0, percentage: 1, actor: Actor.system, at: t0 + 2_000 },
  {
    _tag: "TrafficShifted",
    stepIndex: 0,
    deploymentId: "deployment-2",
    split: [{ versionId: "version-canary", percentage: 1 }, { versionId: "version-stable", percentage: 99 }],
    reusedExisting: false,
    actor: Actor.system,
    at: t0 + 3_000
  },
  {
    _tag: "HealthChecked",
    stepIndex: 0,
    window: { start: t0 + 3_000, end: t0 + 63_000 },
    canary: { requests: 1_204, errors: 3, cpuTimeP50Ms: 1.25, cpuTimeP99Ms: 17.5 },
    stable: { requests: 118_977, errors: 201 },
    verdict: "healthy",
    reasons: ["error rate 0.25% <= maxErrorRate (2.00%)"],
    consecutiveFailures: 0,
    actor: Actor.system,
    at: t0 + 123_000
  }
]

const paused = (reason: string): ReleaseEvent.ReleaseEvent => ({
  _tag: "Paused",
  cause: "requested",
  reason,
  actor: alice,
  at: t0
})

/** What the store assigns, without `recordedAt`, whose clock is the adapter's business. */
const stored = (recorded: EventStore.RecordedEvent) => ({
  id: recorded.id,
  streamId: recorded.streamId,
  version: recorded.version,
  position: recorded.position,
  event: recorded.event
})

const assertIncreasing = (positions: ReadonlyArray<number>) =>
  positions.forEach((position, i) => {
    if (i > 0) assert.isTrue(position > positions[i - 1]!, `positions must strictly increase: ${positions.join(", ")}`)
  })

export const suite = (name: string, makeLayer: () => Layer.Layer<EventStore.EventStore, unknown>) => {
  const test = <A, E>(title: string, body: () => Effect.Effect<A, E, EventStore.EventStore>) =>
    it.effect(title, () => body().pipe(Effect.provide(makeLayer(), { local: true })))

  describe(`EventStore contract (${name})`, () => {
    test("append to a new stream numbers versions from 1, with ids streamId:version and increasing positions", () =>
      Effect.gen(function*() {
        const store = yield* EventStore.EventStore
        const [created, started, stepStarted] = releaseEvents("release-1")
        const first = yield* store.append("release-1", 0, [created!, started!])
        const second = yield* store.append("release-1", 2, [stepStarted!])
        const recorded = [...first, ...second]
        assert.deepStrictEqual(recorded.map((e) => e.version), [1, 2, 3])
        assert.deepStrictEqual(recorded.map((e) => e.id), ["release-1:1", "release-1:2", "release-1:3"])
        assert.deepStrictEqual(recorded.map((e) => e.streamId), ["release-1", "release-1", "release-1"])
        assert.deepStrictEqual(recorded.map((e) => e.event), [created, started, stepStarted])
        assertIncreasing(recorded.map((e) => e.position))
        recorded.forEach((e) => assert.isTrue(Number.isFinite(e.recordedAt)))
      }))

    test("append at a wrong expected version fails with StreamVersionConflict and writes nothing", () =>
      Effect.gen(function*() {
        const store = yield* EventStore.EventStore
        const onNewStream = yield* store.append("release-1", 1, [paused("too early")]).pipe(Effect.flip)
        assert.strictEqual(onNewStream._tag, "StreamVersionConflict")
        assert.deepInclude(onNewStream, { streamId: "release-1", expectedVersion: 1, actualVersion: 0 })
        assert.deepStrictEqual(yield* store.readStream("release-1"), [])

        const written = yield* store.append("release-1", 0, releaseEvents("release-1").slice(0, 2))
        for (const expectedVersion of [0, 1, 3]) {
          const conflict = yield* store.append("release-1", expectedVersion, [paused("stale")]).pipe(Effect.flip)
          assert.strictEqual(conflict._tag, "StreamVersionConflict")
          assert.deepInclude(conflict, { streamId: "release-1", expectedVersion, actualVersion: 2 })
        }
        assert.deepStrictEqual((yield* store.readStream("release-1")).map(stored), written.map(stored))
        assert.deepStrictEqual((yield* store.readAll(0, 100)).map(stored), written.map(stored))
      }))

    const concurrentAppends = (existing: number) =>
      Effect.gen(function*() {
        const store = yield* EventStore.EventStore
        if (existing > 0) yield* store.append("release-1", 0, releaseEvents("release-1").slice(0, existing))
        const writers = Array.from({ length: 10 }, (_, i) => paused(`writer ${i}`))
        const results = yield* Effect.all(
          writers.map((event) => store.append("release-1", existing, [event]).pipe(Effect.result)),
          { concurrency: "unbounded" }
        )
        const winners = results.filter(Result.isSuccess).map((result) => result.success)
        const losers = results.filter(Result.isFailure).map((result) => result.failure)
        assert.strictEqual(winners.length, 1, `exactly one writer wins, got ${winners.length}`)
        for (const loser of losers) {
          assert.strictEqual(loser._tag, "StreamVersionConflict")
          assert.deepInclude(loser, { expectedVersion: existing, actualVersion: existing + 1 })
        }
        const stream = yield* store.readStream("release-1")
        assert.deepStrictEqual(stream.map((e) => e.version), Array.from({ length: existing + 1 }, (_, i) => i + 1))
        assert.deepStrictEqual(stored(stream[existing]!), stored(winners[0]![0]!))
        assert.strictEqual((yield* store.readAll(0, 100)).length, existing + 1)
      })

    test("10 concurrent appends creating a stream: exactly one succeeds", () => concurrentAppends(0))
    test("10 concurrent appends at an existing stream's version: exactly one succeeds", () => concurrentAppends(3))

    test("readStream returns the stream in version order, events round-tripping unchanged", () =>
      Effect.gen(function*() {
        const store = yield* EventStore.EventStore
        const events = releaseEvents("release-1")
        const first = yield* store.append("release-1", 0, events.slice(0, 2))
        yield* store.append("release-2", 0, releaseEvents("release-2").slice(0, 1))
        const second = yield* store.append("release-1", 2, events.slice(2))
        const stream = yield* store.readStream("release-1")
        assert.deepStrictEqual(stream.map((e) => e.event), events)
        assert.deepStrictEqual(stream.map((e) => e.version), [1, 2, 3, 4, 5])
        assert.deepStrictEqual(stream.map(stored), [...first, ...second].map(stored))
        assertIncreasing(stream.map((e) => e.position))
      }))

    test("readAll pages through several streams in strictly increasing position order, no skips or repeats", () =>
      Effect.gen(function*() {
        const store = yield* EventStore.EventStore
        const [a, b, c] = ["release-a", "release-b", "release-c"].map(releaseEvents)
        const appended = [
          ...yield* store.append("release-a", 0, a!.slice(0, 2)),
          ...yield* store.append("release-b", 0, b!.slice(0, 3)),
          ...yield* store.append("release-a", 2, a!.slice(2, 3)),
          ...yield* store.append("release-c", 0, c!.slice(0, 2)),
          ...yield* store.append("release-b", 3, b!.slice(3, 4))
        ]
        const limit = 2
        const seen: Array<EventStore.RecordedEvent> = []
        let after = 0
        for (let page = yield* store.readAll(after, limit); page.length > 0; page = yield* store.readAll(after, limit)) {
          assert.isAtMost(page.length, limit)
          seen.push(...page)
          after = page[page.length - 1]!.position
          assert.isAtMost(seen.length, appended.length, "readAll returned more events than were appended")
        }
        assert.deepStrictEqual(seen.map(stored), appended.map(stored))
        assertIncreasing(seen.map((e) => e.position))
        assert.deepStrictEqual((yield* store.readAll(0, 100)).map(stored), appended.map(stored))
        assert.deepStrictEqual((yield* store.readAll(0, 3)).map(stored), appended.slice(0, 3).map(stored))
      }))

    test("an unknown stream and an empty log read as []", () =>
      Effect.gen(function*() {
        const store = yield* EventStore.EventStore
        assert.deepStrictEqual(yield* store.readStream("release-1"), [])
        assert.deepStrictEqual(yield* store.readAll(0, 100), [])
        yield* store.append("release-1", 0, releaseEvents("release-1").slice(0, 1))
        assert.deepStrictEqual(yield* store.readStream("release-2"), [])
      }))
  })
}
