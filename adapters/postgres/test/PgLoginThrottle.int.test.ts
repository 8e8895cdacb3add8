/**
 * PgLoginThrottle beyond the contract (which runs in `PgDirectory.int.test.ts`): what only a
 * shared store can show. Two layers on one database (two server processes) count the same
 * failures, and admit no more parallel attempts than one would.
 */
import { LoginThrottle } from "@canaryroll/app"
import { LoginThrottleContract } from "@canaryroll/app/testing"
import * as PgLoginThrottle from "../src/directory/PgLoginThrottle.ts"
import * as Migrations from "../src/Migrations.ts"
import * as TestDatabase from "./database/TestDatabase.ts"
import { assert, describe, it } from "@effect/vitest"
import { Context, Effect, Layer } from "effect"
import { TestClock } from "effect/testing"

const database = TestDatabase.forFile()

const onSchema = (client: Layer.Layer<any, any>, options: LoginThrottle.Options) =>
  PgLoginThrottle.layer(options).pipe(Layer.provide(Migrations.layer), Layer.provideMerge(client))

describe("LoginThrottle on one database, from two processes", () => {
  let schemas = 0
  /** Two layers on one schema, each with its own pool: two server processes. */
  const twoProcesses = Effect.gen(function*() {
    const schema = `shared_${++schemas}`
    const build = Effect.map(
      Layer.build(onSchema(database.schema(schema), LoginThrottleContract.options)),
      (context) => Context.get(context, LoginThrottle.LoginThrottle)
    )
    const first = yield* build
    const second = yield* build
    return [first, second] as const
  })
  const on = (throttle: LoginThrottle.LoginThrottle["Service"]) =>
    <A, E>(effect: Effect.Effect<A, E, LoginThrottle.LoginThrottle>) =>
      Effect.provideService(effect, LoginThrottle.LoginThrottle, throttle)

  it.effect("count the same failures", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(Date.parse("2026-01-01T00:00:00Z"))
      const [first, second] = yield* twoProcesses
      const guess = LoginThrottle.logIn("192.0.2.1", "ada@example.com")
      assert.strictEqual(yield* LoginThrottleContract.attempt(guess, "counted").pipe(on(first)), "checked")
      assert.strictEqual(yield* LoginThrottleContract.attempt(guess, "counted").pipe(on(second)), "checked")
      assert.strictEqual(yield* LoginThrottleContract.attempt(guess, "counted").pipe(on(first)), "checked")
      assert.strictEqual(yield* LoginThrottleContract.attempt(guess, "counted").pipe(on(second)), 1_000, "three failures, wherever made")
      assert.strictEqual(yield* LoginThrottleContract.attempt(guess, "counted").pipe(on(first)), 1_000)
    }).pipe(Effect.scoped))

  it.effect("admit no more parallel attempts between them than the free failures", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(Date.parse("2026-01-01T00:00:00Z"))
      const [first, second] = yield* twoProcesses
      const guess = LoginThrottle.logIn("192.0.2.1", "ada@example.com")
      // Twenty admissions at once, ten from each process, none settled yet.
      const admitted = yield* Effect.forEach(
        Array.from({ length: 20 }, (_, n) => (n % 2 === 0 ? first : second)),
        (throttle) => Effect.result(throttle.admit(guess)),
        { concurrency: "unbounded" }
      )
      assert.strictEqual(admitted.filter((result) => result._tag === "Success").length, 3)
    }).pipe(Effect.scoped))
})
