/**
 * What the simulator was asked, for tests that count calls (a budget kept, no second deployment
 * created): per token, REST calls by method and route template, GraphQL queries, and calls
 * refused for rate limits; per Worker, deployments created through the API.
 */

export interface TokenCalls {
  /** Keyed "POST /accounts/:account_id/workers/scripts/:script_name/deployments". */
  readonly rest: Record<string, number>
  readonly restTotal: number
  readonly graphql: number
  readonly rateLimited: number
}

export interface Counts {
  /** Keyed by the bearer token the caller sent ("" when none). */
  readonly tokens: Record<string, TokenCalls>
  /** Keyed "<account id>/<script name>". */
  readonly deploymentsCreated: Record<string, number>
}

export interface CallCounters {
  readonly rest: (token: string, route: string) => void
  readonly graphql: (token: string) => void
  readonly rateLimited: (token: string) => void
  readonly deploymentCreated: (accountId: string, scriptName: string) => void
  readonly snapshot: () => Counts
  readonly reset: () => void
}

export const scriptKey = (accountId: string, scriptName: string) => `${accountId}/${scriptName}`

export const make = (): CallCounters => {
  let tokens = new Map<string, { rest: Map<string, number>; graphql: number; rateLimited: number }>()
  let deployments = new Map<string, number>()
  const of = (token: string) => {
    let calls = tokens.get(token)
    if (calls === undefined) {
      calls = { rest: new Map(), graphql: 0, rateLimited: 0 }
      tokens.set(token, calls)
    }
    return calls
  }
  return {
    rest: (token, route) => {
      const calls = of(token).rest
      calls.set(route, (calls.get(route) ?? 0) + 1)
    },
    graphql: (token) => {
      of(token).graphql++
    },
    rateLimited: (token) => {
      of(token).rateLimited++
    },
    deploymentCreated: (accountId, scriptName) => {
      const key = scriptKey(accountId, scriptName)
      deployments.set(key, (deployments.get(key) ?? 0) + 1)
    },
    snapshot: () => ({
      tokens: Object.fromEntries(
        [...tokens].map(([token, calls]) => [token, {
          rest: Object.fromEntries(calls.rest),
          restTotal: [...calls.rest.values()].reduce((sum, count) => sum + count, 0),
          graphql: calls.graphql,
          rateLimited: calls.rateLimited
        }])
      ),
      deploymentsCreated: Object.fromEntries(deployments)
    }),
    reset: () => {
      tokens = new Map()
      deployments = new Map()
    }
  }
}
