/**
 * ActiveReleases port: which release holds each Worker. At most one release is in progress or
 * paused per Worker: a release claims its Worker before it starts (and when it resumes) and frees
 * it when it ends. The orchestrator consults it, so every runtime and every library user gets the
 * rule, not only the HTTP server.
 *
 * Contract (the `ActiveReleasesContract` suite in `@canaryroll/core/testing`):
 * - `claim` is atomic: of many releases claiming a free Worker at once, exactly one wins; the
 *   others fail with `WorkerBusy` naming the holder. Claiming again by the holder succeeds.
 * - `claim` with `replacing` takes the Worker over only if that release still holds it (compare
 *   and set): the orchestrator replaces a holder that ended, or a start that died half-way.
 * - `free` by the holder frees the Worker; by anyone else it does nothing.
 *
 * @since 0.2.0
 */
import { Context, Effect, Layer, Option, Schema } from "effect"

export interface Holder {
  readonly releaseId: string
  /** When the holder claimed the Worker. */
  readonly since: number
}

export class WorkerBusy extends Schema.TaggedError<WorkerBusy>()("WorkerBusy", {
  workerId: Schema.String,
  holder: Schema.String,
  since: Schema.Finite,
  message: Schema.String
}) {}

export class ActiveReleasesUnavailable extends Schema.TaggedError<ActiveReleasesUnavailable>()(
  "ActiveReleasesUnavailable",
  { message: Schema.String }
) {}

export interface ClaimOptions {
  /** Take the Worker over from this release, if it still holds it. */
  readonly replacing?: string | undefined
}

export class ActiveReleases extends Context.Service<ActiveReleases, {
  readonly claim: (
    workerId: string,
    releaseId: string,
    now: number,
    options?: ClaimOptions
  ) => Effect.Effect<void, WorkerBusy | ActiveReleasesUnavailable>
  readonly free: (workerId: string, releaseId: string) => Effect.Effect<void, ActiveReleasesUnavailable>
  readonly holder: (workerId: string) => Effect.Effect<Option.Option<Holder>, ActiveReleasesUnavailable>
}>()("@canaryroll/core/ActiveReleases") {}

export const busy = (workerId: string, holder: Holder): WorkerBusy =>
  new WorkerBusy({
    workerId,
    holder: holder.releaseId,
    since: holder.since,
    message: `another release of this Worker is in progress or paused (${holder.releaseId}); finish, roll back or cancel it first`
  })

/** In memory: one map, every call a single synchronous step (so claims are atomic). */
export const makeMemory = Effect.sync(() => {
  const holders = new Map<string, Holder>()
  return ActiveReleases.of({
    claim: (workerId, releaseId, now, options) =>
      Effect.suspend(() => {
        const current = holders.get(workerId)
        if (current === undefined || current.releaseId === releaseId || current.releaseId === options?.replacing) {
          if (current?.releaseId !== releaseId) holders.set(workerId, { releaseId, since: now })
          return Effect.void
        }
        return Effect.fail(busy(workerId, current))
      }),
    free: (workerId, releaseId) =>
      Effect.sync(() => {
        if (holders.get(workerId)?.releaseId === releaseId) holders.delete(workerId)
      }),
    holder: (workerId) => Effect.sync(() => Option.fromUndefinedOr(holders.get(workerId)))
  })
})

export const layerMemory: Layer.Layer<ActiveReleases> = Layer.effect(ActiveReleases, makeMemory)
