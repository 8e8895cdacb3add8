/**
 * What the reliability tests share: scheduler processes (spawned, stopped, killed), a simulated
 * Cloudflare account with one Worker per release, the releases themselves created and started
 * through the orchestrator on Postgres, and what the database says about them afterwards.
 */
import { Actor, Orchestrator, Plan } from "@canaryroll/core"
// Named so that the exported layers' and effects' types can be written in declarations.
import type { ActiveReleases, EventStore, HealthSource, Outbox, ReleaseDecider, Scheduler, TrafficRouter } from "@canaryroll/core"
import type { WorkersApi } from "@canaryroll/cloudflare"
import { assert } from "@effect/vitest"
import { AnalyticsHealthSource, ApiBudget, Credentials, WorkersTrafficRouter } from "@canaryroll/cloudflare"
import { type Simulator, start } from "@canaryroll/cloudflare/simulator"
import { PgClient } from "@effect/sql-pg"
import { Effect, Layer, Redacted } from "effect"
import { FetchHttpClient } from "effect/http"
import { SqlClient } from "effect/sql"
import { type ChildProcess, spawn } from "node:child_process"
import { once } from "node:events"
import { createInterface } from "node:readline"
import { fileURLToPath } from "node:url"
import { layerPorts, PgScheduler } from "../../src/index.ts"

const processScript = fileURLToPath(new URL("./SchedulerProcess.ts", import.meta.url))

export interface SchedulerProcess {
  readonly owner: string
  readonly child: ChildProcess
  /** Resolves once the process is stepping releases. */
  readonly ready: Promise<void>
  /** Resolves when the process exits, with what it said when it stopped (if it could). */
  readonly exited: Promise<{ readonly code: number | null; readonly signal: NodeJS.Signals | null; readonly claimed?: number }>
  readonly output: () => string
}

export const spawnScheduler = (
  owner: string,
  environment: { readonly databaseUrl: string; readonly baseUrl: string; readonly apiToken: string }
): SchedulerProcess => {
  const child = spawn(process.execPath, [processScript], {
    env: {
      ...process.env,
      DATABASE_URL: environment.databaseUrl,
      CF_BASE_URL: environment.baseUrl,
      CF_API_TOKEN: environment.apiToken,
      SCHEDULER_OWNER: owner
    },
    stdio: ["ignore", "pipe", "pipe"]
  })
  let output = ""
  let claimed: number | undefined
  let markReady: () => void = () => {}
  const ready = new Promise<void>((resolve) => (markReady = resolve))
  createInterface({ input: child.stdout! }).on("line", (line) => {
    output += `${line}\n`
    if (!line.startsWith("{")) return
    const message = JSON.parse(line) as { ready?: boolean; stopped?: boolean; claimed?: number }
    if (message.ready === true) markReady()
    if (message.stopped === true) claimed = message.claimed
  })
  child.stderr!.on("data", (chunk: Buffer) => (output += chunk.toString()))
  const exited = once(child, "exit").then(([code, signal]) => ({
    code: code as number | null,
    signal: signal as NodeJS.Signals | null,
    ...(claimed === undefined ? {} : { claimed })
  }))
  return {
    owner,
    child,
    ready: Promise.race([
      ready,
      exited.then(() => Promise.reject(new Error(`scheduler ${owner} exited before it was ready:\n${output}`)))
    ]),
    exited,
    output: () => output
  }
}

/** A plan that finishes in a few ten-second checks of real time. */
export const quickPlan = (percentages: ReadonlyArray<number>) =>
  Plan.make({
    steps: percentages.map((percentage) => ({ percentage, waitSeconds: 0 })),
    health: { intervalSeconds: 10, analyticsDelaySeconds: 0, minRequests: 1, maxErrorRate: 0.05 }
  })

export interface Account {
  readonly sim: Simulator
  readonly accountId: string
  readonly apiToken: string
  readonly workers: ReadonlyArray<{ readonly scriptName: string; readonly stable: string; readonly canary: string }>
}

/** The simulator on the real clock, with `count` healthy Workers, each with a canary uploaded. */
export const simulatedAccount = async (count: number): Promise<Account> => {
  const sim = await start({
    analyticsDelayMs: 0,
    rateLimits: { rest: { requests: 10_000_000 }, graphql: { requests: 10_000_000 } }
  })
  const account = sim.createAccount()
  const token = sim.createToken({ accountIds: [account.id] })
  const workers = Array.from({ length: count }, (_, i) => {
    const scriptName = `worker-${i.toString().padStart(4, "0")}`
    const live = sim.createScript({ accountId: account.id, scriptName, requestsPerMinute: 1_200, errorRate: 0.001 })
    const canary = sim.createVersion({ accountId: account.id, scriptName, errorRate: 0.001 })
    return { scriptName, stable: live.versionId, canary: canary.id }
  })
  return { sim, accountId: account.id, apiToken: token.value, workers }
}

/** The orchestrator on Postgres and the simulator, as the test process uses it. */
export const orchestratorLayer = (databaseUrl: string, account: Account) =>
  Layer.mergeAll(
    layerPorts(),
    PgScheduler.layer(),
    WorkersTrafficRouter.layer(),
    AnalyticsHealthSource.layer({ lookbackSeconds: 60 })
  ).pipe(
    Layer.provideMerge(PgClient.layer({ url: Redacted.make(databaseUrl), maxConnections: 8 })),
    Layer.provide([
      Credentials.layerStatic({ apiToken: account.apiToken, baseUrl: account.sim.baseUrl }),
      ApiBudget.layer({ rest: { requests: 10_000_000, windowSeconds: 300 }, graphql: { requests: 10_000_000, windowSeconds: 300 }, share: 1 }),
      FetchHttpClient.layer
    ])
  )

export const person = Actor.user("usr_reliability", "Reliability test")

/** Creates and starts one release per Worker: each is then due for its first traffic shift. */
export const startReleases = (account: Account, plan: Plan.Plan) =>
  Effect.forEach(
    account.workers,
    (worker, i) =>
      Effect.gen(function*() {
        const releaseId = `rel_${i.toString().padStart(4, "0")}`
        yield* Orchestrator.create({
          releaseId,
          teamId: "team_reliability",
          workerId: worker.scriptName,
          accountId: account.accountId,
          scriptName: worker.scriptName,
          canaryVersionId: worker.canary,
          planId: null,
          plan,
          autoAdvance: true,
          name: null,
          ticketUrl: null,
          actor: person
        })
        yield* Orchestrator.execute(releaseId, { _tag: "Start", actor: person })
        return releaseId
      }),
    { concurrency: 16 }
  )

export interface Tally {
  readonly statuses: Record<string, number>
  /** Per release: how many of each event type it recorded. */
  readonly events: ReadonlyMap<string, Readonly<Record<string, number>>>
}

/** What the events and the summaries say, straight from the tables. */
export const tally = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  const statuses = yield* sql<{ status: string; n: number }>`
    SELECT status, count(*)::int AS n FROM release_summaries GROUP BY status`
  const counts = yield* sql<{ stream_id: string; type: string; n: number }>`
    SELECT stream_id, type, count(*)::int AS n FROM events GROUP BY stream_id, type`
  const events = new Map<string, Record<string, number>>()
  for (const row of counts) {
    const entry = events.get(row.stream_id) ?? {}
    entry[row.type] = row.n
    events.set(row.stream_id, entry)
  }
  return {
    statuses: Object.fromEntries(statuses.map((row) => [row.status, row.n])),
    events
  } satisfies Tally
})

/**
 * Waits until every release is terminal, looking every 250 ms (the processes give no other
 * signal), failing after `deadlineMs`.
 */
export const untilAllTerminal = (releases: number, deadlineMs: number) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const terminal = sql.literal("('completed', 'rolled_back', 'failed', 'cancelled')")
    const started = Date.now()
    while (true) {
      const [row] = yield* sql<{ n: number }>`
        SELECT count(*)::int AS n FROM release_summaries
        WHERE status IN ${terminal}`
      if ((row?.n ?? 0) >= releases) return Date.now() - started
      if (Date.now() - started > deadlineMs) {
        const { statuses } = yield* tally
        // What the unfinished ones look like: their summary, schedule row and last events, to tell
        // a stale read model from a release nobody steps.
        const unfinished = yield* sql<Record<string, unknown>>`
          SELECT s.release_id, s.status, s.version, r.due_at, r.lease_owner, r.lease_until,
            (SELECT json_agg(json_build_object('v', e.stream_version, 'type', e.type) ORDER BY e.stream_version DESC)
             FROM (SELECT stream_version, type FROM events WHERE stream_id = s.release_id ORDER BY stream_version DESC LIMIT 6) e) AS last_events,
            (SELECT max(stream_version) FROM events WHERE stream_id = s.release_id) AS stream_version
          FROM release_summaries s LEFT JOIN release_schedule r ON r.release_id = s.release_id
          WHERE s.status NOT IN ${terminal}`.pipe(
          Effect.catch((error) => Effect.succeed([{ diagnosticFailed: String(error) }]))
        )
        return yield* Effect.die(
          new Error(`not every release ended within ${deadlineMs} ms: ${JSON.stringify(statuses)}; unfinished: ${JSON.stringify(unfinished)}`)
        )
      }
      yield* Effect.promise(() => new Promise((resolve) => setTimeout(resolve, 250)))
    }
  })

/** Waits until some release has been promoted: the rollouts are under way. */
export const untilSomePromoted = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  while (true) {
    const [row] = yield* sql<{ n: number }>`SELECT count(*)::int AS n FROM events WHERE type = 'Promoted'`
    if ((row?.n ?? 0) > 0) return
    yield* Effect.promise(() => new Promise((resolve) => setTimeout(resolve, 50)))
  }
})

/** Every release completed, with exactly one Promoted per step and one deployment per step. */
export const assertEveryStepOnce = (account: Account, tally: Tally, steps: number) => {
  assert.deepStrictEqual(tally.statuses, { completed: account.workers.length })
  const deployments = account.sim.counters().deploymentsCreated
  account.workers.forEach((worker, i) => {
    const releaseId = `rel_${i.toString().padStart(4, "0")}`
    const events = tally.events.get(releaseId) ?? {}
    assert.strictEqual(events["Promoted"], steps - 1, `${releaseId}: one Promoted per step`)
    assert.strictEqual(events["Completed"], 1, `${releaseId}: completed once`)
    assert.strictEqual(events["StepStarted"], steps, `${releaseId}: every step started once`)
    assert.strictEqual(
      deployments[`${account.accountId}/${worker.scriptName}`],
      steps,
      `${releaseId}: one Cloudflare deployment per step`
    )
  })
}

