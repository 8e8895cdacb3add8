/**
 * Audit log pages: over a few hundred decider-written events in five teams, walking the pages of
 * every filter combination (at several page sizes) returns every matching entry exactly once,
 * newest first, and nothing of another team; bad input is refused naming the field.
 */
import { type Actor, AuditEntry, EventStore, ReleaseEvent } from "@canaryroll/core"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { layerPorts, PgAuditLog } from "../src/index.ts"
import * as TestDatabase from "./database/TestDatabase.ts"
import * as ReleaseHistories from "./support/ReleaseHistories.ts"

const database = TestDatabase.forFile()

const storage = () =>
  PgAuditLog.layer.pipe(Layer.provideMerge(layerPorts()), Layer.provideMerge(database.freshSchema()))

interface Expected {
  readonly entry: AuditEntry.AuditEntry
  readonly position: number
}

/** Every audit entry the core's fold gives for the recorded events, newest first by (at, position). */
const expectedEntries = (recorded: ReadonlyArray<EventStore.RecordedEvent>): ReadonlyArray<Expected> => {
  const streams = new Map<string, Array<EventStore.RecordedEvent>>()
  for (const event of recorded) streams.set(event.streamId, [...(streams.get(event.streamId) ?? []), event])
  const position = new Map(recorded.map((event) => [event.id, event.position]))
  return [...streams.values()]
    .flatMap((stream) => AuditEntry.project(stream))
    .map((entry) => ({ entry, position: position.get(entry.id)! }))
    .sort((a, b) => b.entry.at - a.entry.at || b.position - a.position)
}

const actorMatches = (actor: Actor.Actor, filter: PgAuditLog.ActorFilter | undefined): boolean =>
  filter === undefined ||
  (filter._tag === "System" ? actor._tag === "System" : actor._tag === filter._tag && actor.id === filter.id)

const matches = (query: PgAuditLog.Query) => ({ entry }: Expected): boolean =>
  entry.teamId === query.teamId &&
  (query.releaseId === undefined || entry.releaseId === query.releaseId) &&
  actorMatches(entry.actor, query.actor) &&
  (query.types === undefined || query.types.length === 0 || query.types.includes(entry.type)) &&
  (query.from === undefined || entry.at >= query.from) &&
  (query.to === undefined || entry.at < query.to)

/** Follows `nextCursor` to the end; every page but the last is full. */
const walk = (query: PgAuditLog.Query) =>
  Effect.gen(function*() {
    const log = yield* PgAuditLog.PgAuditLog
    const entries: Array<PgAuditLog.Entry> = []
    let cursor: string | undefined
    for (let pages = 1; pages <= 1_000; pages++) {
      const page = yield* log.page({ ...query, cursor })
      entries.push(...page.entries)
      if (page.nextCursor === null) return entries
      assert.strictEqual(page.entries.length, query.limit ?? PgAuditLog.defaultLimit, "only the last page is short")
      cursor = page.nextCursor
    }
    return assert.fail("more than 1,000 pages")
  })

describe("PgAuditLog", () => {
  it.live("walking the pages of every filter combination returns each matching entry once, newest first", () =>
    Effect.gen(function*() {
      const store = yield* EventStore.EventStore
      const recorded = yield* ReleaseHistories.appendAll(store, ReleaseHistories.make({ teams: 5, releasesPerTeam: 6 }))
      const expected = expectedEntries(recorded)
      assert.isAtLeast(expected.length, 250)

      // The whole entries, for one team: the page shape is the core's AuditEntry.
      assert.deepStrictEqual(
        yield* walk({ teamId: "team_1", limit: 9 }),
        expected.filter(matches({ teamId: "team_1" })).map(({ entry }) => entry)
      )

      // Times to cut ranges at: entries' own times, so that `from` meets an entry (inclusive) and `to` too (exclusive).
      const times = [...new Set(expected.filter(matches({ teamId: "team_2" })).map(({ entry }) => entry.at))].sort((a, b) => a - b)
      const from = times[Math.floor(times.length / 4)]!
      const to = times[Math.floor((times.length * 3) / 4)]!
      const queries: ReadonlyArray<Omit<PgAuditLog.Query, "teamId">> = [
        {},
        { releaseId: "rel_2_2" },
        { releaseId: "rel_2_3", types: ["HealthChecked", "Promoted"] },
        { actor: { _tag: "User", id: "usr_ada" } },
        { actor: { _tag: "Token", id: "tok_ci" } },
        { actor: { _tag: "System" } },
        { actor: { _tag: "User", id: "usr_nobody" } },
        { types: ["HealthChecked"] },
        { types: ["Paused", "Resumed", "RollbackStarted", "Cancelled"] },
        { types: ReleaseEvent.eventTypes },
        { types: [] },
        { from },
        { to },
        { from, to },
        { from, to, types: ["TrafficShifted", "StepStarted"] },
        { actor: { _tag: "System" }, types: ["HealthChecked", "Promoted"], from },
        { actor: { _tag: "User", id: "usr_ada" }, types: ["ReleaseCreated", "Paused", "Promoted"] },
        { releaseId: "rel_2_0", actor: { _tag: "System" }, to },
        // Another team's release: nothing, whatever the filters.
        { releaseId: "rel_3_0" }
      ]
      for (const filters of queries) {
        for (const limit of [1, 7, 200]) {
          const query = { teamId: "team_2", ...filters, limit }
          const ids = (yield* walk(query)).map((entry) => entry.id)
          assert.deepStrictEqual(ids, expected.filter(matches(query)).map(({ entry }) => entry.id), JSON.stringify(query))
        }
      }
    }).pipe(Effect.provide(storage())))

  it.live("refuses what it cannot answer, naming the field", () =>
    Effect.gen(function*() {
      const log = yield* PgAuditLog.PgAuditLog
      const refused = (query: PgAuditLog.Query) => log.page(query).pipe(Effect.flip)
      for (const limit of [0, 201, 1.5]) {
        const error = yield* refused({ teamId: "team_0", limit })
        assert.strictEqual(error._tag, "InvalidQuery")
        assert.strictEqual(error._tag === "InvalidQuery" && error.field, "limit")
      }
      const cases: ReadonlyArray<[PgAuditLog.Query, string]> = [
        [{ teamId: "" }, "teamId"],
        [{ teamId: "team_0", cursor: "not-a-cursor" }, "cursor"],
        [{ teamId: "team_0", types: ["Exploded" as ReleaseEvent.ReleaseEventType] }, "types"],
        [{ teamId: "team_0", from: Number.NaN }, "from"]
      ]
      for (const [query, field] of cases) {
        const error = yield* refused(query)
        assert.strictEqual(error._tag === "InvalidQuery" ? error.field : error._tag, field)
      }
      // A team with no entries (yet): one empty last page, not an error.
      assert.deepStrictEqual(yield* log.page({ teamId: "team_0" }), { entries: [], nextCursor: null })
    }).pipe(Effect.provide(storage())))
})
