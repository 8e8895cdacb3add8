/**
 * The ReleaseFeed contract on the memory layer (over the memory `EventStore`), and the poller's
 * own rules: it reads on its interval (the TestClock here), and a failed reading neither stops it
 * nor loses an event.
 */
import { EventStore } from "@canaryroll/core"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Fiber, Layer, Stream } from "effect"
import { TestClock } from "effect/testing"
import { ReleaseFeed, Storage } from "../src/index.ts"
import { ReleaseFeedContract, ReleaseHistories } from "./contracts/index.ts"

ReleaseFeedContract.suite("memory", () => ReleaseFeed.layerMemory().pipe(Layer.provideMerge(EventStore.layerMemory)))

describe("the ReleaseFeed poller", () => {
  it.effect("reads on its interval; a failed reading is retried on the next one, and nothing is lost", () =>
    Effect.gen(function*() {
      const events = yield* EventStore.makeMemory
      const store = ReleaseFeed.storeFrom(events)
      let failures = 0
      let readings = 0
      // The storage is down for the poller's first two readings after the follower's backlog.
      const flaky: ReleaseFeed.Store = {
        readAfter: (cursors) =>
          Effect.suspend(() => {
            readings += 1
            return readings > 1 && failures < 2
              ? Effect.sync(() => failures++).pipe(Effect.andThen(Effect.fail(new Storage.StorageUnavailable({ message: "down" }))))
              : store.readAfter(cursors)
          })
      }
      const feed = yield* ReleaseFeed.make(flaky, { pollInterval: "1 second" })
      const appends = ReleaseHistories.make({ teams: 1, releasesPerTeam: 1 })
      const releaseId = appends[0]!.streamId
      yield* events.append(releaseId, appends[0]!.expectedVersion, appends[0]!.events)
      const version = (yield* events.readStream(releaseId)).length
      const fiber = yield* feed.follow(releaseId, version).pipe(Stream.take(1), Stream.runCollect, Effect.forkChild)
      yield* Effect.yieldNow
      yield* events.append(releaseId, appends[1]!.expectedVersion, appends[1]!.events)
      yield* TestClock.adjust("1 second")
      yield* TestClock.adjust("1 second")
      assert.strictEqual(failures, 2, "two readings failed")
      assert.isUndefined(fiber.pollUnsafe(), "nothing delivered while the storage is down")
      yield* TestClock.adjust("1 second")
      const [next] = yield* Fiber.join(fiber)
      assert.strictEqual(next?.version, version + 1, "the poller carried on and delivered it")
    }).pipe(Effect.scoped))
})
