/**
 * Scheduler port: a due time per release, nothing more. What to do when it falls due is always
 * recomputed from the release's events (`NextAction`), so a lost or duplicated wake-up is harmless.
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

export class Scheduler extends Context.Service<Scheduler, {
  /** Sets (or replaces) the release's due time. */
  readonly schedule: (releaseId: string, dueAt: number) => Effect.Effect<void, SchedulerUnavailable>
  readonly unschedule: (releaseId: string) => Effect.Effect<void, SchedulerUnavailable>
  /** Releases due at or before `now`, earliest first, at most `limit`. */
  readonly due: (now: number, limit: number) => Effect.Effect<ReadonlyArray<Due>, SchedulerUnavailable>
  /** The earliest due time, if any release is scheduled. */
  readonly nextDueAt: Effect.Effect<Option.Option<number>, SchedulerUnavailable>
}>()("@canaryroll/core/Scheduler") {}

export const makeMemory = Effect.sync(() => {
  const dueTimes = new Map<string, number>()
  const sorted = () => [...dueTimes].map(([releaseId, dueAt]) => ({ releaseId, dueAt })).sort((a, b) => a.dueAt - b.dueAt)
  return Scheduler.of({
    schedule: (releaseId, dueAt) => Effect.sync(() => void dueTimes.set(releaseId, dueAt)),
    unschedule: (releaseId) => Effect.sync(() => void dueTimes.delete(releaseId)),
    due: (now, limit) => Effect.sync(() => sorted().filter((d) => d.dueAt <= now).slice(0, limit)),
    nextDueAt: Effect.sync(() => {
      let earliest: number | undefined
      for (const dueAt of dueTimes.values()) if (earliest === undefined || dueAt < earliest) earliest = dueAt
      return Option.fromUndefinedOr(earliest)
    })
  })
})

export const layerMemory = Layer.effect(Scheduler, makeMemory)
