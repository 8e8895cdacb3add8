/**
 * Slows password guessing: after `maxFailures` failed log-ins for one email within `windowMs`,
 * further attempts for that email are refused (429) until the window has passed since the oldest
 * counted failure. A success clears the email's failures.
 *
 * Per process, in memory: with N server processes an attacker gets N times the attempts, which
 * is still a small number per window. Counting per email (not per client address) protects the
 * account whatever addresses the guesses come from, at the price that someone can keep a known
 * email locked out for the window by failing on purpose; the window is short for that reason.
 *
 * @since 0.1.0
 */
import { Clock, Effect } from "effect"

export interface Options {
  readonly maxFailures: number
  readonly windowMs: number
}

export const defaults: Options = { maxFailures: 10, windowMs: 15 * 60 * 1000 }

export interface LoginThrottle {
  /** How long until `email` may try again, in milliseconds; 0 when it may now. */
  readonly waitFor: (email: string) => Effect.Effect<number>
  readonly failed: (email: string) => Effect.Effect<void>
  readonly succeeded: (email: string) => Effect.Effect<void>
}

export const make = (options: Options = defaults): Effect.Effect<LoginThrottle> =>
  Effect.sync(() => {
    const failures = new Map<string, Array<number>>()
    const key = (email: string) => email.trim().toLowerCase()
    const recent = (email: string, now: number) => {
      const kept = (failures.get(key(email)) ?? []).filter((at) => at > now - options.windowMs)
      if (kept.length === 0) failures.delete(key(email))
      else failures.set(key(email), kept)
      return kept
    }
    return {
      waitFor: (email) =>
        Effect.map(Clock.currentTimeMillis, (now) => {
          const kept = recent(email, now)
          return kept.length < options.maxFailures ? 0 : kept[kept.length - options.maxFailures]! + options.windowMs - now
        }),
      failed: (email) =>
        Effect.map(Clock.currentTimeMillis, (now) => {
          failures.set(key(email), [...recent(email, now), now])
        }),
      succeeded: (email) => Effect.sync(() => void failures.delete(key(email)))
    }
  })
