/**
 * When a failed delivery is tried again, and when it is given up: pure functions, so the rules
 * read as a table and are tested without a clock.
 *
 * - 2xx: delivered.
 * - 408, 429, 5xx, no answer (refused connection, timeout), SMTP 4xx: temporary. Retried after
 *   exponential backoff with full jitter (a uniformly random wait between 1 second and
 *   `min(maxDelay, baseDelay × 2^(attempt − 1))`), or after `retry-after` when the answer has
 *   one and it is longer (seconds, decimals allowed, or an HTTP date; capped at an hour, spread
 *   up to 10% later so that many deliveries told the same time do not return at once). Never
 *   sooner than the backoff: a `retry-after` of 0, or a date already past, would otherwise spend
 *   every attempt within seconds.
 * - Any other answer (400, 401, 403, 404, 410 …, SMTP 5xx): permanent, failed at once: asking
 *   again would get the same answer, and a 404 or 410 usually means the hook was deleted.
 * - After `maxAttempts` attempts (8 by default: about 20 minutes of backoff at most), the
 *   delivery fails with its last error.
 *
 * The error `decide` records is redacted (`Redaction.text`): whoever reads a delivery (any member
 * of the team) sees no URL's path, query or user info in it, whatever the attempt reported.
 *
 * @since 0.1.0
 */
import type * as NotificationStore from "./NotificationStore.ts"
import * as Redaction from "./Redaction.ts"

export interface Policy {
  readonly maxAttempts: number
  readonly baseDelayMs: number
  readonly maxDelayMs: number
  readonly maxRetryAfterMs: number
}

export const defaultPolicy: Policy = {
  maxAttempts: 8,
  baseDelayMs: 10_000,
  maxDelayMs: 10 * 60_000,
  maxRetryAfterMs: 60 * 60_000
}

/** What one attempt came to, before the policy decides what happens next. */
export type AttemptResult =
  | { readonly _tag: "Sent"; readonly statusCode: number | null }
  | {
    readonly _tag: "Temporary"
    readonly error: string
    readonly statusCode: number | null
    readonly retryAfterMs: number | null
  }
  | { readonly _tag: "Permanent"; readonly error: string; readonly statusCode: number | null }

/**
 * `retry-after` as a wait in milliseconds: delta-seconds (decimals too: `1.5`, which some servers
 * send though the RFC wants an integer) or an HTTP date; `null` if absent or unreadable.
 */
export const parseRetryAfter = (value: string | null | undefined, now: number): number | null => {
  if (value == null) return null
  const trimmed = value.trim()
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.ceil(Number(trimmed) * 1000)
  const date = Date.parse(trimmed)
  return Number.isNaN(date) ? null : Math.max(0, date - now)
}

/** Whether an HTTP status is worth asking again. */
export const isTemporaryStatus = (status: number): boolean => status === 408 || status === 429 || status >= 500

/** An HTTP answer as an attempt result; `body` is a short excerpt for the error message. */
export const fromHttpStatus = (
  status: number,
  options: { readonly retryAfter: string | null | undefined; readonly body: string; readonly now: number }
): AttemptResult => {
  if (status >= 200 && status < 300) return { _tag: "Sent", statusCode: status }
  const error = `HTTP ${status}${options.body.trim() === "" ? "" : `: ${options.body.trim().slice(0, 300)}`}`
  return isTemporaryStatus(status)
    ? { _tag: "Temporary", error, statusCode: status, retryAfterMs: parseRetryAfter(options.retryAfter, options.now) }
    : { _tag: "Permanent", error, statusCode: status }
}

/** The full-jitter backoff before attempt `attempt + 1`; `random` is uniform in [0, 1). */
export const backoffMs = (policy: Policy, attempt: number, random: number): number => {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, attempt - 1))
  return Math.max(1_000, Math.floor(random * ceiling))
}

/**
 * How long to wait after a temporary failure: the backoff, or `retry-after` (spread up to 10%
 * later) when that is longer. Never less than the backoff, so never less than a second.
 */
export const retryDelayMs = (policy: Policy, attempt: number, retryAfterMs: number | null, random: number): number => {
  const backoff = backoffMs(policy, attempt, random)
  return retryAfterMs === null
    ? backoff
    : Math.max(backoff, Math.ceil(Math.min(retryAfterMs, policy.maxRetryAfterMs) * (1 + random * 0.1)))
}

/** What to record after attempt number `attempts` (counted from 1) ended with `result` at `now`; its error redacted. */
export const decide = (
  policy: Policy,
  options: { readonly attempts: number; readonly result: AttemptResult; readonly now: number; readonly random: number }
): NotificationStore.AttemptOutcome => {
  const { attempts, now, random, result } = options
  switch (result._tag) {
    case "Sent":
      return { _tag: "Delivered", at: now, statusCode: result.statusCode }
    case "Permanent":
      return { _tag: "Failed", at: now, error: Redaction.text(result.error), statusCode: result.statusCode }
    case "Temporary": {
      const error = Redaction.text(result.error)
      return attempts >= policy.maxAttempts
        ? { _tag: "Failed", at: now, error: `gave up after ${attempts} attempts: ${error}`, statusCode: result.statusCode }
        : {
          _tag: "Retry",
          at: now,
          nextAttemptAt: now + retryDelayMs(policy, attempts, result.retryAfterMs, random),
          error,
          statusCode: result.statusCode
        }
    }
  }
}
