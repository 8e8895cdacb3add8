/**
 * What the contract suite cannot show for the Postgres outbox: checkpoints are rows, so a new
 * process on the same database carries on where the consumer left off; and the outbox is as
 * gap-safe as the log it reads.
 */
import { Actor, EventStore, Outbox, type ReleaseEvent } from "@canaryroll/core"
import { assert, describe, it } from "@effect/vitest"
import { Deferred, Effect, Fiber, Layer } from "effect"
import { layerPorts, Migrations, PgEventStore, PgOutbox } from "../src/index.ts"
import * as TestDatabase from "./database/TestDatabase.ts"

const database = TestDatabase.forFile()

const t0 = 1_767_225_600_000
const paused = (reason: string): ReleaseEvent.ReleaseEvent => ({
  _tag: "Paused",
  cause: "requested",
  reason,
  actor: Actor.user("user-1", "Alice"),
  at: t0
})

const ids = (events: ReadonlyArray<EventStore.RecordedEvent>) => events.map((e) => e.id)

/** What a process starting on `schema` builds: its own pool, migrations and ports. */
const startProcess = (schema: string) => layerPorts().pipe(Layer.provide(database.schema(schema)))

describe("PgOutbox", () => {
  it.live("a new process on the same database continues from each consumer's checkpoint", () =>
    Effect.gen(function*() {
      const appended = yield* Effect.gen(function*() {
        const store = yield* EventStore.EventStore
        const outbox = yield* Outbox.Outbox
        const appended = yield* store.append("release-1", 0, [paused("1"), paused("2"), paused("3"), paused("4")])
        yield* outbox.acknowledge("email", appended[1]!.position)
        yield* outbox.acknowledge("slack", appended[3]!.position)
        return appended
      }).pipe(Effect.provide(startProcess("restart"), { local: true }))

      yield* Effect.gen(function*() {
        const outbox = yield* Outbox.Outbox
        assert.deepStrictEqual(ids(yield* outbox.pending("email", 100)), ids(appended.slice(2)))
        assert.deepStrictEqual(yield* outbox.pending("slack", 100), [])
        assert.deepStrictEqual(ids(yield* outbox.pending("webhook", 100)), ids(appended))
        yield* outbox.acknowledge("email", appended[2]!.position)
      }).pipe(Effect.provide(startProcess("restart"), { local: true }))

      yield* Effect.gen(function*() {
        const outbox = yield* Outbox.Outbox
        assert.deepStrictEqual(ids(yield* outbox.pending("email", 100)), ids(appended.slice(3)))
      }).pipe(Effect.provide(startProcess("restart"), { local: true }))
    }))

  it.live("pending does not hand out an event past a lower position still in flight", () =>
    Effect.scoped(Effect.gen(function*() {
      const inside = yield* Deferred.make<void, unknown>()
      const release = yield* Deferred.make<void>()
      const store = yield* PgEventStore.make({
        onAppend: (recorded) =>
          recorded[0]?.streamId === "release-slow"
            ? Deferred.succeed(inside, undefined).pipe(Effect.andThen(Deferred.await(release)))
            : Effect.void
      })
      const outbox = yield* PgOutbox.make
      const slow = yield* Effect.forkScoped(
        store.append("release-slow", 0, [paused("slow")]).pipe(
          Effect.tapCause((cause) => Deferred.failCause(inside, cause))
        )
      )
      yield* Deferred.await(inside)
      const fast = yield* store.append("release-fast", 0, [paused("fast")])
      assert.deepStrictEqual(yield* outbox.pending("email", 100), [])

      yield* Deferred.succeed(release, undefined)
      const slowRecorded = yield* Fiber.join(slow)
      assert.deepStrictEqual(ids(yield* outbox.pending("email", 100)), ids([...slowRecorded, ...fast]))
    })).pipe(Effect.provide(Layer.effectDiscard(Migrations.run).pipe(Layer.provideMerge(database.freshSchema())), { local: true })))
})
