/**
 * SchedulerLoop on real Postgres. The steps are the orchestrator's real `tick` over an empty
 * event store whose `readStream` reports when a release's step starts (a release with no events
 * is then unscheduled): what is under test is when and how often the loop steps, not the step.
 * Waits are on observed events (a step starting, the loop's state), never on sleeps.
 */
import { ActiveReleases, EventStore, HealthSource, Scheduler, TrafficRouter } from "@canaryroll/core"
import { PgClient } from "@effect/sql-pg"
import { assert, describe, it } from "@effect/vitest"
import { Clock, Deferred, Effect, Exit, Fiber, Layer, Option, References, Scope, Stream, SubscriptionRef } from "effect"
import { SqlClient } from "effect/sql"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import * as EmbeddedPostgres from "../src/EmbeddedPostgres.ts"
import * as Migrations from "../src/Migrations.ts"
import * as PgScheduler from "../src/PgScheduler.ts"
import * as SchedulerLoop from "../src/SchedulerLoop.ts"
import * as TestDatabase from "./database/TestDatabase.ts"

const database = TestDatabase.forFile()

/** What each release's steps did: when they started, and how many there were. */
interface Steps {
  readonly started: (releaseId: string) => Effect.Effect<number>
  readonly count: (releaseId: string) => number
}

/**
 * The orchestrator's ports with a step probe: `readStream` (the first thing a tick does) records
 * the time and runs `during(releaseId)` (to hold or fail a step), then reads an empty stream.
 */
const probedPorts = (during: (releaseId: string) => Effect.Effect<void, EventStore.EventStoreUnavailable> = () => Effect.void) =>
  Effect.gen(function*() {
    const store = yield* EventStore.makeMemory
    const started = new Map<string, Deferred.Deferred<number>>()
    const counts = new Map<string, number>()
    const deferred = (releaseId: string) => {
      let d = started.get(releaseId)
      if (d === undefined) started.set(releaseId, d = Deferred.makeUnsafe<number>())
      return d
    }
    const steps: Steps = {
      started: (releaseId) => Deferred.await(deferred(releaseId)),
      count: (releaseId) => counts.get(releaseId) ?? 0
    }
    const probed = EventStore.EventStore.of({
      ...store,
      readStream: (releaseId) =>
        Effect.gen(function*() {
          counts.set(releaseId, (counts.get(releaseId) ?? 0) + 1)
          yield* Deferred.succeed(deferred(releaseId), yield* Clock.currentTimeMillis)
          yield* during(releaseId)
          return yield* store.readStream(releaseId)
        })
    })
    const ports = Layer.mergeAll(
      Layer.succeed(EventStore.EventStore, probed),
      TrafficRouter.layerMemory([]),
      HealthSource.layerMemory(new Map()),
      ActiveReleases.layerMemory
    )
    return { steps, ports }
  })

/** The scheduler on `client`, migrated. */
const schedulerOn = <E>(client: Layer.Layer<PgClient.PgClient | SqlClient.SqlClient, E>) =>
  PgScheduler.layer().pipe(Layer.provideMerge(Layer.effectDiscard(Migrations.run)), Layer.provideMerge(client))

/** A client on the file's database whose connections can be told apart in `pg_stat_activity`. */
const namedClient = (schema: string, applicationName: string) =>
  Layer.effectDiscard(SqlClient.SqlClient.use((sql) => sql`CREATE SCHEMA IF NOT EXISTS ${sql(schema)}`)).pipe(
    Layer.provideMerge(PgClient.layer({
      url: database.url(),
      applicationName,
      startupParameters: { search_path: schema },
      maxConnections: 6
    }))
  )

/** Waits until the loop's state satisfies `predicate`. */
const until = (loop: SchedulerLoop.SchedulerLoop["Service"], predicate: (state: SchedulerLoop.State) => boolean) =>
  SubscriptionRef.changes(loop.state).pipe(Stream.filter(predicate), Stream.runHead, Effect.map(Option.getOrThrow))

const asleepAndListening = (state: SchedulerLoop.State) => state.phase === "sleeping" && state.listening

const leaseOf = (releaseId: string) =>
  SqlClient.SqlClient.use((sql) =>
    sql<{ readonly lease_owner: string | null }>`SELECT lease_owner FROM release_schedule WHERE release_id = ${releaseId}`
  ).pipe(Effect.map((rows) => rows.length === 0 ? "unscheduled" : rows[0]!.lease_owner))

/** Expected warnings (an outage, an interrupted shutdown) stay out of the test output. */
const quiet = Effect.provideService(References.MinimumLogLevel, "Error")

describe("SchedulerLoop", () => {
  it.live("a NOTIFY wakes a sleeping loop long before its safety poll", () =>
    Effect.gen(function*() {
      const { ports, steps } = yield* probedPorts()
      yield* Effect.gen(function*() {
        const loop = yield* SchedulerLoop.start({ safetyPollMs: 30_000 })
        const scheduler = yield* Scheduler.Scheduler
        // nothing is scheduled: the loop sleeps for its 30 s safety poll
        yield* until(loop, asleepAndListening)
        const scheduledAt = yield* Clock.currentTimeMillis
        yield* scheduler.schedule("release-1", scheduledAt)
        const startedAt = yield* steps.started("release-1")
        assert.isBelow(startedAt - scheduledAt, 500, `the step started ${startedAt - scheduledAt} ms after it was due`)
      }).pipe(Effect.scoped, Effect.provide(ports.pipe(Layer.provideMerge(schedulerOn(database.freshSchema()))), { local: true }))
    }))

  it.live("two loops step 300 due releases between them, each exactly once", () =>
    Effect.gen(function*() {
      const { ports, steps } = yield* probedPorts()
      const process = () => ports.pipe(Layer.provideMerge(schedulerOn(database.schema("two_loops"))))
      const ids = Array.from({ length: 300 }, (_, i) => `release-${i}`)
      yield* Effect.gen(function*() {
        const scheduler = yield* Scheduler.Scheduler
        const now = yield* Clock.currentTimeMillis
        yield* Effect.forEach(ids, (id) => scheduler.schedule(id, now), { concurrency: 6, discard: true })
      }).pipe(Effect.provide(process(), { local: true }))
      const [a, b] = yield* Effect.gen(function*() {
        // each loop on a pool of its own, both living as long as this scope
        const a = yield* SchedulerLoop.start({ limit: 10 }).pipe(Effect.provide(yield* Layer.build(process())))
        const b = yield* SchedulerLoop.start({ limit: 10 }).pipe(Effect.provide(yield* Layer.build(process())))
        yield* Effect.forEach(ids, steps.started, { discard: true })
        return [a, b] as const
      }).pipe(Effect.scoped) // a graceful shutdown: the last steps finish
      assert.deepStrictEqual(ids.filter((id) => steps.count(id) !== 1), [])
      const claimedBy = (loop: SchedulerLoop.SchedulerLoop["Service"]) => SubscriptionRef.get(loop.state).pipe(Effect.map((s) => s.claimed))
      assert.strictEqual((yield* claimedBy(a)) + (yield* claimedBy(b)), 300)
      assert.isAbove(yield* claimedBy(a), 0)
      assert.isAbove(yield* claimedBy(b), 0)
    }))

  it.live("graceful shutdown stops claiming, waits for the running step, and leaves nothing leased", () =>
    Effect.gen(function*() {
      const finish = yield* Deferred.make<void>()
      const { ports, steps } = yield* probedPorts((id) => id === "release-slow" ? Deferred.await(finish) : Effect.void)
      yield* Effect.gen(function*() {
        const scheduler = yield* Scheduler.Scheduler
        const scope = yield* Scope.make()
        const loop = yield* SchedulerLoop.start({ safetyPollMs: 30_000 }).pipe(Scope.provide(scope))
        yield* scheduler.schedule("release-slow", yield* Clock.currentTimeMillis)
        yield* steps.started("release-slow")
        assert.strictEqual(yield* leaseOf("release-slow"), loop.owner)

        const closing = yield* Effect.forkChild(Scope.close(scope, Exit.void))
        yield* until(loop, (s) => s.phase === "stopping")
        // due while stopping: left to other processes
        yield* scheduler.schedule("release-late", yield* Clock.currentTimeMillis)
        yield* Deferred.succeed(finish, undefined)
        yield* Fiber.join(closing)

        assert.strictEqual((yield* SubscriptionRef.get(loop.state)).phase, "stopped")
        assert.strictEqual(steps.count("release-late"), 0)
        assert.strictEqual(yield* leaseOf("release-late"), null)
        assert.strictEqual(yield* leaseOf("release-slow"), "unscheduled") // its step finished: no events, unscheduled
      }).pipe(Effect.provide(ports.pipe(Layer.provideMerge(schedulerOn(database.freshSchema()))), { local: true }))
    }))

  it.live("graceful shutdown is bounded, and gives up the leases of stuck and failed steps at once", () =>
    Effect.gen(function*() {
      const { ports, steps } = yield* probedPorts((id) =>
        id === "release-stuck"
          ? Effect.never
          : id === "release-failing"
          ? Effect.fail(new EventStore.EventStoreUnavailable({ message: "simulated" }))
          : Effect.void
      )
      yield* Effect.gen(function*() {
        const scheduler = yield* Scheduler.Scheduler
        const now = yield* Clock.currentTimeMillis
        yield* scheduler.schedule("release-stuck", now)
        yield* scheduler.schedule("release-failing", now)
        const scope = yield* Scope.make()
        const loop = yield* SchedulerLoop.start({ shutdownTimeoutMs: 200, leaseMs: 60_000 }).pipe(Scope.provide(scope))
        yield* steps.started("release-stuck")
        yield* steps.started("release-failing")
        // a failed step keeps its lease until it ends (60 s here), so it is not retried in a hot loop
        assert.strictEqual(yield* leaseOf("release-failing"), loop.owner)

        yield* Scope.close(scope, Exit.void)
        assert.strictEqual(yield* leaseOf("release-stuck"), null)
        assert.strictEqual(yield* leaseOf("release-failing"), null)
        // claimable by another process right away
        const claimed = yield* scheduler.claim("other-process", yield* Clock.currentTimeMillis, 10, 10_000)
        assert.deepStrictEqual(claimed.map((d) => d.releaseId).sort(), ["release-failing", "release-stuck"])
      }).pipe(quiet, Effect.provide(ports.pipe(Layer.provideMerge(schedulerOn(database.freshSchema()))), { local: true }))
    }))

  it.live("a hung step does not wedge the loop: its run is cut off, and the release is retried after its lease", () =>
    Effect.gen(function*() {
      let hung = false // only its first step hangs
      const { ports, steps } = yield* probedPorts((id) =>
        id === "release-hung" && !hung ? Effect.sync(() => hung = true).pipe(Effect.andThen(Effect.never)) : Effect.void
      )
      yield* Effect.gen(function*() {
        const scheduler = yield* Scheduler.Scheduler
        const loop = yield* SchedulerLoop.start({ runTimeoutMs: 300, leaseMs: 600, safetyPollMs: 30_000 })
        yield* scheduler.schedule("release-hung", yield* Clock.currentTimeMillis)
        yield* steps.started("release-hung")
        yield* scheduler.schedule("release-next", yield* Clock.currentTimeMillis)
        yield* steps.started("release-next")
        // the hung step's lease is no longer renewed: it ends, and the release is stepped again
        yield* until(loop, () => steps.count("release-hung") === 2 && steps.count("release-next") === 1)
        assert.strictEqual(yield* leaseOf("release-hung"), "unscheduled")
      }).pipe(Effect.scoped, quiet, Effect.provide(ports.pipe(Layer.provideMerge(schedulerOn(database.freshSchema()))), { local: true }))
    }))

  it.live("an outage: failed looks back off, the listener comes back, and the loop carries on", () =>
    Effect.gen(function*() {
      const { ports, steps } = yield* probedPorts()
      const admin = PgClient.layer({ url: TestDatabase.serverUrl(), maxConnections: 1 })
      const applicationName = "canaryroll-loop-under-test"
      const allowConnections = (allow: boolean) =>
        SqlClient.SqlClient.use((sql) =>
          allow
            ? sql`ALTER DATABASE ${sql(database.name)} ALLOW_CONNECTIONS true`
            : sql`ALTER DATABASE ${sql(database.name)} ALLOW_CONNECTIONS false`.pipe(
              Effect.andThen(sql`
                SELECT pg_terminate_backend(pid) FROM pg_stat_activity
                WHERE datname = ${database.name} AND application_name = ${applicationName}`)
            )
        ).pipe(Effect.provide(admin, { local: true }))

      yield* Effect.gen(function*() {
        const loop = yield* SchedulerLoop.start({ safetyPollMs: 30_000 })
        const scheduler = yield* Scheduler.Scheduler
        yield* until(loop, asleepAndListening)

        // The database refuses this loop: its connections are cut and no new ones are allowed.
        yield* allowConnections(false)
        yield* until(loop, (s) => !s.listening)
        yield* loop.wake
        const down = yield* until(loop, (s) => s.failures >= 2)
        assert.strictEqual(down.phase, "backing_off")
        assert.match(down.lastError ?? "", /looking for due releases/)

        yield* allowConnections(true)
        // The pool reconnects, the listener subscribes again.
        yield* until(loop, (s) => asleepAndListening(s) && s.failures === 0)
        const scheduledAt = yield* Clock.currentTimeMillis
        yield* scheduler.schedule("release-after-outage", scheduledAt)
        const startedAt = yield* steps.started("release-after-outage")
        assert.isBelow(startedAt - scheduledAt, 1_000, "woken by a NOTIFY, not the 30 s safety poll")
      }).pipe(
        Effect.ensuring(allowConnections(true).pipe(Effect.ignore)),
        Effect.scoped,
        quiet,
        Effect.provide(ports.pipe(Layer.provideMerge(schedulerOn(namedClient("outage", applicationName)))), { local: true })
      )
    }), { timeout: 30_000 })

  it.live("a Postgres restart: the pool reconnects, LISTEN is re-established, steps carry on", () =>
    Effect.gen(function*() {
      const dataDirectory = yield* Effect.sync(() => fs.mkdtempSync(path.join(os.tmpdir(), "canaryroll-restart-")))
      let serverScope = yield* Scope.make()
      const start = (port?: number) =>
        EmbeddedPostgres.start({ dataDirectory, port, durable: false }).pipe(Scope.provide(serverScope))
      const first = yield* start()
      const { ports, steps } = yield* probedPorts()
      const client = PgClient.layer({ url: first.url, maxConnections: 4 })

      yield* Effect.gen(function*() {
        const loop = yield* SchedulerLoop.start({ safetyPollMs: 30_000 })
        const scheduler = yield* Scheduler.Scheduler
        yield* until(loop, asleepAndListening)

        yield* Scope.close(serverScope, Exit.void)
        yield* until(loop, (s) => !s.listening)
        serverScope = yield* Scope.make()
        yield* start(first.port) // same directory, same port: a restart
        yield* until(loop, asleepAndListening)

        const scheduledAt = yield* Clock.currentTimeMillis
        yield* scheduler.schedule("release-after-restart", scheduledAt)
        const startedAt = yield* steps.started("release-after-restart")
        assert.isBelow(startedAt - scheduledAt, 1_000, "woken by a NOTIFY, not the 30 s safety poll")
      }).pipe(
        Effect.scoped,
        Effect.provide(ports.pipe(Layer.provideMerge(schedulerOn(client))), { local: true }),
        Effect.ensuring(Effect.gen(function*() {
          yield* Scope.close(serverScope, Exit.void)
          yield* Effect.sync(() => fs.rmSync(dataDirectory, { recursive: true, force: true }))
        }))
      )
    }).pipe(quiet), { timeout: 60_000 })
})
