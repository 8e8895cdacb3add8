/**
 * What the contract suite cannot show: the global log stays gap-safe while transactions commit
 * out of position order, the append hook shares the append's transaction, and database failures
 * reach callers as `EventStoreUnavailable`.
 */
import { Actor, EventStore, type ReleaseEvent } from "@canaryroll/core"
import { PgClient } from "@effect/sql-pg"
import { assert, describe, it } from "@effect/vitest"
import { Context, Deferred, Effect, Fiber, Layer, Redacted } from "effect"
import { SqlClient } from "effect/sql"
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

/**
 * An append is one server call, so the points between its steps are stopped from the server: at
 * a gate, the SQL function `gate_wait()`, which waits for an advisory lock that the test holds in
 * a transaction of its own until `pause.resume` (taking an advisory lock takes no transaction id,
 * so that transaction does not hold the log back). `pause.reached` once something waits there.
 * Creates `gate_wait()` in the current schema; advisory locks are per database, and a file's tests
 * run one at a time.
 */
const serverGate = (pause: Pause) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const key = 5_050_505
    // STABLE, so a query that calls it without arguments does so once, before reading anything.
    yield* sql.unsafe(`
      CREATE FUNCTION gate_wait() RETURNS boolean LANGUAGE plpgsql STABLE AS $$
      BEGIN PERFORM pg_advisory_xact_lock_shared(${key}); RETURN true; END $$`)
    const locked = yield* Deferred.make<void>()
    yield* Effect.forkScoped(
      Effect.gen(function*() {
        yield* sql`SELECT pg_advisory_xact_lock(${key})`
        yield* Deferred.succeed(locked, undefined)
        yield* Deferred.await(pause.resume)
      }).pipe(sql.withTransaction)
    )
    yield* Deferred.await(locked)
    yield* Effect.forkScoped(Effect.gen(function*() {
      while (!(yield* Deferred.isDone(pause.reached))) {
        const [row] = yield* sql<{ waiting: boolean }>`
          SELECT EXISTS (
            SELECT FROM pg_locks WHERE locktype = 'advisory' AND NOT granted AND objid::text::bigint = ${key}
              AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
          ) AS waiting`
        if (row!.waiting) yield* Deferred.succeed(pause.reached, undefined)
        else yield* Effect.sleep(5)
      }
    }))
  })

/**
 * A store whose appends stop inside their call at the gate, at one of two points of the protocol.
 * Its pool (one connection) has a schema of its own first in its search path, where `events` is a
 * view of the real table, so the call reads and writes `events` through the view:
 * - `"after its transaction id"`: the view waits at the gate when read. The call's first read is
 *   its version check, after it took its transaction id (step 1) and before its positions (step 2).
 * - `"after its positions"`: an INSTEAD OF INSERT trigger on the view waits at the gate, then
 *   inserts into the table (in the call's subtransaction). It runs after the positions (step 2)
 *   and before anything of the row exists: not even the row's `transaction_id`, whose default
 *   would take the transaction id (so a call that skipped step 1 would stop here without one).
 */
const storeStoppingInsideTheCall = (at: "after its transaction id" | "after its positions", pause: Pause) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    yield* serverGate(pause)
    const [row] = yield* sql<{ schema: string }>`SELECT current_schema() AS schema`
    const schema = row!.schema
    const gated = `${schema}_gated`
    yield* sql`CREATE SCHEMA ${sql(gated)}`
    if (at === "after its transaction id") {
      yield* sql`CREATE VIEW ${sql(gated)}.events AS SELECT * FROM ${sql(schema)}.events WHERE gate_wait()`
    } else {
      yield* sql`CREATE VIEW ${sql(gated)}.events AS SELECT * FROM ${sql(schema)}.events`
      yield* sql.unsafe(`
        CREATE FUNCTION ${gated}.insert_at_gate() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          PERFORM gate_wait();
          INSERT INTO ${schema}.events (position, stream_id, stream_version, type, data) OVERRIDING SYSTEM VALUE
          VALUES (NEW.position, NEW.stream_id, NEW.stream_version, NEW.type, NEW.data)
          RETURNING * INTO NEW;
          RETURN NEW;
        END $$`)
      yield* sql.unsafe(`
        CREATE TRIGGER insert_at_gate INSTEAD OF INSERT ON ${gated}.events
        FOR EACH ROW EXECUTE FUNCTION ${gated}.insert_at_gate()`)
    }
    const pool = yield* Layer.build(
      PgClient.layer({ url: database.url(), startupParameters: { search_path: `${gated}, ${schema}` }, maxConnections: 1 })
    )
    return yield* PgEventStore.make().pipe(Effect.provideContext(pool))
  })

/** Whether every append waiting at the gate already holds its transaction id. */
const waitingAppendsHaveTransactionIds = SqlClient.SqlClient.use((sql) =>
  sql<{ with_id: boolean }>`
    SELECT backend_xid IS NOT NULL AS with_id FROM pg_stat_activity
    WHERE datname = current_database() AND wait_event = 'advisory'`
).pipe(Effect.map((rows) => rows.length > 0 && rows.every((row) => row.with_id)))

/** A store whose appends to `stream` stop inside their transaction after the insert, before commit. */
const storeStoppingBeforeCommit = (stream: string, pause: Pause) =>
  PgEventStore.make({ onAppend: (recorded) => recorded[0]?.streamId === stream ? stopAt(pause) : Effect.void })

describe("PgEventStore: the global log is gap-safe", () => {
  const slowWriters = [
    {
      stopped: "after allocating its positions",
      makeSlowStore: (pause: Pause) => storeStoppingInsideTheCall("after its positions", pause)
    },
    {
      stopped: "after inserting, before commit",
      makeSlowStore: (pause: Pause) => storeStoppingBeforeCommit("release-slow", pause)
    }
  ]
  for (const { makeSlowStore, stopped } of slowWriters) {
    it.live(`a writer stopped ${stopped} holds back the higher positions committed after it`, () =>
      withFreshSchema(Effect.gen(function*() {
        const pause = yield* makePause
        const store = yield* PgEventStore.make()
        const slowStore = yield* makeSlowStore(pause)
        const before = yield* store.append("release-before", 0, [paused("already there")])

        const slow = yield* forkUntil(slowStore.append("release-slow", 0, [paused("slow")]), pause)
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
      const olderStore = yield* storeStoppingInsideTheCall("after its transaction id", olderHasId)
      const older = yield* forkUntil(olderStore.append("release-older", 0, [paused("older")]), olderHasId)
      yield* Deferred.await(olderHasId.reached)
      assert.isTrue(yield* waitingAppendsHaveTransactionIds, "an append takes its transaction id before its positions")
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
