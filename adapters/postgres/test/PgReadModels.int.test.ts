/**
 * The read models against the core's folds: every summary is `ReleaseSummary.project` over its
 * stream and every audit entry `AuditEntry.project`, they commit or roll back with the events
 * (a failing or conflicting append leaves no rows), a stream written without the hook catches
 * up, and `rebuild` gives exactly the same rows, also while appends run.
 */
import { Actor, EventStore, type ReleaseEvent } from "@canaryroll/core"
import { assert, describe, it } from "@effect/vitest"
import { Context, Effect, Fiber, Layer } from "effect"
import { SqlClient, Statement } from "effect/sql"
import { ReleaseHistories } from "@canaryroll/app/testing"
import { layerPorts, Migrations, PgAuditLog, PgEventStore, PgReadModels, PgReleaseSummaries } from "../src/index.ts"
import * as TestDatabase from "./database/TestDatabase.ts"
import { assertFoldsOfStreams, auditOf, snapshot } from "./support/ReadModelRows.ts"

const database = TestDatabase.forFile()

/** A new migrated schema: the ports as `layerPorts` wires them (read models on), the queries, the client. */
const storage = () =>
  Layer.mergeAll(PgAuditLog.layer, PgReleaseSummaries.layer).pipe(
    Layer.provideMerge(layerPorts()),
    Layer.provideMerge(database.freshSchema())
  )

/** A new migrated schema, for building stores with other hooks. */
const migratedSchema = () => Layer.effectDiscard(Migrations.run).pipe(Layer.provideMerge(database.freshSchema()))

const countRows = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  const [row] = yield* sql<{ events: number; summaries: number; audit: number }>`
    SELECT (SELECT count(*) FROM events)::int AS events, (SELECT count(*) FROM release_summaries)::int AS summaries,
      (SELECT count(*) FROM audit_log)::int AS audit`
  return row!
})

const byStream = (recorded: ReadonlyArray<EventStore.RecordedEvent>) => {
  const streams = new Map<string, Array<EventStore.RecordedEvent>>()
  for (const event of recorded) streams.set(event.streamId, [...(streams.get(event.streamId) ?? []), event])
  return streams
}

const t0 = ReleaseHistories.t0
const paused = (reason: string, at = t0): ReleaseEvent.ReleaseEvent => ({
  _tag: "Paused",
  cause: "requested",
  reason,
  actor: Actor.user("usr_ada", "Ada"),
  at
})

/** Fails inside the append's transaction, after the read models were written. */
const failingHook: PgEventStore.AppendHook = () =>
  SqlClient.SqlClient.use((sql) => sql`SELECT * FROM no_such_table`).pipe(Effect.asVoid)

describe("PgReadModels", () => {
  it.live("each release's summary is ReleaseSummary.project and its audit entries AuditEntry.project over its stream", () =>
    Effect.gen(function*() {
      const store = yield* EventStore.EventStore
      const recorded = yield* ReleaseHistories.appendAll(
        store,
        ReleaseHistories.make({ teams: 3, releasesPerTeam: 6 })
      )
      const streams = byStream(recorded)
      yield* assertFoldsOfStreams(streams.keys())
      const counts = yield* countRows
      assert.deepStrictEqual(counts, { events: recorded.length, summaries: streams.size, audit: recorded.length })

      // A stream that is not a release (no ReleaseCreated) has nothing to show.
      yield* store.append("not-a-release", 0, [paused("first")])
      yield* store.append("not-a-release", 1, [paused("second")])
      assert.deepStrictEqual(yield* countRows, { ...counts, events: counts.events + 2 })
    }).pipe(Effect.provide(storage())))

  it.live("a failing append leaves no rows: the events and both read models commit together or not at all", () =>
    Effect.gen(function*() {
      const store = yield* PgEventStore.make({ onAppend: PgReadModels.appendHook() })
      const failing = yield* PgEventStore.make({ onAppend: PgReadModels.appendHook(failingHook) })
      const [created, ...rest] = ReleaseHistories.make({ teams: 1, releasesPerTeam: 1 })

      const first = yield* failing.append(created!.streamId, 0, created!.events).pipe(Effect.flip)
      assert.strictEqual(first._tag, "EventStoreUnavailable")
      assert.deepStrictEqual(yield* countRows, { events: 0, summaries: 0, audit: 0 })

      yield* ReleaseHistories.appendAll(store, [created!, rest[0]!])
      const before = yield* snapshot
      const next = rest[1]!
      const later = yield* failing.append(next.streamId, next.expectedVersion, next.events).pipe(Effect.flip)
      assert.strictEqual(later._tag, "EventStoreUnavailable")
      assert.deepStrictEqual(yield* snapshot, before)
      assert.strictEqual((yield* store.readStream(next.streamId)).length, next.expectedVersion)
    }).pipe(Effect.provide(migratedSchema())))

  it.live("a process does not fold on top of what it wrote in an append that rolled back", () =>
    Effect.gen(function*() {
      // Two processes on one schema: each store remembers the folds it wrote.
      const [one, two] = yield* Effect.forEach(["one", "two"], () => Layer.build(database.schema("rolled_back")))
      yield* Migrations.run.pipe(Effect.provideContext(one!))
      const inOne = Effect.provideContext(one!)
      const store = yield* PgEventStore.make({ onAppend: PgReadModels.project }).pipe(inOne)
      const sql = Context.get(one!, SqlClient.SqlClient)
      const other = yield* PgEventStore.make({ onAppend: PgReadModels.project }).pipe(Effect.provideContext(two!))
      const history = ReleaseHistories.make({ teams: 1, releasesPerTeam: 1 })
      const releaseId = history[0]!.streamId
      yield* ReleaseHistories.appendAll(store, history.slice(0, 3))
      const version = (yield* store.readStream(releaseId)).length

      // Process one folds a pause and remembers it, but the caller's transaction around the
      // append rolls back; process two appends a health check at that version instead; process
      // one appends the next check. That last call, made alone with the fold of the pause, finds
      // another row and fails as a whole (CR409); the append is redone in a transaction that
      // folds from the row.
      const [first, second] = history.flatMap((append) => append.events).filter((event) => event._tag === "HealthChecked")
      yield* store.append(releaseId, version, [paused("rolled back", first!.at)]).pipe(
        Effect.andThen(Effect.fail("the caller's transaction rolls back")),
        sql.withTransaction,
        Effect.flip
      )
      yield* other.append(releaseId, version, [first!])
      yield* store.append(releaseId, version + 1, [second!])

      yield* assertFoldsOfStreams([releaseId]).pipe(
        Effect.provide(Layer.mergeAll(PgAuditLog.layer, PgReleaseSummaries.layer, Layer.succeed(EventStore.EventStore, store))),
        inOne
      )
    }))

  it.live("an append is one statement, alone, on this process's last fold, and two on a row it reads", () =>
    Effect.gen(function*() {
      // Two processes on one schema, each with its own pool and so its own remembered folds.
      const [one, two] = yield* Effect.forEach(["one", "two"], () => Layer.build(database.schema("one_statement")))
      yield* Migrations.run.pipe(Effect.provideContext(one!))
      const store = yield* PgEventStore.make({ onAppend: PgReadModels.project }).pipe(Effect.provideContext(one!))
      const other = yield* PgEventStore.make({ onAppend: PgReadModels.project }).pipe(Effect.provideContext(two!))
      const clients = [Context.get(one!, SqlClient.SqlClient), Context.get(two!, SqlClient.SqlClient)]
      // The statements an append runs (BEGIN and COMMIT are not statements here), and how many of
      // them ran inside a transaction the store opened.
      let inTransaction = 0
      const statementsOf = <A, E, R>(append: Effect.Effect<A, E, R>) =>
        Effect.gen(function*() {
          const statements: Array<string> = []
          yield* append.pipe(Effect.provideService(
            Statement.CurrentTransformer,
            (statement, _sql, fiber) =>
              Effect.sync(() => {
                statements.push(statement.compile()[0])
                if (clients.some((sql) => Context.getOption(fiber.context, sql.transactionService)._tag === "Some")) {
                  inTransaction++
                }
                return statement
              })
          ))
          return statements.length
        })
      const history = ReleaseHistories.make({ teams: 1, releasesPerTeam: 1 })
      const releaseId = history[0]!.streamId
      const [last, ...rest] = [...history].reverse()
      // From the stream's first append on: nothing to read, the call writes the rows, and it is
      // made alone (its own transaction: one round trip, no BEGIN or COMMIT).
      for (const append of rest.reverse()) {
        assert.strictEqual(yield* statementsOf(store.append(releaseId, append.expectedVersion, append.events)), 1)
      }
      assert.strictEqual(inTransaction, 0)
      // Another process has not written this release's fold: a read of the row, then the call,
      // alone, which writes the rows folded on it.
      const version = (yield* store.readStream(releaseId)).length
      assert.strictEqual(yield* statementsOf(other.append(releaseId, version, [paused("elsewhere", last!.at)])), 2)
      // Nor is the row the one this process remembers any more: it reads the row the same way.
      assert.strictEqual(yield* statementsOf(store.append(releaseId, version + 1, last!.events)), 2)
      assert.strictEqual(yield* statementsOf(store.append(releaseId, version + 1 + last!.events.length, [paused("again", last!.at + 60_000)])), 1)
      // A process that read the release in full (as the orchestrator does before each command)
      // folds from what it read: its append is the call alone, with no read of the row.
      const read = yield* other.readStream(releaseId)
      assert.strictEqual(yield* statementsOf(other.append(releaseId, read.length, [paused("after a read", last!.at + 120_000)])), 1)
      assert.strictEqual(inTransaction, 0)

      yield* assertFoldsOfStreams([releaseId]).pipe(
        Effect.provide(Layer.mergeAll(PgAuditLog.layer, PgReleaseSummaries.layer, Layer.succeed(EventStore.EventStore, store))),
        Effect.provideContext(one!)
      )
    }))

  it.live("a conflicting append leaves no rows, and of racing appends only the winner's are folded", () =>
    Effect.gen(function*() {
      const store = yield* EventStore.EventStore
      const history = ReleaseHistories.make({ teams: 1, releasesPerTeam: 1 }).slice(0, 4)
      yield* ReleaseHistories.appendAll(store, history)
      const releaseId = history[0]!.streamId
      const version = (yield* store.readStream(releaseId)).length
      const before = yield* snapshot

      const stale = yield* store.append(releaseId, version - 1, [paused("stale")]).pipe(Effect.flip)
      assert.strictEqual(stale._tag, "StreamVersionConflict")
      assert.deepStrictEqual(yield* snapshot, before)

      const racers = [1, 2, 3, 4, 5, 6, 7, 8]
      const outcomes = yield* Effect.forEach(
        racers,
        (n) => store.append(releaseId, version, [paused(`racer ${n}`, t0 + 3_600_000)]).pipe(Effect.result),
        { concurrency: "unbounded" }
      )
      const winners = outcomes.filter((outcome) => outcome._tag === "Success")
      assert.strictEqual(winners.length, 1)
      const entries = yield* auditOf("team_0", releaseId)
      assert.strictEqual(entries.length, version + 1)
      assert.deepStrictEqual(entries.at(-1)!.details, winners[0]!.success[0]!.event)
      yield* assertFoldsOfStreams([releaseId])
    }).pipe(Effect.provide(storage())))

  it.live("rebuild gives exactly the same rows, and appends fold on top of rebuilt rows", () =>
    Effect.gen(function*() {
      const store = yield* EventStore.EventStore
      const recorded = yield* ReleaseHistories.appendAll(store, ReleaseHistories.make({ teams: 3, releasesPerTeam: 5 }))
      yield* store.append("not-a-release", 0, [paused("ignored")])
      const before = yield* snapshot

      // A batch size that cuts releases in the middle of their streams.
      assert.strictEqual(yield* PgReadModels.rebuild({ batchSize: 17 }), recorded.length + 1)
      assert.deepStrictEqual(yield* snapshot, before)

      const releaseId = recorded.at(-1)!.streamId
      const version = (yield* store.readStream(releaseId)).length
      yield* store.append(releaseId, version, [paused("after the rebuild", t0 + 3_600_000)])
      yield* assertFoldsOfStreams([releaseId])
    }).pipe(Effect.provide(storage())))

  it.live("a release appended by a store without the hook is caught up by its next append through it", () =>
    Effect.gen(function*() {
      const bare = yield* PgEventStore.make()
      const store = yield* PgEventStore.make({ onAppend: PgReadModels.project })
      const history = ReleaseHistories.make({ teams: 1, releasesPerTeam: 1 })
      // Created without read models, then a gap in the middle of the stream.
      yield* ReleaseHistories.appendAll(bare, history.slice(0, 2))
      yield* ReleaseHistories.appendAll(store, history.slice(2, 4))
      yield* ReleaseHistories.appendAll(bare, history.slice(4, 6))
      yield* ReleaseHistories.appendAll(store, history.slice(6))
      yield* assertFoldsOfStreams([history[0]!.streamId]).pipe(
        Effect.provide(Layer.mergeAll(PgAuditLog.layer, PgReleaseSummaries.layer, Layer.succeed(EventStore.EventStore, store)))
      )
    }).pipe(Effect.provide(migratedSchema())))

  it.live("a fold from a read that the row does not match (events appended without the hook) is redone from the row", () =>
    Effect.gen(function*() {
      const bare = yield* PgEventStore.make()
      const store = yield* PgEventStore.make({ onAppend: PgReadModels.project })
      const reader = yield* PgEventStore.make({ onAppend: PgReadModels.project })
      const history = ReleaseHistories.make({ teams: 1, releasesPerTeam: 1 })
      const releaseId = history[0]!.streamId
      yield* ReleaseHistories.appendAll(store, history.slice(0, 3))
      // The row stops where the hook last ran; the stream goes on.
      yield* ReleaseHistories.appendAll(bare, history.slice(3, 5))
      const read = yield* reader.readStream(releaseId)
      yield* reader.append(releaseId, read.length, [paused("after a read of a stream ahead of its row", t0 + 3_600_000)])
      yield* assertFoldsOfStreams([releaseId]).pipe(
        Effect.provide(Layer.mergeAll(PgAuditLog.layer, PgReleaseSummaries.layer, Layer.succeed(EventStore.EventStore, reader)))
      )
    }).pipe(Effect.provide(migratedSchema())))

  it.live("a hook composed after the read models is told of the releases read too", () =>
    Effect.gen(function*() {
      const told: Array<readonly [string, number]> = []
      const also: PgEventStore.AppendHook = Object.assign(() => Effect.void, {
        streamRead: (streamId: string, events: ReadonlyArray<EventStore.RecordedEvent>) =>
          Effect.sync(() => void told.push([streamId, events.length]))
      })
      const store = yield* PgEventStore.make({ onAppend: PgReadModels.appendHook(also) })
      const history = ReleaseHistories.make({ teams: 1, releasesPerTeam: 1 })
      const recorded = yield* ReleaseHistories.appendAll(store, history.slice(0, 2))
      yield* store.readStream(history[0]!.streamId)
      assert.deepStrictEqual(told, [[history[0]!.streamId, recorded.length]])
    }).pipe(Effect.provide(migratedSchema())))

  it.live("rebuild while writers append: nothing is folded twice or missed", () =>
    Effect.gen(function*() {
      const store = yield* EventStore.EventStore
      const history = ReleaseHistories.make({ teams: 2, releasesPerTeam: 4 })
      yield* ReleaseHistories.appendAll(store, history)
      const releases = [...new Set(history.map((append) => append.streamId))]
      const writers = yield* Effect.forEach(releases, (releaseId, n) =>
        Effect.gen(function*() {
          let version = (yield* store.readStream(releaseId)).length
          for (let i = 0; i < 15; i++) {
            yield* store.append(releaseId, version, [paused(`writer ${n} append ${i}`, t0 + 7_200_000 + i)])
            version++
          }
        }).pipe(Effect.forkChild))
      const rebuilding = yield* Effect.forkChild(Effect.repeat(PgReadModels.rebuild({ batchSize: 50 }), { times: 2 }))
      yield* Fiber.joinAll([...writers, rebuilding])

      const afterRace = yield* snapshot
      yield* PgReadModels.rebuild()
      assert.deepStrictEqual(yield* snapshot, afterRace)
      yield* assertFoldsOfStreams(releases)
    }).pipe(Effect.provide(storage())))
})
