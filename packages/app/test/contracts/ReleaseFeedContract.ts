/**
 * The ReleaseFeed contract, run against every adapter: a follower gets every event of its
 * release after its version exactly once and in order, those already committed (the backlog) and
 * those appended while it follows; nothing of another release; several followers of one release,
 * from different versions, each get exactly their own tail; `close` ends every stream.
 *
 * `makeLayer` is called once per test and must give an empty store: the feed and the
 * `EventStore` whose appends it reads. The poller's interval runs on the `TestClock`, so the
 * tests read with `poll` (what the poller does every interval) instead of waiting.
 *
 * @since 0.2.0
 */
import { EventStore } from "@canaryroll/core"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Fiber, type Layer, Stream } from "effect"
import { TestClock } from "effect/testing"
import { ReleaseFeed } from "../../src/index.ts"
import * as ReleaseHistories from "./ReleaseHistories.ts"

type Services = ReleaseFeed.ReleaseFeed | EventStore.EventStore

const ids = (events: Iterable<EventStore.RecordedEvent>) => [...events].map((event) => event.id)

/** Starts reading `count` events of `releaseId` after `afterVersion`; join the fiber for them. */
export const following = (releaseId: string, afterVersion: number, count: number) =>
  Effect.gen(function*() {
    const feed = yield* ReleaseFeed.ReleaseFeed
    const fiber = yield* feed.follow(releaseId, afterVersion).pipe(Stream.take(count), Stream.runCollect, Effect.forkChild)
    // Let the follower register and read its backlog before the test appends more.
    yield* Effect.yieldNow
    yield* TestClock.adjust(0)
    return fiber
  })

export const suite = (name: string, makeLayer: () => Layer.Layer<Services, unknown>) => {
  const test = <A, E>(title: string, body: () => Effect.Effect<A, E, Services>) =>
    // The clock is set before the layer is built (a database client built at the TestClock's
    // epoch waits on timers that never fire).
    it.effect(title, () =>
      Effect.andThen(TestClock.setTime(ReleaseHistories.t0), body().pipe(Effect.provide(makeLayer(), { local: true }))))

  describe(`ReleaseFeed contract (${name})`, () => {
    test("a follower gets its release's backlog, then every event appended later, once and in order, and nothing of another release", () =>
      Effect.gen(function*() {
        const store = yield* EventStore.EventStore
        const feed = yield* ReleaseFeed.ReleaseFeed
        const appends = ReleaseHistories.make({ teams: 2, releasesPerTeam: 3 })
        const half = Math.floor(appends.length / 2)
        const before = yield* ReleaseHistories.appendAll(store, appends.slice(0, half))
        const releaseId = before[0]!.streamId
        const everything = appends.filter((append) => append.streamId === releaseId).flatMap((append) => append.events).length
        const fiber = yield* following(releaseId, 0, everything)
        yield* ReleaseHistories.appendAll(store, appends.slice(half))
        yield* feed.poll
        const received = yield* Fiber.join(fiber)
        const stream = yield* store.readStream(releaseId)
        assert.deepStrictEqual(ids(received), ids(stream), "every event of the release, in version order")
        assert.isTrue(stream.some((event) => !before.some((early) => early.id === event.id)), "some arrived while following")
        assert.deepStrictEqual(received.map((event) => event.version), stream.map((_, index) => index + 1))
      }))

    test("followers of one release from different versions each get exactly the events after theirs", () =>
      Effect.gen(function*() {
        const store = yield* EventStore.EventStore
        const feed = yield* ReleaseFeed.ReleaseFeed
        const appends = ReleaseHistories.make({ teams: 1, releasesPerTeam: 2 })
        const releaseId = appends[0]!.streamId
        const ofRelease = appends.filter((append) => append.streamId === releaseId)
        const firstThree = ofRelease.slice(0, 3)
        yield* ReleaseHistories.appendAll(store, firstThree)
        const committed = (yield* store.readStream(releaseId)).length
        const total = ofRelease.flatMap((append) => append.events).length
        const fromStart = yield* following(releaseId, 0, total)
        const fromMiddle = yield* following(releaseId, committed - 1, total - committed + 1)
        const fromEnd = yield* following(releaseId, committed, total - committed)
        // The rest one append at a time, the poller reading in between (and the other release's too).
        for (const append of appends.filter((append) => !firstThree.includes(append))) {
          yield* store.append(append.streamId, append.expectedVersion, append.events)
          yield* feed.poll
        }
        const stream = yield* store.readStream(releaseId)
        assert.deepStrictEqual(ids(yield* Fiber.join(fromStart)), ids(stream))
        assert.deepStrictEqual(ids(yield* Fiber.join(fromMiddle)), ids(stream.slice(committed - 1)))
        assert.deepStrictEqual(ids(yield* Fiber.join(fromEnd)), ids(stream.slice(committed)))
      }))

    test("a follower from the last version waits for the next event", () =>
      Effect.gen(function*() {
        const store = yield* EventStore.EventStore
        const feed = yield* ReleaseFeed.ReleaseFeed
        const appends = ReleaseHistories.make({ teams: 1, releasesPerTeam: 1 })
        const releaseId = appends[0]!.streamId
        yield* store.append(appends[0]!.streamId, appends[0]!.expectedVersion, appends[0]!.events)
        const version = (yield* store.readStream(releaseId)).length
        const fiber = yield* following(releaseId, version, 1)
        yield* feed.poll
        assert.isUndefined(fiber.pollUnsafe(), "nothing new yet: still waiting")
        yield* store.append(appends[1]!.streamId, appends[1]!.expectedVersion, appends[1]!.events)
        yield* feed.poll
        const [next] = yield* Fiber.join(fiber)
        assert.strictEqual(next?.version, version + 1)
      }))

    test("close ends every follower's stream after what it was handed, and any later one at once", () =>
      Effect.gen(function*() {
        const store = yield* EventStore.EventStore
        const feed = yield* ReleaseFeed.ReleaseFeed
        const appends = ReleaseHistories.make({ teams: 1, releasesPerTeam: 1 })
        const releaseId = appends[0]!.streamId
        yield* store.append(releaseId, appends[0]!.expectedVersion, appends[0]!.events)
        const backlog = (yield* store.readStream(releaseId)).length
        const reader = yield* feed.follow(releaseId, 0).pipe(Stream.runCollect, Effect.forkChild)
        yield* Effect.yieldNow
        yield* TestClock.adjust(0)
        yield* store.append(releaseId, appends[1]!.expectedVersion, appends[1]!.events)
        yield* feed.poll
        yield* feed.close
        const handed = yield* Fiber.join(reader)
        assert.deepStrictEqual(handed.map((event) => event.version), Array.from({ length: handed.length }, (_, i) => i + 1))
        assert.isAbove(handed.length, backlog, "what was polled before the close is delivered")
        assert.strictEqual((yield* feed.follow(releaseId, 0).pipe(Stream.runCollect)).length, 0)
      }))

    test("a release with no events yet is followed from version 0 and delivers its first event", () =>
      Effect.gen(function*() {
        const store = yield* EventStore.EventStore
        const feed = yield* ReleaseFeed.ReleaseFeed
        const appends = ReleaseHistories.make({ teams: 1, releasesPerTeam: 1 })
        const fiber = yield* following(appends[0]!.streamId, 0, 1)
        yield* store.append(appends[0]!.streamId, appends[0]!.expectedVersion, appends[0]!.events)
        yield* feed.poll
        const [first] = yield* Fiber.join(fiber)
        assert.strictEqual(first?.id, EventStore.eventId(appends[0]!.streamId, 1))
      }))
  })
}
