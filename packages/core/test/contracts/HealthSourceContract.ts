/**
 * The HealthSource contract, run against every adapter: `sample` answers with exactly one sample
 * per requested version, and nothing else; a version without traffic in the window gets zero
 * requests and zero errors (not a missing entry, which would read as "no analytics"); counts are
 * what analytics measured, with requests ≥ errors ≥ 0; and, for adapters that read real
 * analytics (fixtures with `anotherWindow`), they are the counts of the window asked about.
 *
 * @since 0.1.0
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import type { HealthCheck, TrafficRouter } from "../../src/index.ts"
import { HealthSource } from "../../src/index.ts"

/** What analytics recorded for one version of the target in the fixture's window. */
export interface Traffic {
  readonly versionId: string
  readonly requests: number
  readonly errors: number
}

export interface Fixture {
  readonly target: TrafficRouter.WorkerTarget
  readonly window: HealthCheck.Window
  /** Versions that served traffic in the window, at least two, with their exact counts. */
  readonly traffic: ReadonlyArray<Traffic>
  /** A version that served no traffic in the window. */
  readonly idleVersionId: string
  /**
   * Another window of the same target, with what analytics recorded in it for every version of
   * `traffic` (counts that differ from `traffic`'s), and no traffic for `idleVersionId`. Adapters
   * reading real analytics give it to show that a sample covers the window asked about, however
   * the windows are asked in turn; the memory source answers the same counts for every window and
   * leaves it out.
   */
  readonly anotherWindow?: {
    readonly window: HealthCheck.Window
    readonly traffic: ReadonlyArray<Traffic>
  }
}

const assertPlausible = (versionId: string, sample: HealthCheck.VersionSample) =>
  assert.isTrue(
    Number.isFinite(sample.requests) && sample.requests >= sample.errors && sample.errors >= 0,
    `${versionId}: expected requests >= errors >= 0, got ${sample.requests} requests and ${sample.errors} errors`
  )

export const suite = (name: string, makeLayer: () => Layer.Layer<HealthSource.HealthSource, unknown>, fixture: Fixture) => {
  const { target, window, traffic, idleVersionId } = fixture
  const test = <A, E>(title: string, body: () => Effect.Effect<A, E, HealthSource.HealthSource>) =>
    it.effect(title, () => body().pipe(Effect.provide(makeLayer(), { local: true })))

  describe(`HealthSource contract (${name})`, () => {
    test("returns one sample per requested version, with the counts analytics recorded", () =>
      Effect.gen(function*() {
        const health = yield* HealthSource.HealthSource
        const versionIds = [...traffic.map((t) => t.versionId), idleVersionId]
        const samples = yield* health.sample({ target, window, versionIds })
        assert.sameMembers([...samples.keys()], versionIds)
        for (const { versionId, requests, errors } of traffic) {
          assert.deepInclude(samples.get(versionId), { requests, errors }, versionId)
        }
      }))

    test("a version with no traffic in the window gets zero requests and zero errors", () =>
      Effect.gen(function*() {
        const health = yield* HealthSource.HealthSource
        const samples = yield* health.sample({ target, window, versionIds: [idleVersionId, traffic[0]!.versionId] })
        assert.deepInclude(samples.get(idleVersionId), { requests: 0, errors: 0 })
      }))

    test("every sample has requests >= errors >= 0", () =>
      Effect.gen(function*() {
        const health = yield* HealthSource.HealthSource
        const samples = yield* health.sample({ target, window, versionIds: [...traffic.map((t) => t.versionId), idleVersionId] })
        for (const [versionId, sample] of samples) assertPlausible(versionId, sample)
      }))

    test("answers only for the versions asked about", () =>
      Effect.gen(function*() {
        const health = yield* HealthSource.HealthSource
        const [first, second] = traffic
        const one = yield* health.sample({ target, window, versionIds: [second!.versionId] })
        assert.sameMembers([...one.keys()], [second!.versionId])
        assert.deepInclude(one.get(second!.versionId), { requests: second!.requests, errors: second!.errors })
        const reversed = yield* health.sample({ target, window, versionIds: [second!.versionId, first!.versionId] })
        assert.sameMembers([...reversed.keys()], [first!.versionId, second!.versionId])
        assert.strictEqual((yield* health.sample({ target, window, versionIds: [] })).size, 0)
      }))

    if (fixture.anotherWindow !== undefined) {
      const another = fixture.anotherWindow
      test("counts only the window asked about, whichever window was asked before", () =>
        Effect.gen(function*() {
          const health = yield* HealthSource.HealthSource
          const versionIds = [...traffic.map((t) => t.versionId), idleVersionId]
          const turns = [["window", window, traffic], ["anotherWindow", another.window, another.traffic], [
            "window again",
            window,
            traffic
          ]] as const
          for (const [label, asked, recorded] of turns) {
            const samples = yield* health.sample({ target, window: asked, versionIds })
            assert.sameMembers([...samples.keys()], versionIds, label)
            for (const { versionId, requests, errors } of recorded) {
              assert.deepInclude(samples.get(versionId), { requests, errors }, `${versionId} in ${label}`)
            }
            assert.deepInclude(samples.get(idleVersionId), { requests: 0, errors: 0 }, `${idleVersionId} in ${label}`)
          }
        }))
    }
  })
}
