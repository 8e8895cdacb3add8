/**
 * A scheduler process for the reliability tests, wired the way a server process is: a Postgres
 * pool on `DATABASE_URL`, the event store with its read models, the Postgres scheduler and its
 * loop, and Cloudflare (here the simulator at `CF_BASE_URL`). Prints one JSON line when it is
 * stepping releases, and one with its claim count when it stops (SIGTERM: a graceful shutdown).
 * `kill -9` is the crash the tests inflict.
 */
import { AnalyticsHealthSource, ApiBudget, Credentials, WorkersTrafficRouter } from "@canaryroll/cloudflare"
import { NodeRuntime } from "@effect/platform-node"
import { Effect, Layer, SubscriptionRef } from "effect"
import { FetchHttpClient } from "effect/http"
import { layerClient, layerPorts, PgScheduler, SchedulerLoop } from "../../src/index.ts"

const env = (name: string) => {
  const value = process.env[name]
  if (value === undefined || value === "") throw new Error(`${name} is not set`)
  return value
}

/** The simulator's own rate limits are what the tests exercise here, not CanaryRoll's share. */
const generousBudget: ApiBudget.Limits = {
  rest: { requests: 1_000_000, windowSeconds: 300 },
  graphql: { requests: 1_000_000, windowSeconds: 300 },
  share: 1
}

const cloudflare = Layer.mergeAll(
  WorkersTrafficRouter.layer(),
  // 1,000 Workers in one account: a short lookback keeps one query's rows under the page size.
  AnalyticsHealthSource.layer({ lookbackSeconds: 60 })
).pipe(
  Layer.provide([
    Credentials.layerStatic({ apiToken: env("CF_API_TOKEN"), baseUrl: env("CF_BASE_URL") }),
    ApiBudget.layer(generousBudget),
    FetchHttpClient.layer
  ])
)

const stores = Layer.mergeAll(layerPorts(), PgScheduler.layer()).pipe(Layer.provideMerge(layerClient({ maxConnections: 8 })))

const loop = SchedulerLoop.layer({ owner: env("SCHEDULER_OWNER"), leaseMs: 10_000, safetyPollMs: 500 }).pipe(
  Layer.provide([stores, cloudflare])
)

const announce = Layer.effectDiscard(
  Effect.gen(function*() {
    const scheduler = yield* SchedulerLoop.SchedulerLoop
    console.log(JSON.stringify({ ready: true, owner: scheduler.owner, pid: process.pid }))
    yield* Effect.addFinalizer(() =>
      Effect.map(SubscriptionRef.get(scheduler.state), (state) =>
        console.log(JSON.stringify({ stopped: true, claimed: state.claimed })))
    )
  })
).pipe(Layer.provide(loop))

Layer.launch(Layer.mergeAll(loop, announce)).pipe(NodeRuntime.runMain)
