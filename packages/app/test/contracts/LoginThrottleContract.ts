/**
 * The LoginThrottle contract, run against every layer: free failures, then waits that double up
 * to the cap; the right password waits like a wrong one but then clears the account; failures on
 * an account from elsewhere never delay an address that has not failed on it; the address's own
 * count survives a success; attempts without a verdict count for nothing; past the free
 * failures only one attempt per counter is checked at a time, and a lease ends an attempt nobody
 * settled; counters are forgotten; sign-ups count per address. Time comes from the `TestClock`.
 *
 * `makeLayer` is called once per test with `options` (small numbers, so the tests are short) and
 * must give an empty store.
 */
import { assert, describe, it } from "@effect/vitest"
import { Deferred, Effect, Exit, Fiber, type Layer } from "effect"
import { TestClock } from "effect/testing"
import * as LoginThrottle from "../../src/directory/LoginThrottle.ts"

/** 2026-01-01T00:00:00Z, in epoch milliseconds. */
const t0 = 1_767_225_600_000

export const options: LoginThrottle.Options = {
  address: { freeFailures: 6, firstDelayMs: 1_000, maxDelayMs: 60_000, forgetAfterMs: 3_600_000 },
  account: { freeFailures: 3, firstDelayMs: 1_000, maxDelayMs: 8_000, forgetAfterMs: 600_000 },
  signup: { freeFailures: 2, firstDelayMs: 10_000, maxDelayMs: 40_000, forgetAfterMs: 600_000 },
  checkLeaseMs: 5_000
}

/** Makes an attempt that ends as `outcome`; `checked`, or how long it was told to wait. */
export const attempt = (what: LoginThrottle.Attempt, outcome: LoginThrottle.Outcome) =>
  LoginThrottle.guard(what, Effect.succeed("checked" as const), () => outcome).pipe(
    Effect.catchTag("MustWait", (refused) => Effect.succeed(refused.waitMs))
  )

const logIn = LoginThrottle.logIn

export const suite = (name: string, makeLayer: (options: LoginThrottle.Options) => Layer.Layer<LoginThrottle.LoginThrottle, unknown>) => {
  const test = <A, E>(title: string, body: () => Effect.Effect<A, E, LoginThrottle.LoginThrottle>) =>
    it.effect(title, () =>
      Effect.gen(function*() {
        // The clock first: a database pool built before the clock jumps decades would see its
        // connections' timers fire.
        yield* TestClock.setTime(t0)
        return yield* body().pipe(Effect.provide(makeLayer(options), { local: true }))
      }))

  describe(`LoginThrottle contract (${name})`, () => {
    test("free failures, then each failure doubles the wait, up to the cap", () =>
      Effect.gen(function*() {
        for (let n = 0; n < 3; n++) assert.strictEqual(yield* attempt(logIn("192.0.2.1", "ada@example.com"), "counted"), "checked")
        const waits: Array<number> = []
        for (let n = 0; n < 6; n++) {
          const wait = yield* attempt(logIn("192.0.2.1", "ada@example.com"), "counted")
          assert.isNumber(wait)
          waits.push(wait as number)
          yield* TestClock.adjust(wait as number)
          assert.strictEqual(yield* attempt(logIn("192.0.2.1", "ada@example.com"), "counted"), "checked", "after the wait")
        }
        assert.deepStrictEqual(waits, [1_000, 2_000, 4_000, 8_000, 8_000, 8_000])
      }))

    test("the right password waits like a wrong one, then clears the account's counters", () =>
      Effect.gen(function*() {
        for (let n = 0; n < 3; n++) yield* attempt(logIn("192.0.2.1", "ada@example.com"), "counted")
        // Three failures: 1 s from the last one, whatever the password.
        assert.strictEqual(yield* attempt(logIn("192.0.2.1", "ada@example.com"), "cleared"), 1_000)
        yield* TestClock.adjust("1 second")
        assert.strictEqual(yield* attempt(logIn("192.0.2.1", "ADA@example.com "), "cleared"), "checked", "email case and spaces do not matter")
        for (let n = 0; n < 3; n++) {
          assert.strictEqual(yield* attempt(logIn("192.0.2.1", "ada@example.com"), "counted"), "checked", "free again after a success")
        }
      }))

    test("failures from one address never delay another address that has not failed on the account", () =>
      Effect.gen(function*() {
        for (let n = 0; n < 5; n++) yield* attempt(logIn("192.0.2.1", "ada@example.com"), "counted")
        assert.isNumber(yield* attempt(logIn("192.0.2.1", "ada@example.com"), "counted"), "the attacker waits")
        assert.strictEqual(yield* attempt(logIn("198.51.100.7", "ada@example.com"), "cleared"), "checked", "Ada, elsewhere, does not")
      }))

    test("guesses spread over addresses: an address that has failed on the account waits for the account's count", () =>
      Effect.gen(function*() {
        for (const address of ["192.0.2.1", "192.0.2.2", "192.0.2.3", "192.0.2.4"]) {
          assert.strictEqual(yield* attempt(logIn(address, "ada@example.com"), "counted"), "checked", `first guess from ${address}`)
        }
        // Four failures on the account: each of those addresses now waits 2 s from the last one.
        assert.strictEqual(yield* attempt(logIn("192.0.2.1", "ada@example.com"), "counted"), 2_000)
        assert.strictEqual(yield* attempt(logIn("192.0.2.4", "ada@example.com"), "counted"), 2_000)
        assert.strictEqual(yield* attempt(logIn("198.51.100.7", "ada@example.com"), "cleared"), "checked", "a fresh address")
        // Ada's success cleared the account: the guessers' next tries are free again.
        assert.strictEqual(yield* attempt(logIn("192.0.2.1", "ada@example.com"), "counted"), "checked")
      }))

    test("an address's count spans accounts, and a success does not clear it", () =>
      Effect.gen(function*() {
        for (let n = 0; n < 6; n++) {
          assert.strictEqual(yield* attempt(logIn("192.0.2.1", `user${n}@example.com`), "counted"), "checked")
        }
        assert.strictEqual(yield* attempt(logIn("192.0.2.1", "mallory@example.com"), "cleared"), 1_000, "any account from there")
        assert.strictEqual(yield* attempt(logIn("192.0.2.9", "mallory@example.com"), "cleared"), "checked", "another address")
        yield* TestClock.adjust("1 second")
        assert.strictEqual(yield* attempt(logIn("192.0.2.1", "mallory@example.com"), "cleared"), "checked", "its own account")
        assert.strictEqual(yield* attempt(logIn("192.0.2.1", "user0@example.com"), "counted"), "checked")
        // The success bought nothing: seven failures now, 2 s.
        assert.strictEqual(yield* attempt(logIn("192.0.2.1", "user1@example.com"), "counted"), 2_000)
      }))

    test("IPv6 clients count per /64", () =>
      Effect.gen(function*() {
        for (let n = 1; n <= 6; n++) yield* attempt(logIn(`2001:db8:0:1::${n}`, `user${n}@example.com`), "counted")
        assert.strictEqual(yield* attempt(logIn("2001:db8:0:1:ffff::1", "x@example.com"), "counted"), 1_000)
        assert.strictEqual(yield* attempt(logIn("2001:db8:0:2::1", "x@example.com"), "counted"), "checked", "another /64")
        assert.strictEqual(LoginThrottle.addressUnit("::ffff:192.0.2.1"), "192.0.2.1")
      }))

    test("an attempt without a verdict (our failure) counts for nothing", () =>
      Effect.gen(function*() {
        for (let n = 0; n < 20; n++) {
          assert.strictEqual(yield* attempt(logIn("192.0.2.1", "ada@example.com"), "uncounted"), "checked")
        }
        const failed = LoginThrottle.guard(
          logIn("192.0.2.1", "ada@example.com"),
          Effect.fail("storage down"),
          (exit) => Exit.isSuccess(exit) ? "counted" : "uncounted"
        )
        for (let n = 0; n < 20; n++) assert.strictEqual(yield* Effect.flip(failed), "storage down")
        // A defect is never a verdict, whatever the caller would say of it.
        const died = LoginThrottle.guard(logIn("192.0.2.1", "ada@example.com"), Effect.die("bug"), () => "counted")
        for (let n = 0; n < 20; n++) yield* Effect.exit(died)
        for (let n = 0; n < 3; n++) {
          assert.strictEqual(yield* attempt(logIn("192.0.2.1", "ada@example.com"), "counted"), "checked", "still free")
        }
      }))

    test("checks in flight count toward the free failures; past them, one at a time", () =>
      Effect.gen(function*() {
        const latch = yield* Deferred.make<void>()
        /** An attempt whose check waits for `latch`; `started` once it is admitted. */
        const slow = (started: Deferred.Deferred<void>, latch: Deferred.Deferred<void>) =>
          LoginThrottle.guard(
            logIn("192.0.2.1", "ada@example.com"),
            Effect.andThen(Deferred.succeed(started, undefined), Deferred.await(latch)),
            () => "counted"
          )
        const starts = yield* Effect.forEach([1, 2, 3], () => Deferred.make<void>())
        const running = yield* Effect.forEach(starts, (started) => Effect.forkChild(slow(started, latch)))
        yield* Effect.forEach(starts, Deferred.await)
        // Three checks in flight: a fourth would be past the free failures before any verdict.
        assert.isNumber(yield* attempt(logIn("192.0.2.1", "ada@example.com"), "counted"))
        yield* Deferred.succeed(latch, undefined)
        yield* Effect.forEach(running, Fiber.join)
        assert.strictEqual(yield* attempt(logIn("192.0.2.1", "ada@example.com"), "counted"), 1_000, "three verdicts")
        yield* TestClock.adjust("1 second")
        const started = yield* Deferred.make<void>()
        const held = yield* Deferred.make<void>()
        const fiber = yield* Effect.forkChild(slow(started, held))
        yield* Deferred.await(started)
        assert.strictEqual(yield* attempt(logIn("192.0.2.1", "ada@example.com"), "counted"), 1_000, "one check at a time")
        yield* Deferred.succeed(held, undefined)
        yield* Fiber.join(fiber)
        assert.strictEqual(yield* attempt(logIn("192.0.2.1", "ada@example.com"), "counted"), 2_000, "its verdict decides")
      }))

    test("an attempt nobody settles (a crashed process) ends with its lease", () =>
      Effect.gen(function*() {
        const throttle = yield* LoginThrottle.LoginThrottle
        for (let n = 0; n < 3; n++) yield* throttle.admit(logIn("192.0.2.1", "ada@example.com"))
        assert.isNumber(yield* attempt(logIn("192.0.2.1", "ada@example.com"), "counted"))
        yield* TestClock.adjust("5 seconds")
        assert.strictEqual(yield* attempt(logIn("192.0.2.1", "ada@example.com"), "counted"), "checked")
      }))

    test("counters are forgotten after a quiet while", () =>
      Effect.gen(function*() {
        for (let n = 0; n < 3; n++) yield* attempt(logIn("192.0.2.1", "ada@example.com"), "counted")
        assert.strictEqual(yield* attempt(logIn("192.0.2.1", "ada@example.com"), "counted"), 1_000)
        yield* TestClock.adjust("10 minutes")
        for (let n = 0; n < 3; n++) {
          assert.strictEqual(yield* attempt(logIn("192.0.2.1", "ada@example.com"), "counted"), "checked", "free again")
        }
      }))

    test("sign-ups count per address", () =>
      Effect.gen(function*() {
        for (let n = 0; n < 2; n++) assert.strictEqual(yield* attempt(LoginThrottle.signUp("192.0.2.1"), "counted"), "checked")
        assert.strictEqual(yield* attempt(LoginThrottle.signUp("192.0.2.1"), "counted"), 10_000)
        assert.strictEqual(yield* attempt(LoginThrottle.signUp("192.0.2.2"), "counted"), "checked")
        assert.strictEqual(yield* attempt(logIn("192.0.2.1", "ada@example.com"), "counted"), "checked", "log-ins count apart")
      }))
  })
}
