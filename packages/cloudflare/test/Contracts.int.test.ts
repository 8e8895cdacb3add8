/**
 * The core's port contracts on the Cloudflare adapters, exactly as they run on memory:
 * `WorkersTrafficRouter` (the real `cloudflare` SDK) and `AnalyticsHealthSource` (GraphQL) talking
 * over loopback HTTP to the simulator. Every test gets its own simulator, clocked by the test's
 * TestClock and seeded with fixed version ids, because a contract names its versions before any
 * adapter exists.
 */
import { HealthSourceContract, TrafficRouterContract } from "@canaryroll/core/testing"
import { Clock, Effect, Layer } from "effect"
import { FetchHttpClient, type HttpClient } from "effect/http"
import { TestClock } from "effect/testing"
import { AnalyticsHealthSource, ApiBudget, Credentials, WorkersTrafficRouter } from "../src/index.ts"
import { type Simulator, start } from "../src/simulator/index.ts"

const t0 = Date.parse("2026-11-26T10:00:00Z")
const minutes = (n: number) => n * 60_000

const accountId = "c0ffee00c0ffee00c0ffee00c0ffee00"
const target = { accountId, scriptName: "storefront" }
const ids = {
  stable: "5ab1e000-0000-4000-8000-000000000001",
  canary: "ca4a7000-0000-4000-8000-000000000002",
  next: "4e470000-0000-4000-8000-000000000003",
  idle: "1d1e0000-0000-4000-8000-000000000004",
  /** Never uploaded. */
  unknown: "0dd00000-0000-4000-8000-000000000005"
}

/**
 * A fresh simulator on the test's TestClock (pinned at t0) with one account and its token,
 * shaped by `seed`, and the given adapters pointed at it through their usual layers.
 */
const onSimulator = <A>(
  seed: (sim: Simulator) => void,
  adapters: Layer.Layer<A, never, Credentials.CloudflareCredentials | ApiBudget.ApiBudget | HttpClient.HttpClient>
) =>
  Layer.unwrap(Effect.gen(function*() {
    yield* TestClock.setTime(t0)
    const clock = yield* Clock.clockWith(Effect.succeed)
    const sim = yield* Effect.acquireRelease(
      Effect.promise(() => start({ clock: () => clock.currentTimeMillisUnsafe() })),
      (sim) => Effect.promise(() => sim.close())
    )
    sim.createAccount({ id: accountId })
    const token = sim.createToken({ accountIds: [accountId] })
    seed(sim)
    return adapters.pipe(
      Layer.provide([
        Credentials.layerStatic({ apiToken: token.value, baseUrl: sim.baseUrl }),
        ApiBudget.layer(),
        FetchHttpClient.layer
      ])
    )
  }))

// The Worker as `wrangler deploy` leaves it (stable live at 100%), with two more versions uploaded.
TrafficRouterContract.suite(
  "Cloudflare simulator",
  () =>
    onSimulator((sim) => {
      sim.createScript({ ...target, versionId: ids.stable })
      sim.createVersion({ ...target, id: ids.canary })
      sim.createVersion({ ...target, id: ids.next })
    }, WorkersTrafficRouter.layer()),
  {
    target,
    liveVersionId: ids.stable,
    versionIds: [ids.canary, ids.next],
    unknownVersionId: ids.unknown,
    refusesFinePercentages: true
  }
)

/**
 * Half an hour of history at 1,000 requests a minute: the stable version fails 1% of requests,
 * the canary 5%; the canary serves 10% from t0 − 20 min and 50% from t0 − 10 min; another
 * version is uploaded and never deployed. A second Worker of the account serves its own traffic,
 * which the account-wide analytics query also returns.
 */
const seedTraffic = (sim: Simulator) => {
  const since = t0 - minutes(30)
  sim.createScript({ ...target, versionId: ids.stable, requestsPerMinute: 1_000, errorRate: 0.01, at: since })
  sim.createScript({ accountId, scriptName: "checkout-api", requestsPerMinute: 300, errorRate: 0.2, at: since })
  sim.createVersion({ ...target, id: ids.canary, errorRate: 0.05, at: since })
  sim.createVersion({ ...target, id: ids.idle, errorRate: 0.5, at: since })
  const deploy = (canaryPercentage: number, at: number) =>
    sim.deployOutOfBand({
      ...target,
      versions: [
        { version_id: ids.canary, percentage: canaryPercentage },
        { version_id: ids.stable, percentage: 100 - canaryPercentage }
      ],
      at
    })
  deploy(10, t0 - minutes(20))
  deploy(50, t0 - minutes(10))
}

HealthSourceContract.suite(
  "Cloudflare simulator",
  () => onSimulator(seedTraffic, AnalyticsHealthSource.layer()),
  {
    target,
    // one minute at 10%, long visible (analytics lag 60 s behind t0)
    window: { start: t0 - minutes(15), end: t0 - minutes(14) },
    traffic: [
      { versionId: ids.canary, requests: 100, errors: 5 },
      { versionId: ids.stable, requests: 900, errors: 9 }
    ],
    idleVersionId: ids.idle,
    // two minutes at 50%
    anotherWindow: {
      window: { start: t0 - minutes(5), end: t0 - minutes(3) },
      traffic: [
        { versionId: ids.canary, requests: 1_000, errors: 50 },
        { versionId: ids.stable, requests: 1_000, errors: 10 }
      ]
    }
  }
)
