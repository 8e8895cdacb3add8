/**
 * Appends made alone at the same moment share server calls (`canaryroll_append_batch`), and
 * each still ends as if it had been made on its own: recorded at its own versions, folded into
 * both read models, failing alone when it lost its version, redone when its summary moved, and
 * correct when two processes race on the same streams.
 */
import { Actor, EventStore, type ReleaseEvent } from "@canaryroll/core"
import { PgTypes } from "@effect/sql-pg"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { SqlClient } from "effect/sql"
import { ReleaseHistories } from "@canaryroll/app/testing"
import { Migrations, PgAuditLog, PgEventStore, PgReadModels, PgReleaseSummaries } from "../src/index.ts"
import * as TestDatabase from "./database/TestDatabase.ts"
import { assertFoldsOfStreams, snapshot } from "./support/ReadModelRows.ts"

const database = TestDatabase.forFile()

const migratedSchema = () => Layer.effectDiscard(Migrations.run).pipe(Layer.provideMerge(database.freshSchema()))

const queries = Layer.mergeAll(PgAuditLog.layer, PgReleaseSummaries.layer)

const t0 = ReleaseHistories.t0
const paused = (reason: string, at: number): ReleaseEvent.ReleaseEvent => ({
  _tag: "Paused",
  cause: "requested",
  reason,
  actor: Actor.user("usr_ada", "Ada"),
  at
})

/** Each stream's rows are the core's folds over the stream as stored by `store`. */
const assertFolds = (store: typeof EventStore.EventStore.Service, streamIds: Iterable<string>) =>
  assertFoldsOfStreams(streamIds).pipe(Effect.provide(Layer.mergeAll(queries, Layer.succeed(EventStore.EventStore, store))))

/** How many transactions appended the streams' last events: one per call they shared. */
const callsOfLastAppends = (streamIds: ReadonlyArray<string>) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const [row] = yield* sql<{ calls: number }>`
      SELECT count(DISTINCT transaction_id)::int AS calls FROM (
        SELECT DISTINCT ON (stream_id) transaction_id FROM events
        WHERE stream_id = ANY(${PgEventStore.typedArray(PgTypes.OID.text, streamIds)})
        ORDER BY stream_id, stream_version DESC
      ) AS last`
    return row!.calls
  })

/** `count` releases created (their first append, one by one): their ids, each at version `version`. */
const createReleases = (store: typeof EventStore.EventStore.Service, count: number) =>
  Effect.gen(function*() {
    const history = ReleaseHistories.make({ teams: 1, releasesPerTeam: count })
    const firsts = history.filter((append) => append.expectedVersion === 0)
    yield* ReleaseHistories.appendAll(store, firsts)
    return firsts.map((append) => ({ releaseId: append.streamId, version: append.events.length }))
  })

describe("PgEventStore: appends share calls", () => {
  it.live("appends made at once to different streams share calls, each recorded and folded as if alone", () =>
    Effect.gen(function*() {
      // One call at a time: everything that arrives while it runs goes in the next.
      const store = yield* PgEventStore.make({ onAppend: PgReadModels.project, appendCallsInFlight: 1 })
      const history = ReleaseHistories.make({ teams: 2, releasesPerTeam: 8 })
      const streams = new Map<string, Array<ReleaseHistories.Append>>()
      for (const append of history) streams.set(append.streamId, [...(streams.get(append.streamId) ?? []), append])
      // Every release's appends in order, all releases at once.
      yield* Effect.forEach(
        streams.values(),
        (appends) => ReleaseHistories.appendAll(store, appends),
        { concurrency: "unbounded" }
      )

      yield* assertFolds(store, streams.keys())
      const sql = yield* SqlClient.SqlClient
      const [calls] = yield* sql<{ appends: number; transactions: number }>`
        SELECT count(DISTINCT (stream_id, transaction_id))::int AS appends, count(DISTINCT transaction_id)::int AS transactions
        FROM events`
      assert.strictEqual(calls!.appends, history.length)
      assert.isBelow(calls!.transactions, history.length / 4, "most appends shared their call")
      // The rows are those that folding every stream from scratch gives.
      const folded = yield* snapshot
      yield* PgReadModels.rebuild()
      assert.deepStrictEqual(yield* snapshot, folded)
    }).pipe(Effect.provide(migratedSchema())))

  it.live("an append that lost its version fails alone; the others of its call are recorded", () =>
    Effect.gen(function*() {
      const store = yield* PgEventStore.make({ onAppend: PgReadModels.project, appendCallsInFlight: 1 })
      const [opening, ...releases] = yield* createReleases(store, 7)
      const [stale, ...fresh] = releases
      const before = yield* snapshot
      // The first takes the only call; the six behind it share the next.
      const outcomes = yield* Effect.forEach(
        [opening!, ...releases],
        ({ releaseId, version }, i) =>
          store.append(releaseId, releaseId === stale!.releaseId ? version - 1 : version, [
            paused(`append ${i}`, t0 + 3_600_000)
          ]).pipe(Effect.result),
        { concurrency: "unbounded" }
      )
      const conflict = outcomes[1]!
      assert.strictEqual(conflict._tag, "Failure")
      assert.deepStrictEqual(
        conflict._tag === "Failure" ? conflict.failure : undefined,
        new EventStore.StreamVersionConflict({
          streamId: stale!.releaseId,
          expectedVersion: stale!.version - 1,
          actualVersion: stale!.version
        })
      )
      assert.isTrue(outcomes.slice(2).every((outcome) => outcome._tag === "Success"))
      assert.strictEqual(yield* callsOfLastAppends(fresh.map((release) => release.releaseId)), 1, "one call")
      assert.strictEqual((yield* store.readStream(stale!.releaseId)).length, stale!.version)
      yield* assertFolds(store, releases.map((release) => release.releaseId))
      // The stale append left nothing: its release's rows are as before.
      const after = yield* snapshot
      const rowsOf = (rows: ReadonlyArray<unknown>) =>
        rows.filter((row) => (row as { release_id: string }).release_id === stale!.releaseId)
      assert.deepStrictEqual(rowsOf(after.summaries), rowsOf(before.summaries))
      assert.deepStrictEqual(rowsOf(after.audit), rowsOf(before.audit))
    }).pipe(Effect.provide(migratedSchema())))

  it.live("an append whose summary moved is redone from the row; the others of its call stand", () =>
    Effect.gen(function*() {
      const store = yield* PgEventStore.make({ onAppend: PgReadModels.project, appendCallsInFlight: 1 })
      const [opening, ...releases] = yield* createReleases(store, 6)
      const [moved] = releases
      // The row is no longer the one this process folded on (as after another process's fold of
      // an append that rolled back): the shared statement cannot stand, and the call makes each
      // append on its own.
      const sql = yield* SqlClient.SqlClient
      yield* sql`UPDATE release_summaries SET position = position + 1000000 WHERE release_id = ${moved!.releaseId}`
      yield* Effect.forEach(
        [opening!, ...releases],
        ({ releaseId, version }, i) => store.append(releaseId, version, [paused(`append ${i}`, t0 + 3_600_000)]),
        { concurrency: "unbounded" }
      )
      yield* assertFolds(store, releases.map((release) => release.releaseId))
      const others = releases.slice(1).map((release) => release.releaseId)
      assert.strictEqual(yield* callsOfLastAppends(others), 1, "one call")
      const folded = yield* snapshot
      yield* PgReadModels.rebuild()
      assert.deepStrictEqual(yield* snapshot, folded)
    }).pipe(Effect.provide(migratedSchema())))

  it.live("two processes appending to the same streams at once: every version once, folds right", () =>
    Effect.gen(function*() {
      // Two pools on one schema: two processes, each with its own calls and remembered folds.
      const [one, two] = yield* Effect.forEach(["one", "two"], () => Layer.build(database.schema("racing_batches")))
      yield* Migrations.run.pipe(Effect.provideContext(one!))
      const stores = yield* Effect.forEach([one!, two!], (context) =>
        PgEventStore.make({ onAppend: PgReadModels.project }).pipe(Effect.provideContext(context)))
      const releases = yield* createReleases(stores[0]!, 8)
      const appendsPerWriter = 12
      // Each process writes each release: read the version, append, start over on a conflict. (An
      // event's time follows its version: the audit log is in time order.)
      yield* Effect.forEach(
        stores.flatMap((store, process) => releases.map((release) => ({ store, process, release }))),
        ({ process, release, store }) =>
          Effect.gen(function*() {
            let written = 0
            while (written < appendsPerWriter) {
              const version = (yield* store.readStream(release.releaseId)).length
              const appended = yield* store.append(release.releaseId, version, [
                paused(`process ${process} append ${written}`, t0 + 3_600_000 + version)
              ]).pipe(
                Effect.as(true),
                Effect.catchTag("StreamVersionConflict", () => Effect.succeed(false))
              )
              if (appended) written++
            }
          }),
        { concurrency: "unbounded" }
      )
      const inOne = Effect.provideContext(one!)
      for (const release of releases) {
        const stream = yield* stores[0]!.readStream(release.releaseId)
        assert.deepStrictEqual(stream.map((recorded) => recorded.version), stream.map((_, i) => i + 1))
        assert.strictEqual(stream.length, release.version + 2 * appendsPerWriter)
      }
      yield* assertFolds(stores[0]!, releases.map((release) => release.releaseId)).pipe(inOne)
      const folded = yield* snapshot.pipe(inOne)
      yield* PgReadModels.rebuild().pipe(inOne)
      assert.deepStrictEqual(yield* snapshot.pipe(inOne), folded)
    }))
})
