/**
 * The calls CanaryRoll makes to Cloudflare's Workers REST API, through the official SDK: list and
 * get versions, read the live deployment, create a deployment, verify a token. Every call is
 * budgeted per token (ApiBudget), and every failure is classified for the decider:
 * 400 permanent (with Cloudflare's own message), 401/403 credentials, 404 not found, 429 rate
 * limited (the token then rests until `retry-after`), 5xx and timeouts transient. The SDK's own
 * retries are off: the orchestrator retries with recorded backoff, so nothing hammers Cloudflare.
 *
 * @since 0.1.0
 */
import { TrafficRouter, type TrafficSplit } from "@canaryroll/core"
import Cloudflare from "cloudflare"
import type { APIError } from "cloudflare/core/error"
import { Context, Effect, Layer, Redacted } from "effect"
import { ApiBudget, type BudgetExhausted } from "./ApiBudget.ts"
import { CloudflareCredentials, type Credentials } from "./Credentials.ts"

export type WorkersApiError = TrafficRouter.TrafficRouterError

export interface Version {
  readonly id: string
  readonly number: number
  readonly createdOn: string | null
  readonly source: string | null
  readonly message: string | null
  readonly tag: string | null
}

export interface Options {
  /** Per-request timeout (default 15 s). */
  readonly timeoutMs?: number | undefined
}

export class WorkersApi extends Context.Service<WorkersApi, {
  /** The newest versions first (Cloudflare's order); `deployable` ones only when asked. */
  readonly listVersions: (
    target: TrafficRouter.WorkerTarget,
    options?: { readonly deployable?: boolean }
  ) => Effect.Effect<ReadonlyArray<Version>, WorkersApiError>
  readonly getVersion: (target: TrafficRouter.WorkerTarget, versionId: string) => Effect.Effect<Version, WorkersApiError>
  /** The deployment serving traffic now: the newest one. */
  readonly activeDeployment: (target: TrafficRouter.WorkerTarget) => Effect.Effect<TrafficSplit.ActiveDeployment, WorkersApiError>
  readonly createDeployment: (
    target: TrafficRouter.WorkerTarget,
    split: TrafficSplit.TrafficSplit,
    message: string
  ) => Effect.Effect<TrafficSplit.ActiveDeployment, WorkersApiError>
  /**
   * Checks that a token can read an account's Workers (Cloudflare's "List Workers"): a token can
   * be active and still belong to another account. Returns how many Workers it sees.
   */
  readonly verifyAccountAccess: (
    credentials: Credentials,
    accountId: string
  ) => Effect.Effect<{ readonly workers: number }, WorkersApiError>
  /**
   * The names of an account's Worker scripts (Cloudflare's "List Workers", one page), with the
   * team's credentials for that account: what registering a Worker checks its script against.
   */
  readonly listScripts: (accountId: string) => Effect.Effect<ReadonlyArray<string>, WorkersApiError>
  /**
   * Checks a token before it is saved for an account: `active` or Cloudflare's reason, and who
   * owns it. Cloudflare verifies user tokens at `GET /user/tokens/verify` and account-owned tokens
   * (its recommended kind) at `GET /accounts/{account_id}/tokens/verify`; each endpoint refuses the
   * other kind as an invalid token, so a token refused as a user's is asked about as the account's.
   */
  readonly verifyToken: (
    credentials: Credentials,
    accountId: string
  ) => Effect.Effect<{ readonly status: string; readonly owner: TokenOwner }, WorkersApiError>
}>()("@canaryroll/cloudflare/WorkersApi") {}

/** Who owns a Cloudflare API token: a person (user token) or an account (account-owned token). */
export type TokenOwner = "user" | "account"

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

const budgetError = (exhausted: BudgetExhausted) => routerError("rate_limited", exhausted.message, exhausted.retryAfterSeconds)

interface ApiVersion {
  readonly id?: string
  readonly number?: number
  readonly metadata?: { readonly created_on?: string; readonly source?: string }
  readonly annotations?: { readonly "workers/message"?: string; readonly "workers/tag"?: string }
}

interface ApiDeployment {
  readonly id: string
  readonly versions: ReadonlyArray<{ readonly version_id: string; readonly percentage: number }>
}

const toVersion = (version: ApiVersion): Version => ({
  id: version.id ?? "",
  number: version.number ?? 0,
  createdOn: version.metadata?.created_on ?? null,
  source: version.metadata?.source ?? null,
  message: version.annotations?.["workers/message"] ?? null,
  tag: version.annotations?.["workers/tag"] ?? null
})

const toActive = (deployment: ApiDeployment): TrafficSplit.ActiveDeployment => ({
  deploymentId: deployment.id,
  split: deployment.versions.map((v) => ({ versionId: v.version_id, percentage: v.percentage }))
})

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

    /** One REST call: budgeted, classified, and a 429 rests the token until retry-after. */
    const callWith = <A>(creds: Credentials, request: (client: Cloudflare, signal: AbortSignal) => Promise<A>) =>
      Effect.gen(function*() {
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

    const call = <A>(
      target: TrafficRouter.WorkerTarget,
      request: (client: Cloudflare, signal: AbortSignal) => Promise<A>
    ) =>
      credentials.forAccount(target.accountId).pipe(
        Effect.mapError((missing) => routerError("credentials", missing.message)),
        Effect.flatMap((creds) => callWith(creds, request))
      )

    const scriptPath = (target: TrafficRouter.WorkerTarget) =>
      `/accounts/${encodeURIComponent(target.accountId)}/workers/scripts/${encodeURIComponent(target.scriptName)}`

    return WorkersApi.of({
      listVersions: (target, listOptions) =>
        // One page: with `deployable` Cloudflare ignores pagination, and the SDK's iterator would
        // only stop on an empty page.
        call(target, (client, signal) =>
          client.get<{ result: { items: ReadonlyArray<ApiVersion> } }>(`${scriptPath(target)}/versions`, {
            query: listOptions?.deployable === true ? { deployable: true } : { per_page: 100 },
            signal
          })).pipe(Effect.map((body) => (body.result?.items ?? []).map(toVersion))),
      getVersion: (target, versionId) =>
        call(target, (client, signal) =>
          client.get<{ result: ApiVersion }>(`${scriptPath(target)}/versions/${encodeURIComponent(versionId)}`, {
            signal
          })).pipe(Effect.map((body) => toVersion(body.result))),
      activeDeployment: (target) =>
        // A raw GET: the SDK's `deployments.list` iterates `result.items`, which this endpoint
        // does not have, and so yields nothing.
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
          ),
      createDeployment: (target, split, message) =>
        call(target, (client, signal) =>
          client.workers.scripts.deployments.create(target.scriptName, {
            account_id: target.accountId,
            strategy: "percentage",
            versions: split.map((share) => ({ version_id: share.versionId, percentage: share.percentage })),
            annotations: { "workers/message": message }
          }, { signal })).pipe(Effect.map((deployment) => toActive(deployment as ApiDeployment))),
      listScripts: (accountId) =>
        credentials.forAccount(accountId).pipe(
          Effect.mapError((missing) => routerError("credentials", missing.message)),
          Effect.flatMap((creds) =>
            callWith(creds, (client, signal) =>
              client.get<{ result: ReadonlyArray<{ readonly id?: string }> | null }>(
                `/accounts/${encodeURIComponent(accountId)}/workers/scripts`,
                { signal }
              ))
          ),
          Effect.map((body) => (body.result ?? []).flatMap((script) => typeof script.id === "string" ? [script.id] : []))
        ),
      verifyAccountAccess: (creds, accountId) =>
        callWith(creds, (client, signal) =>
          client.get<{ result: ReadonlyArray<unknown> | null }>(
            `/accounts/${encodeURIComponent(accountId)}/workers/scripts`,
            { signal }
          )).pipe(Effect.map((body) => ({ workers: body.result?.length ?? 0 }))),
      verifyToken: (creds, accountId) =>
        callWith(creds, (client, signal) => client.user.tokens.verify({ signal })).pipe(
          Effect.map((verified) => ({ status: verified.status ?? "unknown", owner: "user" as TokenOwner })),
          // Only a refused token is asked about again: a 429 or a 5xx says nothing about its kind.
          Effect.catchIf((refused) => refused.kind === "credentials", (asUser) =>
            callWith(creds, (client, signal) => client.accounts.tokens.verify({ account_id: accountId }, { signal })).pipe(
              Effect.map((verified) => ({ status: verified.status ?? "unknown", owner: "account" as TokenOwner })),
              Effect.mapError((asAccount) =>
                asAccount.kind === "credentials"
                  ? routerError(
                    "credentials",
                    `not a user token (${asUser.message}), nor a token of account ${accountId} (${asAccount.message})`
                  )
                  : asAccount
              )
            ))
        )
    })
  })

export const layer = (options: Options = {}) => Layer.effect(WorkersApi, make(options))
