/**
 * Waiting for a release to finish, the way the GitHub Action always has: read the release (and
 * its events, for progress) every poll interval until its status is terminal, or give up at the
 * deadline. Polling is the contract here: the public API has no push channel for this.
 *
 * The release runs on the server, not in this loop, and servers restart (several processes share
 * the work and are replaced one at a time), so no answer, a gateway's 502/504 or a 503 is waited
 * out until the deadline; only a refusal (4xx) or an answer that makes no sense ends the wait early.
 *
 * @since 0.1.0
 */
import { Clock, Duration, Effect, Schema } from "effect"
import { type Dashboard, Schemas } from "@canaryroll/api"
import * as CanaryRollApi from "./CanaryRollApi.ts"
import * as ReleaseProgress from "./ReleaseProgress.ts"

/** The deadline passed before the release finished; it carries on without us. */
export class WaitTimedOut extends Schema.TaggedError<WaitTimedOut>()("WaitTimedOut", {
  releaseId: Schema.String,
  /** The last status read; null when the server never answered. */
  status: Schema.NullOr(Schemas.Status),
  waitedSeconds: Schema.Number,
  /** Why the last poll got no answer, when it did not. */
  unavailable: Schema.NullOr(Schema.String)
}) {}

export interface Options {
  readonly pollInterval: Duration.Input
  readonly timeout: Duration.Input
  /** Called after every poll that got an answer. */
  readonly onProgress?: (progress: ReleaseProgress.ReleaseProgress, release: Schemas.PublicDeployment) => Effect.Effect<void>
  /**
   * Ends the wait when the release is paused (a person, a failed check or a drift must be dealt
   * with by someone), rather than waiting for it to finish. The GitHub Action waits through pauses,
   * as v1 did; `canaryroll release wait` stops.
   */
  readonly stopWhenPaused?: boolean
  /** Called when the server stops answering (once, until it answers again); the wait goes on. */
  readonly onUnavailable?: (error: CanaryRollApi.ApiError) => Effect.Effect<void>
}

/** Worth asking again: no answer at all, or a gateway's or an unavailable server's status. */
export const isTransient = CanaryRollApi.isTransient

const describe = (error: CanaryRollApi.ApiError) =>
  error._tag === "ApiRefused" ? `${error.message} (${error.status} ${error.code})` : error.message

/**
 * A release, its events and where it stands by the server's own reckoning (`progress`):
 * `undefined` from a server that does not have it (the hosted CanaryRoll, an older one), whose
 * progress is then read from the events (ReleaseProgress). The release and its events are
 * required; the progress is a nicety, never a reason to fail.
 */
export const read = (api: CanaryRollApi.CanaryRollApi, releaseId: string) =>
  Effect.gen(function*() {
    const release = yield* api.release(releaseId)
    const events = (yield* api.events(releaseId)).value
    const server = yield* api.progress(releaseId).pipe(
      Effect.map((answer): Dashboard.Progress | undefined => answer.value),
      Effect.orElseSucceed(() => undefined)
    )
    return { release, events, server }
  })

/** The release once it is terminal, or paused with `stopWhenPaused` (the server's answer, for `--json`). */
export const untilFinished = Effect.fnUntraced(function*(
  api: CanaryRollApi.CanaryRollApi,
  releaseId: string,
  options: Options
) {
  const startedAt = yield* Clock.currentTimeMillis
  const deadline = startedAt + Duration.toMillis(Duration.fromInputUnsafe(options.timeout))
  const interval = Duration.fromInputUnsafe(options.pollInterval)
  const poll = Effect.gen(function*() {
    if (options.onProgress === undefined) return { release: yield* api.release(releaseId), events: [], server: undefined }
    return yield* read(api, releaseId)
  })
  let status: Schemas.Status | null = null
  let unavailable: CanaryRollApi.ApiError | undefined
  while (true) {
    const polled = yield* Effect.result(poll)
    const now = yield* Clock.currentTimeMillis
    if (polled._tag === "Failure") {
      if (!isTransient(polled.failure)) return yield* Effect.fail(polled.failure)
      if (unavailable === undefined && options.onUnavailable !== undefined) yield* options.onUnavailable(polled.failure)
      unavailable = polled.failure
    } else {
      unavailable = undefined
      const { events, release } = polled.success
      status = release.value.status
      if (options.onProgress !== undefined) {
        yield* options.onProgress(ReleaseProgress.of(release.value, events, now, polled.success.server), release.value)
      }
      if (Schemas.isTerminal(release.value.status)) return release
      if (options.stopWhenPaused === true && release.value.status === "paused") return release
    }
    if (now >= deadline) {
      return yield* new WaitTimedOut({
        releaseId,
        status,
        waitedSeconds: Math.round((now - startedAt) / 1000),
        unavailable: unavailable === undefined ? null : describe(unavailable)
      })
    }
    yield* Effect.sleep(Duration.min(interval, Duration.millis(Math.max(0, deadline - now))))
  }
})
