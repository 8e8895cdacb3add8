/**
 * The Outbox contract, run against every adapter: `pending` hands a consumer the events after its
 * last acknowledged position, in log order, at most `limit`, and hands them out again until they
 * are acknowledged; `acknowledge` is per consumer and never moves backwards; events appended
 * after an acknowledgement are pending too.
 *
 * `makeLayer` is called once per test and must give an empty EventStore and the Outbox over it.
 *
 * @since 0.1.0
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { Actor, EventStore, Outbox, type ReleaseEvent } from "../../src/index.ts"

/** 2026-01-01T00:00:00Z, in epoch milliseconds. */
const t0 = 1_767_225_600_000

const pausedThenResumed = (at: number): ReadonlyArray<ReleaseEvent.ReleaseEvent> => [
  { _tag: "Paused", cause: "requested", reason: "looking at the dashboards", actor: Actor.user("user-1", "Alice"), at },
  {
    _tag: "Resumed",
    liveDeployment: { deploymentId: "deployment-2", split: [{ versionId: "version-stable", percentage: 100 }] },
    actor: Actor.user("user-1", "Alice"),
    at: at + 60_000
  }
]

const ids = (events: ReadonlyArray<EventStore.RecordedEvent>) => events.map((e) => e.id)

export const suite = (
  name: string,
  makeLayer: () => Layer.Layer<EventStore.EventStore | Outbox.Outbox, unknown>
) => {
  const test = <A, E>(title: string, body: () => Effect.Effect<A, E, EventStore.EventStore | Outbox.Outbox>) =>
    it.effect(title, () => body().pipe(Effect.provide(makeLayer(), { local: true })))

  /** Appends to three streams, interleaved; returns what was recorded, in log order. */
  const appendSome = Effect.gen(function*() {
    const store = yield* EventStore.EventStore
    return [
      ...yield* store.append("release-a", 0, pausedThenResumed(t0)),
      ...yield* store.append("release-b", 0, pausedThenResumed(t0 + 1_000)),
      ...yield* store.append("release-a", 2, pausedThenResumed(t0 + 2_000).slice(0, 1)),
      ...yield* store.append("release-c", 0, pausedThenResumed(t0 + 3_000))
    ]
  })

  describe(`Outbox contract (${name})`, () => {
    test("a new consumer's pending events are every appended event, in log order", () =>
      Effect.gen(function*() {
        const outbox = yield* Outbox.Outbox
        assert.deepStrictEqual(yield* outbox.pending("email", 100), [])
        const appended = yield* appendSome
        const pending = yield* outbox.pending("email", 100)
        assert.deepStrictEqual(ids(pending), ids(appended))
        assert.deepStrictEqual(pending.map((e) => e.event), appended.map((e) => e.event))
        assert.deepStrictEqual(pending.map((e) => e.position), appended.map((e) => e.position))
      }))

    test("pending returns at most limit events, the earliest first", () =>
      Effect.gen(function*() {
        const outbox = yield* Outbox.Outbox
        const appended = yield* appendSome
        assert.deepStrictEqual(ids(yield* outbox.pending("email", 3)), ids(appended.slice(0, 3)))
        assert.deepStrictEqual(ids(yield* outbox.pending("email", 1)), ids(appended.slice(0, 1)))
      }))

    test("unacknowledged events are handed out again", () =>
      Effect.gen(function*() {
        const outbox = yield* Outbox.Outbox
        const appended = yield* appendSome
        assert.deepStrictEqual(ids(yield* outbox.pending("email", 100)), ids(appended))
        assert.deepStrictEqual(ids(yield* outbox.pending("email", 100)), ids(appended))
      }))

    test("acknowledge advances one consumer and leaves the others where they are", () =>
      Effect.gen(function*() {
        const outbox = yield* Outbox.Outbox
        const appended = yield* appendSome
        yield* outbox.acknowledge("email", appended[2]!.position)
        assert.deepStrictEqual(ids(yield* outbox.pending("email", 100)), ids(appended.slice(3)))
        assert.deepStrictEqual(ids(yield* outbox.pending("slack", 100)), ids(appended))
        yield* outbox.acknowledge("slack", appended[0]!.position)
        assert.deepStrictEqual(ids(yield* outbox.pending("slack", 100)), ids(appended.slice(1)))
        assert.deepStrictEqual(ids(yield* outbox.pending("email", 100)), ids(appended.slice(3)))
      }))

    test("acknowledge never moves backwards", () =>
      Effect.gen(function*() {
        const outbox = yield* Outbox.Outbox
        const appended = yield* appendSome
        yield* outbox.acknowledge("email", appended[4]!.position)
        yield* outbox.acknowledge("email", appended[1]!.position)
        assert.deepStrictEqual(ids(yield* outbox.pending("email", 100)), ids(appended.slice(5)))
        yield* outbox.acknowledge("email", appended[4]!.position)
        assert.deepStrictEqual(ids(yield* outbox.pending("email", 100)), ids(appended.slice(5)))
      }))

    test("events appended after an acknowledgement are pending", () =>
      Effect.gen(function*() {
        const outbox = yield* Outbox.Outbox
        const store = yield* EventStore.EventStore
        const appended = yield* appendSome
        yield* outbox.acknowledge("email", appended[appended.length - 1]!.position)
        assert.deepStrictEqual(yield* outbox.pending("email", 100), [])
        const later = [
          ...yield* store.append("release-b", 2, pausedThenResumed(t0 + 10_000).slice(0, 1)),
          ...yield* store.append("release-d", 0, pausedThenResumed(t0 + 11_000))
        ]
        assert.deepStrictEqual(ids(yield* outbox.pending("email", 100)), ids(later))
        assert.deepStrictEqual(ids(yield* outbox.pending("slack", 100)), ids([...appended, ...later]))
      }))
  })
}
