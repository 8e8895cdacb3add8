/**
 * Slows password guessing: after `maxFailures` log-in attempts for one email within `windowMs`
 * without a success, further attempts for that email are refused (429) until the window has
 * passed since the oldest counted one. A success clears the email's count.
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
  /**
   * Counts an attempt for `email` and says how long it must wait, in milliseconds (0: it may
   * try now). Counted before the password is checked, so parallel guesses all count.
   */
  readonly attempt: (email: string) => Effect.Effect<number>
  /** The attempt succeeded: the email's count starts again. */
  readonly succeeded: (email: string) => Effect.Effect<void>
}

/** Beyond this many emails tracked, expired entries are swept (unique junk emails cannot grow it). */
const sweepAbove = 10_000

export const make = (options: Options = defaults): Effect.Effect<LoginThrottle> =>
  Effect.sync(() => {
    const attempts = new Map<string, Array<number>>()
    const key = (email: string) => email.trim().toLowerCase()
    const sweep = (now: number) => {
      for (const [email, times] of attempts) {
        if (times.every((at) => at <= now - options.windowMs)) attempts.delete(email)
      }
    }
    return {
      attempt: (email) =>
        Effect.map(Clock.currentTimeMillis, (now) => {
          if (attempts.size > sweepAbove) sweep(now)
          const recent = (attempts.get(key(email)) ?? []).filter((at) => at > now - options.windowMs)
          if (recent.length >= options.maxFailures) {
            attempts.set(key(email), recent)
            return recent[recent.length - options.maxFailures]! + options.windowMs - now
          }
          attempts.set(key(email), [...recent, now])
          return 0
        }),
      succeeded: (email) => Effect.sync(() => void attempts.delete(key(email)))
    }
  })
