import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { TestClock } from "effect/testing"
import { ApiBudget } from "../src/index.ts"

const small: ApiBudget.Limits = {
  rest: { requests: 10, windowSeconds: 300 },
  graphql: { requests: 4, windowSeconds: 300 },
  share: 0.5
}

const withBudget = <A, E>(effect: Effect.Effect<A, E, ApiBudget.ApiBudget>) =>
  effect.pipe(Effect.provide(ApiBudget.layer(small)))

describe("ApiBudget", () => {
  it("defaults to half of Cloudflare's published limits", () => {
    assert.deepStrictEqual(ApiBudget.cloudflareLimits, {
      rest: { requests: 1_200, windowSeconds: 300 },
      graphql: { requests: 300, windowSeconds: 300 },
      share: 0.5
    })
  })

  it.effect("allows half of each limit per window, then says when the oldest call leaves the window", () =>
    withBudget(Effect.gen(function*() {
      const budget = yield* ApiBudget.ApiBudget
      for (let i = 0; i < 5; i++) {
        yield* budget.take("token-a", "rest")
        yield* TestClock.adjust("10 seconds")
      }
      const refused = yield* budget.take("token-a", "rest").pipe(Effect.flip)
      assert.strictEqual(refused.kind, "rest")
      assert.strictEqual(refused.retryAfterSeconds, 250)
      assert.match(refused.message, /share of the rest API budget \(5 per 300s\) is used up/)

      // other tokens and the GraphQL budget are separate
      yield* budget.take("token-b", "rest")
      yield* budget.take("token-a", "graphql")
      assert.deepStrictEqual(yield* budget.usage("token-a"), { rest: 5, graphql: 1 })

      yield* TestClock.adjust("250 seconds")
      yield* budget.take("token-a", "rest")
    })))

  it.effect("after a 429 no call is made for that token until retry-after has passed", () =>
    withBudget(Effect.gen(function*() {
      const budget = yield* ApiBudget.ApiBudget
      yield* budget.block("token-a", "graphql", 120)
      const refused = yield* budget.take("token-a", "graphql").pipe(Effect.flip)
      assert.strictEqual(refused.retryAfterSeconds, 120)
      assert.match(refused.message, /rate-limited this token/)
      yield* budget.take("token-a", "rest")
      yield* TestClock.adjust("119 seconds")
      assert.strictEqual((yield* budget.take("token-a", "graphql").pipe(Effect.flip)).retryAfterSeconds, 1)
      yield* TestClock.adjust("1 second")
      yield* budget.take("token-a", "graphql")
    })))
})
