/**
 * HealthSource port: per-version request and error counts for a time window. On Cloudflare this
 * is the GraphQL Analytics API grouped by script version.
 *
 * @since 0.1.0
 */
import { Context, Effect, Layer, Schema } from "effect"
import type { VersionSample, Window } from "./HealthCheck.ts"
import type { WorkerTarget } from "./TrafficRouter.ts"

export interface SampleRequest {
  readonly target: WorkerTarget
  readonly window: Window
  readonly versionIds: ReadonlyArray<string>
}

/** Analytics could not answer (unreachable, over budget): the check is inconclusive, never unhealthy. */
export class HealthSourceUnavailable extends Schema.TaggedError<HealthSourceUnavailable>()("HealthSourceUnavailable", {
  message: Schema.String
}) {}

export class HealthSource extends Context.Service<HealthSource, {
  /** One sample per requested version; a version with no traffic gets zero requests. */
  readonly sample: (
    request: SampleRequest
  ) => Effect.Effect<ReadonlyMap<string, VersionSample>, HealthSourceUnavailable>
}>()("@canaryroll/core/HealthSource") {}

/** A fixed answer per version id: enough for unit tests; the harness scripts traffic over time. */
export const makeMemory = (samples: ReadonlyMap<string, VersionSample>) =>
  HealthSource.of({
    sample: (request) =>
      Effect.succeed(
        new Map(request.versionIds.map((id) => [id, samples.get(id) ?? { requests: 0, errors: 0 }] as const))
      )
  })

export const layerMemory = (samples: ReadonlyMap<string, VersionSample>) =>
  Layer.succeed(HealthSource, makeMemory(samples))
