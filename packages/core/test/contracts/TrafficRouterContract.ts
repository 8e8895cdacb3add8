/**
 * The TrafficRouter contract, run against every adapter: `readActive` returns the Worker's live
 * deployment; `apply` of a split Cloudflare accepts (one or two distinct versions, percentages
 * summing to 100, 0% and 0.01% included) creates a new deployment that `readActive` then returns;
 * a split it would reject fails with kind `permanent` and changes nothing; an unknown Worker is
 * `not_found`.
 *
 * Splits are compared with `TrafficSplit.equals` (order-insensitive), as Cloudflare may reorder.
 *
 * @since 0.1.0
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { TrafficRouter, TrafficSplit } from "../../src/index.ts"

export interface Fixture {
  /** A Worker that exists; every test starts with `liveVersionId` serving all its traffic. */
  readonly target: TrafficRouter.WorkerTarget
  readonly liveVersionId: string
  /** Two more versions uploaded to the Worker, distinct from each other and from the live one. */
  readonly versionIds: readonly [string, string]
  /** A Worker that does not exist; by default a made-up script in the target's account. */
  readonly unknownTarget?: TrafficRouter.WorkerTarget
  /**
   * A version the Worker does not have, for adapters that check versions (Cloudflare does, the
   * memory router does not). Leave it out and the suite does not test unknown versions.
   */
  readonly unknownVersionId?: string
  /**
   * Whether the adapter refuses the fine percentages Cloudflare refuses: below 0.01 (other than 0)
   * or with more than two decimals. Cloudflare does (and so does its simulator); the memory router
   * checks only what core's `TrafficSplit.invalidReason` checks. Leave it out and the suite does
   * not test them.
   */
  readonly refusesFinePercentages?: boolean
}

const assertSplit = (actual: TrafficSplit.TrafficSplit, expected: TrafficSplit.TrafficSplit) =>
  assert.isTrue(
    TrafficSplit.equals(actual, expected),
    `expected ${TrafficSplit.describe(expected)}, got ${TrafficSplit.describe(actual)}`
  )

const options: TrafficRouter.ApplyOptions = { message: "CanaryRoll contract suite" }

export const suite = (name: string, makeLayer: () => Layer.Layer<TrafficRouter.TrafficRouter, unknown>, fixture: Fixture) => {
  const { target, liveVersionId, versionIds: [canary, other] } = fixture
  const unknownTarget = fixture.unknownTarget ?? { accountId: target.accountId, scriptName: "canaryroll-contract-no-such-worker" }
  const test = <A, E>(title: string, body: () => Effect.Effect<A, E, TrafficRouter.TrafficRouter>) =>
    it.effect(title, () => body().pipe(Effect.provide(makeLayer(), { local: true })))

  /** Applies `split`, expects it to be refused with `kind`, and checks the live deployment did not move. */
  const assertRefused = (
    split: TrafficSplit.TrafficSplit,
    kinds: ReadonlyArray<TrafficRouter.TrafficRouterError["kind"]>
  ) =>
    Effect.gen(function*() {
      const router = yield* TrafficRouter.TrafficRouter
      const before = yield* router.readActive(target)
      const error = yield* router.apply(target, split, options).pipe(Effect.flip)
      assert.strictEqual(error._tag, "TrafficRouterError")
      assert.include(kinds, error.kind, `${TrafficSplit.describe(split)} was refused with kind ${error.kind}`)
      assert.deepStrictEqual(yield* router.readActive(target), before)
    })

  describe(`TrafficRouter contract (${name})`, () => {
    test("readActive returns the live deployment", () =>
      Effect.gen(function*() {
        const router = yield* TrafficRouter.TrafficRouter
        const active = yield* router.readActive(target)
        assert.isNotEmpty(active.deploymentId)
        assertSplit(active.split, TrafficSplit.whole(liveVersionId))
      }))

    test("apply of a valid two-version split returns a new deployment that readActive then shows", () =>
      Effect.gen(function*() {
        const router = yield* TrafficRouter.TrafficRouter
        const before = yield* router.readActive(target)
        const split = TrafficSplit.canaryAt(canary, liveVersionId, 10)
        const applied = yield* router.apply(target, split, options)
        assertSplit(applied.split, split)
        assert.notStrictEqual(applied.deploymentId, before.deploymentId)
        const after = yield* router.readActive(target)
        assert.strictEqual(after.deploymentId, applied.deploymentId)
        assertSplit(after.split, split)
      }))

    test("successive applies, fractional and whole, each become the live deployment", () =>
      Effect.gen(function*() {
        const router = yield* TrafficRouter.TrafficRouter
        const deploymentIds = [(yield* router.readActive(target)).deploymentId]
        for (
          const split of [
            TrafficSplit.canaryAt(canary, liveVersionId, 0.01),
            TrafficSplit.canaryAt(canary, liveVersionId, 0.25),
            TrafficSplit.canaryAt(canary, other, 50.5),
            // 0% beside 100%: the version is deployed but serves no traffic (a smoke-test stage)
            TrafficSplit.canaryAt(canary, liveVersionId, 0),
            TrafficSplit.whole(canary),
            TrafficSplit.whole(liveVersionId)
          ]
        ) {
          const applied = yield* router.apply(target, split, options)
          const active = yield* router.readActive(target)
          assert.strictEqual(active.deploymentId, applied.deploymentId)
          assertSplit(active.split, split)
          deploymentIds.push(applied.deploymentId)
        }
        assert.strictEqual(new Set(deploymentIds).size, deploymentIds.length, `deployment ids repeat: ${deploymentIds.join(", ")}`)
      }))

    const invalidSplits: ReadonlyArray<readonly [string, TrafficSplit.TrafficSplit]> = [
      ["three versions", [
        { versionId: canary, percentage: 10 },
        { versionId: other, percentage: 10 },
        { versionId: liveVersionId, percentage: 80 }
      ]],
      ["percentages summing to 90", [{ versionId: canary, percentage: 10 }, { versionId: liveVersionId, percentage: 80 }]],
      ["percentages summing to 110", [{ versionId: canary, percentage: 30 }, { versionId: liveVersionId, percentage: 80 }]],
      ["the same version twice", [{ versionId: canary, percentage: 50 }, { versionId: canary, percentage: 50 }]],
      ["a negative percentage", [{ versionId: canary, percentage: 120 }, { versionId: liveVersionId, percentage: -20 }]],
      ["no versions", []]
    ]
    for (const [label, split] of invalidSplits) {
      test(`apply of a split with ${label} fails as permanent and changes nothing`, () => assertRefused(split, ["permanent"]))
    }

    if (fixture.refusesFinePercentages === true) {
      const fineSplits: ReadonlyArray<readonly [string, TrafficSplit.TrafficSplit]> = [
        ["a percentage below 0.01", [
          { versionId: canary, percentage: 1e-11 },
          { versionId: liveVersionId, percentage: 100 - 1e-11 }
        ]],
        ["a percentage with three decimals", [
          { versionId: canary, percentage: 33.333 },
          { versionId: liveVersionId, percentage: 66.667 }
        ]],
        ["a percentage a float error away from two decimals", [
          { versionId: canary, percentage: 50.000000000001 },
          { versionId: liveVersionId, percentage: 49.999999999999 }
        ]]
      ]
      for (const [label, split] of fineSplits) {
        test(`apply of a split with ${label} fails as permanent and changes nothing`, () => assertRefused(split, ["permanent"]))
      }
    }

    if (fixture.unknownVersionId !== undefined) {
      const unknownVersionId = fixture.unknownVersionId
      // Bad request or not found is the adapter's reading of Cloudflare's answer; both fail the release.
      test("apply of a split naming an unknown version fails as permanent or not_found and changes nothing", () =>
        assertRefused(TrafficSplit.canaryAt(unknownVersionId, liveVersionId, 10), ["permanent", "not_found"]))
    }

    test("an unknown Worker is not_found, for readActive and apply", () =>
      Effect.gen(function*() {
        const router = yield* TrafficRouter.TrafficRouter
        const read = yield* router.readActive(unknownTarget).pipe(Effect.flip)
        assert.deepInclude(read, { _tag: "TrafficRouterError", kind: "not_found" })
        const applied = yield* router.apply(unknownTarget, TrafficSplit.whole(canary), options).pipe(Effect.flip)
        assert.deepInclude(applied, { _tag: "TrafficRouterError", kind: "not_found" })
        assertSplit((yield* router.readActive(target)).split, TrafficSplit.whole(liveVersionId))
      }))
  })
}
