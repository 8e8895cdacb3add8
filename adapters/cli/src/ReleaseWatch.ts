/**
 * Waiting for a release to finish, the way the GitHub Action always has: read the release (and
 * its events, for progress) every poll interval until its status is terminal, or give up at the
 * deadline. Polling is the contract here: the public API has no push channel for this.
 *
 * @since 0.1.0
 */
import { Clock, Duration, Effect, Schema } from "effect"
import * as ApiShapes from "./ApiShapes.ts"
import type * as CanaryRollApi from "./CanaryRollApi.ts"
import * as ReleaseProgress from "./ReleaseProgress.ts"

/** The deadline passed before the release finished; it carries on without us. */
export class WaitTimedOut extends Schema.TaggedError<WaitTimedOut>()("WaitTimedOut", {
  releaseId: Schema.String,
  status: ApiShapes.Status,
  waitedSeconds: Schema.Number
}) {}

export interface Options {
  readonly pollInterval: Duration.Input
  readonly timeout: Duration.Input
  /** Called after every poll. */
  readonly onProgress?: (progress: ReleaseProgress.ReleaseProgress, release: ApiShapes.Deployment) => Effect.Effect<void>
}

export const untilFinished = Effect.fnUntraced(function*(
  api: CanaryRollApi.CanaryRollApi,
  releaseId: string,
  options: Options
) {
  const startedAt = yield* Clock.currentTimeMillis
  const deadline = startedAt + Duration.toMillis(Duration.fromInputUnsafe(options.timeout))
  const interval = Duration.fromInputUnsafe(options.pollInterval)
  while (true) {
    const release = (yield* api.release(releaseId)).value
    const now = yield* Clock.currentTimeMillis
    if (options.onProgress !== undefined) {
      const events = (yield* api.events(releaseId)).value
      yield* options.onProgress(ReleaseProgress.of(release, events, now), release)
    }
    if (ApiShapes.isTerminal(release.status)) return release
    if (now >= deadline) {
      return yield* new WaitTimedOut({ releaseId, status: release.status, waitedSeconds: Math.round((now - startedAt) / 1000) })
    }
    yield* Effect.sleep(Duration.min(interval, Duration.millis(Math.max(0, deadline - now))))
  }
})
