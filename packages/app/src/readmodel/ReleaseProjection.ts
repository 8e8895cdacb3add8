/**
 * The release read models in memory: the release summaries and the release audit entries,
 * folded with the core's folds (`ReleaseSummary.evolve`, `AuditEntry.evolveContext` and
 * `fromEvent`) from the log of the `EventStore` in context, as Postgres's `PgReadModels` folds
 * them in the append's transaction.
 *
 * The memory layers of `ReleaseSummaries` and `AuditLog` read through one of these: before
 * answering they fold every event appended since the last one folded (`catchUp`, a checkpoint on
 * the global position), so a reader sees every append that finished before its call, as on
 * Postgres, and the memory layers need no hook in the store: any `EventStore` feeds them.
 *
 * @since 0.2.0
 */
import { AuditEntry, EventStore, ReleaseSummary } from "@canaryroll/core"
import { Effect, Semaphore } from "effect"
import { StorageUnavailable } from "../Storage.ts"

/** A release event's audit entry and its event's global position (the audit log's tie-break). */
export interface PositionedEntry {
  readonly entry: AuditEntry.AuditEntry
  readonly position: bigint
}

export interface ReleaseProjection {
  /** Folds every event appended since the last call; readers call it before reading. */
  readonly catchUp: Effect.Effect<void, StorageUnavailable>
  /** Every release's summary, by release id. */
  readonly summaries: ReadonlyMap<string, ReleaseSummary.ReleaseSummary>
  /** Every release event's audit entry, in position order. */
  readonly entries: ReadonlyArray<PositionedEntry>
}

/** Events read from the log per read while catching up. */
const batchSize = 1_000

interface Stream {
  readonly summary: ReleaseSummary.ReleaseSummary | undefined
  readonly context: AuditEntry.Context | undefined
}

/** An empty projection over the `EventStore` in context; it folds on its first `catchUp`. */
export const make: Effect.Effect<ReleaseProjection, never, EventStore.EventStore> = Effect.gen(function*() {
  const store = yield* EventStore.EventStore
  const lock = yield* Semaphore.make(1)
  const streams = new Map<string, Stream>()
  const summaries = new Map<string, ReleaseSummary.ReleaseSummary>()
  const entries: Array<PositionedEntry> = []
  let checkpoint = 0

  const fold = (recorded: EventStore.RecordedEvent) => {
    const stream = streams.get(recorded.streamId)
    const context = AuditEntry.evolveContext(stream?.context, recorded.event)
    const summary = ReleaseSummary.evolve(stream?.summary, recorded.event)
    streams.set(recorded.streamId, { context, summary })
    if (summary !== undefined) summaries.set(recorded.streamId, summary)
    if (context !== undefined) {
      entries.push({ entry: AuditEntry.fromEvent(context, recorded.id, recorded.event), position: BigInt(recorded.position) })
    }
    checkpoint = recorded.position
  }

  // One catch-up at a time: two readers must not fold the same events twice.
  const catchUp = lock.withPermits(1)(Effect.gen(function*() {
    while (true) {
      const batch = yield* store.readAll(checkpoint, batchSize)
      for (const recorded of batch) fold(recorded)
      if (batch.length < batchSize) return
    }
  })).pipe(
    Effect.catchTag("EventStoreUnavailable", (error) => Effect.fail(new StorageUnavailable({ message: error.message })))
  )

  return { catchUp, summaries, entries }
})
