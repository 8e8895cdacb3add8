/**
 * The Cloudflare API budget per token. Cloudflare allows 1,200 REST requests and 300 GraphQL
 * queries per 5 minutes per token, and blocks a token that goes over for the rest of the window.
 * CanaryRoll stays under half of each (the rest is the team's own: wrangler, the dashboard, CI),
 * and after a 429 it stops calling until `retry-after` has passed: it never hammers.
 *
 * When the budget is short, callers degrade safely: health checks become inconclusive (never
 * healthy, never unhealthy) and traffic changes wait.
 *
 * @since 0.1.0
 */
import { Clock, Context, Effect, Layer, Schema } from "effect"

export type ApiKind = "rest" | "graphql"

export interface Limit {
  readonly requests: number
  readonly windowSeconds: number
}

export interface Limits {
  readonly rest: Limit
  readonly graphql: Limit
  /** The fraction of each limit CanaryRoll may use. */
  readonly share: number
}

export const cloudflareLimits: Limits = {
  rest: { requests: 1_200, windowSeconds: 300 },
  graphql: { requests: 300, windowSeconds: 300 },
  share: 0.5
}

export class BudgetExhausted extends Schema.TaggedError<BudgetExhausted>()("BudgetExhausted", {
  kind: Schema.Literals(["rest", "graphql"]),
  retryAfterSeconds: Schema.Finite,
  message: Schema.String
}) {}

export interface Usage {
  readonly rest: number
  readonly graphql: number
}

export class ApiBudget extends Context.Service<ApiBudget, {
  /** Takes one request from the token's budget, or fails saying when to try again. */
  readonly take: (token: string, kind: ApiKind) => Effect.Effect<void, BudgetExhausted>
  /** Cloudflare answered 429: no calls of this kind for this token until `retryAfterSeconds` pass. */
  readonly block: (token: string, kind: ApiKind, retryAfterSeconds: number) => Effect.Effect<void>
  /** Requests counted in the current window. */
  readonly usage: (token: string) => Effect.Effect<Usage>
}>()("@canaryroll/cloudflare/ApiBudget") {}

interface Ledger {
  /** Times of the requests in the current window, oldest first. */
  readonly times: Array<number>
  blockedUntil: number
}

export const make = (limits: Limits = cloudflareLimits) =>
  Effect.sync(() => {
    const ledgers = new Map<string, Ledger>()
    const ledger = (token: string, kind: ApiKind): Ledger => {
      const key = `${kind}:${token}`
      let found = ledgers.get(key)
      if (found === undefined) {
        found = { times: [], blockedUntil: 0 }
        ledgers.set(key, found)
      }
      return found
    }
    const prune = (entry: Ledger, kind: ApiKind, now: number) => {
      const windowMs = limits[kind].windowSeconds * 1000
      let drop = 0
      while (drop < entry.times.length && entry.times[drop]! <= now - windowMs) drop++
      if (drop > 0) entry.times.splice(0, drop)
    }
    return ApiBudget.of({
      take: (token, kind) =>
        Effect.flatMap(Clock.currentTimeMillis, (now) => {
          const entry = ledger(token, kind)
          if (entry.blockedUntil > now) {
            const retryAfterSeconds = Math.ceil((entry.blockedUntil - now) / 1000)
            return Effect.fail(
              new BudgetExhausted({
                kind,
                retryAfterSeconds,
                message: `Cloudflare rate-limited this token; waiting ${retryAfterSeconds}s before the next ${kind} call`
              })
            )
          }
          prune(entry, kind, now)
          const allowed = Math.floor(limits[kind].requests * limits.share)
          if (entry.times.length >= allowed) {
            const retryAfterSeconds = Math.max(
              1,
              Math.ceil((entry.times[0]! + limits[kind].windowSeconds * 1000 - now) / 1000)
            )
            return Effect.fail(
              new BudgetExhausted({
                kind,
                retryAfterSeconds,
                message: `CanaryRoll's share of the ${kind} API budget (${allowed} per ${
                  limits[kind].windowSeconds
                }s) is used up; next call in ${retryAfterSeconds}s`
              })
            )
          }
          entry.times.push(now)
          return Effect.void
        }),
      block: (token, kind, retryAfterSeconds) =>
        Effect.map(Clock.currentTimeMillis, (now) => {
          const entry = ledger(token, kind)
          entry.blockedUntil = Math.max(entry.blockedUntil, now + retryAfterSeconds * 1000)
        }),
      usage: (token) =>
        Effect.map(Clock.currentTimeMillis, (now) => {
          const rest = ledger(token, "rest")
          const graphql = ledger(token, "graphql")
          prune(rest, "rest", now)
          prune(graphql, "graphql", now)
          return { rest: rest.times.length, graphql: graphql.times.length }
        })
    })
  })

export const layer = (limits: Limits = cloudflareLimits) => Layer.effect(ApiBudget, make(limits))
