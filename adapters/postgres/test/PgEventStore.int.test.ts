/**
 * What the contract suite cannot show: the global log stays gap-safe while transactions commit
 * out of position order, the append hook shares the append's transaction, and database failures
 * reach callers as `EventStoreUnavailable`.
 */
import { Actor, EventStore, type ReleaseEvent } from "@canaryroll/core"
import { PgClient } from "@effect/sql-pg"
import { assert, describe, it } from "@effect/vitest"
import { Context, Deferred, Effect, Fiber, Layer, Redacted } from "effect"
import { SqlClient, Statement } from "effect/sql"
import { Migrations, PgEventStore } from "../src/index.ts"
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

const positions = (events: ReadonlyArray<EventStore.RecordedEvent>) => events.map((e) => e.position)

/**
 * Runs `body` on a migrated fresh schema. Its own scope closes before the pool: a fiber forked
 * with `forkScoped` that still holds a connection (a failed test) is interrupted first, where
 * closing the pool under it would wait for that connection forever.
 */
const withFreshSchema = <A, E, R>(body: Effect.Effect<A, E, R>) =>
  Effect.scoped(body).pipe(
    Effect.provide(Layer.effectDiscard(Migrations.run).pipe(Layer.provideMerge(database.freshSchema())), { local: true })
  )

/** Forks `effect` into the test's scope; its failure fails `signal` too, so a test waiting for the signal fails instead of hanging. */
const forkSignalling = <A, E, R>(effect: Effect.Effect<A, E, R>, signal: Deferred.Deferred<void, unknown>) =>
  Effect.forkScoped(effect.pipe(Effect.tapCause((cause) => Deferred.failCause(signal, cause))))

/** A point where a writer stops: `reached` once it is there, and it goes on after `resume`. */
interface Pause {
  readonly reached: Deferred.Deferred<void, unknown>
  readonly resume: Deferred.Deferred<void>
}

const makePause = Effect.all({ reached: Deferred.make<void, unknown>(), resume: Deferred.make<void>() })

const stopAt = (pause: Pause) =>
  Deferred.succeed(pause.reached, undefined).pipe(Effect.andThen(Deferred.await(pause.resume)))

/** Forks `effect` into the test's scope; its failure fails `pause.reached`, so a test waiting there fails instead of hanging. */
const forkUntil = <A, E, R>(effect: Effect.Effect<A, E, R>, pause: Pause) =>
  Effect.forkScoped(effect.pipe(Effect.tapCause((cause) => Deferred.failCause(pause.reached, cause))))

/** Stops the appends of the fiber it is provided to before their first statement whose SQL includes `fragment`. */
const stopBeforeStatement = (fragment: string, pause: Pause) =>
  Effect.provideService(
    Statement.CurrentTransformer,
    (statement) => statement.compile()[0].includes(fragment) ? stopAt(pause).pipe(Effect.as(statement)) : Effect.succeed(statement)
  )

/** A store whose appends to `stream` stop inside their transaction after the insert, before commit. */
const storeStoppingBeforeCommit = (stream: string, pause: Pause) =>
  PgEventStore.make({ onAppend: (recorded) => recorded[0]?.streamId === stream ? stopAt(pause) : Effect.void })

describe("PgEventStore: the global log is gap-safe", () => {
  const slowWriters = [
    {
      stopped: "after allocating its positions",
      makeStore: () => PgEventStore.make(),
      slowly: (pause: Pause) => stopBeforeStatement("INSERT INTO events", pause)
    },
    {
      stopped: "after inserting, before commit",
      makeStore: (pause: Pause) => storeStoppingBeforeCommit("release-slow", pause),
      slowly: () => <A, E, R>(append: Effect.Effect<A, E, R>) => append
    }
  ]
  for (const { stopped, makeStore, slowly } of slowWriters) {
    it.live(`a writer stopped ${stopped} holds back the higher positions committed after it`, () =>
      withFreshSchema(Effect.gen(function*() {
        const pause = yield* makePause
        const store = yield* makeStore(pause)
        const before = yield* store.append("release-before", 0, [paused("already there")])

        const slow = yield* forkUntil(store.append("release-slow", 0, [paused("slow")]).pipe(slowly(pause)), pause)
        yield* Deferred.await(pause.reached)
        const fast = yield* store.append("release-fast", 0, [paused("fast")])

        // The fast append committed, but the slow one holds a lower position and may still commit.
        assert.deepStrictEqual(positions(yield* store.readAll(0, 100)), positions(before))
        assert.deepStrictEqual(yield* store.readAll(before[0]!.position, 100), [])

        yield* Deferred.succeed(pause.resume, undefined)
        const slowRecorded = yield* Fiber.join(slow)
        assert.isBelow(slowRecorded[0]!.position, fast[0]!.position)
        assert.deepStrictEqual(positions(yield* store.readAll(0, 100)), positions([...before, ...slowRecorded, ...fast]))
        assert.deepStrictEqual(
          positions(yield* store.readAll(before[0]!.position, 100)),
          positions([...slowRecorded, ...fast])
        )
      })))
  }

  // The case a `transaction_id < pg_snapshot_xmin(pg_current_snapshot())` filter in position order gets wrong.
  it.live("an append that took its transaction id before a younger one, but its position after, is held back", () =>
    withFreshSchema(Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const youngerInFlight = yield* makePause
      const store = yield* storeStoppingBeforeCommit("release-younger", youngerInFlight)

      // The older append stops between taking its transaction id and allocating its positions.
      const olderHasId = yield* makePause
      const older = yield* forkUntil(
        store.append("release-older", 0, [paused("older")]).pipe(stopBeforeStatement("nextval", olderHasId)),
        olderHasId
      )
      yield* Deferred.await(olderHasId.reached)
      const younger = yield* forkUntil(store.append("release-younger", 0, [paused("younger")]), youngerInFlight)
      yield* Deferred.await(youngerInFlight.reached)
      yield* Deferred.succeed(olderHasId.resume, undefined)
      const olderRecorded = yield* Fiber.join(older)

      // Committed above the younger position still in flight, and older than every running
      // transaction: the transaction-id filter would hand it out, and the younger one later.
      const naive = yield* sql<{ position: bigint }>`
        SELECT position FROM events WHERE transaction_id < pg_snapshot_xmin(pg_current_snapshot()) ORDER BY position`
      assert.deepStrictEqual(naive.map((row) => Number(row.position)), positions(olderRecorded))
      assert.deepStrictEqual(yield* store.readAll(0, 100), [])

      yield* Deferred.succeed(youngerInFlight.resume, undefined)
      const youngerRecorded = yield* Fiber.join(younger)
      assert.isBelow(youngerRecorded[0]!.position, olderRecorded[0]!.position)
      assert.deepStrictEqual(positions(yield* store.readAll(0, 100)), positions([...youngerRecorded, ...olderRecorded]))
    })))

  it.live("an append inside a caller's transaction that took its id long before is held back the same way", () =>
    withFreshSchema(Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const youngerInFlight = yield* makePause
      const store = yield* storeStoppingBeforeCommit("release-younger", youngerInFlight)

      const olderHasId = yield* makePause
      const older = yield* forkUntil(
        Effect.gen(function*() {
          yield* sql`SELECT pg_current_xact_id()::text`
          yield* stopAt(olderHasId)
          return yield* store.append("release-older", 0, [paused("older")])
        }).pipe(sql.withTransaction),
        olderHasId
      )
      yield* Deferred.await(olderHasId.reached)
      const younger = yield* forkUntil(store.append("release-younger", 0, [paused("younger")]), youngerInFlight)
      yield* Deferred.await(youngerInFlight.reached)
      yield* Deferred.succeed(olderHasId.resume, undefined)
      const olderRecorded = yield* Fiber.join(older)
      assert.deepStrictEqual(yield* store.readAll(0, 100), [])

      yield* Deferred.succeed(youngerInFlight.resume, undefined)
      const youngerRecorded = yield* Fiber.join(younger)
      assert.deepStrictEqual(positions(yield* store.readAll(0, 100)), positions([...youngerRecorded, ...olderRecorded]))
    })))

  it.live("a reader paging while eight writers append sees every event once, in position order", () =>
    withFreshSchema(Effect.gen(function*() {
      const store = yield* PgEventStore.make()
      const writers = Effect.forEach(
        Array.from({ length: 8 }, (_, writer) => writer),
        (writer) =>
          Effect.forEach(
            Array.from({ length: 25 }, (_, i) => i),
            (i) => store.append(`release-${writer}`, i, [paused(`writer ${writer}, event ${i}`)]),
            { discard: true }
          ),
        { concurrency: "unbounded", discard: true }
      )
      const done = yield* Deferred.make<void>()
      const seen: Array<number> = []
      const reader = Effect.gen(function*() {
        for (let finished = false; !finished;) {
          finished = yield* Deferred.isDone(done)
          const page = yield* store.readAll(seen.at(-1) ?? 0, 7)
          seen.push(...positions(page))
          if (page.length === 0 && finished) return
          if (page.length > 0) finished = false
        }
      })
      yield* Effect.all([writers.pipe(Effect.andThen(Deferred.succeed(done, undefined))), reader], {
        concurrency: "unbounded"
      })
      assert.deepStrictEqual(seen, positions(yield* store.readAll(0, 1_000)))
      assert.strictEqual(seen.length, 200)
    })))

  it.live("a writing transaction in another database does not hold the log back; one in this database does", () =>
    withFreshSchema(Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const store = yield* PgEventStore.make()
      const holdOpen = (client: SqlClient.SqlClient) =>
        Effect.gen(function*() {
          const hasId = yield* makePause
          const fiber = yield* forkUntil(
            Effect.gen(function*() {
              yield* client`SELECT pg_current_xact_id()::text`
              yield* stopAt(hasId)
            }).pipe(client.withTransaction),
            hasId
          )
          yield* Deferred.await(hasId.reached)
          return Deferred.succeed(hasId.resume, undefined).pipe(Effect.andThen(Fiber.join(fiber)))
        })

      const elsewhere = yield* Layer.build(PgClient.layer({ url: TestDatabase.serverUrl(), maxConnections: 1 }))
      const endElsewhere = yield* holdOpen(Context.get(elsewhere, SqlClient.SqlClient))
      const first = yield* store.append("release-1", 0, [paused("while another database writes")])
      assert.deepStrictEqual(positions(yield* store.readAll(0, 100)), positions(first))
      yield* endElsewhere

      const endHere = yield* holdOpen(sql)
      const second = yield* store.append("release-2", 0, [paused("while this database writes")])
      assert.deepStrictEqual(positions(yield* store.readAll(0, 100)), positions(first))
      yield* endHere
      assert.deepStrictEqual(positions(yield* store.readAll(0, 100)), positions([...first, ...second]))
    })))
})

describe("PgEventStore: the append hook", () => {
  it.effect("runs in the append's transaction: its writes commit with the events, its failure rolls them back", () =>
    withFreshSchema(Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      yield* sql`CREATE TABLE release_event_counts (stream_id text PRIMARY KEY, events int NOT NULL)`
      const store = yield* PgEventStore.make({
        onAppend: (recorded) =>
          Effect.gen(function*() {
            const streamId = recorded[0]!.streamId
            yield* sql`
              INSERT INTO release_event_counts VALUES (${streamId}, ${recorded.length})
              ON CONFLICT (stream_id) DO UPDATE SET events = release_event_counts.events + excluded.events`
            if (streamId === "release-refused") yield* sql`SELECT 1 / 0`
          })
      })
      yield* store.append("release-1", 0, [paused("one"), paused("two")])
      const refused = yield* store.append("release-refused", 0, [paused("three")]).pipe(Effect.flip)
      assert.strictEqual(refused._tag, "EventStoreUnavailable")
      assert.deepStrictEqual(yield* store.readStream("release-refused"), [])
      const counts = yield* sql<{ stream_id: string; events: number }>`SELECT * FROM release_event_counts`
      assert.deepStrictEqual(counts.map((row) => ({ ...row })), [{ stream_id: "release-1", events: 2 }])
    })))

  it.effect("a conflicting append does not run the hook", () =>
    withFreshSchema(Effect.gen(function*() {
      let calls = 0
      const store = yield* PgEventStore.make({ onAppend: () => Effect.sync(() => void calls++) })
      yield* store.append("release-1", 0, [paused("one")])
      const conflict = yield* store.append("release-1", 0, [paused("again")]).pipe(Effect.flip)
      assert.strictEqual(conflict._tag, "StreamVersionConflict")
      assert.strictEqual(calls, 1)
    })))
})

describe("PgEventStore: storage", () => {
  it.effect("stores the event's JSON form and its type, inserted by a subtransaction of the appending transaction", () =>
    withFreshSchema(Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const store = yield* PgEventStore.make()
      const event = paused("stored")
      yield* store.append("release-1", 0, [event])
      const [row] = yield* sql<{ type: string; data: unknown; metadata: unknown; later_xmin: boolean }>`
        SELECT type, data, metadata,
          (xmin::text::bigint - transaction_id::text::bigint % 4294967296 + 4294967296) % 4294967296 BETWEEN 1 AND 1000
            AS later_xmin
        FROM events`
      assert.strictEqual(row!.type, "Paused")
      assert.deepStrictEqual(row!.data, JSON.parse(JSON.stringify(event)))
      assert.deepStrictEqual(row!.metadata, {})
      assert.isTrue(row!.later_xmin, "the row's xmin is a transaction id handed out after the appending transaction's")
    })))

  it.effect("a failing database reaches callers as EventStoreUnavailable", () =>
    withFreshSchema(Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const store = yield* PgEventStore.make()
      yield* sql`DROP TABLE events`
      for (
        const failed of [
          yield* store.append("release-1", 0, [paused("lost")]).pipe(Effect.flip),
          yield* store.readStream("release-1").pipe(Effect.flip),
          yield* store.readAll(0, 10).pipe(Effect.flip)
        ]
      ) {
        assert.strictEqual(failed._tag, "EventStoreUnavailable")
        assert.include(failed.message, `relation "events" does not exist`)
      }
    })))

  it.live("an unreachable server reaches callers as EventStoreUnavailable", () =>
    Effect.gen(function*() {
      const store = yield* PgEventStore.make()
      const failed = yield* store.readAll(0, 10).pipe(Effect.flip)
      assert.strictEqual(failed._tag, "EventStoreUnavailable")
      assert.include(failed.message, "ConnectionError")
    }).pipe(
      // Port 1 on loopback: nothing listens there, the connection is refused.
      Effect.provide(PgClient.layer({ url: Redacted.make("postgres://postgres:none@127.0.0.1:1/canaryroll") }))
    ))
})
