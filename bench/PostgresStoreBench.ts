/**
 * The Postgres event store and read models, side by side with emmett's PostgreSQL event store on
 * the same server in the same run: appends per second with 16 concurrent writers using the
 * expected-version check (our store with its read-model hook on and off, and emmett appending
 * the same events), and audit-log pages at 1,000,000 entries (100,000 with --quick). Method and
 * figures: docs/benchmarks.md, "Postgres event store and read models".
 *
 * The server is an embedded PostgreSQL without fsync (`durable: false`), or `DATABASE_URL`; each
 * store gets its own database, created for the run and dropped after it. `run(samples)` takes
 * run.ts's `samples`; when it shrinks (`--quick`), so do the rounds and the audit log.
 */
import {
  Actor,
  EventStore,
  NextAction,
  Plan,
  Release,
  type ReleaseCommand,
  ReleaseDecider,
  ReleaseEvent
} from "@canaryroll/core"
import { Migrations, PgAuditLog, PgEventStore, PgReadModels } from "@canaryroll/postgres"
import { getPostgreSQLEventStore } from "@event-driven-io/emmett-postgresql"
import { Effect, Layer, Redacted, References, Schema } from "effect"
import { SqlClient } from "effect/sql"
import { randomBytes } from "node:crypto"
import { performance } from "node:perf_hooks"
import pg from "pg"
import { clientOn, database, postgresServer } from "./BenchDatabase.ts"
import { median, quantile, report, round as round3 } from "./Measure.ts"

const writers = 16
const emmettName = "emmett_postgresql.append_16_writers"


// --- The events: a release opened by the decider, then health checks, one per append --------------

const t0 = Date.parse("2026-11-26T10:00:00Z")
const plan = Plan.make({
  steps: [{ percentage: 10, waitSeconds: 600 }, { percentage: 100, waitSeconds: 600 }],
  health: { intervalSeconds: 60, analyticsDelaySeconds: 0, minRequests: 10 }
})

/** Created, Started, StepStarted, TrafficShifted, as the orchestrator would record them. */
const opening = (releaseId: string): ReadonlyArray<ReleaseEvent.ReleaseEvent> => {
  const events: Array<ReleaseEvent.ReleaseEvent> = []
  let state = Release.initial
  const apply = (command: ReleaseCommand.ReleaseCommand) => {
    const decision = ReleaseDecider.decide(command, state)
    if (decision._tag === "Failure") throw new Error(decision.failure.message)
    events.push(...decision.success)
    state = Release.fold(decision.success, state)
  }
  const person = Actor.token("tok_ci", "CI")
  apply({
    _tag: "Create", releaseId, teamId: "team_bench", workerId: "wkr_bench", accountId: "acc", scriptName: "api",
    canaryVersionId: "v2", planId: null, plan, autoAdvance: true, name: null, ticketUrl: null, actor: person, now: t0
  })
  apply({ _tag: "Start", liveDeployment: { deploymentId: "d1", split: [{ versionId: "v1", percentage: 100 }] }, actor: person, now: t0 })
  const action = NextAction.nextAction(state, t0)
  if (action._tag !== "ShiftTraffic") throw new Error(`expected a traffic shift, got ${action._tag}`)
  apply({
    _tag: "RecordTrafficShift", stepIndex: 0, deployment: { deploymentId: "d2", split: action.split },
    reusedExisting: false, actor: Actor.system, now: t0
  })
  return events
}

/** The n-th health check of a release: the event most appends carry. */
const healthCheck = (n: number): ReleaseEvent.ReleaseEvent => ({
  _tag: "HealthChecked",
  stepIndex: 0,
  window: { start: t0 + n * 60_000, end: t0 + (n + 1) * 60_000 },
  canary: { requests: 6_000, errors: 3 },
  stable: { requests: 54_000, errors: 27 },
  verdict: "healthy",
  reasons: ["error rate 0.05% <= maxErrorRate (1.00%)"],
  consecutiveFailures: 0,
  actor: Actor.system,
  at: t0 + (n + 1) * 60_000
})

const encode = Schema.encodeSync(ReleaseEvent.ReleaseEvent)

// --- Appends ------------------------------------------------------------------------------------

interface Round {
  readonly timings: ReadonlyArray<number>
  readonly elapsed: number
}

/** 16 writers, each appending `perWriter` health checks one by one to its own release, with the expected version. */
const ourRound = (store: typeof EventStore.EventStore.Service, label: string, perWriter: number) =>
  Effect.gen(function*() {
    const releases = Array.from({ length: writers }, (_, w) => `rel_${label}_${w}`)
    yield* Effect.forEach(releases, (releaseId) => store.append(releaseId, 0, opening(releaseId)), { concurrency: writers })
    const start = performance.now()
    const timings = yield* Effect.forEach(releases, (releaseId) =>
      Effect.gen(function*() {
        const timings: Array<number> = []
        for (let n = 0; n < perWriter; n++) {
          const began = performance.now()
          yield* store.append(releaseId, 4 + n, [healthCheck(n)])
          timings.push(performance.now() - began)
        }
        return timings
      }), { concurrency: writers })
    return { timings: timings.flat(), elapsed: performance.now() - start }
  })

type EmmettStore = ReturnType<typeof getPostgreSQLEventStore>

const emmettEvent = (event: ReleaseEvent.ReleaseEvent) => ({ type: event._tag, data: encode(event) as Record<string, unknown> })

const emmettRound = async (store: EmmettStore, label: string, perWriter: number): Promise<Round> => {
  const releases = Array.from({ length: writers }, (_, w) => `release-${label}_${w}`)
  await Promise.all(releases.map((stream) =>
    store.appendToStream(stream, opening(stream).map(emmettEvent), { expectedStreamVersion: 0n })
  ))
  const start = performance.now()
  const timings = await Promise.all(releases.map(async (stream) => {
    const timings: Array<number> = []
    for (let n = 0; n < perWriter; n++) {
      const began = performance.now()
      await store.appendToStream(stream, [emmettEvent(healthCheck(n))], { expectedStreamVersion: BigInt(4 + n) })
      timings.push(performance.now() - began)
    }
    return timings
  }))
  return { timings: timings.flat(), elapsed: performance.now() - start }
}

const perSecondOf = (round: Round) => round.timings.length / (round.elapsed / 1000)

const totals = (rounds: ReadonlyArray<Round>) => ({
  timings: rounds.flatMap((round) => round.timings),
  perSecond: rounds.reduce((sum, round) => sum + round.timings.length, 0) /
    (rounds.reduce((sum, round) => sum + round.elapsed, 0) / 1000)
})

// --- Audit log pages ----------------------------------------------------------------------------

/** One stored example of each event type, for the generated audit rows' details (they are decoded on read). */
const examplesByType = (): Record<string, unknown> => {
  const events = [...opening("rel_example"), healthCheck(0)]
  const at = t0
  const person = Actor.user("usr_ada", "Ada")
  events.push(
    { _tag: "Promoted", fromStep: 0, toStep: 1, percentage: 100, actor: Actor.system, at },
    { _tag: "Paused", cause: "requested", reason: "checking the dashboards", actor: person, at },
    {
      _tag: "Resumed",
      liveDeployment: { deploymentId: "d2", split: [{ versionId: "v2", percentage: 10 }, { versionId: "v1", percentage: 90 }] },
      actor: person,
      at
    },
    { _tag: "RollbackStarted", reason: "3 unhealthy checks in a row", actor: Actor.system, at },
    { _tag: "Completed", actor: Actor.system, at }
  )
  return Object.fromEntries(events.map((event) => [event._tag, encode(event)]))
}

/**
 * `rows` audit entries in 20 teams, as a month of releases of 130 events each produces them:
 * mostly health checks, a step change every 32 events, the odd pause by a person. One
 * INSERT ... SELECT from generate_series; the migration's indexes are in place, as in production.
 */
const loadAuditLog = (rows: number) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    yield* sql`TRUNCATE audit_log, release_summaries`
    yield* sql`
      INSERT INTO audit_log (id, position, team_id, release_id, worker_id, actor_kind, actor_id, type, at,
        step_index, percentage, sentence, details)
      SELECT 'rel_' || r || ':' || v, n, 'team_' || (r % 20), 'rel_' || r, 'wkr_' || (r % 200), kind, actor_id, type, at,
        v / 32, 10, 'CanaryRoll found api at 10% healthy (6000 requests, error rate 0.05%; ok)',
        jsonb_set(jsonb_set(${JSON.stringify(examplesByType())}::jsonb -> type, '{at}', to_jsonb(epoch_ms)), '{actor}',
          CASE kind WHEN 'System' THEN '{"_tag":"System"}'::jsonb
            ELSE jsonb_build_object('_tag', kind, 'id', actor_id, 'name', actor_id) END)
      FROM generate_series(1, ${rows}) AS n,
        LATERAL (SELECT (n - 1) / 130 AS r, (n - 1) % 130 + 1 AS v) AS place,
        LATERAL (SELECT timestamptz '2026-10-01' + n * interval '2.5 seconds' AS at) AS time,
        LATERAL (SELECT (extract(epoch FROM at) * 1000)::bigint AS epoch_ms,
          CASE WHEN v = 1 THEN 'ReleaseCreated' WHEN v = 2 THEN 'ReleaseStarted' WHEN v = 3 THEN 'StepStarted'
            WHEN v = 4 THEN 'TrafficShifted' WHEN v = 130 THEN 'Completed'
            WHEN v % 97 = 0 THEN 'Paused' WHEN v % 97 = 1 THEN 'Resumed' WHEN v % 113 = 0 THEN 'RollbackStarted'
            WHEN v % 32 = 3 THEN 'StepStarted' WHEN v % 32 = 4 THEN 'TrafficShifted' WHEN v % 32 = 2 THEN 'Promoted'
            ELSE 'HealthChecked' END AS type,
          CASE WHEN v IN (1, 2) THEN 'Token' WHEN v % 97 IN (0, 1) THEN 'User' ELSE 'System' END AS kind,
          CASE WHEN v IN (1, 2) THEN 'tok_' || (r % 40) WHEN v % 97 IN (0, 1) THEN 'usr_' || (r % 100) END AS actor_id
        ) AS event`
    // What a long-running database looks like: statistics known, visibility map set.
    yield* sql`VACUUM (ANALYZE) audit_log`
  })

/** Pages walked one after another from the newest (keyset all the way down), starting over at the end. */
/** The audit log's port (`AuditLog` of `@canaryroll/app`) as `PgAuditLog` makes it, and its query. */
type AuditLogService = Effect.Success<typeof PgAuditLog.make>
type AuditLogQuery = Parameters<AuditLogService["page"]>[0]

const pageWalk = (log: AuditLogService, query: AuditLogQuery, pages: number) =>
  Effect.gen(function*() {
    const timings: Array<number> = []
    let cursor: string | undefined
    let rows = 0
    for (let i = 0; i < pages; i++) {
      const began = performance.now()
      const page = yield* log.page({ ...query, cursor })
      timings.push(performance.now() - began)
      rows += page.entries.length
      cursor = page.nextCursor ?? undefined
    }
    return { timings, rows }
  })

// --- The run ------------------------------------------------------------------------------------


export const run = async (samples: (full: number) => number) => {
  const quick = samples(100) < 100
  const rounds = quick ? 3 : 10
  const perWriter = quick ? 40 : 100
  const auditRows = quick ? 100_000 : 1_000_000

  const program = Effect.gen(function*() {
    const serverUrl = yield* postgresServer("canaryroll-bench-postgres-")
    const suffix = randomBytes(4).toString("hex")
    // Built into the run's scope: the databases are dropped through it when the run ends.
    const serverClient = yield* Layer.build(clientOn(Redacted.value(serverUrl)))
    const [ours, theirs] = yield* Effect.all([
      database(serverUrl, `canaryroll_bench_${suffix}`),
      database(serverUrl, `emmett_bench_${suffix}`)
    ]).pipe(Effect.provideContext(serverClient))

    // Ours, on its default pool (10 connections), like emmett's (pg's default pool of 10).
    const client = yield* Layer.build(clientOn(ours))
    const provide = Effect.provideContext(client)
    yield* Migrations.run.pipe(provide)
    const withReadModels = yield* PgEventStore.make({ onAppend: PgReadModels.project }).pipe(provide)
    const bare = yield* PgEventStore.make().pipe(provide)
    // emmett on a pool of pg's defaults (10 connections), as the one dumbo would make for it, but
    // ended here before the database is dropped: dumbo counts the users of the pool it caches and
    // `close()` left it open, so the drop's FORCE killed its idle connections and the pool's
    // unhandled 'error' ended the process (--quick runs, where they had not timed out yet).
    const emmettPool = new pg.Pool({ connectionString: theirs })
    yield* Effect.addFinalizer(() => Effect.promise(() => emmettPool.end()))
    const emmett = getPostgreSQLEventStore(theirs, { connectionOptions: { pool: emmettPool } })
    yield* Effect.addFinalizer(() => Effect.promise(() => emmett.close()))
    yield* Effect.promise(() => emmett.schema.migrate())

    // Warm-up (JIT, pools, prepared statements), then rounds interleaved so drift hits all three alike.
    yield* ourRound(withReadModels, "warm_read_models", 10)
    yield* ourRound(bare, "warm_bare", 10)
    yield* Effect.promise(() => emmettRound(emmett, "warm", 10))
    const results = { readModels: [] as Array<Round>, bare: [] as Array<Round>, emmett: [] as Array<Round> }
    for (let r = 0; r < rounds; r++) {
      results.readModels.push(yield* ourRound(withReadModels, `read_models_${r}`, perWriter))
      results.bare.push(yield* ourRound(bare, `bare_${r}`, perWriter))
      results.emmett.push(yield* Effect.promise(() => emmettRound(emmett, `${r}`, perWriter)))
    }
    const peer = totals(results.emmett)
    report({ name: emmettName, ...peer, peer: null }, { note: "getPostgreSQLEventStore, no projections, pg pool of 10" })
    const ourRuns = [
      ["postgres.append_16_writers.read_models", results.readModels],
      ["postgres.append_16_writers.bare", results.bare]
    ] as const
    for (const [name, rounds] of ourRuns) {
      const ours = totals(rounds)
      // Each round against emmett's round right after it: the spread shows how much of the
      // overall ratio is the machine's noise (a round is about half a second).
      const byRound = rounds.map((round, i) => perSecondOf(round) / perSecondOf(results.emmett[i]!)).sort((a, b) => a - b)
      report(
        { name, ...ours, peer: emmettName, target: ">= 2000 appends/s" },
        {
          per_s_vs_peer: round3(ours.perSecond / peer.perSecond),
          per_s_vs_peer_median_round: round3(median(byRound)),
          per_s_vs_peer_rounds: byRound.map(round3)
        }
      )
    }

    // Audit log pages at `auditRows` entries.
    const loadStarted = performance.now()
    yield* loadAuditLog(auditRows).pipe(provide)
    console.log(JSON.stringify({
      name: `audit_page.load_${auditRows}_rows`,
      value: round3((performance.now() - loadStarted) / 1000),
      unit: "s"
    }))
    const log = yield* PgAuditLog.make.pipe(provide)
    const size = auditRows >= 1_000_000 ? "1m" : `${auditRows / 1000}k`
    const queries: ReadonlyArray<[string, AuditLogQuery]> = [
      [`audit_page.team_and_type_${size}`, { teamId: "team_7", types: ["Promoted"], limit: 50 }],
      [`audit_page.team_and_3_types_${size}`, { teamId: "team_7", types: ["Paused", "Resumed", "RollbackStarted"], limit: 50 }],
      [`audit_page.team_${size}`, { teamId: "team_7", limit: 50 }]
    ]
    for (const [name, query] of queries) {
      yield* pageWalk(log, query, samples(200))
      const { rows, timings } = yield* pageWalk(log, query, samples(1_000))
      const sorted = [...timings].sort((a, b) => a - b)
      report(
        { name, timings, perSecond: 1000 / quantile(sorted, 0.5), peer: null, target: "p95 <= 20 ms" },
        { p95_ms: round3(quantile(sorted, 0.95)), rows_per_page: round3(rows / timings.length), audit_rows: auditRows }
      )
    }
  })

  // Only the JSON lines on stdout: the embedded server's start-up messages are Info.
  await Effect.runPromise(Effect.scoped(program).pipe(Effect.provideService(References.MinimumLogLevel, "Warn")))
}
