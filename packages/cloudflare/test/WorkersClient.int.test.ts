/**
 * The Cloudflare client (TrafficRouter and HealthSource) against the simulator over real HTTP:
 * idempotent apply, read-back, 429 handling, 5xx and lost responses, error classification, and
 * analytics batching. The simulator's clock follows TestClock, so rate-limit windows and
 * analytics move only when the test moves time.
 */
import { HealthSource, TrafficRouter, TrafficSplit } from "@canaryroll/core"
import { assert, describe, it } from "@effect/vitest"
import { Clock, Duration, Effect, Layer, Redacted } from "effect"
import { FetchHttpClient } from "effect/http"
import { TestClock } from "effect/testing"
import { AnalyticsHealthSource, ApiBudget, Credentials, WorkersApi, WorkersTrafficRouter } from "../src/index.ts"
import { type Simulator, start, type StartOptions } from "../src/simulator/index.ts"

const t0 = Date.parse("2026-11-26T10:00:00Z")
const deploymentsRoute = "/accounts/:account_id/workers/scripts/:script_name/deployments"

interface World {
  readonly sim: Simulator
  readonly accountId: string
  readonly token: string
  readonly target: TrafficRouter.WorkerTarget
  readonly stable: string
  readonly canary: string
  readonly restCalls: (route?: string) => number
  readonly graphqlCalls: () => number
  readonly deploymentsCreated: () => number
}

/** A simulator on TestClock with one account, token and Worker (stable live, canary uploaded). */
const world = (options: StartOptions = {}, scripts: ReadonlyArray<string> = ["api"]) =>
  Effect.gen(function*() {
    yield* TestClock.setTime(t0)
    const clock = yield* Clock.clockWith(Effect.succeed)
    const sim = yield* Effect.acquireRelease(
      Effect.promise(() => start({ clock: () => clock.currentTimeMillisUnsafe(), ...options })),
      (sim) => Effect.promise(() => sim.close())
    )
    const account = sim.createAccount()
    const token = sim.createToken({ accountIds: [account.id] })
    const created = scripts.map((scriptName) =>
      sim.createScript({ accountId: account.id, scriptName, requestsPerMinute: 600, errorRate: 0.001 })
    )
    const canary = sim.createVersion({ accountId: account.id, scriptName: scripts[0]!, errorRate: 0.05 })
    const tokenCalls = () => sim.counters().tokens[token.value]
    return {
      sim,
      accountId: account.id,
      token: token.value,
      target: { accountId: account.id, scriptName: scripts[0]! },
      stable: created[0]!.versionId,
      canary: canary.id,
      restCalls: (route?: string) => {
        const calls = tokenCalls()
        if (calls === undefined) return 0
        return route === undefined ? calls.restTotal : Object.entries(calls.rest)
          .filter(([key]) => key.endsWith(route))
          .reduce((sum, [, n]) => sum + n, 0)
      },
      graphqlCalls: () => tokenCalls()?.graphql ?? 0,
      deploymentsCreated: () => sim.counters().deploymentsCreated[`${account.id}/${scripts[0]!}`] ?? 0
    } satisfies World
  })

const cloudflareLayer = (w: World, options: { readonly timeoutMs?: number; readonly limits?: ApiBudget.Limits } = {}) =>
  Layer.mergeAll(
    WorkersTrafficRouter.layer({ timeoutMs: options.timeoutMs }),
    AnalyticsHealthSource.layer()
  ).pipe(
    Layer.provide([
      Credentials.layerStatic({ apiToken: w.token, baseUrl: w.sim.baseUrl }),
      ApiBudget.layer(options.limits),
      FetchHttpClient.layer
    ])
  )

const withCloudflare = <A, E>(
  w: World,
  effect: Effect.Effect<A, E, TrafficRouter.TrafficRouter | HealthSource.HealthSource>,
  options?: Parameters<typeof cloudflareLayer>[1]
) => effect.pipe(Effect.provide(cloudflareLayer(w, options)))

const tenPercent = (w: World) => TrafficSplit.canaryAt(w.canary, w.stable, 10)

describe("WorkersTrafficRouter against the simulator", () => {
  it.effect("reads the live deployment and applies a split once, however often it is asked", () =>
    Effect.gen(function*() {
      const w = yield* world()
      yield* withCloudflare(w, Effect.gen(function*() {
        const router = yield* TrafficRouter.TrafficRouter
        const before = yield* router.readActive(w.target)
        assert.deepStrictEqual(before.split, TrafficSplit.whole(w.stable))

        const applied = yield* router.apply(w.target, tenPercent(w), { message: "CanaryRoll rel_1: step 1/4 (10%)" })
        const again = yield* router.apply(w.target, tenPercent(w), { message: "CanaryRoll rel_1: step 1/4 (10%)" })
        assert.strictEqual(again.deploymentId, applied.deploymentId)
        assert.strictEqual(w.deploymentsCreated(), 1)
        assert.isTrue(TrafficSplit.equals((yield* router.readActive(w.target)).split, tenPercent(w)))
        assert.strictEqual(
          w.sim.activeDeployment(w.target)?.annotations?.["workers/message"],
          "CanaryRoll rel_1: step 1/4 (10%)"
        )
      }))
    }))

  it.effect("reads back a deployment someone made by hand", () =>
    Effect.gen(function*() {
      const w = yield* world()
      const handMade = w.sim.deployOutOfBand({
        ...w.target,
        versions: [{ version_id: w.canary, percentage: 30 }, { version_id: w.stable, percentage: 70 }]
      })
      const live = yield* withCloudflare(w, Effect.flatMap(TrafficRouter.TrafficRouter, (r) => r.readActive(w.target)))
      assert.strictEqual(live.deploymentId, handMade.id)
      assert.isTrue(TrafficSplit.equals(live.split, TrafficSplit.canaryAt(w.canary, w.stable, 30)))
    }))

  it.effect("a 429 is reported with retry-after, and the token rests until then", () =>
    Effect.gen(function*() {
      const w = yield* world({ rateLimits: { rest: { requests: 3, windowSeconds: 60 } } })
      yield* withCloudflare(w, Effect.gen(function*() {
        const router = yield* TrafficRouter.TrafficRouter
        for (let i = 0; i < 3; i++) yield* router.readActive(w.target)
        const limited = yield* router.readActive(w.target).pipe(Effect.flip)
        assert.strictEqual(limited.kind, "rate_limited")
        assert.isAbove(limited.retryAfterSeconds ?? 0, 0)
        const callsAfter429 = w.restCalls()

        // no call reaches Cloudflare while the token rests
        const resting = yield* router.readActive(w.target).pipe(Effect.flip)
        assert.strictEqual(resting.kind, "rate_limited")
        assert.strictEqual(w.restCalls(), callsAfter429)

        yield* TestClock.adjust(Duration.seconds(limited.retryAfterSeconds ?? 0))
        yield* router.readActive(w.target)
        assert.strictEqual(w.restCalls(), callsAfter429 + 1)
      }))
    }))

  it.effect("stays within its share of the budget before Cloudflare says no", () =>
    Effect.gen(function*() {
      const w = yield* world()
      const limits: ApiBudget.Limits = { rest: { requests: 10, windowSeconds: 300 }, graphql: { requests: 4, windowSeconds: 300 }, share: 0.5 }
      yield* withCloudflare(w, Effect.gen(function*() {
        const router = yield* TrafficRouter.TrafficRouter
        for (let i = 0; i < 5; i++) yield* router.readActive(w.target)
        const refused = yield* router.readActive(w.target).pipe(Effect.flip)
        assert.strictEqual(refused.kind, "rate_limited")
        assert.strictEqual(w.restCalls(), 5)
      }), { limits })
    }))

  it.effect("a 5xx on create leaves nothing applied and is transient; the next attempt deploys once", () =>
    Effect.gen(function*() {
      const w = yield* world()
      w.sim.injectFault({ kind: "status", status: 503, match: { method: "POST", path: "/deployments" } })
      yield* withCloudflare(w, Effect.gen(function*() {
        const router = yield* TrafficRouter.TrafficRouter
        const failed = yield* router.apply(w.target, tenPercent(w), { message: "step" }).pipe(Effect.flip)
        assert.strictEqual(failed.kind, "transient")
        assert.strictEqual(w.deploymentsCreated(), 0)
        yield* router.apply(w.target, tenPercent(w), { message: "step" })
        assert.strictEqual(w.deploymentsCreated(), 1)
      }))
    }))

  it.effect("a create that times out after Cloudflare applied it is found by reading, not repeated", () =>
    Effect.gen(function*() {
      const w = yield* world()
      w.sim.injectFault({ kind: "lost", holdMs: 5_000, match: { method: "POST", path: "/deployments" } })
      const applied = yield* withCloudflare(
        w,
        Effect.flatMap(TrafficRouter.TrafficRouter, (r) => r.apply(w.target, tenPercent(w), { message: "step" })),
        { timeoutMs: 300 }
      )
      assert.isTrue(TrafficSplit.equals(applied.split, tenPercent(w)))
      assert.strictEqual(w.deploymentsCreated(), 1)
      assert.strictEqual(w.restCalls(`POST ${deploymentsRoute}`), 1)
    }))

  it.effect("classifies Cloudflare's refusals: invalid split, unknown Worker, bad credentials", () =>
    Effect.gen(function*() {
      const w = yield* world()
      yield* withCloudflare(w, Effect.gen(function*() {
        const router = yield* TrafficRouter.TrafficRouter
        const unknownVersion = yield* router.apply(
          w.target,
          TrafficSplit.canaryAt("00000000-0000-4000-8000-000000000000", w.stable, 10),
          { message: "step" }
        ).pipe(Effect.flip)
        assert.strictEqual(unknownVersion.kind, "permanent")
        assert.match(unknownVersion.message, /00000000-0000-4000-8000-000000000000/)

        const missing = yield* router.readActive({ accountId: w.accountId, scriptName: "nope" }).pipe(Effect.flip)
        assert.strictEqual(missing.kind, "not_found")
        assert.match(missing.message, /does not exist/)
      }))
      const badToken = yield* router401(w)
      assert.strictEqual(badToken.kind, "credentials")
    }))
})

const router401 = (w: World) =>
  Effect.flatMap(TrafficRouter.TrafficRouter, (r) => r.readActive(w.target)).pipe(
    Effect.flip,
    Effect.provide(
      WorkersTrafficRouter.layer().pipe(
        Layer.provide([
          Credentials.layerStatic({ apiToken: "not-a-real-token-0000000000000000000000", baseUrl: w.sim.baseUrl }),
          ApiBudget.layer()
        ])
      )
    )
  )

describe("AnalyticsHealthSource against the simulator", () => {
  it.effect("measures each version over a window, after the analytics delay", () =>
    Effect.gen(function*() {
      const w = yield* world()
      w.sim.deployOutOfBand({
        ...w.target,
        versions: [{ version_id: w.canary, percentage: 10 }, { version_id: w.stable, percentage: 90 }]
      })
      yield* TestClock.adjust("11 minutes")
      const samples = yield* withCloudflare(
        w,
        Effect.flatMap(HealthSource.HealthSource, (h) =>
          h.sample({ target: w.target, window: { start: t0, end: t0 + 10 * 60_000 }, versionIds: [w.canary, w.stable] }))
      )
      assert.strictEqual(samples.get(w.canary)?.requests, 600)
      assert.strictEqual(samples.get(w.canary)?.errors, 30)
      assert.strictEqual(samples.get(w.stable)?.requests, 5_400)
      assert.isAbove(samples.get(w.canary)?.cpuTimeP50Ms ?? 0, 0)
    }))

  it.effect("one query per account per interval serves every release in that account", () =>
    Effect.gen(function*() {
      const scripts = ["api", "web", "auth", "billing", "search"]
      const w = yield* world({}, scripts)
      yield* TestClock.adjust("6 minutes")
      yield* withCloudflare(w, Effect.gen(function*() {
        const health = yield* HealthSource.HealthSource
        const windowOf = (end: number) => ({ start: end - 60_000, end })
        const checkAll = (end: number) =>
          Effect.forEach(
            scripts,
            (scriptName) =>
              health.sample({ target: { accountId: w.accountId, scriptName }, window: windowOf(end), versionIds: ["x"] }),
            { concurrency: "unbounded" }
          )
        yield* checkAll(t0 + 5 * 60_000)
        assert.strictEqual(w.graphqlCalls(), 1)
        // a release whose window started earlier in the lookback is served from the same rows
        yield* health.sample({ target: w.target, window: { start: t0 + 60_000, end: t0 + 5 * 60_000 }, versionIds: [w.stable] })
        assert.strictEqual(w.graphqlCalls(), 1)
        yield* TestClock.adjust("1 minute")
        yield* checkAll(t0 + 6 * 60_000)
        assert.strictEqual(w.graphqlCalls(), 2)
        // a release asking about an older window long after the rows were fetched (a longer
        // analytics delay) is not answered from rows Cloudflare may since have completed
        yield* TestClock.adjust("2 minutes")
        yield* health.sample({ target: w.target, window: windowOf(t0 + 6 * 60_000), versionIds: [w.stable] })
        assert.strictEqual(w.graphqlCalls(), 3)
      }))
    }))

  it.effect("reads an account with more rows than one page page by page, and measures 10-second windows exactly", () =>
    Effect.gen(function*() {
      const scripts = ["api", "web", "auth", "billing", "search"]
      const w = yield* world({}, scripts)
      yield* TestClock.adjust("7 minutes") // past the simulator's 60 s analytics delay
      const end = t0 + 5 * 60_000 + 10_000 // ten seconds into a minute, as a 10 s check interval ends
      const samples = yield* Effect.gen(function*() {
        const health = yield* HealthSource.HealthSource
        const stableOf = (scriptName: string) => w.sim.activeDeployment({ accountId: w.accountId, scriptName })!.versions[0]!.version_id
        return yield* Effect.forEach(scripts, (scriptName) =>
          health.sample({
            target: { accountId: w.accountId, scriptName },
            window: { start: end - 10_000, end },
            versionIds: [stableOf(scriptName)]
          }).pipe(Effect.map((byVersion) => [...byVersion.values()][0]!)))
      }).pipe(
        Effect.provide(
          AnalyticsHealthSource.layer({ rowLimit: 6, lookbackSeconds: 180 }).pipe(
            Layer.provide([
              Credentials.layerStatic({ apiToken: w.token, baseUrl: w.sim.baseUrl }),
              ApiBudget.layer(),
              FetchHttpClient.layer
            ])
          )
        )
      )
      // 600 requests a minute: 100 in ten seconds, for every Worker, although no page held them all
      assert.deepStrictEqual(samples.map((sample) => sample.requests), scripts.map(() => 100))
      assert.isAbove(w.graphqlCalls(), 1)
    }))

  it.effect("an exhausted GraphQL budget makes the sample unavailable (an inconclusive check)", () =>
    Effect.gen(function*() {
      const w = yield* world({ rateLimits: { graphql: { requests: 1, windowSeconds: 300 } } })
      yield* TestClock.adjust("3 minutes")
      const outcome = yield* withCloudflare(w, Effect.gen(function*() {
        const health = yield* HealthSource.HealthSource
        const ask = (end: number) => health.sample({ target: w.target, window: { start: end - 60_000, end }, versionIds: [w.stable] })
        yield* ask(t0 + 60_000)
        const limited = yield* ask(t0 + 2 * 60_000).pipe(Effect.flip)
        const resting = yield* ask(t0 + 2 * 60_000).pipe(Effect.flip)
        return { limited, resting }
      }))
      assert.strictEqual(outcome.limited._tag, "HealthSourceUnavailable")
      assert.match(outcome.limited.message, /429/)
      assert.match(outcome.resting.message, /rate-limited this token/)
      assert.strictEqual(w.graphqlCalls(), 2)
    }))
})

describe("WorkersApi against the simulator", () => {
  const withApi = <A, E>(w: World, effect: Effect.Effect<A, E, WorkersApi.WorkersApi>) =>
    effect.pipe(
      Effect.provide(
        WorkersApi.layer().pipe(
          Layer.provide([Credentials.layerStatic({ apiToken: w.token, baseUrl: w.sim.baseUrl }), ApiBudget.layer()])
        )
      )
    )

  it.effect("lists versions newest first and gets one with its annotations", () =>
    Effect.gen(function*() {
      const w = yield* world()
      const third = w.sim.createVersion({ ...w.target, message: "fix checkout rounding", tag: "v1.4.2" })
      const { listed, one } = yield* withApi(w, Effect.gen(function*() {
        const api = yield* WorkersApi.WorkersApi
        return { listed: yield* api.listVersions(w.target), one: yield* api.getVersion(w.target, third.id) }
      }))
      assert.deepStrictEqual(listed.map((v) => v.id), [third.id, w.canary, w.stable])
      assert.deepStrictEqual(listed.map((v) => v.number), [3, 2, 1])
      assert.strictEqual(one.message, "fix checkout rounding")
      assert.strictEqual(one.tag, "v1.4.2")
      const missing = yield* withApi(w, Effect.flatMap(WorkersApi.WorkersApi, (api) => api.getVersion(w.target, "00000000-0000-4000-8000-000000000000")).pipe(Effect.flip))
      assert.strictEqual(missing.kind, "not_found")
    }))

  it.effect("verifies a token before it is saved, and refuses an unknown one as a credentials problem", () =>
    Effect.gen(function*() {
      const w = yield* world()
      const { good, bad } = yield* withApi(w, Effect.gen(function*() {
        const api = yield* WorkersApi.WorkersApi
        const good = yield* api.verifyToken({ apiToken: Redacted.make(w.token), baseUrl: w.sim.baseUrl }, w.target.accountId)
        const bad = yield* api.verifyToken({ apiToken: Redacted.make("x".repeat(40)), baseUrl: w.sim.baseUrl }, w.target.accountId)
          .pipe(Effect.flip)
        return { good, bad }
      }))
      assert.deepStrictEqual(good, { status: "active", owner: "user" })
      assert.strictEqual(bad.kind, "credentials")
      // Refused both ways: as a user token and as the account's, and the message says so.
      assert.include(bad.message, "not a user token (Invalid API Token (code 1000))")
      assert.include(bad.message, `nor a token of account ${w.target.accountId} (Invalid API Token (code 1000))`)
    }))

  it.effect("verifies an account-owned token at /accounts/{account_id}/tokens/verify, after /user/tokens/verify refuses it", () =>
    Effect.gen(function*() {
      const w = yield* world()
      const owned = w.sim.createToken({ accountIds: [w.target.accountId], owner: "account" })
      const elsewhere = w.sim.createAccount({ name: "Elsewhere" })
      const credentials = { apiToken: Redacted.make(owned.value), baseUrl: w.sim.baseUrl }
      const { verified, otherAccount, reached } = yield* withApi(w, Effect.gen(function*() {
        const api = yield* WorkersApi.WorkersApi
        return {
          verified: yield* api.verifyToken(credentials, w.target.accountId),
          // The token belongs to its account only: under another account it is unknown.
          otherAccount: yield* api.verifyToken(credentials, elsewhere.id).pipe(Effect.flip),
          reached: yield* api.verifyAccountAccess(credentials, w.target.accountId)
        }
      }))
      assert.deepStrictEqual(verified, { status: "active", owner: "account" })
      assert.strictEqual(otherAccount.kind, "credentials")
      assert.strictEqual(reached.workers, 1)
      const calls = w.sim.counters().tokens[owned.value]!.rest
      assert.strictEqual(calls["GET /user/tokens/verify"], 2)
      assert.strictEqual(calls["GET /accounts/:account_id/tokens/verify"], 2)
    }))

  it.effect("asks again only when the token is refused: a 5xx on /user/tokens/verify is reported as it is", () =>
    Effect.gen(function*() {
      const w = yield* world()
      w.sim.injectFault({ kind: "status", status: 503, times: 1, match: { method: "GET", path: "/user/tokens/verify" } })
      const failed = yield* withApi(w, Effect.flatMap(WorkersApi.WorkersApi, (api) =>
        api.verifyToken({ apiToken: Redacted.make(w.token), baseUrl: w.sim.baseUrl }, w.target.accountId).pipe(Effect.flip)))
      assert.strictEqual(failed.kind, "transient")
      assert.isUndefined(w.sim.counters().tokens[w.token]?.rest["GET /accounts/:account_id/tokens/verify"])
    }))

  it.effect("checks that a token reaches the account: an active token of another account does not", () =>
    Effect.gen(function*() {
      const w = yield* world()
      const elsewhere = w.sim.createAccount({ name: "Elsewhere" })
      const outsider = w.sim.createToken({ accountIds: [elsewhere.id] })
      const { reached, refused, verified } = yield* withApi(w, Effect.gen(function*() {
        const api = yield* WorkersApi.WorkersApi
        const reached = yield* api.verifyAccountAccess({ apiToken: Redacted.make(w.token), baseUrl: w.sim.baseUrl }, w.target.accountId)
        const credentials = { apiToken: Redacted.make(outsider.value), baseUrl: w.sim.baseUrl }
        const verified = yield* api.verifyToken(credentials, elsewhere.id)
        const refused = yield* api.verifyAccountAccess(credentials, w.target.accountId).pipe(Effect.flip)
        return { reached, refused, verified }
      }))
      assert.strictEqual(reached.workers, 1)
      assert.strictEqual(verified.status, "active", "the outsider's token is active…")
      assert.strictEqual(refused.kind, "credentials", "…but cannot read this account's Workers")
    }))
})
