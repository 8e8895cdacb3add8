/**
 * TrafficRouter port: read a Worker's live split and apply a new one. On Cloudflare this is the
 * deployments API; the orchestrator always reads before it writes, which is how it detects drift
 * and how a retried step finds its own earlier deployment instead of creating a second one.
 *
 * @since 0.1.0
 */
import { Context, Effect, Layer, Schema } from "effect"
import * as TrafficSplit from "./TrafficSplit.ts"

/** The Worker a release moves: a script in a Cloudflare account. */
export interface WorkerTarget {
  readonly accountId: string
  readonly scriptName: string
}

export const targetKey = (target: WorkerTarget): string => `${target.accountId}/${target.scriptName}`

/**
 * `transient` (5xx, timeouts) and `rate_limited` are retried with backoff; `credentials` pauses the
 * release for a person; `permanent` (400) and `not_found` fail it.
 */
export class TrafficRouterError extends Schema.TaggedError<TrafficRouterError>()("TrafficRouterError", {
  kind: Schema.Literals(["transient", "rate_limited", "permanent", "not_found", "credentials"]),
  message: Schema.String,
  retryAfterSeconds: Schema.optionalKey(Schema.Finite)
}) {}

export interface ApplyOptions {
  /** Shown on the Cloudflare deployment (`workers/message`): which release and step made it. */
  readonly message: string
}

export class TrafficRouter extends Context.Service<TrafficRouter, {
  readonly readActive: (target: WorkerTarget) => Effect.Effect<TrafficSplit.ActiveDeployment, TrafficRouterError>
  readonly apply: (
    target: WorkerTarget,
    split: TrafficSplit.TrafficSplit,
    options: ApplyOptions
  ) => Effect.Effect<TrafficSplit.ActiveDeployment, TrafficRouterError>
}>()("@canaryroll/core/TrafficRouter") {}

export interface MemoryRouter {
  readonly router: TrafficRouter["Service"]
  /** Every deployment made on a Worker, oldest first (the last one is live). */
  readonly deployments: (target: WorkerTarget) => ReadonlyArray<TrafficSplit.ActiveDeployment & { readonly message: string }>
  /** Creates a deployment as if someone ran `wrangler versions deploy` by hand. */
  readonly deployOutOfBand: (target: WorkerTarget, split: TrafficSplit.TrafficSplit) => TrafficSplit.ActiveDeployment
}

/** A Cloudflare-like router in memory: at most two versions, percentages summing to 100. */
export const makeMemory = (
  workers: ReadonlyArray<WorkerTarget & { readonly liveVersionId: string }>
): MemoryRouter => {
  const history = new Map<string, Array<TrafficSplit.ActiveDeployment & { readonly message: string }>>()
  let counter = 0
  const deploy = (target: WorkerTarget, split: TrafficSplit.TrafficSplit, message: string) => {
    const deployment = { deploymentId: `deployment-${++counter}`, split, message }
    const list = history.get(targetKey(target)) ?? []
    list.push(deployment)
    history.set(targetKey(target), list)
    return { deploymentId: deployment.deploymentId, split }
  }
  for (const worker of workers) deploy(worker, TrafficSplit.whole(worker.liveVersionId), "initial")
  const live = (target: WorkerTarget): Effect.Effect<TrafficSplit.ActiveDeployment, TrafficRouterError> => {
    const list = history.get(targetKey(target))
    const last = list?.[list.length - 1]
    return last === undefined
      ? Effect.fail(new TrafficRouterError({ kind: "not_found", message: `Worker ${targetKey(target)} not found` }))
      : Effect.succeed({ deploymentId: last.deploymentId, split: last.split })
  }
  return {
    router: TrafficRouter.of({
      readActive: live,
      apply: (target, split, options) =>
        live(target).pipe(Effect.flatMap(() => {
          const invalid = TrafficSplit.invalidReason(split)
          return invalid === undefined
            ? Effect.sync(() => deploy(target, split, options.message))
            : Effect.fail(new TrafficRouterError({ kind: "permanent", message: invalid }))
        }))
    }),
    deployments: (target) => history.get(targetKey(target)) ?? [],
    deployOutOfBand: (target, split) => deploy(target, split, "deployed by hand")
  }
}

export const layerMemory = (workers: ReadonlyArray<WorkerTarget & { readonly liveVersionId: string }>) =>
  Layer.sync(TrafficRouter, () => makeMemory(workers).router)
