/**
 * The ReleaseSummaries contract, run against every adapter: a release's summary is
 * `ReleaseSummary.project` of its stream as soon as the append returned, and only its own team
 * gets it; walking a team's list under every filter and page size returns each matching release
 * once, newest first; a query the port cannot answer is refused naming the field.
 *
 * `makeLayer` is called once per test and must give an empty store: the summaries and the
 * `EventStore` whose appends they show (on Postgres, the event store with the read models' hook).
 * Time comes from the `TestClock`, set before the layer is built.
 *
 * @since 0.2.0
 */
import { Actor, EventStore, Plan, Release, type ReleaseCommand, ReleaseDecider, ReleaseSummary } from "@canaryroll/core"
import { assert, describe, it } from "@effect/vitest"
import { Effect, type Layer, Option, Result } from "effect"
import { TestClock } from "effect/testing"
import { Keyset, ReleaseSummaries } from "../../src/index.ts"
import * as ReleaseHistories from "./ReleaseHistories.ts"

type Services = ReleaseSummaries.ReleaseSummaries | EventStore.EventStore

/** Follows `nextCursor` to the end; every page but the last is full. */
const walk = (query: ReleaseSummaries.ListQuery) =>
  Effect.gen(function*() {
    const summaries = yield* ReleaseSummaries.ReleaseSummaries
    const all: Array<ReleaseSummary.ReleaseSummary> = []
    let cursor: string | undefined
    for (let pages = 1; pages <= 100; pages++) {
      const page = yield* summaries.list({ ...query, cursor })
      all.push(...page.summaries)
      if (page.nextCursor === null) return all
      assert.strictEqual(page.summaries.length, query.limit ?? Keyset.defaultLimit, "only the last page is short")
      cursor = page.nextCursor
    }
    return assert.fail("more than 100 pages")
  })

const plan = Plan.make({ steps: [{ percentage: 10, waitSeconds: 60 }, { percentage: 100, waitSeconds: 60 }] })

const ada = Actor.user("usr_ada", "Ada")

/** The events the decider answers `command` with, after `history`. */
const decided = (command: ReleaseCommand.ReleaseCommand, history: ReadonlyArray<EventStore.RecordedEvent> = []) =>
  Result.getOrThrow(ReleaseDecider.decide(command, Release.fold(history.map((recorded) => recorded.event), Release.initial)))

/** The events of creating one release of `team_9`'s Worker at `now`. */
const created = (releaseId: string, now: number) =>
  decided({
    _tag: "Create", releaseId, teamId: "team_9", workerId: "wkr_9_0", accountId: "acc_9", scriptName: "api",
    canaryVersionId: "v2", planId: null, plan, autoAdvance: true, name: null, ticketUrl: null, actor: ada, now
  })

export const suite = (name: string, makeLayer: () => Layer.Layer<Services, unknown>) => {
  const test = <A, E>(title: string, body: () => Effect.Effect<A, E, Services>) =>
    // The clock is set before the layer is built: a database client built at the TestClock's
    // epoch waits on timers that never fire.
    it.effect(title, () =>
      Effect.andThen(TestClock.setTime(ReleaseHistories.t0), body().pipe(Effect.provide(makeLayer(), { local: true }))))

  describe(`ReleaseSummaries contract (${name})`, () => {
    test("get is the fold of the release's stream, for its own team only; lists walk every matching release once, newest first", () =>
      Effect.gen(function*() {
        const store = yield* EventStore.EventStore
        const summaries = yield* ReleaseSummaries.ReleaseSummaries
        const recorded = yield* ReleaseHistories.appendAll(store, ReleaseHistories.make({ teams: 3, releasesPerTeam: 10 }))
        const streams = new Map<string, Array<EventStore.RecordedEvent>>()
        for (const event of recorded) streams.set(event.streamId, [...(streams.get(event.streamId) ?? []), event])
        const expected = [...streams.values()]
          .map((stream) => ReleaseSummary.project(stream.map((recorded) => recorded.event))!)
          // Ids of one length: JavaScript's order is the database's whatever its collation.
          .sort((a, b) => b.createdAt.localeCompare(a.createdAt) || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0))

        for (const summary of expected) {
          assert.deepStrictEqual(yield* summaries.get(summary.teamId, summary.id), Option.some(summary))
        }
        assert.deepStrictEqual(yield* summaries.get("team_0", "rel_unknown"), Option.none())
        // Another team's release is as good as missing.
        assert.deepStrictEqual(yield* summaries.get("team_1", "rel_0_0"), Option.none())

        const statuses = new Set(expected.map((summary) => summary.status))
        assert.isAtLeast(statuses.size, 4, `statuses seen: ${[...statuses].join(", ")}`)
        const queries: ReadonlyArray<Omit<ReleaseSummaries.ListQuery, "teamId">> = [
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
      }))

    test("a summary is current as soon as its append returned; a walk is not disturbed by releases created meanwhile", () =>
      Effect.gen(function*() {
        const store = yield* EventStore.EventStore
        const summaries = yield* ReleaseSummaries.ReleaseSummaries
        const t0 = ReleaseHistories.t0
        for (let n = 0; n < 4; n++) yield* store.append(`rel_9_${n}`, 0, created(`rel_9_${n}`, t0 + n * 1_000))
        const first = yield* summaries.list({ teamId: "team_9", limit: 2 })
        assert.deepStrictEqual(first.summaries.map((summary) => summary.id), ["rel_9_3", "rel_9_2"])
        // Newer than every release of the walk: not on its later pages.
        yield* store.append("rel_9_9", 0, created("rel_9_9", t0 + 60_000))
        const rest = yield* summaries.list({ teamId: "team_9", limit: 2, cursor: first.nextCursor! })
        assert.deepStrictEqual(rest.summaries.map((summary) => summary.id), ["rel_9_1", "rel_9_0"])
        assert.strictEqual(rest.nextCursor, null)

        const pending = yield* summaries.get("team_9", "rel_9_9")
        assert.strictEqual(Option.getOrUndefined(pending)?.status, "pending" satisfies Release.Status)
        const history = yield* store.readStream("rel_9_9")
        yield* store.append("rel_9_9", 1, decided({ _tag: "Cancel", reason: "wrong version", actor: ada, now: t0 + 61_000 }, history))
        const cancelled = Option.getOrUndefined(yield* summaries.get("team_9", "rel_9_9"))
        assert.strictEqual(cancelled?.status, "cancelled")
        assert.deepStrictEqual(
          (yield* summaries.list({ teamId: "team_9", statuses: ["cancelled"] })).summaries.map((summary) => summary.id),
          ["rel_9_9"]
        )
      }))

    test("refuses what it cannot answer, naming the field", () =>
      Effect.gen(function*() {
        const summaries = yield* ReleaseSummaries.ReleaseSummaries
        const cases: ReadonlyArray<[ReleaseSummaries.ListQuery, string]> = [
          [{ teamId: "team_0", limit: 0 }, "limit"],
          [{ teamId: "team_0", limit: 201 }, "limit"],
          [{ teamId: "team_0", limit: 1.5 }, "limit"],
          [{ teamId: "" }, "teamId"],
          [{ teamId: "team_0", cursor: "bm90IGEgY3Vyc29y" }, "cursor"],
          [{ teamId: "team_0", cursor: "not a cursor!" }, "cursor"],
          [{ teamId: "team_0", statuses: ["exploded" as Release.Status] }, "statuses"]
        ]
        for (const [query, field] of cases) {
          const error = yield* summaries.list(query).pipe(Effect.flip)
          assert.strictEqual(error._tag === "InvalidQuery" ? error.field : error._tag, field, JSON.stringify(query))
        }
        // A team with no releases (yet): one empty last page, not an error.
        assert.deepStrictEqual(yield* summaries.list({ teamId: "team_0" }), { summaries: [], nextCursor: null })
      }))
  })
}
