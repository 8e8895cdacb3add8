/**
 * The routes under `/client/v4` and what each answers: Workers versions and deployments, token
 * verification, and GraphQL analytics. Handlers read the platform and return a reply; refusals
 * are thrown as Rejections and rendered by the server, which also owns authentication, rate
 * limits and faults (so every route gets them the same way).
 */
import * as AnalyticsQuery from "./AnalyticsQuery.ts"
import type * as CallCounters from "./CallCounters.ts"
import * as Envelope from "./Envelope.ts"
import { Rejection } from "./ErrorCatalogue.ts"
import * as Platform from "./Platform.ts"
import type * as RateLimiter from "./RateLimiter.ts"
import * as VersionUpload from "./VersionUpload.ts"
import * as WireFormat from "./WireFormat.ts"

export interface Reply {
  readonly status: number
  readonly body: unknown
  readonly headers?: Readonly<Record<string, string>>
}

export interface Call {
  readonly params: Readonly<Record<string, string>>
  readonly query: URLSearchParams
  readonly token: Platform.ApiToken
  readonly now: number
  /** The body as JSON; a Rejection (6007) when it is not. */
  readonly json: () => Promise<unknown>
  /** The call as a web Request, for multipart parsing. */
  readonly request: () => Promise<Request>
}

/** How the server authenticates a route before calling it. */
export type Access =
  | "account" // a token with access to `account_id`
  | "token" // any known token
  | "verify" // any token; an unknown one is "Invalid API Token"

export interface Route {
  readonly method: string
  /** Named like "/accounts/:account_id/workers/scripts/:script_name/versions", for counters. */
  readonly template: string
  /** Which budget the call spends. */
  readonly api: RateLimiter.Api
  readonly access: Access
  readonly handle: (call: Call) => Promise<Reply>
}

export interface Dependencies {
  readonly platform: Platform.Platform
  readonly counters: CallCounters.CallCounters
  readonly analyticsDelayMs: () => number
  readonly datasetLimits: AnalyticsQuery.DatasetLimits
}

const ok = (body: unknown): Reply => ({ status: 200, body })

/** Cloudflare's page-numbered lists; page size defaults and limits are ours (not published). */
const defaultPerPage = 20
const maxPerPage = 100

const pageOf = (query: URLSearchParams) => {
  const number = (name: string, fallback: number) => {
    const raw = query.get(name)
    if (raw === null) return fallback
    const value = Number(raw)
    if (!Number.isInteger(value) || value < 1) throw new Rejection("invalidRequest", `${name} must be a positive integer`)
    return value
  }
  return { page: number("page", 1), perPage: Math.min(maxPerPage, number("per_page", defaultPerPage)) }
}

const scriptOf = (platform: Platform.Platform, call: Call): Platform.Script => {
  const script = platform.findScript(call.params.account_id!, call.params.script_name!)
  if (script === undefined) throw new Rejection("workerNotFound")
  return script
}

const newestFirst = <A>(items: ReadonlyArray<A>) => [...items].reverse()

/** Both verify endpoints' answer for a token they know. */
const verified = (token: Platform.ApiToken) =>
  Envelope.success({ id: token.id, status: "active" }, undefined, [
    { code: 10000, message: "This API Token is valid and active", type: null }
  ])

export const routes = (deps: Dependencies): ReadonlyArray<Route> => {
  const { platform } = deps
  const scripts = "/accounts/:account_id/workers/scripts/:script_name"
  return [
    {
      method: "GET",
      template: "/user/tokens/verify",
      api: "rest",
      access: "verify",
      handle: async (call) => {
        // An account-owned token is not a user's: this endpoint does not know it.
        if (call.token.owner._tag !== "User") throw new Rejection("invalidApiToken")
        return ok(verified(call.token))
      }
    },
    {
      // Account-owned tokens are verified under their account; a user token (or another
      // account's) is as unknown here as an account token is at /user/tokens/verify.
      method: "GET",
      template: "/accounts/:account_id/tokens/verify",
      api: "rest",
      access: "verify",
      handle: async (call) => {
        const owner = call.token.owner
        if (owner._tag !== "Account" || owner.accountId !== call.params.account_id) throw new Rejection("invalidApiToken")
        return ok(verified(call.token))
      }
    },
    {
      // "List Workers": what CanaryRoll reads to check that a token can reach an account.
      method: "GET",
      template: "/accounts/:account_id/workers/scripts",
      api: "rest",
      access: "account",
      handle: async (call) => {
        const account = platform.accounts.get(call.params.account_id!)
        const listed = [...(account?.scripts.values() ?? [])].map((script) => ({
          id: script.name,
          created_on: WireFormat.timestamp(script.versions[0]?.createdOn ?? 0),
          modified_on: WireFormat.timestamp(script.versions.at(-1)?.createdOn ?? 0)
        }))
        return ok(Envelope.success(listed))
      }
    },
    {
      // The Worker as a service: what `wrangler versions upload` reads first (its tag).
      method: "GET",
      template: "/accounts/:account_id/workers/services/:script_name",
      api: "rest",
      access: "account",
      handle: async (call) => ok(Envelope.success(WireFormat.service(scriptOf(platform, call))))
    },
    {
      // Read by `wrangler versions upload` to find the bindings the Worker already has.
      method: "GET",
      template: `${scripts}/settings`,
      api: "rest",
      access: "account",
      handle: async (call) => ok(Envelope.success(WireFormat.scriptSettings(scriptOf(platform, call))))
    },
    {
      method: "GET",
      template: `${scripts}/versions`,
      api: "rest",
      access: "account",
      handle: async (call) => {
        const versions = newestFirst(scriptOf(platform, call).versions)
        // "Only return versions that can be used in a deployment. Ignores pagination."
        if (call.query.get("deployable") === "true") {
          return ok(Envelope.success({ items: versions.slice(0, 100).map(WireFormat.versionShort) }))
        }
        const { page, perPage } = pageOf(call.query)
        const { items, info } = Envelope.paginate(versions, page, perPage)
        return ok(Envelope.success({ items: items.map(WireFormat.versionShort) }, info))
      }
    },
    {
      method: "POST",
      template: `${scripts}/versions`,
      api: "rest",
      access: "account",
      handle: async (call) => {
        const script = scriptOf(platform, call)
        const upload = await VersionUpload.parse(await call.request())
        const version = platform.uploadVersion(script, { ...upload, source: "api", author: call.token.author })
        return ok(Envelope.success(WireFormat.versionUploaded(version)))
      }
    },
    {
      method: "GET",
      template: `${scripts}/versions/:version_id`,
      api: "rest",
      access: "account",
      handle: async (call) => {
        const version = Platform.findVersion(scriptOf(platform, call), call.params.version_id!)
        if (version === undefined) throw new Rejection("versionNotFound")
        return ok(Envelope.success(WireFormat.versionFull(version)))
      }
    },
    {
      method: "GET",
      template: `${scripts}/deployments`,
      api: "rest",
      access: "account",
      handle: async (call) => {
        const since = call.query.get("since")
        const until = call.query.get("until")
        const deployments = newestFirst(scriptOf(platform, call).deployments).filter((deployment) =>
          (since === null || deployment.createdOn >= Date.parse(since)) &&
          (until === null || deployment.createdOn <= Date.parse(until))
        )
        const { page, perPage } = pageOf(call.query)
        const { items, info } = Envelope.paginate(deployments, page, perPage)
        return ok(Envelope.success({ deployments: items.map(WireFormat.deployment) }, info))
      }
    },
    {
      method: "POST",
      template: `${scripts}/deployments`,
      api: "rest",
      access: "account",
      handle: async (call) => {
        const script = scriptOf(platform, call)
        // `?force=true` only overrides blocks the simulator does not model (changed secrets).
        const deployment = platform.deploy(script, await call.json(), { source: "api", author: call.token.author })
        deps.counters.deploymentCreated(script.accountId, script.name)
        return ok(Envelope.success(WireFormat.deployment(deployment)))
      }
    },
    {
      method: "GET",
      template: `${scripts}/deployments/:deployment_id`,
      api: "rest",
      access: "account",
      handle: async (call) => {
        const deployment = scriptOf(platform, call).deployments.find((candidate) =>
          candidate.id === call.params.deployment_id
        )
        if (deployment === undefined) throw new Rejection("deploymentNotFound")
        return ok(Envelope.success(WireFormat.deployment(deployment)))
      }
    },
    {
      method: "DELETE",
      template: `${scripts}/deployments/:deployment_id`,
      api: "rest",
      access: "account",
      handle: async (call) => {
        platform.deleteDeployment(scriptOf(platform, call), call.params.deployment_id!)
        return ok(Envelope.successWithoutResult())
      }
    },
    {
      method: "POST",
      template: "/graphql",
      api: "graphql",
      access: "token",
      handle: async (call) => {
        let body: unknown
        try {
          body = await call.json()
        } catch {
          body = undefined
        }
        const answer = AnalyticsQuery.answer(body, {
          now: call.now,
          delayMs: deps.analyticsDelayMs(),
          limits: deps.datasetLimits,
          account: (accountTag) => call.token.accountIds.has(accountTag) ? platform.accounts.get(accountTag) : undefined
        })
        return { status: answer.status, body: answer.body }
      }
    }
  ]
}

/** Find the route for a method and a path under /client/v4, with its path parameters. */
export const match = (
  table: ReadonlyArray<Route>,
  method: string,
  path: string
): { readonly route: Route; readonly params: Record<string, string> } | undefined => {
  const segments = path.split("/").filter((segment) => segment !== "")
  for (const route of table) {
    if (route.method !== method) continue
    const parts = route.template.split("/").filter((segment) => segment !== "")
    if (parts.length !== segments.length) continue
    const params: Record<string, string> = {}
    const fits = parts.every((part, index) => {
      const segment = segments[index]!
      if (part.startsWith(":")) {
        params[part.slice(1)] = decodeURIComponent(segment)
        return true
      }
      return part === segment
    })
    if (fits) return { route, params }
  }
  return undefined
}
