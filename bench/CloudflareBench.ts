/**
 * Cloudflare benchmarks: the simulator's throughput (it must never be what limits a scheduler
 * benchmark), and what one release costs in Cloudflare calls (targets: at most 2 REST mutations
 * per step, one analytics query per account per check interval however many releases run).
 */
import { ActiveReleases, Actor, EventStore, Orchestrator, Plan, Scheduler } from "@canaryroll/core"
import { AnalyticsHealthSource, ApiBudget, Credentials, WorkersTrafficRouter } from "@canaryroll/cloudflare"
import { type Simulator, start } from "@canaryroll/cloudflare/simulator"
import { SimulatedTime } from "@canaryroll/memory"
import Cloudflare from "cloudflare"
import { Clock, Effect, Layer } from "effect"
import { FetchHttpClient } from "effect/http"
import { TestClock } from "effect/testing"
import { measure } from "./Measure.ts"

const t0 = Date.parse("2026-11-26T10:00:00Z")

const count = (name: string, value: number, unit: string, target?: string) =>
  console.log(JSON.stringify({ name, value: Math.round(value * 1000) / 1000, unit, ...(target === undefined ? {} : { target }) }))

const simulatorThroughput = async (samples: (full: number) => number) => {
  const sim = await start({ rateLimits: { rest: { requests: 1e9 }, graphql: { requests: 1e9 } } })
  try {
    const account = sim.createAccount()
    const token = sim.createToken({ accountIds: [account.id] })
    // backdated, so the analytics query below answers with 15 minutes of real rows
    const history = Date.now() - 30 * 60_000
    const script = sim.createScript({ accountId: account.id, scriptName: "api", requestsPerMinute: 6_000, at: history })
    const canary = sim.createVersion({ accountId: account.id, scriptName: "api", at: history })
    sim.deployOutOfBand({
      accountId: account.id,
      scriptName: "api",
      versions: [{ version_id: canary.id, percentage: 10 }, { version_id: script.versionId, percentage: 90 }],
      at: history
    })
    const client = new Cloudflare({ apiToken: token.value, baseURL: sim.baseUrl, maxRetries: 0 })
    let percentage = 1
    await measure({ name: "simulator.deployment_create", samples: samples(1_000) }, () => {
      percentage = percentage % 99 + 1
      return client.workers.scripts.deployments.create("api", {
        account_id: account.id,
        strategy: "percentage",
        versions: [
          { version_id: canary.id, percentage },
          { version_id: script.versionId, percentage: 100 - percentage }
        ]
      })
    })
    const body = JSON.stringify({
      query: AnalyticsHealthSource.query,
      variables: {
        accountTag: account.id,
        start: new Date(Date.now() - 16 * 60_000).toISOString(),
        end: new Date(Date.now() - 60_000).toISOString(),
        limit: 10_000
      }
    })
    await measure({ name: "simulator.graphql_health_query", samples: samples(1_000) }, async () => {
      const response = await fetch(`${sim.baseUrl}/graphql`, {
        method: "POST",
        headers: { authorization: `Bearer ${token.value}`, "content-type": "application/json" },
        body
      })
      const answer = await response.json() as { data: { viewer: { accounts: Array<{ workersInvocationsAdaptive: Array<unknown> }> } } }
      if (answer.data.viewer.accounts[0]!.workersInvocationsAdaptive.length < 30) throw new Error("expected 15 minutes of rows")
    })
  } finally {
    await sim.close()
  }
}

/** Runs `releases` releases of a 4-step plan in one account on the simulator; returns the calls. */
const callsPerRelease = (releases: number) =>
  Effect.gen(function*() {
    yield* TestClock.setTime(t0)
    const clock = yield* Clock.clockWith(Effect.succeed)
    const sim: Simulator = yield* Effect.acquireRelease(
      Effect.promise(() => start({ clock: () => clock.currentTimeMillisUnsafe() })),
      (sim) => Effect.promise(() => sim.close())
    )
    const account = sim.createAccount()
    const token = sim.createToken({ accountIds: [account.id] })
    const plan = Plan.make({
      steps: [1, 10, 50, 100].map((percentage) => ({ percentage, waitSeconds: 600 })),
      health: { intervalSeconds: 60, analyticsDelaySeconds: 60, minRequests: 50 }
    })
    const ports = Layer.mergeAll(
      WorkersTrafficRouter.layer(),
      AnalyticsHealthSource.layer(),
      EventStore.layerMemory,
      Scheduler.layerMemory,
      ActiveReleases.layerMemory
    ).pipe(Layer.provide([
      Credentials.layerStatic({ apiToken: token.value, baseUrl: sim.baseUrl }),
      ApiBudget.layer(),
      FetchHttpClient.layer
    ]))
    yield* Effect.gen(function*() {
      for (let i = 0; i < releases; i++) {
        const scriptName = `worker-${i}`
        sim.createScript({ accountId: account.id, scriptName, requestsPerMinute: 6_000, errorRate: 0.001 })
        const canary = sim.createVersion({ accountId: account.id, scriptName, errorRate: 0.001 })
        const actor = Actor.user("usr_bench", "bench")
        yield* Orchestrator.create({
          releaseId: `rel_${i}`, teamId: "team", workerId: scriptName, accountId: account.id, scriptName,
          canaryVersionId: canary.id, planId: null, plan, autoAdvance: true, name: null, ticketUrl: null, actor
        })
        yield* Orchestrator.execute(`rel_${i}`, { _tag: "Start", actor })
      }
      yield* SimulatedTime.runUntilSettled("3 hours")
    }).pipe(Effect.provide(ports))
    const calls = sim.counters().tokens[token.value]!
    const mutations = Object.entries(calls.rest).filter(([route]) => !route.startsWith("GET")).reduce((n, [, c]) => n + c, 0)
    return { mutations, reads: calls.restTotal - mutations, graphql: calls.graphql, steps: releases * plan.steps.length }
  }).pipe(Effect.scoped, Effect.provide(TestClock.layer()))

export const run = async (samples: (full: number) => number) => {
  await simulatorThroughput(samples)
  const one = await Effect.runPromise(callsPerRelease(1))
  count("cloudflare.rest_mutations_per_step", one.mutations / one.steps, "calls", "<= 2")
  count("cloudflare.rest_reads_per_step", one.reads / one.steps, "calls (incl. one drift read per health check)")
  const intervals = one.graphql
  const ten = await Effect.runPromise(callsPerRelease(10))
  count("cloudflare.graphql_queries_per_interval_1_release", one.graphql / intervals, "queries", "1 per account")
  count("cloudflare.graphql_queries_per_interval_10_releases", ten.graphql / intervals, "queries", "1 per account")
  // Capacity (docs/operations.md): how many releases one token sustains at once within the
  // orchestrator's part of the budget (Cloudflare's 1,200 REST calls per 5 minutes, half for
  // CanaryRoll, four fifths of that for releases: 480 per 5 minutes), from the REST calls the ten
  // releases made per 10-minute step. Analytics are per account, not per release: they do not
  // limit this (one query per interval, 5 per 5 minutes against 120).
  const restPerStep = (ten.mutations + ten.reads) / ten.steps
  const restPerFiveMinutes = restPerStep / 2
  const orchestratorRest = Math.floor(ApiBudget.cloudflareLimits.rest.requests * 0.5 * 0.8)
  count("cloudflare.rest_calls_per_release_per_5_minutes", restPerFiveMinutes, "calls")
  count("cloudflare.releases_per_token", Math.floor(orchestratorRest / restPerFiveMinutes), "releases at once", "10-minute steps, 1-minute checks")
}
