/**
 * PgReleaseSummaries: releases as the core's `ReleaseSummary` (the API's Deployment), read from
 * `release_summaries` (kept by `PgReadModels`): one by id, or a team's, newest first, filtered by
 * Worker and status, keyset-paginated on `(created_at, release_id)` like the audit log.
 *
 * `byId` does not check the team: a caller acting for a team compares the summary's `teamId`
 * (and answers "not found" when it differs, so ids of other teams' releases are not revealed).
 *
 * @since 0.1.0
 */
import { Release, type ReleaseSummary } from "@canaryroll/core"
import { Context, Effect, Layer, Option, Schema } from "effect"
import { SqlClient } from "effect/sql"
import { InvalidQuery, type ReadModelUnavailable, unavailable } from "./PgReadModels.ts"

export interface ListQuery {
  /** Required: releases are listed one team at a time. */
  readonly teamId: string
  readonly workerId?: string | undefined
  /** Releases in any of these statuses; absent or empty: every status. */
  readonly statuses?: ReadonlyArray<Release.Status> | undefined
  /** At most `maxLimit`; default `defaultLimit`. */
  readonly limit?: number | undefined
  /** A previous page's `nextCursor`: this page continues after it. */
  readonly cursor?: string | undefined
}

export interface Page {
  /** Newest (by creation) first. */
  readonly summaries: ReadonlyArray<ReleaseSummary.ReleaseSummary>
  /** Where the next page starts; `null` on the last page. */
  readonly nextCursor: string | null
}

export const defaultLimit = 50
export const maxLimit = 200

export class PgReleaseSummaries extends Context.Service<PgReleaseSummaries, {
  readonly byId: (
    releaseId: string
  ) => Effect.Effect<Option.Option<ReleaseSummary.ReleaseSummary>, ReadModelUnavailable>
  readonly list: (query: ListQuery) => Effect.Effect<Page, InvalidQuery | ReadModelUnavailable>
}>()("@canaryroll/postgres/PgReleaseSummaries") {}

interface Cursor {
  readonly createdAt: number
  readonly releaseId: string
}

// Opaque to clients (they only hand it back), versioned in case the order ever changes.
const CursorJson = Schema.fromJsonString(Schema.Tuple([Schema.Literal("r1"), Schema.Int, Schema.String]))

const encodeCursor = (cursor: Cursor): string =>
  Buffer.from(Schema.encodeSync(CursorJson)(["r1", cursor.createdAt, cursor.releaseId])).toString("base64url")

const decodeCursor = (cursor: string): Cursor | undefined =>
  Option.getOrUndefined(
    Option.map(
      Schema.decodeUnknownOption(CursorJson)(Buffer.from(cursor, "base64url").toString()),
      ([, createdAt, releaseId]) => ({ createdAt, releaseId })
    )
  )

interface SummaryRow {
  readonly release_id: string
  readonly created_at: Date
  /** jsonb, parsed by the driver: written by `PgReadModels` from the core's fold. */
  readonly summary: ReleaseSummary.ReleaseSummary
}

const knownStatuses: ReadonlySet<string> = new Set(Release.statuses)

const validate = (query: ListQuery) =>
  Effect.gen(function*() {
    const invalid = (field: string, message: string) => Effect.fail(new InvalidQuery({ field, message }))
    const limit = query.limit ?? defaultLimit
    if (!Number.isInteger(limit) || limit < 1 || limit > maxLimit) {
      return yield* invalid("limit", `must be an integer from 1 to ${maxLimit}, got ${limit}`)
    }
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
    return { limit, cursor, statuses: [...new Set(query.statuses ?? [])] }
  })

/** The summaries over the `SqlClient` in context; run `Migrations` first. */
export const make: Effect.Effect<typeof PgReleaseSummaries.Service, never, SqlClient.SqlClient> = Effect.gen(
  function*() {
    const sql = yield* SqlClient.SqlClient

    const list = (query: ListQuery) =>
      Effect.gen(function*() {
        const { cursor, limit, statuses } = yield* validate(query)
        const conditions = [
          sql`team_id = ${query.teamId}`,
          ...(query.workerId === undefined ? [] : [sql`worker_id = ${query.workerId}`]),
          ...(statuses.length === 0
            ? []
            : statuses.length === 1
            ? [sql`status = ${statuses[0]!}`]
            : [sql`status = ANY(${statuses})`]),
          ...(cursor === undefined
            ? []
            : [sql`(created_at, release_id) < (${new Date(cursor.createdAt)}, ${cursor.releaseId})`])
        ]
        // One more than the page: whether there is a next page, without a second query.
        const rows = yield* sql<SummaryRow>`
          SELECT release_id, created_at, summary FROM release_summaries WHERE ${sql.and(conditions)}
          ORDER BY created_at DESC, release_id DESC LIMIT ${limit + 1}`
        const last = rows.length > limit ? rows[limit - 1]! : undefined
        return {
          summaries: rows.slice(0, limit).map((row) => row.summary),
          nextCursor: last === undefined
            ? null
            : encodeCursor({ createdAt: last.created_at.getTime(), releaseId: last.release_id })
        }
      })

    return PgReleaseSummaries.of({
      byId: (releaseId) =>
        sql<SummaryRow>`SELECT release_id, created_at, summary FROM release_summaries WHERE release_id = ${releaseId}`
          .pipe(
            Effect.map((rows) => Option.fromNullishOr(rows[0]?.summary)),
            Effect.mapError(unavailable)
          ),
      list: (query) => list(query).pipe(Effect.catchTag("SqlError", (error) => Effect.fail(unavailable(error))))
    })
  }
)

export const layer: Layer.Layer<PgReleaseSummaries, never, SqlClient.SqlClient> = Layer.effect(PgReleaseSummaries, make)
