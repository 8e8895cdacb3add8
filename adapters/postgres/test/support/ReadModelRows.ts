/**
 * What the read models' tests assert about the rows: every row as the database renders it (to
 * compare with what a rebuild gives), and each release's rows against the core's folds over its
 * stream as stored.
 */
import { AuditLog, Keyset, ReleaseSummaries } from "@canaryroll/app"
import { AuditEntry, EventStore, ReleaseSummary } from "@canaryroll/core"
import { assert } from "@effect/vitest"
import { Effect, Option } from "effect"
import { SqlClient } from "effect/sql"

/** Every row of both read models, as the database renders them. */
export const snapshot = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  const summaries = yield* sql<{ row: unknown }>`SELECT to_jsonb(s) AS row FROM release_summaries s ORDER BY release_id`
  const audit = yield* sql<{ row: unknown }>`SELECT to_jsonb(a) AS row FROM audit_log a ORDER BY id`
  return { summaries: summaries.map((r) => r.row), audit: audit.map((r) => r.row) }
})

/** The release's audit entries, oldest first, through the query service. */
export const auditOf = (teamId: string, releaseId: string) =>
  Effect.gen(function*() {
    const log = yield* AuditLog.AuditLog
    const page = yield* log.page({ teamId, releaseId, limit: Keyset.maxLimit })
    assert.isNull(page.nextCursor, "a test release fits one page")
    return [...page.entries].reverse()
  })

/** Asserts that each stream's rows are the core's folds over the stream as stored. */
export const assertFoldsOfStreams = (streamIds: Iterable<string>) =>
  Effect.gen(function*() {
    const store = yield* EventStore.EventStore
    const summaries = yield* ReleaseSummaries.ReleaseSummaries
    for (const streamId of streamIds) {
      const stream = yield* store.readStream(streamId)
      const expected = ReleaseSummary.project(stream.map((recorded) => recorded.event))!
      assert.deepStrictEqual(yield* summaries.get(expected.teamId, streamId), Option.some(expected), streamId)
      assert.deepStrictEqual(yield* auditOf(expected.teamId, streamId), [...AuditEntry.project(stream)], streamId)
    }
  })
