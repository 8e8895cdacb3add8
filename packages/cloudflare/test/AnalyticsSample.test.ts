import { assert, describe, it } from "@effect/vitest"
import { AnalyticsHealthSource } from "../src/index.ts"

const minute = 60_000
const t0 = Date.parse("2026-11-26T10:00:00Z")

describe("AnalyticsHealthSource.sampleOf", () => {
  const buckets = [0, 1, 2, 3].map((i) => ({
    from: t0 + i * minute,
    to: t0 + (i + 1) * minute,
    requests: 600,
    errors: 6 * (i + 1),
    cpuTimeP50: 1_000,
    cpuTimeP99: 5_000
  }))

  it("sums whole minutes inside the window", () => {
    const sample = AnalyticsHealthSource.sampleOf(buckets, t0 + minute, t0 + 3 * minute)
    assert.deepStrictEqual(sample, { requests: 1_200, errors: 30, cpuTimeP50Ms: 1, cpuTimeP99Ms: 5 })
  })

  it("prorates minutes cut by the window's edges", () => {
    const sample = AnalyticsHealthSource.sampleOf(buckets, t0 + 30_000, t0 + 90_000)
    assert.strictEqual(sample.requests, 600)
    assert.strictEqual(sample.errors, 3 + 6)
  })

  it("prorates a row over the part of the minute the query covered, not the whole minute", () => {
    // the query ended 10 s into the minute: its row holds 10 s of traffic
    const partial = [{ from: t0, to: t0 + 10_000, requests: 100, errors: 5 }]
    assert.deepStrictEqual(AnalyticsHealthSource.sampleOf(partial, t0, t0 + 10_000), { requests: 100, errors: 5 })
    assert.deepStrictEqual(AnalyticsHealthSource.sampleOf(partial, t0 + 5_000, t0 + 10_000), { requests: 50, errors: 3 })
  })

  it("is zero for a window with no rows", () => {
    assert.deepStrictEqual(AnalyticsHealthSource.sampleOf(buckets, t0 + 10 * minute, t0 + 11 * minute), {
      requests: 0,
      errors: 0
    })
  })
})
