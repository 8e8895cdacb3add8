/**
 * The AuditLog contract, run against every adapter: over a few hundred decider-written events in
 * five teams, walking the pages of every filter combination (at several page sizes) returns every
 * matching entry exactly once, newest first, and nothing of another team, each release entry
 * being the core's `AuditEntry`; settings changes share the log (same filters, same cursor, the
 * same millisecond ordered by when they were recorded); a change recorded in a transaction that
 * fails is not in the log; a query the port cannot answer is refused naming the field.
 *
 * `makeLayer` is called once per test and must give an empty store: the log, the `EventStore`
 * whose appends it shows (on Postgres, the event store with the read models' hook) and the
 * `Transactions` its `record` joins. Time comes from the `TestClock`, set before the layer is built.
 *
 * @since 0.2.0
 */
import { Actor, AuditEntry, EventStore, ReleaseEvent } from "@canaryroll/core"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit, type Layer } from "effect"
import { TestClock } from "effect/testing"
import { AuditLog, Keyset, Storage } from "../../src/index.ts"
import * as ReleaseHistories from "./ReleaseHistories.ts"

type Services = AuditLog.AuditLog | EventStore.EventStore | Storage.Transactions

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

const actorMatches = (actor: Actor.Actor, filter: AuditLog.ActorFilter | undefined): boolean =>
  filter === undefined ||
  (filter._tag === "System" ? actor._tag === "System" : actor._tag === filter._tag && actor.id === filter.id)

const matches = (query: AuditLog.Query) => ({ entry }: Expected): boolean =>
  entry.teamId === query.teamId &&
  (query.releaseId === undefined || entry.releaseId === query.releaseId) &&
  actorMatches(entry.actor, query.actor) &&
  (query.types === undefined || query.types.length === 0 || query.types.includes(entry.type)) &&
  (query.from === undefined || entry.at >= query.from) &&
  (query.to === undefined || entry.at < query.to)

/** Follows `nextCursor` to the end; every page but the last is full. */
const walk = (query: AuditLog.Query) =>
  Effect.gen(function*() {
    const log = yield* AuditLog.AuditLog
    const entries: Array<AuditLog.Entry> = []
    let cursor: string | undefined
    for (let pages = 1; pages <= 1_000; pages++) {
      const page = yield* log.page({ ...query, cursor })
      entries.push(...page.entries)
      if (page.nextCursor === null) return entries
      assert.strictEqual(page.entries.length, query.limit ?? Keyset.defaultLimit, "only the last page is short")
      cursor = page.nextCursor
    }
    return assert.fail("more than 1,000 pages")
  })

const alice = Actor.user("u-alice", "alice@example.com")

/** The team of the first release in the recorded events. */
const firstTeam = (recorded: ReadonlyArray<EventStore.RecordedEvent>) => {
  const first = recorded[0]?.event
  return first?._tag === "ReleaseCreated" ? first.teamId : assert.fail("no release")
}

export const suite = (name: string, makeLayer: () => Layer.Layer<Services, unknown>) => {
  const test = <A, E>(title: string, body: () => Effect.Effect<A, E, Services>) =>
    // The clock is set before the layer is built: a database client built at the TestClock's
    // epoch waits on timers that never fire.
    it.effect(title, () =>
      Effect.andThen(TestClock.setTime(ReleaseHistories.t0), body().pipe(Effect.provide(makeLayer(), { local: true }))))

  describe(`AuditLog contract (${name})`, () => {
    test("walking the pages of every filter combination returns each matching entry once, newest first", () =>
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
        const queries: ReadonlyArray<Omit<AuditLog.Query, "teamId">> = [
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
      }))

    test("settings entries page with release entries, newest first, filtered by type and actor", () =>
      Effect.gen(function*() {
        const store = yield* EventStore.EventStore
        const recorded = yield* ReleaseHistories.appendAll(store, ReleaseHistories.make({ teams: 1, releasesPerTeam: 2 }))
        const teamId = firstTeam(recorded)
        const latest = Math.max(...recorded.map((event) => event.event.at))
        for (let n = 0; n < 5; n++) {
          yield* AuditLog.record({
            teamId,
            type: n % 2 === 0 ? "TeamTokenCreated" : "PlanUpdated",
            actor: alice,
            // Two changes share each millisecond: the order they were recorded in orders them.
            at: latest + 1_000 + Math.floor(n / 2),
            workerId: n === 4 ? "wkr_0_0" : undefined,
            sentence: `change ${n}`,
            details: { n }
          })
        }
        // Another team's change: never in this team's log.
        yield* AuditLog.record({ teamId: "team_other", type: "TeamCreated", actor: alice, at: latest, sentence: "other", details: {} })

        const all = yield* walk({ teamId, limit: 3 })
        assert.strictEqual(all.length, recorded.length + 5, "every entry once")
        assert.deepStrictEqual(all.slice(0, 5).map((entry) => entry.sentence), [
          "change 4",
          "change 3",
          "change 2",
          "change 1",
          "change 0"
        ])
        const first = all[0]!
        assert.deepStrictEqual({ ...first, id: "" }, {
          id: "",
          releaseId: null,
          teamId,
          workerId: "wkr_0_0",
          type: "TeamTokenCreated",
          actor: alice,
          at: latest + 1_002,
          stepIndex: null,
          percentage: null,
          sentence: "change 4",
          details: { n: 4 }
        })
        assert.strictEqual(all[1]!.workerId, null)
        assert.strictEqual(new Set(all.map((entry) => entry.id)).size, all.length, "ids are unique")
        const tokens = yield* walk({ teamId, types: ["TeamTokenCreated"] })
        assert.deepStrictEqual(tokens.map((entry) => entry.sentence), ["change 4", "change 2", "change 0"])
        const mixed = yield* walk({ teamId, types: ["PlanUpdated", "ReleaseCreated"], limit: 2 })
        assert.deepStrictEqual(
          mixed.map((entry) => entry.type),
          ["PlanUpdated", "PlanUpdated", "ReleaseCreated", "ReleaseCreated"]
        )
        const byAlice = yield* walk({ teamId, actor: { _tag: "User", id: "u-alice" } })
        assert.strictEqual(byAlice.length, 5)
        const inRange = yield* walk({ teamId, from: latest + 1_001, to: latest + 1_002 })
        assert.deepStrictEqual(inRange.map((entry) => entry.sentence), ["change 3", "change 2"])
        // A release's entries only: settings entries belong to no release.
        const release = yield* walk({ teamId, releaseId: "rel_0_0" })
        assert.isTrue(release.length > 0 && release.every((entry) => entry.releaseId === "rel_0_0"))
        assert.deepStrictEqual((yield* walk({ teamId: "team_other" })).map((entry) => entry.sentence), ["other"])
      }))

    test("a change recorded in a transaction that fails is not in the log", () =>
      Effect.gen(function*() {
        const transactions = yield* Storage.Transactions
        const change = (sentence: string) =>
          AuditLog.record({ teamId: "team_0", type: "MemberAdded", actor: alice, at: ReleaseHistories.t0, sentence, details: {} })
        yield* transactions.atomically(change("kept"))
        const failed = yield* transactions.atomically(Effect.andThen(change("undone"), Effect.fail("the change failed")))
          .pipe(Effect.exit)
        assert.isTrue(Exit.isFailure(failed))
        assert.deepStrictEqual((yield* walk({ teamId: "team_0" })).map((entry) => entry.sentence), ["kept"])
      }))

    test("refuses what it cannot answer, naming the field", () =>
      Effect.gen(function*() {
        const log = yield* AuditLog.AuditLog
        const refused = (query: AuditLog.Query) => log.page(query).pipe(Effect.flip)
        const cases: ReadonlyArray<[AuditLog.Query, string]> = [
          [{ teamId: "team_0", limit: 0 }, "limit"],
          [{ teamId: "team_0", limit: 201 }, "limit"],
          [{ teamId: "team_0", limit: 1.5 }, "limit"],
          [{ teamId: "" }, "teamId"],
          [{ teamId: "team_0", cursor: "not-a-cursor" }, "cursor"],
          [{ teamId: "team_0", cursor: "bm90IGEgY3Vyc29y" }, "cursor"],
          [{ teamId: "team_0", types: ["Exploded" as ReleaseEvent.ReleaseEventType] }, "types"],
          [{ teamId: "team_0", from: Number.NaN }, "from"],
          [{ teamId: "team_0", to: Number.POSITIVE_INFINITY }, "to"],
          [{ teamId: "team_0", actor: { _tag: "Robot" } as unknown as AuditLog.ActorFilter }, "actor"]
        ]
        for (const [query, field] of cases) {
          const error = yield* refused(query)
          assert.strictEqual(error._tag === "InvalidQuery" ? error.field : error._tag, field, JSON.stringify(query))
        }
        // A team with no entries (yet): one empty last page, not an error.
        assert.deepStrictEqual(yield* log.page({ teamId: "team_0" }), { entries: [], nextCursor: null })
      }))
  })
}
