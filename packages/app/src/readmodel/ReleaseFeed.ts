/**
 * ReleaseFeed port: a release's events as they are committed, by whichever process appends
 * them (the live stream of the release page). `follow(releaseId, afterVersion)` gives the
 * release's events after `afterVersion` in version order, then each new one, for as long as the
 * caller reads.
 *
 * Why polling with a cursor, not notifications: the one thing every storage can answer cheaply
 * is "this release's events after version v" (an index lookup on `(stream_id, stream_version)`
 * in Postgres), and a stream's versions commit in order (an append names the version it
 * follows), so a cursor on the version can neither skip nor repeat an event, whoever appended
 * it. A `NOTIFY` would need every writer (every server process, every library user's
 * orchestrator) to send it, and would put a commit-time lock on the append path. One poller per
 * process reads every followed release in one query per interval (`Store.readAfter`), however
 * many people watch, so the cost is the number of processes, not of viewers.
 *
 * Contract (`ReleaseFeedContract` in `@canaryroll/app/testing`): `readAfter` returns the
 * committed events after each cursor, in version order per release, none of another release;
 * `follow` delivers every event after its version exactly once, in order, including those
 * appended after it began and those appended by another process on the same storage.
 *
 * `make(store, options)` is the rule over a `Store` any storage keeps: `layerMemory` over the
 * `EventStore` in context, `PgReleaseFeed` in `@canaryroll/postgres` by SQL.
 *
 * @since 0.2.0
 */
import { EventStore } from "@canaryroll/core"
import { type Cause, Context, Duration, Effect, Layer, Queue, Schedule, Stream } from "effect"
import { StorageUnavailable } from "../Storage.ts"

/** Where a follower of one release stands: the last version it has. */
export interface Cursor {
  readonly releaseId: string
  readonly afterVersion: number
}

/** What a storage answers for the feed. */
export interface Store {
  /** The committed events of each release after its cursor's version, in version order per release. */
  readonly readAfter: (
    cursors: ReadonlyArray<Cursor>
  ) => Effect.Effect<ReadonlyArray<EventStore.RecordedEvent>, StorageUnavailable>
}

export interface Options {
  /** How often the process's poller reads the followed releases (default 250 ms). */
  readonly pollInterval?: Duration.Input | undefined
}

export const defaultPollInterval = Duration.millis(250)

export class ReleaseFeed extends Context.Service<ReleaseFeed, {
  /**
   * The release's events after `afterVersion`, in version order, then each one committed later.
   * Fails only at the start, when the storage cannot be read; once running it never fails (a
   * storage outage delays events, the poller retries) and never ends: the reader stops it.
   */
  readonly follow: (releaseId: string, afterVersion: number) => Stream.Stream<EventStore.RecordedEvent, StorageUnavailable>
  /** Reads the followed releases now (the poller does this every interval; tests need not wait). */
  readonly poll: Effect.Effect<void, StorageUnavailable>
  /**
   * Ends every follower's stream (after what it was already handed), and any later one at once:
   * the process is stopping, and an HTTP server waits for open responses before it stops. Also
   * done when the layer is released.
   */
  readonly close: Effect.Effect<void>
}>()("@canaryroll/app/ReleaseFeed") {}

/** The followers of one release in this process, and the last version the poller handed them. */
interface Followed {
  cursor: number
  readonly queues: Set<Queue.Queue<EventStore.RecordedEvent, Cause.Done>>
}

/**
 * The feed over `store`, with its poller running in the layer's scope. A follower registers
 * before it reads its backlog, so an event committed in between arrives by the poller if not in
 * the backlog; versions at or below the last one delivered are dropped, so none arrives twice.
 */
export const make = (store: Store, options: Options = {}) =>
  Effect.gen(function*() {
    const followed = new Map<string, Followed>()
    const interval = options.pollInterval ?? defaultPollInterval
    let closed = false
    const close = Effect.sync(() => {
      closed = true
      for (const entry of followed.values()) for (const queue of entry.queues) Queue.endUnsafe(queue)
    })
    yield* Effect.addFinalizer(() => close)

    const poll = Effect.gen(function*() {
      if (followed.size === 0) return
      const cursors = [...followed].map(([releaseId, entry]) => ({ releaseId, afterVersion: entry.cursor }))
      const events = yield* store.readAfter(cursors)
      for (const event of events) {
        const entry = followed.get(event.streamId)
        if (entry === undefined || event.version <= entry.cursor) continue
        entry.cursor = event.version
        for (const queue of entry.queues) Queue.offerUnsafe(queue, event)
      }
    })

    // One reading every interval while anyone follows. A failure (the storage down, an event that
    // no longer decodes) is logged once until a reading succeeds again, and never stops the poller:
    // the followers wait, and get what they missed from their cursor once it reads again.
    let failing = false
    yield* poll.pipe(
      Effect.tap(() => Effect.sync(() => (failing = false))),
      Effect.catchCause((cause) =>
        failing
          ? Effect.void
          : Effect.andThen(
            Effect.sync(() => (failing = true)),
            Effect.logWarning("release feed: reading the followed releases failed; retrying every interval", cause)
          )
      ),
      Effect.repeat(Schedule.spaced(interval)),
      Effect.forkScoped
    )

    const register = (releaseId: string, afterVersion: number) =>
      Effect.acquireRelease(
        Effect.gen(function*() {
          const queue = yield* Queue.unbounded<EventStore.RecordedEvent, Cause.Done>()
          const entry = followed.get(releaseId) ?? { cursor: afterVersion, queues: new Set() }
          entry.queues.add(queue)
          followed.set(releaseId, entry)
          return queue
        }),
        (queue) =>
          Effect.sync(() => {
            const entry = followed.get(releaseId)
            entry?.queues.delete(queue)
            if (entry !== undefined && entry.queues.size === 0) followed.delete(releaseId)
          })
      )

    const follow = (releaseId: string, afterVersion: number) =>
      Stream.unwrap(Effect.gen(function*() {
        if (closed) return Stream.empty
        const queue = yield* register(releaseId, afterVersion)
        const backlog = yield* store.readAfter([{ releaseId, afterVersion }])
        // The only follower: the poller need not read the backlog again. (With others, their
        // backlogs were read from their own versions, and this one's must not skip theirs.)
        const entry = followed.get(releaseId)
        const read = backlog.at(-1)?.version
        if (entry !== undefined && entry.queues.size === 1 && read !== undefined) entry.cursor = Math.max(entry.cursor, read)
        let last = afterVersion
        return Stream.fromIterable(backlog).pipe(
          Stream.concat(Stream.fromQueue(queue)),
          Stream.filter((event) => {
            if (event.streamId !== releaseId || event.version <= last) return false
            last = event.version
            return true
          })
        )
      }))

    return ReleaseFeed.of({ follow, poll, close })
  })

/** The committed events after each cursor, from an `EventStore` (the memory layer's store). */
export const storeFrom = (events: EventStore.EventStore["Service"]): Store => ({
  readAfter: (cursors) =>
    Effect.forEach(cursors, ({ afterVersion, releaseId }) =>
      Effect.map(events.readStream(releaseId), (stream) => stream.filter((event) => event.version > afterVersion))).pipe(
        Effect.map((perRelease) => perRelease.flat()),
        Effect.mapError((error) => new StorageUnavailable({ message: error.message }))
      )
})

/** The feed over the `EventStore` in context (memory, or any store without a layer of its own). */
export const layerMemory = (options: Options = {}): Layer.Layer<ReleaseFeed, never, EventStore.EventStore> =>
  Layer.effect(
    ReleaseFeed,
    Effect.gen(function*() {
      const events = yield* EventStore.EventStore
      return yield* make(storeFrom(events), options)
    })
  )
