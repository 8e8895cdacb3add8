/**
 * Counts the process's calls to Cloudflare's API, by endpoint, and their failures, by kind. Both
 * the official SDK (the REST calls) and Effect's fetch client (GraphQL analytics) go through
 * Node's fetch, which reports every request on `diagnostics_channel` (`undici:request:*`): the
 * counting sees every call whoever makes it (the orchestrator, people's reads, token checks)
 * without a hook in the Cloudflare package. The channels are the process's, so the counts are
 * too (which is what `/metrics` reports).
 *
 * A request is Cloudflare's when its path ends like one of the endpoints CanaryRoll calls (below),
 * whatever the base URL (`CLOUDFLARE_API_BASE_URL`, the simulator's); anything else (webhooks,
 * Slack) is not counted here. The endpoint label is the endpoint's name, never the path: paths
 * hold account ids and Worker names.
 *
 * @since 0.1.0
 */
import { Effect } from "effect"
import * as diagnostics from "node:diagnostics_channel"
import type * as ServerMetrics from "./ServerMetrics.ts"

/** The endpoints CanaryRoll calls, by method and the end of their path. */
const endpoints: ReadonlyArray<{ readonly name: string; readonly method: string; readonly path: RegExp }> = [
  { name: "list_versions", method: "GET", path: /\/accounts\/[^/]+\/workers\/scripts\/[^/]+\/versions$/ },
  { name: "get_version", method: "GET", path: /\/accounts\/[^/]+\/workers\/scripts\/[^/]+\/versions\/[^/]+$/ },
  { name: "list_deployments", method: "GET", path: /\/accounts\/[^/]+\/workers\/scripts\/[^/]+\/deployments$/ },
  { name: "create_deployment", method: "POST", path: /\/accounts\/[^/]+\/workers\/scripts\/[^/]+\/deployments$/ },
  { name: "list_scripts", method: "GET", path: /\/accounts\/[^/]+\/workers\/scripts$/ },
  { name: "verify_token", method: "GET", path: /\/user\/tokens\/verify$/ },
  { name: "verify_account_token", method: "GET", path: /\/accounts\/[^/]+\/tokens\/verify$/ },
  { name: "graphql", method: "POST", path: /\/graphql$/ }
]

/** The endpoint a request is for, if it is one of Cloudflare's that CanaryRoll calls. */
export const endpointOf = (method: string, path: string): string | undefined =>
  endpoints.find((endpoint) => endpoint.method === method && endpoint.path.test(path.split("?")[0]!))?.name

interface UndiciRequest {
  readonly method: string
  readonly path: string
}

/** How a failed request is counted: Cloudflare's status code, or what went wrong on the way. */
const failureKind = (error: unknown): string => {
  const name = typeof error === "object" && error !== null && "name" in error ? String(error.name) : ""
  if (name === "AbortError") return "aborted"
  if (name.includes("Timeout")) return "timeout"
  return "network"
}

/** Counts Cloudflare calls into `metrics` for as long as the scope is open. */
export const observe = (metrics: ServerMetrics.Instruments) =>
  Effect.acquireRelease(
    Effect.sync(() => {
      const pending = new WeakMap<object, string>()
      const onCreate = (message: unknown) => {
        const { request } = message as { readonly request: UndiciRequest }
        const endpoint = endpointOf(request.method, request.path)
        if (endpoint === undefined) return
        pending.set(request, endpoint)
        metrics.cloudflareRequests.inc({ endpoint })
      }
      const onHeaders = (message: unknown) => {
        const { request, response } = message as { readonly request: UndiciRequest; readonly response: { readonly statusCode: number } }
        const endpoint = pending.get(request)
        if (endpoint !== undefined && response.statusCode >= 400) {
          metrics.cloudflareErrors.inc({ endpoint, kind: String(response.statusCode) })
        }
      }
      const onError = (message: unknown) => {
        const { error, request } = message as { readonly request: UndiciRequest; readonly error: unknown }
        const endpoint = pending.get(request)
        if (endpoint !== undefined) metrics.cloudflareErrors.inc({ endpoint, kind: failureKind(error) })
      }
      diagnostics.subscribe("undici:request:create", onCreate)
      diagnostics.subscribe("undici:request:headers", onHeaders)
      diagnostics.subscribe("undici:request:error", onError)
      return () => {
        diagnostics.unsubscribe("undici:request:create", onCreate)
        diagnostics.unsubscribe("undici:request:headers", onHeaders)
        diagnostics.unsubscribe("undici:request:error", onError)
      }
    }),
    (unsubscribe) => Effect.sync(unsubscribe)
  )
