/**
 * Release summaries as the API reads them: one by id is `ReleaseSummary.project` over its stream,
 * and walking a team's list under every filter returns each matching release once, newest first.
 */
import { EventStore, type Release, ReleaseSummary } from "@canaryroll/core"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer, Option } from "effect"
import { layerPorts, PgReleaseSummaries } from "../src/index.ts"
import * as TestDatabase from "./database/TestDatabase.ts"
import * as ReleaseHistories from "./support/ReleaseHistories.ts"

const database = TestDatabase.forFile()

const storage = () =>
  PgReleaseSummaries.layer.pipe(Layer.provideMerge(layerPorts()), Layer.provideMerge(database.freshSchema()))

/** Follows `nextCursor` to the end; every page but the last is full. */
const walk = (query: PgReleaseSummaries.ListQuery) =>
  Effect.gen(function*() {
    const summaries = yield* PgReleaseSummaries.PgReleaseSummaries
    const all: Array<ReleaseSummary.ReleaseSummary> = []
    let cursor: string | undefined
    for (let pages = 1; pages <= 100; pages++) {
      const page = yield* summaries.list({ ...query, cursor })
      all.push(...page.summaries)
      if (page.nextCursor === null) return all
      assert.strictEqual(page.summaries.length, query.limit ?? PgReleaseSummaries.defaultLimit)
      cursor = page.nextCursor
    }
    return assert.fail("more than 100 pages")
  })

describe("PgReleaseSummaries", () => {
  it.live("byId is the fold of the release's stream; lists walk every matching release once, newest first", () =>
    Effect.gen(function*() {
      const store = yield* EventStore.EventStore
      const summaries = yield* PgReleaseSummaries.PgReleaseSummaries
      const recorded = yield* ReleaseHistories.appendAll(store, ReleaseHistories.make({ teams: 3, releasesPerTeam: 10 }))
      const streams = new Map<string, Array<EventStore.RecordedEvent>>()
      for (const event of recorded) streams.set(event.streamId, [...(streams.get(event.streamId) ?? []), event])
      const expected = [...streams.values()]
        .map((stream) => ReleaseSummary.project(stream.map((recorded) => recorded.event))!)
        // Ids of one length: JavaScript's order is the database's whatever its collation.
        .sort((a, b) => b.createdAt.localeCompare(a.createdAt) || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0))

      for (const summary of expected) assert.deepStrictEqual(yield* summaries.byId(summary.id), Option.some(summary))
      assert.deepStrictEqual(yield* summaries.byId("rel_unknown"), Option.none())

      const statuses = new Set(expected.map((summary) => summary.status))
      assert.isAtLeast(statuses.size, 4, `statuses seen: ${[...statuses].join(", ")}`)
      const queries: ReadonlyArray<Omit<PgReleaseSummaries.ListQuery, "teamId">> = [
        {},
        { workerId: "wkr_1_0" },
        { workerId: "wkr_2_0" }, // another team's Worker: nothing
        { statuses: ["completed"] },
        { statuses: ["in_progress", "paused"] },
        { statuses: ["pending"] },
        { statuses: [] },
        { workerId: "wkr_1_1", statuses: ["rolled_back", "cancelled", "completed"] }
      ]
      for (const filters of queries) {
        for (const limit of [1, 3, 50]) {
          const query = { teamId: "team_1", ...filters, limit }
          const want = expected.filter((summary) =>
            summary.teamId === query.teamId &&
            (query.workerId === undefined || summary.workerId === query.workerId) &&
            (query.statuses === undefined || query.statuses.length === 0 ||
              query.statuses.includes(summary.status))
          )
          assert.deepStrictEqual(yield* walk(query), want, JSON.stringify(query))
        }
      }
    }).pipe(Effect.provide(storage())))

  it.live("refuses what it cannot answer, naming the field", () =>
    Effect.gen(function*() {
      const summaries = yield* PgReleaseSummaries.PgReleaseSummaries
      const cases: ReadonlyArray<[PgReleaseSummaries.ListQuery, string]> = [
        [{ teamId: "team_0", limit: 0 }, "limit"],
        [{ teamId: "team_0", limit: 201 }, "limit"],
        [{ teamId: "" }, "teamId"],
        [{ teamId: "team_0", cursor: "bm90IGEgY3Vyc29y" }, "cursor"],
        [{ teamId: "team_0", statuses: ["exploded" as Release.Status] }, "statuses"]
      ]
      for (const [query, field] of cases) {
        const error = yield* summaries.list(query).pipe(Effect.flip)
        assert.strictEqual(error._tag === "InvalidQuery" ? error.field : error._tag, field)
      }
    }).pipe(Effect.provide(storage())))
})
