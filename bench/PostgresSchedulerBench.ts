/**
 * The Postgres scheduler beside graphile-worker, on the same server in the same run:
 *
 * - wake-up lag: from a release's due time to its step starting, one release at a time (1,000
 *   serial samples, graphile-worker's published method), with 1,000 and 10,000 other releases
 *   scheduled for later; for a release due at once (the NOTIFY path, what graphile-worker
 *   publishes) and for one due 20 ms ahead (the path a rollout's soaks and checks take: the
 *   loop sleeps until the due time by the database's clock). graphile-worker does the same with
 *   jobs (`add_job`, and `run_at` 20 ms ahead). Due at once, the two systems' samples alternate
 *   in ten blocks of 100, which one goes first swapping every block.
 * - steps per second: 1,000 due releases stepped through the real orchestrator (events and
 *   read models in Postgres, Cloudflare in memory), by one loop and by two; and the scheduler's
 *   own ceiling with a trivial step, beside graphile-worker running as many trivial jobs.
 *
 * Method and figures: docs/benchmarks.md, "Postgres scheduler". The server is an embedded
 * PostgreSQL without fsync (`durable: false`), or `DATABASE_URL`; each system gets a database of
 * its own, created for the run and dropped after it.
 */
import { ActiveReleases, Actor, EventStore, HealthSource, Orchestrator, Plan, Scheduler, TrafficRouter } from "@canaryroll/core"
import { layerPorts, Migrations, PgScheduler, SchedulerLoop } from "@canaryroll/postgres"
import { Deferred, Effect, Exit, Layer, Redacted, References, Scope, SubscriptionRef } from "effect"
import { SqlClient } from "effect/sql"
import { Logger, makeWorkerUtils, run as runGraphileWorker, type Runner, type WorkerUtils } from "graphile-worker"
import { randomBytes } from "node:crypto"
import { performance } from "node:perf_hooks"
import { isMainThread, type MessagePort, parentPort, Worker, workerData } from "node:worker_threads"
import { clientOn, database, postgresServer } from "./BenchDatabase.ts"
import { median, report, round as round3 } from "./Measure.ts"


/**
 * The wall clock (what due times and the database's `now()` are in) paired with
 * `performance.now()` (what lags are measured with), read just after the wall clock's
 * millisecond ticks over, so `wall` is exact to well under a millisecond.
 */
const alignedClock = () => {
  const start = Date.now()
  let wall = start
  while (wall === start) wall = Date.now()
  return { wall, perf: performance.now() }
}

/** How far ahead of now a "due later" sample is scheduled. */
const leadMs = 20

// --- Ours -----------------------------------------------------------------------------------------

/**
 * Ports whose step is trivial and observable: `readStream` (the first thing a tick does after
 * the claim) reports the step's start, and an empty stream makes the tick unschedule the release.
 */
const probedPorts = Effect.gen(function*() {
  const store = yield* EventStore.makeMemory
  const waiting = new Map<string, Deferred.Deferred<number>>()
  let stepped = 0
  let onStep = () => {}
  const probe = EventStore.EventStore.of({
    ...store,
    readStream: (releaseId) =>
      Effect.suspend(() => {
        const started = performance.now()
        stepped++
        onStep()
        const deferred = waiting.get(releaseId)
        return deferred === undefined
          ? store.readStream(releaseId)
          : Deferred.succeed(deferred, started).pipe(Effect.andThen(store.readStream(releaseId)))
      })
  })
  return {
    ports: Layer.mergeAll(
      Layer.succeed(EventStore.EventStore, probe),
      TrafficRouter.layerMemory([]),
      HealthSource.layerMemory(new Map()),
      ActiveReleases.layerMemory
    ),
    /** Resolves with the `performance.now()` at which the release's step started. */
    expect: (releaseId: string) => {
      const deferred = Deferred.makeUnsafe<number>()
      waiting.set(releaseId, deferred)
      return Deferred.await(deferred).pipe(Effect.ensuring(Effect.sync(() => waiting.delete(releaseId))))
    },
    /** Counts from now: the returned effect waits until `count` more steps have started. */
    steps: (count: number) =>
      Effect.sync(() => {
        const reached = Deferred.makeUnsafe<void>()
        const target = stepped + count
        onStep = () => {
          if (stepped >= target) {
            onStep = () => {}
            Deferred.doneUnsafe(reached, Exit.void)
          }
        }
        return Deferred.await(reached)
      })
  }
})

/** `count` releases scheduled for later (an hour from now, a second apart), in one statement. */
const scheduleBackground = (prefix: string, count: number) =>
  SqlClient.SqlClient.use((sql) =>
    sql`INSERT INTO release_schedule (release_id, due_at)
      SELECT ${prefix} || i, now() + interval '1 hour' + i * interval '1 second' FROM generate_series(1, ${count}) AS i`
  )

/** One release at a time: its due time, then the wait for its step to start. */
const ourLagSamples = (
  expect: (releaseId: string) => Effect.Effect<number>,
  label: string,
  mode: "now" | "later",
  count: number
) =>
  Effect.gen(function*() {
    const scheduler = yield* Scheduler.Scheduler
    const lags: Array<number> = []
    for (let i = 0; i < count; i++) {
      const releaseId = `sample-${label}-${mode}-${i}`
      const started = expect(releaseId)
      const clock = alignedClock()
      const dueAt = mode === "now" ? clock.wall : clock.wall + leadMs
      yield* scheduler.schedule(releaseId, dueAt)
      lags.push((yield* started) - (clock.perf + (dueAt - clock.wall)))
    }
    return lags
  })

/** The Workers of a round's releases, listed alike in every process (each has its memory router). */
const roundWorkers = (label: string, count: number) =>
  Array.from({ length: count }, (_, i) => ({ accountId: "acc_bench", scriptName: `worker-${label}-${i}`, liveVersionId: "v1" }))

const plan = Plan.make({
  steps: [{ percentage: 10, waitSeconds: 600 }, { percentage: 100, waitSeconds: 600 }],
  health: { intervalSeconds: 60, analyticsDelaySeconds: 0, minRequests: 10 }
})

/** What a scheduler process (a worker thread) needs; `kind` tells the module it is one. */
interface StepProcessData {
  readonly kind: "canaryroll-scheduler-bench-process"
  readonly url: string
  readonly label: string
  readonly count: number
  /**
   * One Int32 the processes count their traffic shifts in, shared with the main thread: a message
   * per shift cost the measured thread about 8% of its busy time (a CPU profile of a round).
   */
  readonly shifts: SharedArrayBuffer
}

type ToProcess = "go" | "stop"
type FromProcess = { readonly _tag: "ready" } | { readonly _tag: "allShifted" } | {
  readonly _tag: "stopped"
  readonly claimed: number
}

/**
 * A scheduler process, as a server runs it: its own pool (10 connections), the event store with
 * its read models, the Postgres scheduler and its loop (defaults: limit 100, concurrency 16),
 * Cloudflare in memory. It connects its pool, says it is ready, starts the loop on "go", reports
 * each traffic shift (in `shifts`), and shuts down gracefully on "stop".
 */
const stepProcess = (data: StepProcessData, port: MessagePort) =>
  Effect.gen(function*() {
    const send = (message: FromProcess) => Effect.sync(() => port.postMessage(message))
    const next = Effect.callback<ToProcess>((resume) => {
      port.once("message", (message: ToProcess) => resume(Effect.succeed(message)))
    })
    const router = TrafficRouter.makeMemory(roundWorkers(data.label, data.count)).router
    const shifts = new Int32Array(data.shifts)
    const countingRouter = TrafficRouter.TrafficRouter.of({
      ...router,
      apply: (target, split, options) =>
        router.apply(target, split, options).pipe(Effect.tap(() =>
          Effect.sync(() => {
            // The process making the last shift of the round tells the main thread.
            if (Atomics.add(shifts, 0, 1) + 1 === data.count) port.postMessage({ _tag: "allShifted" } satisfies FromProcess)
          })
        ))
    })
    const layer = Layer.mergeAll(
      layerPorts(),
      PgScheduler.layer(),
      Layer.succeed(TrafficRouter.TrafficRouter, countingRouter),
      HealthSource.layerMemory(new Map())
    ).pipe(Layer.provideMerge(clientOn(data.url)))
    const context = yield* Layer.build(layer)
    // open the pool's connections before the clock starts
    yield* Effect.all(Array.from({ length: 10 }, () => SqlClient.SqlClient.use((sql) => sql`SELECT 1`)), {
      concurrency: 10
    }).pipe(Effect.provide(context))
    const next1 = next
    yield* send({ _tag: "ready" })
    yield* next1 // "go"
    const loopScope = yield* Scope.make()
    const loop = yield* SchedulerLoop.start().pipe(Effect.provide(context), Scope.provide(loopScope))
    yield* next // "stop"
    yield* Scope.close(loopScope, Exit.void)
    yield* send({ _tag: "stopped", claimed: (yield* SubscriptionRef.get(loop.state)).claimed })
  })

/**
 * `count` releases created and started through the orchestrator (their first traffic shift due
 * at once), then stepped by `processes` scheduler processes (worker threads: an event loop and a
 * pool each): the time from "go" until every release has shifted traffic. A step is the real
 * one: load and fold the events from Postgres, read, set and read back the split (in memory),
 * append TrafficShifted with the read models, and schedule the health check.
 */
const releaseStepsRound = (url: string, label: string, count: number, processes: number) =>
  Effect.gen(function*() {
    const workers = roundWorkers(label, count)
    const person = Actor.token("tok_bench", "bench")
    yield* Effect.forEach(workers, (worker, i) =>
      Effect.gen(function*() {
        const releaseId = `rel-${label}-${i}`
        yield* Orchestrator.create({
          releaseId,
          teamId: "team_bench",
          workerId: `wkr_${worker.scriptName}`,
          accountId: worker.accountId,
          scriptName: worker.scriptName,
          canaryVersionId: "v2",
          planId: null,
          plan,
          autoAdvance: true,
          name: null,
          ticketUrl: null,
          actor: person
        })
        yield* Orchestrator.execute(releaseId, { _tag: "Start", actor: person })
      }), { concurrency: 8, discard: true }).pipe(
      Effect.provide(
        Layer.mergeAll(layerPorts(), PgScheduler.layer(), TrafficRouter.layerMemory(workers), HealthSource.layerMemory(new Map()))
          .pipe(Layer.provideMerge(clientOn(url))),
        { local: true }
      )
    )

    const shifts = new Int32Array(new SharedArrayBuffer(4))
    const data: StepProcessData = { kind: "canaryroll-scheduler-bench-process", url, label, count, shifts: shifts.buffer as SharedArrayBuffer }
    const threads = yield* Effect.acquireRelease(
      Effect.sync(() => Array.from({ length: processes }, () => new Worker(new URL(import.meta.url), { workerData: data, execArgv: [] }))),
      (threads) => Effect.promise(() => Promise.all(threads.map((thread) => thread.terminate())))
    )
    const messages = (thread: Worker, tag: FromProcess["_tag"]) =>
      new Promise<FromProcess>((resolve, reject) => {
        const onMessage = (message: FromProcess) => {
          if (message._tag !== tag) return
          thread.off("message", onMessage)
          resolve(message)
        }
        thread.on("message", onMessage)
        thread.once("error", reject)
      })
    yield* Effect.promise(() => Promise.all(threads.map((thread) => messages(thread, "ready"))))
    // Listening before "go": the message of the round's last shift.
    const allShifted = Promise.race(threads.map((thread) => messages(thread, "allShifted")))
    const started = performance.now()
    for (const thread of threads) thread.postMessage("go" satisfies ToProcess)
    yield* Effect.promise(() => allShifted)
    const elapsed = performance.now() - started
    const stopped = threads.map((thread) => messages(thread, "stopped"))
    for (const thread of threads) thread.postMessage("stop" satisfies ToProcess)
    const claimed = (yield* Effect.promise(() => Promise.all(stopped))).map((m) => m._tag === "stopped" ? m.claimed : 0)
    return { elapsed, claimed }
  }).pipe(Effect.scoped)

// --- graphile-worker --------------------------------------------------------------------------------

const graphileSchema = "graphile_worker"

const quietLogger = new Logger(() => (level, message) => {
  if (level === "error") console.error(`graphile-worker: ${message}`)
})

interface GraphileProbe {
  readonly runner: Runner
  /** For our own statements: a pool beside the runner's, as a client application would have. */
  readonly utils: WorkerUtils
  /** Resolves with the `performance.now()` at which the job started. */
  readonly expect: (id: string) => Promise<number>
  /** Counts from now: resolves once `count` more trivial jobs have run. */
  readonly done: (count: number) => Promise<void>
}

/** A runner with graphile-worker's defaults (polling every 2 s, NOTIFY on insert), except `concurrency`. */
const startGraphile = async (url: string, concurrency: number): Promise<GraphileProbe> => {
  const waiting = new Map<string, (at: number) => void>()
  let finished = 0
  let onFinish = () => {}
  const runner = await runGraphileWorker({
    connectionString: url,
    concurrency,
    noHandleSignals: true,
    logger: quietLogger,
    schema: graphileSchema,
    taskList: {
      latency: (payload) => {
        const at = performance.now()
        waiting.get((payload as { readonly id: string }).id)?.(at)
      },
      trivial: () => {
        finished++
        onFinish()
      }
    }
  })
  const utils = await makeWorkerUtils({ connectionString: url, schema: graphileSchema, logger: quietLogger })
  return {
    runner,
    utils,
    expect: (id) => new Promise<number>((resolve) => waiting.set(id, resolve)),
    done: (count) => {
      const target = finished + count
      return new Promise<void>((resolve) => {
        onFinish = () => {
          if (finished >= target) {
            onFinish = () => {}
            resolve()
          }
        }
      })
    }
  }
}

const stopGraphile = async (probe: GraphileProbe) => {
  await probe.runner.stop()
  await probe.utils.release()
}

const graphileBackground = (probe: GraphileProbe, prefix: string, count: number) =>
  probe.utils.withPgClient((client) =>
    client.query(
      `SELECT ${graphileSchema}.add_job('background', json_build_object('id', $1::text || i),
         run_at := now() + interval '1 hour' + i * interval '1 second')
       FROM generate_series(1, $2::int) AS i`,
      [prefix, count]
    )
  )

/** `count` trivial jobs due now, in one `add_jobs` call (one NOTIFY). */
const graphileTrivialBatch = (probe: GraphileProbe, prefix: string, count: number) =>
  probe.utils.withPgClient((client) =>
    client.query(
      `SELECT ${graphileSchema}.add_jobs(array_agg(
         row('trivial', json_build_object('id', $1::text || i), null, null, null, null, null, null)::${graphileSchema}.job_spec))
       FROM generate_series(1, $2::int) AS i`,
      [prefix, count]
    )
  )

/** graphile-worker's latency test (perfTest/latencyTest.js): one `add_job` at a time on one client, awaited. */
const graphileLagSamples = (probe: GraphileProbe, label: string, mode: "now" | "later", count: number) =>
  probe.utils.withPgClient(async (client) => {
    const lags: Array<number> = []
    for (let i = 0; i < count; i++) {
      const id = `sample-${label}-${mode}-${i}`
      const started = probe.expect(id)
      const clock = alignedClock()
      const dueAt = mode === "now" ? clock.wall : clock.wall + leadMs
      await (mode === "now"
        ? client.query(`SELECT ${graphileSchema}.add_job('latency', json_build_object('id', $1::text))`, [id])
        : client.query(
          `SELECT ${graphileSchema}.add_job('latency', json_build_object('id', $1::text),
             run_at := to_timestamp($2::float8 / 1000))`,
          [id, dueAt]
        ))
      lags.push((await started) - (clock.perf + (dueAt - clock.wall)))
    }
    return lags
  })

// --- The run ------------------------------------------------------------------------------------


const lagName = (system: "scheduler" | "graphile_worker", mode: "now" | "later", active: number) =>
  `${system}.wakeup_lag_due_${mode}_${active}_${system === "scheduler" ? "releases" : "jobs"}`

export const run = async (samples: (full: number) => number) => {
  const quick = samples(100) < 100
  const lagSamples = samples(1_000)
  // graphile-worker finds a job due later by polling (every 2 s): each sample takes about 2 s.
  const graphileLaterSamples = quick ? 5 : 30
  const actives = quick ? [1_000] : [1_000, 10_000]
  const stepReleases = 1_000
  const stepRounds = quick ? 1 : 3

  const program = Effect.gen(function*() {
    const serverUrl = yield* postgresServer("canaryroll-bench-scheduler-")
    const suffix = randomBytes(4).toString("hex")
    const serverClient = yield* Layer.build(clientOn(Redacted.value(serverUrl)))
    const [ours, theirs] = yield* Effect.all([
      database(serverUrl, `canaryroll_scheduler_bench_${suffix}`),
      database(serverUrl, `graphile_worker_bench_${suffix}`)
    ]).pipe(Effect.provideContext(serverClient))

    // Ours: a server process's pool (10 connections), the scheduler, its loop with its defaults.
    const client = yield* Layer.build(clientOn(ours))
    yield* Migrations.run.pipe(Effect.provideContext(client))
    const probe = yield* probedPorts
    const process_ = yield* Layer.build(Layer.mergeAll(PgScheduler.layer(), probe.ports).pipe(Layer.provideMerge(Layer.succeedContext(client))))
    const loopScope = yield* Scope.make()
    yield* SchedulerLoop.start().pipe(Effect.provide(process_), Scope.provide(loopScope))
    const graphile = yield* Effect.promise(() => startGraphile(theirs, 1))

    // (a) wake-up lag, one sample at a time, with `active` other releases (jobs) scheduled for later.
    let background = 0
    for (const active of actives) {
      yield* scheduleBackground(`background-${active}-`, active - background).pipe(Effect.provideContext(client))
      yield* Effect.promise(() => graphileBackground(graphile, `background-${active}-`, active - background))
      background = active
      // warm-up: JIT, prepared statements, the pools' connections
      yield* ourLagSamples(probe.expect, `warm-${active}`, "now", 50).pipe(Effect.provide(process_))
      yield* Effect.promise(() => graphileLagSamples(graphile, `warm-${active}`, "now", 50))
      for (const mode of ["now", "later"] as const) {
        const theirName = lagName("graphile_worker", mode, active)
        const ours = (label: string, count: number) =>
          ourLagSamples(probe.expect, label, mode, count).pipe(Effect.provide(process_))
        const theirs = (label: string, count: number) => Effect.promise(() => graphileLagSamples(graphile, label, mode, count))
        let ourLags: Array<number> = []
        let theirLags: Array<number> | undefined = undefined
        if (mode === "now") {
          // Interleaved in blocks, which one goes first swapping every block: a p99 is the tenth
          // worst of 1,000 samples, and load from elsewhere on the host comes in bursts that would
          // otherwise land on one system's samples only (measured both ways: docs/benchmarks.md).
          theirLags = []
          const blocks = 10
          for (let block = 0; block < blocks; block++) {
            const label = `${active}-${block}`
            const count = Math.ceil(lagSamples / blocks)
            if (block % 2 === 0) {
              theirLags.push(...yield* theirs(label, count))
              ourLags.push(...yield* ours(label, count))
            } else {
              ourLags.push(...yield* ours(label, count))
              theirLags.push(...yield* theirs(label, count))
            }
          }
        } else {
          // graphile-worker finds a job due later by its 2 s poll: a few samples, once.
          if (active === actives[0]) theirLags = yield* theirs(`${active}`, graphileLaterSamples)
          ourLags = yield* ours(`${active}`, lagSamples)
        }
        const peer = theirLags === undefined ? null : report({
          name: theirName,
          timings: theirLags,
          perSecond: 1000 / median(theirLags),
          peer: null
        }, {
          note: mode === "now"
            ? "perfTest/latencyTest.js method: add_job, then await the job; concurrency 1, defaults"
            : `run_at ${leadMs} ms ahead; jobs due later are found by the 2 s poll (default pollInterval)`
        })
        report({
          name: lagName("scheduler", mode, active),
          timings: ourLags,
          perSecond: 1000 / median(ourLags),
          peer: peer === null ? null : theirName,
          ...(active === 1_000 ? { target: "p50 <= 25 ms, p99 <= 250 ms" } : {})
        }, peer === null ? {} : { p50_vs_peer: round3(median(ourLags) / peer.p50_ms) })
      }
    }
    yield* Effect.promise(() => stopGraphile(graphile))
    yield* Scope.close(loopScope, Exit.void)

    // (b) steps per second. The scheduler's own ceiling: `stepReleases` due releases with a
    // trivial step, one loop; graphile-worker running as many trivial jobs with 16 workers.
    const trivialTimings: Array<number> = []
    {
      const loopScope = yield* Scope.make()
      yield* SqlClient.SqlClient.use((sql) => sql`TRUNCATE release_schedule`).pipe(Effect.provideContext(client))
      const loop = yield* SchedulerLoop.start().pipe(Effect.provide(process_), Scope.provide(loopScope))
      for (let round = 0; round < stepRounds + 1; round++) {
        const done = yield* probe.steps(stepReleases)
        const started = performance.now()
        yield* SqlClient.SqlClient.use((sql) =>
          sql`INSERT INTO release_schedule (release_id, due_at)
            SELECT ${`trivial-${round}-`} || i, now() FROM generate_series(1, ${stepReleases}) AS i`
        ).pipe(Effect.provideContext(client))
        yield* loop.wake // a bulk insert sends no NOTIFY
        yield* done
        if (round > 0) trivialTimings.push(performance.now() - started) // round 0 warms up
      }
      yield* Scope.close(loopScope, Exit.void)
    }
    const graphileTrivial: Array<number> = []
    {
      const probe16 = yield* Effect.promise(() => startGraphile(theirs, 16))
      for (let round = 0; round < stepRounds + 1; round++) {
        const done = probe16.done(stepReleases)
        const started = performance.now()
        yield* Effect.promise(() => graphileTrivialBatch(probe16, `trivial-${round}-`, stepReleases))
        yield* Effect.promise(() => done)
        if (round > 0) graphileTrivial.push(performance.now() - started)
      }
      yield* Effect.promise(() => stopGraphile(probe16))
    }
    const trivialPeerName = `graphile_worker.trivial_jobs_per_s_${stepReleases}`
    report({
      name: trivialPeerName,
      timings: graphileTrivial,
      perSecond: stepReleases / (median(graphileTrivial) / 1000),
      peer: null
    }, { note: "1,000 jobs due now (add_jobs), concurrency 16; a sample is the whole batch" })
    report({
      name: `scheduler.trivial_steps_per_s_${stepReleases}`,
      timings: trivialTimings,
      perSecond: stepReleases / (median(trivialTimings) / 1000),
      peer: trivialPeerName
    }, {
      note: "1,000 releases due now, one loop (limit 100, concurrency 16); a step: claim, readStream (memory), unschedule",
      per_s_vs_peer: round3((stepReleases / median(trivialTimings)) / (stepReleases / median(graphileTrivial)))
    })

    // Real release steps, by one scheduler process and by two.
    for (const processes of [1, 2]) {
      const timings: Array<number> = []
      const shares: Array<ReadonlyArray<number>> = []
      for (let round = 0; round < stepRounds + 1; round++) {
        const { claimed, elapsed } = yield* releaseStepsRound(ours, `${processes}-${round}`, stepReleases, processes)
        if (round === 0) continue // warm-up
        timings.push(elapsed)
        shares.push(claimed)
      }
      const perSecond = stepReleases / (median(timings) / 1000)
      report({
        name: `scheduler.release_steps_per_s_${processes}_process${processes === 1 ? "" : "es"}`,
        timings,
        perSecond,
        peer: null,
        ...(processes === 1 ? { target: ">= 500 steps/s per process" } : {})
      }, {
        note: `${stepReleases} releases' first traffic shift (events + read models in Postgres, Cloudflare in memory); ` +
          `a sample is the whole batch; processes are worker threads with a pool each`,
        ...(processes === 2 ? { per_s_per_process: Math.round(perSecond / 2), claimed_per_process: shares } : {})
      })
    }
  })

  // Only the JSON lines on stdout: the embedded server's start-up messages are Info.
  await Effect.runPromise(Effect.scoped(program).pipe(Effect.provideService(References.MinimumLogLevel, "Warn")))
}

// In a worker thread started by `releaseStepsRound`: be a scheduler process (last, once every
// binding above is initialised).
if (!isMainThread && (workerData as StepProcessData | undefined)?.kind === "canaryroll-scheduler-bench-process") {
  await Effect.runPromise(
    Effect.scoped(stepProcess(workerData as StepProcessData, parentPort!)).pipe(
      Effect.provideService(References.MinimumLogLevel, "Warn")
    )
  )
}
