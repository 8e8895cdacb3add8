/**
 * Scheduler port: a due time per release, and leases so that several processes can share the
 * work. What to do when a release falls due is always recomputed from its events (`NextAction`),
 * so a lost or duplicated wake-up is harmless; the lease only keeps two processes from working on
 * the same release at once.
 *
 * Contract (see the `SchedulerContract` suite in `@canaryroll/core/testing`):
 * - `claim` returns due releases (earliest first) that nobody holds a live lease on (not even
 *   `owner`: a release it is still stepping is not handed to it twice), and
 *   leases them to `owner` until `now + leaseMs`; an expired lease can be claimed by anyone.
 * - `schedule` sets the next due time. Called by the lease's holder (`owner`), it also ends the
 *   lease: the step that held it is done. Called by anyone else (a person's request handled
 *   while another process is mid-step), it leaves the lease alone, so two processes never step
 *   the same release at once.
 * - `renew` extends the owner's leases while a step runs; `release` gives them up (shutdown).
 * - `due` only looks: it neither claims nor consumes.
 *
 * @since 0.1.0
 */
import { Context, Effect, Layer, Option, Schema } from "effect"

export class SchedulerUnavailable extends Schema.TaggedError<SchedulerUnavailable>()("SchedulerUnavailable", {
  message: Schema.String
}) {}

export interface Due {
  readonly releaseId: string
  readonly dueAt: number
}

/** Ten seconds: long enough for a step's Cloudflare calls, short enough to recover quickly. */
export const defaultLeaseMs = 10_000

export class Scheduler extends Context.Service<Scheduler, {
  /** Sets (or replaces) the release's due time; ends the lease if `owner` holds it. */
  readonly schedule: (releaseId: string, dueAt: number, owner?: string) => Effect.Effect<void, SchedulerUnavailable>
  readonly unschedule: (releaseId: string) => Effect.Effect<void, SchedulerUnavailable>
  /** Releases due at or before `now`, earliest first, at most `limit`; leased or not. */
  readonly due: (now: number, limit: number) => Effect.Effect<ReadonlyArray<Due>, SchedulerUnavailable>
  /** Due releases nobody else holds, leased to `owner` until `now + leaseMs`. */
  readonly claim: (
    owner: string,
    now: number,
    limit: number,
    leaseMs: number
  ) => Effect.Effect<ReadonlyArray<Due>, SchedulerUnavailable>
  /** Extends `owner`'s leases on these releases to `now + leaseMs`. */
  readonly renew: (
    owner: string,
    releaseIds: ReadonlyArray<string>,
    now: number,
    leaseMs: number
  ) => Effect.Effect<void, SchedulerUnavailable>
  /** Gives up `owner`'s leases on these releases (a graceful shutdown): they are due again at once. */
  readonly release: (owner: string, releaseIds: ReadonlyArray<string>) => Effect.Effect<void, SchedulerUnavailable>
  /** The earliest due time, if any release is scheduled. */
  readonly nextDueAt: Effect.Effect<Option.Option<number>, SchedulerUnavailable>
}>()("@canaryroll/core/Scheduler") {}

interface Entry {
  dueAt: number
  lease: { readonly owner: string; until: number } | undefined
}

export const makeMemory = Effect.sync(() => {
  const entries = new Map<string, Entry>()
  const dueAt = (now: number) =>
    [...entries]
      .filter(([, entry]) => entry.dueAt <= now)
      .map(([releaseId, entry]) => ({ releaseId, dueAt: entry.dueAt, entry }))
      .sort((a, b) => a.dueAt - b.dueAt)
  return Scheduler.of({
    schedule: (releaseId, at, owner) =>
      Effect.sync(() => {
        const lease = entries.get(releaseId)?.lease
        entries.set(releaseId, { dueAt: at, lease: lease !== undefined && lease.owner !== owner ? lease : undefined })
      }),
    unschedule: (releaseId) => Effect.sync(() => void entries.delete(releaseId)),
    due: (now, limit) => Effect.sync(() => dueAt(now).slice(0, limit).map(({ releaseId, dueAt }) => ({ releaseId, dueAt }))),
    claim: (owner, now, limit, leaseMs) =>
      Effect.sync(() =>
        dueAt(now)
          .filter(({ entry }) => entry.lease === undefined || entry.lease.until <= now)
          .slice(0, limit)
          .map(({ releaseId, dueAt, entry }) => {
            entry.lease = { owner, until: now + leaseMs }
            return { releaseId, dueAt }
          })
      ),
    renew: (owner, releaseIds, now, leaseMs) =>
      Effect.sync(() => {
        for (const releaseId of releaseIds) {
          const lease = entries.get(releaseId)?.lease
          if (lease?.owner === owner) lease.until = now + leaseMs
        }
      }),
    release: (owner, releaseIds) =>
      Effect.sync(() => {
        for (const releaseId of releaseIds) {
          const entry = entries.get(releaseId)
          if (entry?.lease?.owner === owner) entry.lease = undefined
        }
      }),
    nextDueAt: Effect.sync(() => {
      let earliest: number | undefined
      for (const entry of entries.values()) if (earliest === undefined || entry.dueAt < earliest) earliest = entry.dueAt
      return Option.fromUndefinedOr(earliest)
    })
  })
})

export const layerMemory = Layer.effect(Scheduler, makeMemory)
