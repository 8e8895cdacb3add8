/**
 * Cloudflare's per-token request budgets: REST 1,200 and GraphQL 300 requests per 300 seconds by
 * default. A window opens at a token's first request; once the budget is spent, every call gets
 * a 429 until the window closes ("all API calls for the next five minutes will be blocked"), with
 * `retry-after` counting the seconds left. The two budgets are separate: GraphQL queries do not
 * spend the REST budget.
 */

export type Api = "rest" | "graphql"

export interface Limit {
  readonly requests: number
  readonly windowSeconds: number
}

export interface Limits {
  readonly rest: Limit
  readonly graphql: Limit
}

export const cloudflareLimits: Limits = {
  rest: { requests: 1200, windowSeconds: 300 },
  graphql: { requests: 300, windowSeconds: 300 }
}

export type Decision =
  | { readonly allowed: true; readonly remaining: number; readonly resetSeconds: number; readonly limit: Limit }
  | { readonly allowed: false; readonly retryAfterSeconds: number; readonly limit: Limit }

export interface RateLimiter {
  readonly take: (token: string, api: Api) => Decision
  readonly reset: () => void
}

export const make = (limits: Limits, now: () => number): RateLimiter => {
  const windows = new Map<string, { start: number; used: number }>()
  return {
    take: (token, api) => {
      const limit = limits[api]
      const key = `${api} ${token}`
      const time = now()
      const windowMs = limit.windowSeconds * 1000
      let window = windows.get(key)
      if (window === undefined || time >= window.start + windowMs) {
        window = { start: time, used: 0 }
        windows.set(key, window)
      }
      window.used++
      const resetSeconds = Math.max(1, Math.ceil((window.start + windowMs - time) / 1000))
      return window.used <= limit.requests
        ? { allowed: true, remaining: limit.requests - window.used, resetSeconds, limit }
        : { allowed: false, retryAfterSeconds: resetSeconds, limit }
    },
    reset: () => windows.clear()
  }
}
