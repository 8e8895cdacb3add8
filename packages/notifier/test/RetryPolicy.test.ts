import { assert, describe, it } from "@effect/vitest"
import { RetryPolicy } from "../src/index.ts"

const now = 1_767_225_600_000
const policy = RetryPolicy.defaultPolicy
const answer = (status: number, retryAfter: string | null = null, body = "") =>
  RetryPolicy.fromHttpStatus(status, { retryAfter, body, now })

describe("RetryPolicy", () => {
  it("classifies answers: 2xx sent; 408, 429, 5xx temporary; other 4xx permanent", () => {
    assert.deepStrictEqual(answer(200), { _tag: "Sent", statusCode: 200 })
    assert.deepStrictEqual(answer(204), { _tag: "Sent", statusCode: 204 })
    for (const status of [408, 429, 500, 502, 503, 504]) assert.strictEqual(answer(status)._tag, "Temporary", String(status))
    for (const status of [301, 400, 401, 403, 404, 410, 413, 422]) assert.strictEqual(answer(status)._tag, "Permanent", String(status))
    assert.deepStrictEqual(answer(404, null, "  no_such_hook \n"), { _tag: "Permanent", error: "HTTP 404: no_such_hook", statusCode: 404 })
  })

  it("reads retry-after as seconds or as an HTTP date", () => {
    assert.strictEqual(RetryPolicy.parseRetryAfter("120", now), 120_000)
    assert.strictEqual(RetryPolicy.parseRetryAfter(new Date(now + 90_000).toUTCString(), now), 90_000)
    assert.strictEqual(RetryPolicy.parseRetryAfter(new Date(now - 90_000).toUTCString(), now), 0)
    assert.strictEqual(RetryPolicy.parseRetryAfter("soon", now), null)
    assert.strictEqual(RetryPolicy.parseRetryAfter(undefined, now), null)
    assert.deepStrictEqual(answer(429, "7"), { _tag: "Temporary", error: "HTTP 429", statusCode: 429, retryAfterMs: 7_000 })
  })

  it("reads decimal seconds as seconds, not as a date", () => {
    assert.strictEqual(RetryPolicy.parseRetryAfter("1.5", now), 1_500)
    assert.strictEqual(RetryPolicy.parseRetryAfter(" 0.25 ", now), 250)
    assert.strictEqual(RetryPolicy.parseRetryAfter("0", now), 0)
  })

  it("never retries sooner than the backoff, whatever retry-after says", () => {
    for (const retryAfter of ["0", "1.5", new Date(now - 90_000).toUTCString()]) {
      for (let attempt = 1; attempt < policy.maxAttempts; attempt++) {
        const delay = RetryPolicy.retryDelayMs(policy, attempt, RetryPolicy.parseRetryAfter(retryAfter, now), 0.5)
        assert.strictEqual(delay, RetryPolicy.backoffMs(policy, attempt, 0.5), `${retryAfter}, attempt ${attempt}`)
      }
    }
    assert.strictEqual(RetryPolicy.retryDelayMs(policy, 1, 0, 0), 1_000)
  })

  it("a server answering 429 with retry-after 0 does not use up every attempt within seconds", () => {
    let at = now
    let attempts = 1
    while (true) {
      const outcome = RetryPolicy.decide(policy, { attempts, result: answer(429, "0"), now: at, random: 0.5 })
      if (outcome._tag !== "Retry") break
      at = outcome.nextAttemptAt
      attempts++
    }
    assert.strictEqual(attempts, policy.maxAttempts)
    // 5 + 10 + 20 + 40 + 80 + 160 + 300 seconds of backoff at random 0.5
    assert.strictEqual(at - now, 615_000)
  })

  it("backs off exponentially with full jitter, within [1 s, min(max, base × 2^(n-1))]", () => {
    assert.strictEqual(RetryPolicy.backoffMs(policy, 1, 0.999999), 9_999)
    assert.strictEqual(RetryPolicy.backoffMs(policy, 3, 0.5), 20_000)
    assert.strictEqual(RetryPolicy.backoffMs(policy, 20, 0.999999), policy.maxDelayMs - 1)
    assert.strictEqual(RetryPolicy.backoffMs(policy, 2, 0), 1_000)
  })

  it("waits at least retry-after, at most 10% longer, capped at an hour", () => {
    assert.strictEqual(RetryPolicy.retryDelayMs(policy, 1, 120_000, 0), 120_000)
    assert.strictEqual(RetryPolicy.retryDelayMs(policy, 1, 120_000, 0.999), 131_988)
    assert.strictEqual(RetryPolicy.retryDelayMs(policy, 1, 86_400_000, 0), 3_600_000)
  })

  it("decides: delivered, failed at once when permanent, retried until the last attempt, then failed", () => {
    const temporary = answer(503)
    assert.deepStrictEqual(RetryPolicy.decide(policy, { attempts: 1, result: answer(200), now, random: 0.5 }), {
      _tag: "Delivered",
      at: now,
      statusCode: 200
    })
    assert.deepStrictEqual(RetryPolicy.decide(policy, { attempts: 1, result: answer(410), now, random: 0.5 }), {
      _tag: "Failed",
      at: now,
      error: "HTTP 410",
      statusCode: 410
    })
    assert.deepStrictEqual(RetryPolicy.decide(policy, { attempts: 7, result: temporary, now, random: 0.5 }), {
      _tag: "Retry",
      at: now,
      nextAttemptAt: now + 300_000,
      error: "HTTP 503",
      statusCode: 503
    })
    assert.deepStrictEqual(RetryPolicy.decide(policy, { attempts: 8, result: temporary, now, random: 0.5 }), {
      _tag: "Failed",
      at: now,
      error: "gave up after 8 attempts: HTTP 503",
      statusCode: 503
    })
  })
})
