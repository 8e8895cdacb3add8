/**
 * A fleet of Cloudflare Workers in memory: each Worker's versions, its deployment history, the
 * traffic it receives and each version's error rate over time. It behaves like Cloudflare where
 * CanaryRoll can tell (at most two versions per deployment, percentages summing to 100, unknown
 * versions refused, hand-made deployments possible) and it can be told to fail.
 *
 * It provides the TrafficRouter and HealthSource ports. Analytics are computed, not sampled: the
 * requests a version served in a window are the Worker's request rate times the share each
 * deployment gave that version while it was live, so results are exact and reproducible.
 *
 * @since 0.1.0
 */
import { HealthCheck, HealthSource, TrafficHistory, TrafficRouter, TrafficSplit } from "@canaryroll/core"
import { Clock, Effect } from "effect"

/** A constant fraction (0.05 = 5%), or one that changes with the seconds since the fleet started. */
export type ErrorRate = number | ((elapsedSeconds: number) => number)
export type RequestRate = number | ((elapsedSeconds: number) => number)

export interface WorkerOptions {
  readonly accountId?: string | undefined
  readonly scriptName: string
  readonly liveVersionId: string
  /** Requests per minute across all versions (default 600). */
  readonly requestsPerMinute?: RequestRate | undefined
  /**
   * Error rate per version id. Like Cloudflare, the fleet refuses to deploy a version it does not
   * know: list every version a release will use here, or add it with `addVersion`.
   */
  readonly errorRates?: Readonly<Record<string, ErrorRate>> | undefined
}

export interface Deployment extends TrafficSplit.ActiveDeployment {
  readonly createdAt: number
  readonly message: string
  readonly source: "api" | "out_of_band"
}

interface Worker {
  readonly target: TrafficRouter.WorkerTarget
  requestsPerMinute: RequestRate
  readonly errorRates: Map<string, ErrorRate>
  readonly deployments: Array<Deployment>
}

export type RouterOperation = "read" | "apply"

interface RouterFault {
  readonly operation: RouterOperation | "any"
  remaining: number
  readonly error: TrafficRouter.TrafficRouterError
  /** The deployment is created but the caller hears a failure (a lost response). */
  readonly afterWrite: boolean
}

export const defaultAccountId = "acc_harness"

const rateAt = (rate: ErrorRate | RequestRate, elapsedSeconds: number) =>
  typeof rate === "function" ? rate(elapsedSeconds) : rate

export interface WorkerFleet {
  readonly startedAt: number
  readonly addWorker: (options: WorkerOptions) => Effect.Effect<TrafficRouter.WorkerTarget>
  readonly addVersion: (target: TrafficRouter.WorkerTarget, versionId: string, errorRate?: ErrorRate) => void
  readonly setErrorRate: (target: TrafficRouter.WorkerTarget, versionId: string, errorRate: ErrorRate) => void
  readonly setRequestRate: (target: TrafficRouter.WorkerTarget, requestsPerMinute: RequestRate) => void
  /** Every deployment of the Worker, oldest first; the last one is live. */
  readonly deployments: (target: TrafficRouter.WorkerTarget) => ReadonlyArray<Deployment>
  /** A deployment made behind CanaryRoll's back, as `wrangler versions deploy` would. */
  readonly deployOutOfBand: (
    target: TrafficRouter.WorkerTarget,
    split: TrafficSplit.TrafficSplit
  ) => Effect.Effect<Deployment>
  /** The next `times` router calls of `operation` fail with `error`. */
  readonly failRouter: (
    times: number,
    error: TrafficRouter.TrafficRouterError,
    options?: { readonly operation?: RouterOperation | "any"; readonly afterWrite?: boolean }
  ) => void
  /** The next `times` analytics queries fail. */
  readonly failAnalytics: (times: number, message?: string) => void
  readonly router: TrafficRouter.TrafficRouter["Service"]
  readonly health: HealthSource.HealthSource["Service"]
  /** How many router calls were made, by operation: what a rate limit would see. */
  readonly calls: () => Readonly<Record<RouterOperation | "analytics", number>>
}

export const make = Effect.gen(function*() {
  const startedAt = yield* Clock.currentTimeMillis
  const workers = new Map<string, Worker>()
  const faults: Array<RouterFault> = []
  let analyticsFailures = { remaining: 0, message: "" }
  const calls = { read: 0, apply: 0, analytics: 0 }
  let deploymentCounter = 0

  const find = (target: TrafficRouter.WorkerTarget) => workers.get(TrafficRouter.targetKey(target))
  const mustFind = (target: TrafficRouter.WorkerTarget) => {
    const worker = find(target)
    if (worker === undefined) throw new Error(`no Worker ${TrafficRouter.targetKey(target)} in the fleet`)
    return worker
  }

  const deploy = (worker: Worker, split: TrafficSplit.TrafficSplit, message: string, source: Deployment["source"]) =>
    Effect.map(Clock.currentTimeMillis, (createdAt) => {
      const deployment: Deployment = {
        deploymentId: `dep_${(++deploymentCounter).toString().padStart(6, "0")}`,
        // Kept as given, 0% shares included, as Cloudflare keeps them.
        split,
        createdAt,
        message,
        source
      }
      worker.deployments.push(deployment)
      return deployment
    })

  const takeFault = (operation: RouterOperation): RouterFault | undefined => {
    const fault = faults.find((f) => f.remaining > 0 && (f.operation === "any" || f.operation === operation))
    if (fault !== undefined) fault.remaining--
    return fault
  }

  const active = (worker: Worker): TrafficSplit.ActiveDeployment => {
    const live = worker.deployments[worker.deployments.length - 1]!
    return { deploymentId: live.deploymentId, split: live.split }
  }

  const notFound = (target: TrafficRouter.WorkerTarget) =>
    new TrafficRouter.TrafficRouterError({
      kind: "not_found",
      message: `Worker ${target.scriptName} not found in account ${target.accountId}`
    })

  const router = TrafficRouter.TrafficRouter.of({
    readActive: (target) =>
      Effect.suspend(() => {
        calls.read++
        const fault = takeFault("read")
        if (fault !== undefined) return Effect.fail(fault.error)
        const worker = find(target)
        return worker === undefined ? Effect.fail(notFound(target)) : Effect.succeed(active(worker))
      }),
    apply: (target, split, options) =>
      Effect.suspend(() => {
        calls.apply++
        const fault = takeFault("apply")
        if (fault !== undefined && !fault.afterWrite) return Effect.fail(fault.error)
        const worker = find(target)
        if (worker === undefined) return Effect.fail(notFound(target))
        const invalid = TrafficSplit.invalidReason(split) ??
          split.map((share) => share.versionId).filter((id) => !worker.errorRates.has(id)).map((id) =>
            `version ${id} does not exist on ${target.scriptName}`
          )[0]
        if (invalid !== undefined) {
          return Effect.fail(new TrafficRouter.TrafficRouterError({ kind: "permanent", message: invalid }))
        }
        return deploy(worker, split, options.message, "api").pipe(
          Effect.flatMap(() => fault !== undefined ? Effect.fail(fault.error) : Effect.succeed(active(worker)))
        )
      })
  })

  /** Requests and errors of each version over `[start, end)`, integrated over the deployment history. */
  const measure = (worker: Worker, start: number, end: number) =>
    TrafficHistory.served(worker.deployments, { start, end }, {
      requestsPerMinute: (time) => rateAt(worker.requestsPerMinute, (time - startedAt) / 1000),
      errorRate: (versionId, time) => rateAt(worker.errorRates.get(versionId) ?? 0, (time - startedAt) / 1000)
    })

  const health = HealthSource.HealthSource.of({
    sample: (request) =>
      Effect.suspend(() => {
        calls.analytics++
        if (analyticsFailures.remaining > 0) {
          analyticsFailures.remaining--
          return Effect.fail(new HealthSource.HealthSourceUnavailable({ message: analyticsFailures.message }))
        }
        const worker = find(request.target)
        if (worker === undefined) {
          return Effect.fail(new HealthSource.HealthSourceUnavailable({ message: notFound(request.target).message }))
        }
        const totals = measure(worker, request.window.start, request.window.end)
        return Effect.succeed(
          new Map(request.versionIds.map((versionId): [string, HealthCheck.VersionSample] => {
            const total = totals.get(versionId)
            return [versionId, { requests: Math.round(total?.requests ?? 0), errors: Math.round(total?.errors ?? 0) }]
          }))
        )
      })
  })

  const fleet: WorkerFleet = {
    startedAt,
    addWorker: (options) =>
      Effect.suspend(() => {
        const target = { accountId: options.accountId ?? defaultAccountId, scriptName: options.scriptName }
        const worker: Worker = {
          target,
          requestsPerMinute: options.requestsPerMinute ?? 600,
          errorRates: new Map(Object.entries(options.errorRates ?? {})),
          deployments: []
        }
        if (!worker.errorRates.has(options.liveVersionId)) worker.errorRates.set(options.liveVersionId, 0)
        workers.set(TrafficRouter.targetKey(target), worker)
        return deploy(worker, TrafficSplit.whole(options.liveVersionId), "initial deployment", "out_of_band").pipe(
          Effect.as(target)
        )
      }),
    addVersion: (target, versionId, errorRate = 0) => void mustFind(target).errorRates.set(versionId, errorRate),
    setErrorRate: (target, versionId, errorRate) => void mustFind(target).errorRates.set(versionId, errorRate),
    setRequestRate: (target, requestsPerMinute) => void (mustFind(target).requestsPerMinute = requestsPerMinute),
    deployments: (target) => find(target)?.deployments ?? [],
    deployOutOfBand: (target, split) =>
      Effect.suspend(() => deploy(mustFind(target), split, "deployed by hand with wrangler", "out_of_band")),
    failRouter: (times, error, options) =>
      void faults.push({
        operation: options?.operation ?? "any",
        remaining: times,
        error,
        afterWrite: options?.afterWrite ?? false
      }),
    failAnalytics: (times, message = "analytics unavailable") => void (analyticsFailures = { remaining: times, message }),
    router,
    health,
    calls: () => ({ ...calls })
  }
  return fleet
})
