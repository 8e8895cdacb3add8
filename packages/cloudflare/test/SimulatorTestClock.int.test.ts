/**
 * The simulator driven by Effect's TestClock through its `clock` option: timestamps, the analytics
 * window and rate-limit windows all move when the test adjusts the clock, and never otherwise.
 */
import { assert, describe, it } from "@effect/vitest"
import { Clock, Effect } from "effect"
import { TestClock } from "effect/testing"
import { start } from "../src/simulator/index.ts"

const t0 = Date.parse("2026-11-26T10:00:00Z")

describe("clock option", () => {
  it.effect("follows TestClock for created_on, analytics and rate-limit windows", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(t0)
      const clock = yield* Clock.clockWith(Effect.succeed)
      const sim = yield* Effect.acquireRelease(
        Effect.promise(() =>
          start({ clock: () => clock.currentTimeMillisUnsafe(), rateLimits: { rest: { requests: 1, windowSeconds: 60 } } })
        ),
        (sim) => Effect.promise(() => sim.close())
      )
      const account = sim.createAccount()
      const token = sim.createToken({ accountIds: [account.id] })
      const script = sim.createScript({ accountId: account.id, scriptName: "api", requestsPerMinute: 100 })
      yield* TestClock.adjust("5 minutes")
      const later = sim.deployOutOfBand({
        accountId: account.id,
        scriptName: "api",
        versions: [{ version_id: script.versionId, percentage: 100 }]
      })
      assert.strictEqual(later.created_on, "2026-11-26T10:05:00.000000Z")

      const get = (path: string) =>
        Effect.promise(() =>
          fetch(`${sim.baseUrl}${path}`, { headers: { authorization: `Bearer ${token.value}` } }).then((response) =>
            response.status
          )
        )
      assert.strictEqual(yield* get("/user/tokens/verify"), 200)
      assert.strictEqual(yield* get("/user/tokens/verify"), 429)
      yield* TestClock.adjust("1 minute")
      assert.strictEqual(yield* get("/user/tokens/verify"), 200)

      // 10:00 to 10:05, visible once a minute of delay has passed since 10:05.
      const requests = Effect.promise(async () => {
        const response = await fetch(`${sim.baseUrl}/graphql`, {
          method: "POST",
          headers: { authorization: `Bearer ${token.value}` },
          body: JSON.stringify({
            query: `{ viewer { accounts(filter: { accountTag: "${account.id}" }) {
              workersInvocationsAdaptive(filter: { datetime_geq: "2026-11-26T10:00:00Z", datetime_lt: "2026-11-26T10:05:00Z" }) {
                sum { requests }
              } } } }`
          })
        })
        const body = await response.json() as any
        return body.data.viewer.accounts[0].workersInvocationsAdaptive.map((row: any) => row.sum.requests)
      })
      assert.deepStrictEqual(yield* requests, [500])
    }))
})
