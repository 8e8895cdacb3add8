/**
 * The ReleaseFeed contract on PostgreSQL, exactly as it runs on memory, and what only a shared
 * database can show: a follower in one process sees the events another process appends, by its
 * poller on the real clock (no `poll` by hand).
 */
import { ReleaseFeed } from "@canaryroll/app"
import { ReleaseFeedContract, ReleaseHistories } from "@canaryroll/app/testing"
import { EventStore } from "@canaryroll/core"
import { assert, describe, it } from "@effect/vitest"
import { Context, Effect, Fiber, Layer, Stream } from "effect"
import { layerPorts, PgReleaseFeed } from "../src/index.ts"
import * as TestDatabase from "./database/TestDatabase.ts"

const database = TestDatabase.forFile()

ReleaseFeedContract.suite(
  "postgres",
  () => PgReleaseFeed.layer().pipe(Layer.provideMerge(layerPorts()), Layer.provideMerge(database.freshSchema()))
)

describe("ReleaseFeed on one database, from two processes", () => {
  it.live("a follower in one process gets the events another process appends, once and in order", () =>
    Effect.gen(function*() {
      // Two layers on one schema, each with its own pool: two server processes.
      const process = (pollInterval: number) =>
        Layer.build(
          PgReleaseFeed.layer({ pollInterval }).pipe(Layer.provideMerge(layerPorts()), Layer.provideMerge(database.schema("shared")))
        )
      const reader = yield* process(20)
      const writer = yield* process(20)
      const feed = Context.get(reader, ReleaseFeed.ReleaseFeed)
      const store = Context.get(writer, EventStore.EventStore)
      const appends = ReleaseHistories.make({ teams: 1, releasesPerTeam: 2 })
      const releaseId = appends[0]!.streamId
      const total = appends.filter((append) => append.streamId === releaseId).flatMap((append) => append.events).length
      const received = yield* feed.follow(releaseId, 0).pipe(Stream.take(total), Stream.runCollect, Effect.forkChild)
      // Appended by the other process one decision at a time, while the follower reads.
      for (const append of appends) yield* store.append(append.streamId, append.expectedVersion, append.events)
      const events = yield* Fiber.join(received).pipe(Effect.timeout("20 seconds"))
      assert.deepStrictEqual(
        events.map((event) => event.id),
        (yield* store.readStream(releaseId)).map((event) => event.id)
      )
    }).pipe(Effect.scoped))
})
