/**
 * What a Cloudflare API token can do in an account, asked before a release needs it: list the
 * account's Workers (Workers Scripts Read), read its Workers analytics (Account Analytics Read,
 * the GraphQL `workersInvocationsAdaptive` dataset that health checks query) and change its
 * Workers' deployments (Workers Scripts Edit). Cloudflare tells a token's permissions only to a
 * token allowed to read tokens, so each is asked by doing the smallest thing that needs it:
 * listing the scripts, a one-row analytics query over the last minute, and a deployment request
 * whose body is empty, which Cloudflare checks the permission of before its body (403 without
 * the permission, 400 for the body with it) and which therefore never deploys anything.
 * Four requests, spent from the token's budget like every other call (ApiBudget).
 *
 * @since 0.1.0
 */
import { Effect, Redacted } from "effect"
import { query as analyticsQuery } from "./AnalyticsHealthSource.ts"
import { ApiBudget } from "./ApiBudget.ts"
import type { Credentials } from "./Credentials.ts"

export type CheckName = "workers_read" | "analytics_read" | "deployments_edit"

export interface Check {
  readonly name: CheckName
  readonly passed: boolean
  readonly message: string
}

export interface AccessReport {
  readonly checks: ReadonlyArray<Check>
  /** The account's Worker scripts, as Cloudflare lists them (empty when that was refused). */
  readonly workers: ReadonlyArray<string>
}

interface Answer {
  readonly status: number
  readonly body: unknown
}

const errorsOf = (body: unknown): string => {
  const errors = (body as { errors?: ReadonlyArray<{ message?: unknown; code?: unknown }> } | null)?.errors
  return Array.isArray(errors) && errors.length > 0
    ? errors.map((error) => `${String(error.message)}${error.code === undefined ? "" : ` (code ${String(error.code)})`}`).join("; ")
    : ""
}

export const check = (credentials: Credentials, accountId: string) =>
  Effect.gen(function*() {
    const budget = yield* ApiBudget
    const token = Redacted.value(credentials.apiToken)
    const send = (kind: "rest" | "graphql", path: string, init: { readonly method: string; readonly body?: unknown }) =>
      Effect.gen(function*() {
        yield* budget.take(token, kind)
        return yield* Effect.tryPromise({
          try: async (signal): Promise<Answer> => {
            const response = await fetch(`${credentials.baseUrl}${path}`, {
              method: init.method,
              headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
              ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
              signal: AbortSignal.any([signal, AbortSignal.timeout(15_000)])
            })
            const text = await response.text()
            let body: unknown = null
            try {
              body = text === "" ? null : JSON.parse(text)
            } catch {
              body = null
            }
            return { status: response.status, body }
          },
          catch: (error) => `Cloudflare could not be reached: ${error instanceof Error ? error.message : String(error)}`
        })
      }).pipe(
        Effect.catchTag("BudgetExhausted", (error) => Effect.fail(`CanaryRoll's share of the token's rate limit is spent: ${error.message}`))
      )
    const account = `/accounts/${encodeURIComponent(accountId)}`

    const scripts = yield* Effect.result(send("rest", `${account}/workers/scripts`, { method: "GET" }))
    const workers = scripts._tag === "Success" && scripts.success.status === 200
      ? ((scripts.success.body as { result?: ReadonlyArray<{ id?: unknown }> } | null)?.result ?? [])
        .flatMap((script) => typeof script.id === "string" ? [script.id] : [])
      : []
    const workersRead: Check = scripts._tag === "Failure"
      ? { name: "workers_read", passed: false, message: scripts.failure }
      : scripts.success.status === 200
      ? { name: "workers_read", passed: true, message: `the token lists the account's ${workers.length} Workers` }
      : {
        name: "workers_read",
        passed: false,
        message: `Cloudflare refused to list the account's Workers (${scripts.success.status}${
          errorsOf(scripts.success.body) === "" ? "" : `: ${errorsOf(scripts.success.body)}`
        }): give the token Workers Scripts Read`
      }

    const end = Date.now()
    const analytics = yield* Effect.result(send("graphql", "/graphql", {
      method: "POST",
      body: {
        query: analyticsQuery,
        variables: { accountTag: accountId, start: new Date(end - 60_000).toISOString(), end: new Date(end).toISOString(), limit: 1 }
      }
    }))
    const analyticsRead: Check = analytics._tag === "Failure"
      ? { name: "analytics_read", passed: false, message: analytics.failure }
      : analytics.success.status === 200 && errorsOf(analytics.success.body) === ""
      ? { name: "analytics_read", passed: true, message: "the token reads the account's Workers analytics" }
      : {
        name: "analytics_read",
        passed: false,
        message: `Cloudflare refused the Workers analytics query (${analytics.success.status}${
          errorsOf(analytics.success.body) === "" ? "" : `: ${errorsOf(analytics.success.body)}`
        }): give the token Account Analytics Read`
      }

    const first = workers[0]
    const deployments: Check = first === undefined
      ? {
        name: "deployments_edit",
        passed: false,
        message: "the account has no Worker to ask about: deploy one, then connect again to check Workers Scripts Edit"
      }
      : yield* Effect.result(send("rest", `${account}/workers/scripts/${encodeURIComponent(first)}/deployments`, {
        method: "POST",
        body: {}
      })).pipe(Effect.map((answer): Check =>
        answer._tag === "Failure"
          ? { name: "deployments_edit", passed: false, message: answer.failure }
          : answer.success.status === 400
          ? { name: "deployments_edit", passed: true, message: "the token may change the account's Worker deployments" }
          : {
            name: "deployments_edit",
            passed: false,
            message: `Cloudflare refused a deployment request (${answer.success.status}${
              errorsOf(answer.success.body) === "" ? "" : `: ${errorsOf(answer.success.body)}`
            }): give the token Workers Scripts Edit`
          }
      ))
    return { checks: [workersRead, analyticsRead, deployments], workers } satisfies AccessReport
  })
