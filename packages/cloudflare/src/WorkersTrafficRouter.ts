/**
 * The TrafficRouter port on Cloudflare's Workers deployments API, through the official SDK.
 *
 * - The live split is the newest deployment (`result.deployments[0]`). It is read with a raw GET
 *   because the SDK's `deployments.list` paginates over `result.items`, which this endpoint does
 *   not have, and so yields nothing.
 * - `apply` is idempotent: it reads the live deployment first and returns it if it already is the
 *   split. After a 5xx or a timeout the outcome is unknown, so it reads again before reporting a
 *   failure: a deployment that was in fact made is returned, never made twice.
 * - Errors are classified for the decider: 400 permanent (Cloudflare's message), 401/403
 *   credentials, 404 not found, 429 rate limited (with `retry-after`, and the token is blocked
 *   until then), 5xx and timeouts transient. The SDK's own retries are off: the orchestrator
 *   retries with recorded backoff.
 *
 * @since 0.1.0
 */
import { TrafficRouter, TrafficSplit } from "@canaryroll/core"
import Cloudflare from "cloudflare"
import type { APIError } from "cloudflare/core/error"
import { Effect, Layer, Redacted } from "effect"
import { ApiBudget, type BudgetExhausted } from "./ApiBudget.ts"
import { CloudflareCredentials, type Credentials } from "./Credentials.ts"

export interface Options {
  /** Per-request timeout (default 15 s). */
  readonly timeoutMs?: number | undefined
}

/** The deployment as the API returns it. */
interface ApiDeployment {
  readonly id: string
  readonly versions: ReadonlyArray<{ readonly version_id: string; readonly percentage: number }>
}

const toActive = (deployment: ApiDeployment): TrafficSplit.ActiveDeployment => ({
  deploymentId: deployment.id,
  split: deployment.versions.map((v) => ({ versionId: v.version_id, percentage: v.percentage }))
})

const routerError = (
  kind: TrafficRouter.TrafficRouterError["kind"],
  message: string,
  retryAfterSeconds?: number
) =>
  new TrafficRouter.TrafficRouterError({
    kind,
    message,
    ...(retryAfterSeconds === undefined ? {} : { retryAfterSeconds })
  })

/** Cloudflare's own words: the envelope's first error message, else the SDK's. */
const cloudflareMessage = (error: APIError) => {
  const first = error.errors?.[0]
  return first?.message !== undefined ? `${first.message} (code ${first.code})` : error.message
}

const retryAfterSeconds = (headers: Headers | undefined): number | undefined => {
  const value = headers?.get("retry-after")
  if (value === null || value === undefined) return undefined
  const seconds = Number(value)
  if (Number.isFinite(seconds)) return Math.max(0, seconds)
  const date = Date.parse(value)
  return Number.isFinite(date) ? Math.max(0, Math.ceil((date - Date.now()) / 1000)) : undefined
}

/** Maps whatever the SDK threw to the decider's failure kinds. */
export const classify = (error: unknown): TrafficRouter.TrafficRouterError => {
  if (error instanceof Cloudflare.APIConnectionTimeoutError) return routerError("transient", "Cloudflare API timed out")
  if (error instanceof Cloudflare.APIConnectionError) {
    return routerError("transient", `could not reach the Cloudflare API: ${error.message}`)
  }
  if (error instanceof Cloudflare.APIError) {
    const message = cloudflareMessage(error)
    switch (error.status) {
      case 400:
      case 422:
        return routerError("permanent", message)
      case 401:
      case 403:
        return routerError("credentials", message)
      case 404:
        return routerError("not_found", message)
      case 429:
        return routerError("rate_limited", message, retryAfterSeconds(error.headers) ?? 60)
      default:
        return routerError("transient", `${error.status ?? "no status"}: ${message}`)
    }
  }
  return routerError("transient", error instanceof Error ? error.message : String(error))
}

const budgetError = (exhausted: BudgetExhausted) =>
  routerError("rate_limited", exhausted.message, exhausted.retryAfterSeconds)

const isUnknownOutcome = (error: TrafficRouter.TrafficRouterError) => error.kind === "transient"

export const make = (options: Options = {}) =>
  Effect.gen(function*() {
    const credentials = yield* CloudflareCredentials
    const budget = yield* ApiBudget
    const clients = new Map<string, Cloudflare>()

    const clientFor = (creds: Credentials) => {
      const token = Redacted.value(creds.apiToken)
      const key = `${creds.baseUrl} ${token}`
      let client = clients.get(key)
      if (client === undefined) {
        client = new Cloudflare({
          apiToken: token,
          baseURL: creds.baseUrl,
          maxRetries: 0,
          timeout: options.timeoutMs ?? 15_000
        })
        clients.set(key, client)
      }
      return { client, token }
    }

    /** One REST call: budgeted, classified, and a 429 blocks the token until retry-after. */
    const call = <A>(
      target: TrafficRouter.WorkerTarget,
      request: (client: Cloudflare, signal: AbortSignal) => Promise<A>
    ) =>
      Effect.gen(function*() {
        const creds = yield* credentials.forAccount(target.accountId).pipe(
          Effect.mapError((missing) => routerError("credentials", missing.message))
        )
        const { client, token } = clientFor(creds)
        yield* budget.take(token, "rest").pipe(Effect.mapError(budgetError))
        return yield* Effect.tryPromise({ try: (signal) => request(client, signal), catch: classify }).pipe(
          Effect.tapError((error) =>
            error.kind === "rate_limited" && error.retryAfterSeconds !== undefined
              ? budget.block(token, "rest", error.retryAfterSeconds)
              : Effect.void
          )
        )
      })

    const scriptPath = (target: TrafficRouter.WorkerTarget) =>
      `/accounts/${encodeURIComponent(target.accountId)}/workers/scripts/${encodeURIComponent(target.scriptName)}`

    const readActive = (target: TrafficRouter.WorkerTarget) =>
      call(target, (client, signal) =>
        client.get<{ result: { deployments: ReadonlyArray<ApiDeployment> } }>(`${scriptPath(target)}/deployments`, {
          signal
        })).pipe(
          Effect.flatMap((body) => {
            const live = body.result?.deployments?.[0]
            return live === undefined
              ? Effect.fail(routerError("not_found", `Worker ${target.scriptName} has no deployment`))
              : Effect.succeed(toActive(live))
          })
        )

    const create = (target: TrafficRouter.WorkerTarget, split: TrafficSplit.TrafficSplit, message: string) =>
      call(target, (client, signal) =>
        client.workers.scripts.deployments.create(target.scriptName, {
          account_id: target.accountId,
          strategy: "percentage",
          versions: split.map((share) => ({ version_id: share.versionId, percentage: share.percentage })),
          annotations: { "workers/message": message }
        }, { signal })).pipe(Effect.map((deployment) => toActive(deployment as ApiDeployment)))

    return TrafficRouter.TrafficRouter.of({
      readActive,
      apply: (target, split, applyOptions) =>
        Effect.gen(function*() {
          const invalid = TrafficSplit.invalidReason(split)
          if (invalid !== undefined) return yield* routerError("permanent", invalid)
          const live = yield* readActive(target)
          if (TrafficSplit.equals(live.split, split)) return live
          return yield* create(target, split, applyOptions.message).pipe(
            // The outcome of a failed create is unknown: look before anyone retries it.
            Effect.catchIf(isUnknownOutcome, (error) =>
              readActive(target).pipe(
                Effect.orElseSucceed(() => undefined),
                Effect.flatMap((after) =>
                  after !== undefined && TrafficSplit.equals(after.split, split) ? Effect.succeed(after) : Effect.fail(error)
                )
              ))
          )
        })
    })
  })

export const layer = (options: Options = {}) => Layer.effect(TrafficRouter.TrafficRouter, make(options))
