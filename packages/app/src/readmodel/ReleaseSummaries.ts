/**
 * ReleaseSummaries port: releases as the core's `ReleaseSummary` (the API's Deployment), the fold
 * of each release's events. One release by id within its team, or a team's releases, newest
 * (by creation) first, filtered by Worker and status, in keyset pages on `(createdAt, id)`.
 *
 * Contract (the `ReleaseSummariesContract` suite in `@canaryroll/app/testing`): a summary is
 * `ReleaseSummary.project` of its stream as soon as the append returned; `get` answers none for
 * another team's release (so ids of other teams' releases are not revealed); walking the pages of
 * a list returns every matching release once; a query it cannot answer fails with `InvalidQuery`
 * naming the field; storage failing is `StorageUnavailable`.
 *
 * The memory layer folds the events of the `EventStore` in context (see `ReleaseProjection`);
 * the Postgres layer (`PgReleaseSummaries` in `@canaryroll/postgres`) reads the rows the event
 * store's append hook keeps.
 *
 * @since 0.2.0
 */
import { type EventStore, Release, type ReleaseSummary } from "@canaryroll/core"
import { Context, Effect, Layer, Option, Schema } from "effect"
import type { StorageUnavailable } from "../Storage.ts"
import * as Keyset from "./Keyset.ts"
import * as ReleaseProjection from "./ReleaseProjection.ts"

export interface ListQuery {
  /** Required: releases are listed one team at a time. */
  readonly teamId: string
  readonly workerId?: string | undefined
  /** Releases in any of these statuses; absent or empty: every status. */
  readonly statuses?: ReadonlyArray<Release.Status> | undefined
  /** At most `Keyset.maxLimit`; default `Keyset.defaultLimit`. */
  readonly limit?: number | undefined
  /** A previous page's `nextCursor`: this page continues after it. */
  readonly cursor?: string | undefined
}

export interface Page {
  /** Newest (by creation) first; among releases created at the same time, the greatest id first. */
  readonly summaries: ReadonlyArray<ReleaseSummary.ReleaseSummary>
  /** Where the next page starts; `null` on the last page. */
  readonly nextCursor: string | null
}

/** Where a page ends: the last release handed out. */
export interface Cursor {
  /** Its creation time, epoch milliseconds. */
  readonly createdAt: number
  readonly releaseId: string
}

export { InvalidQuery } from "./Keyset.ts"

export class ReleaseSummaries extends Context.Service<ReleaseSummaries, {
  /** The release, if it belongs to `teamId` (another team's is as good as missing). */
  readonly get: (
    teamId: string,
    releaseId: string
  ) => Effect.Effect<Option.Option<ReleaseSummary.ReleaseSummary>, StorageUnavailable>
  readonly list: (query: ListQuery) => Effect.Effect<Page, Keyset.InvalidQuery | StorageUnavailable>
}>()("@canaryroll/app/ReleaseSummaries") {}

// Opaque to clients (they only hand it back), versioned in case the order ever changes.
const CursorJson = Schema.fromJsonString(Schema.Tuple([Schema.Literal("r1"), Schema.Int, Schema.String]))
const decodeCursorJson = Schema.decodeUnknownOption(CursorJson)

export const encodeCursor = (cursor: Cursor): string =>
  Keyset.encodeCursor(Schema.encodeSync(CursorJson)(["r1", cursor.createdAt, cursor.releaseId]))

const decodeCursor = (cursor: string): Cursor | undefined => {
  const text = Keyset.decodeCursor(cursor)
  if (text === undefined) return undefined
  return Option.getOrUndefined(Option.map(decodeCursorJson(text), ([, createdAt, releaseId]) => ({ createdAt, releaseId })))
}

/** A list query, checked: what every adapter refuses, and the page size and cursor it asks for. */
export interface ValidQuery {
  readonly teamId: string
  readonly workerId: string | undefined
  /** Distinct; empty: every status. */
  readonly statuses: ReadonlyArray<Release.Status>
  readonly limit: number
  readonly cursor: Cursor | undefined
}

const knownStatuses: ReadonlySet<string> = new Set(Release.statuses)

/** Checks what the types cannot: the page size, a cursor this port made, known statuses. */
export const validate = (query: ListQuery): Effect.Effect<ValidQuery, Keyset.InvalidQuery> =>
  Effect.gen(function*() {
    const invalid = (field: string, message: string) => Effect.fail(new Keyset.InvalidQuery({ field, message }))
    const limit = yield* Keyset.limit(query.limit)
    if (query.teamId === "") return yield* invalid("teamId", "must not be empty")
    const unknownStatus = query.statuses?.find((status) => !knownStatuses.has(status))
    if (unknownStatus !== undefined) {
      return yield* invalid("statuses", `unknown status ${JSON.stringify(unknownStatus)}; known: ${Release.statuses.join(", ")}`)
    }
    let cursor: Cursor | undefined
    if (query.cursor !== undefined) {
      cursor = decodeCursor(query.cursor)
      if (cursor === undefined) return yield* invalid("cursor", "is not a cursor this list handed out")
    }
    return { teamId: query.teamId, workerId: query.workerId, statuses: [...new Set(query.statuses ?? [])], limit, cursor }
  })

/**
 * The page of `limit` from rows fetched newest first, one more than the page when there is a
 * next page (so no second query is needed to know).
 */
export const page = (
  fetched: ReadonlyArray<ReleaseSummary.ReleaseSummary>,
  limit: number
): Page => {
  const last = fetched.length > limit ? fetched[limit - 1] : undefined
  return {
    summaries: fetched.slice(0, limit),
    nextCursor: last === undefined ? null : encodeCursor({ createdAt: Date.parse(last.createdAt), releaseId: last.id })
  }
}

/** Newest first by creation, then by id (greatest first): the order of every adapter's pages. */
const newestFirst = (a: ReleaseSummary.ReleaseSummary, b: ReleaseSummary.ReleaseSummary) =>
  Date.parse(b.createdAt) - Date.parse(a.createdAt) || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0)

/** Whether `summary` comes strictly after the cursor in the list's order. */
const after = (summary: ReleaseSummary.ReleaseSummary, cursor: Cursor) => {
  const createdAt = Date.parse(summary.createdAt)
  return createdAt < cursor.createdAt || (createdAt === cursor.createdAt && summary.id < cursor.releaseId)
}

/** The summaries in memory, folded from the `EventStore` in context (see `ReleaseProjection`). */
export const makeMemory: Effect.Effect<typeof ReleaseSummaries.Service, never, EventStore.EventStore> = Effect.gen(
  function*() {
    const projection = yield* ReleaseProjection.make
    return ReleaseSummaries.of({
      get: (teamId, releaseId) =>
        Effect.map(projection.catchUp, () =>
          Option.filter(
            Option.fromUndefinedOr(projection.summaries.get(releaseId)),
            (summary) => summary.teamId === teamId
          )),
      list: (query) =>
        Effect.gen(function*() {
          const valid = yield* validate(query)
          yield* projection.catchUp
          const statuses: ReadonlySet<string> = new Set(valid.statuses)
          const fetched = [...projection.summaries.values()]
            .filter((summary) =>
              summary.teamId === valid.teamId &&
              (valid.workerId === undefined || summary.workerId === valid.workerId) &&
              (statuses.size === 0 || statuses.has(summary.status)) &&
              (valid.cursor === undefined || after(summary, valid.cursor))
            )
            .sort(newestFirst)
            .slice(0, valid.limit + 1)
          return page(fetched, valid.limit)
        })
    })
  }
)

export const layerMemory: Layer.Layer<ReleaseSummaries, never, EventStore.EventStore> = Layer.effect(
  ReleaseSummaries,
  makeMemory
)
