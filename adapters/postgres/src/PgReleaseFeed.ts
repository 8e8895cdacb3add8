/**
 * PgReleaseFeed: the `ReleaseFeed` port of `@canaryroll/app` on the `events` table. The
 * process's poller reads every release someone follows in one statement per interval: each
 * followed release's events after its cursor, an index lookup on `(stream_id, stream_version)`
 * (the table's unique key) per release. Events appended by any process on the database are seen
 * once committed; a stream's versions commit in order, so the version cursor neither skips nor
 * repeats one (the global log's gap-safe reading is not needed here). Nothing is written: the
 * append path is untouched.
 *
 * @since 0.1.0
 */
import { ReleaseFeed } from "@canaryroll/app"
import { PgTypes } from "@effect/sql-pg"
import { Effect, Layer, Result } from "effect"
import { SqlClient } from "effect/sql"
import { type EventRow, toRecorded } from "./PgEventStore.ts"
import { unavailable } from "./PgReadModels.ts"

/** Typed array parameters (the driver would bind an empty array untyped). */
const textArray = (values: ReadonlyArray<string>) => Result.getOrThrow(PgTypes.array(values, PgTypes.OID.text))
const intArray = (values: ReadonlyArray<number>) => Result.getOrThrow(PgTypes.array(values, PgTypes.OID.int4))

/** The feed's reads over the `SqlClient` in context. */
export const makeStore: Effect.Effect<ReleaseFeed.Store, never, SqlClient.SqlClient> = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  return {
    readAfter: (cursors) =>
      cursors.length === 0 ? Effect.succeed([]) : sql<EventRow>`
        SELECT e.position, e.stream_id, e.stream_version, e.data::text AS data, e.recorded_at
        FROM unnest(${textArray(cursors.map((cursor) => cursor.releaseId))}::text[],
                    ${intArray(cursors.map((cursor) => cursor.afterVersion))}::int[]) AS followed(stream_id, after_version)
        JOIN events e ON e.stream_id = followed.stream_id AND e.stream_version > followed.after_version
        ORDER BY e.stream_id, e.stream_version`.pipe(
        Effect.mapError(unavailable),
        Effect.flatMap((rows) => Effect.forEach(rows, toRecorded))
      )
  }
})

/** The feed on the database, its poller running in the layer's scope; run `Migrations` first. */
export const layer = (options: ReleaseFeed.Options = {}): Layer.Layer<ReleaseFeed.ReleaseFeed, never, SqlClient.SqlClient> =>
  Layer.effect(ReleaseFeed.ReleaseFeed, Effect.flatMap(makeStore, (store) => ReleaseFeed.make(store, options)))
