/**
 * The ActiveReleases contract, run against every adapter: a Worker has at most one holder; a
 * claim is atomic (of many at once, exactly one wins and the others are `WorkerBusy` naming the
 * winner); the holder may claim again; `replacing` takes over only from the named holder; `free`
 * frees only the holder's claim.
 *
 * `makeLayer` is called once per test and must give an adapter where no Worker is held.
 *
 * @since 0.2.0
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer, Option } from "effect"
import { ActiveReleases } from "../../src/index.ts"

const t0 = 1_767_225_600_000

export const suite = (name: string, makeLayer: () => Layer.Layer<ActiveReleases.ActiveReleases, unknown>) => {
  const test = <A, E>(title: string, body: () => Effect.Effect<A, E, ActiveReleases.ActiveReleases>) =>
    it.effect(title, () => body().pipe(Effect.provide(makeLayer(), { local: true })))

  describe(`ActiveReleases contract (${name})`, () => {
    test("a free Worker is claimed; the holder may claim again; another release is WorkerBusy naming the holder", () =>
      Effect.gen(function*() {
        const active = yield* ActiveReleases.ActiveReleases
        assert.isTrue(Option.isNone(yield* active.holder("wkr_1")))
        yield* active.claim("wkr_1", "rel_a", t0)
        yield* active.claim("wkr_1", "rel_a", t0 + 1_000)
        assert.deepStrictEqual(yield* active.holder("wkr_1"), Option.some({ releaseId: "rel_a", since: t0 }))
        const busy = yield* Effect.flip(active.claim("wkr_1", "rel_b", t0 + 2_000))
        assert.strictEqual(busy._tag, "WorkerBusy")
        if (busy._tag === "WorkerBusy") {
          assert.strictEqual(busy.holder, "rel_a")
          assert.strictEqual(busy.since, t0)
        }
        // another Worker is independent
        yield* active.claim("wkr_2", "rel_b", t0)
      }))

    test("32 releases of one Worker claiming at once: exactly one wins, the others are WorkerBusy", () =>
      Effect.gen(function*() {
        const active = yield* ActiveReleases.ActiveReleases
        const outcomes = yield* Effect.forEach(
          Array.from({ length: 32 }, (_, i) => `rel_${i}`),
          (releaseId) => Effect.result(active.claim("wkr_race", releaseId, t0)),
          { concurrency: "unbounded" }
        )
        const winners = outcomes.filter((outcome) => outcome._tag === "Success")
        assert.strictEqual(winners.length, 1)
        const holder = Option.getOrThrow(yield* active.holder("wkr_race"))
        for (const outcome of outcomes) {
          if (outcome._tag === "Failure") {
            assert.strictEqual(outcome.failure._tag, "WorkerBusy")
            if (outcome.failure._tag === "WorkerBusy") assert.strictEqual(outcome.failure.holder, holder.releaseId)
          }
        }
      }))

    test("replacing takes the Worker over only from the named holder (compare and set)", () =>
      Effect.gen(function*() {
        const active = yield* ActiveReleases.ActiveReleases
        yield* active.claim("wkr_1", "rel_a", t0)
        const refused = yield* Effect.flip(active.claim("wkr_1", "rel_c", t0 + 1, { replacing: "rel_b" }))
        assert.strictEqual(refused._tag, "WorkerBusy")
        yield* active.claim("wkr_1", "rel_c", t0 + 2, { replacing: "rel_a" })
        assert.deepStrictEqual(yield* active.holder("wkr_1"), Option.some({ releaseId: "rel_c", since: t0 + 2 }))
        // two takeovers of the same holder at once: one wins
        const outcomes = yield* Effect.forEach(
          ["rel_d", "rel_e", "rel_f", "rel_g"],
          (releaseId) => Effect.result(active.claim("wkr_1", releaseId, t0 + 3, { replacing: "rel_c" })),
          { concurrency: "unbounded" }
        )
        assert.strictEqual(outcomes.filter((outcome) => outcome._tag === "Success").length, 1)
      }))

    test("free frees the holder's claim only", () =>
      Effect.gen(function*() {
        const active = yield* ActiveReleases.ActiveReleases
        yield* active.claim("wkr_1", "rel_a", t0)
        yield* active.free("wkr_1", "rel_b")
        assert.isTrue(Option.isSome(yield* active.holder("wkr_1")))
        yield* active.free("wkr_1", "rel_a")
        assert.isTrue(Option.isNone(yield* active.holder("wkr_1")))
        yield* active.claim("wkr_1", "rel_b", t0 + 1)
        yield* active.free("wkr_1", "rel_b")
        yield* active.free("wkr_1", "rel_b")
      }))
  })
}
