/**
 * The orchestrator over an adapter's EventStore, Scheduler and ActiveReleases: a person's
 * command that lands while a scheduled step is ending never leaves a running release without a
 * due time. The step read the release when nothing was to be done (pending, paused) and is about
 * to unschedule it; the person's start or resume appends and schedules in between. Run against
 * every storage adapter, since it rests on what each read sees after the other's writes.
 *
 * `makeLayer` is called once per test and must give empty storage.
 *
 * @since 0.2.0
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer, Option } from "effect"
import { type ActiveReleases, type EventStore, Orchestrator, Scheduler, TrafficRouter } from "../../src/index.ts"
import { create, healthyAnalytics, person, target } from "../support/OrchestratorFixture.ts"

type Storage = EventStore.EventStore | Scheduler.Scheduler | ActiveReleases.ActiveReleases

/**
 * The adapter's Scheduler, with one person's command run just before the next `unschedule`
 * deletes: the interleaving a busy database produces now and then, made certain.
 */
const interleaving = Effect.gen(function*() {
  const scheduler = yield* Scheduler.Scheduler
  let before: Effect.Effect<void> | undefined
  const racing = Scheduler.Scheduler.of({
    ...scheduler,
    unschedule: (releaseId) =>
      Effect.gen(function*() {
        const command = before
        before = undefined
        if (command !== undefined) yield* command
        yield* scheduler.unschedule(releaseId)
      })
  })
  return {
    racing,
    beforeNextUnschedule: (command: Effect.Effect<void>) => Effect.sync(() => void (before = command)),
    ran: Effect.sync(() => before === undefined)
  }
})

interface Race {
  /** Runs `request` just before the next `unschedule` deletes. */
  readonly beforeNextUnschedule: (releaseId: string, request: Orchestrator.PersonRequest) => Effect.Effect<void, never, Orchestrator.Services>
  /** Whether the request has run. */
  readonly ran: Effect.Effect<boolean>
  /** The Worker's deployments so far, oldest first. */
  readonly deployments: () => ReadonlyArray<unknown>
}

/** The release is due, and its next step shifts traffic. */
const assertRuns = (race: Race) =>
  Effect.gen(function*() {
    const scheduler = yield* Scheduler.Scheduler
    assert.isTrue(Option.isSome(yield* scheduler.nextDueAt), "the running release lost its due time")
    const deploymentsBefore = race.deployments().length
    assert.strictEqual(yield* Orchestrator.runDue({ owner: "loop" }), 1)
    assert.strictEqual(race.deployments().length, deploymentsBefore + 1, "the next step shifted traffic")
  })

export const suite = (name: string, makeLayer: () => Layer.Layer<Storage, unknown>) => {
  const test = (title: string, body: (race: Race) => Effect.Effect<void, unknown, Orchestrator.Services>) =>
    it.effect(title, () =>
      Effect.gen(function*() {
        const race = yield* interleaving
        const memory = TrafficRouter.makeMemory([{ ...target, liveVersionId: "v1" }])
        const services = Layer.mergeAll(
          Layer.succeed(Scheduler.Scheduler, race.racing),
          Layer.succeed(TrafficRouter.TrafficRouter, memory.router),
          healthyAnalytics
        )
        yield* body({
          beforeNextUnschedule: (releaseId, request) =>
            Effect.gen(function*() {
              const context = yield* Effect.context<Orchestrator.Services>()
              yield* race.beforeNextUnschedule(
                Orchestrator.execute(releaseId, request).pipe(Effect.asVoid, Effect.orDie, Effect.provide(context))
              )
            }),
          ran: race.ran,
          deployments: () => memory.deployments(target)
        }).pipe(Effect.provide(services))
      }).pipe(Effect.provide(makeLayer(), { local: true })))

  describe(`the orchestrator's schedule under racing requests (${name})`, () => {
    test("a release started while a step unschedules it (read as pending) stays scheduled, and runs", (race) =>
      Effect.gen(function*() {
        yield* create("rel_1") // due now: a step will find it pending and unschedule it
        yield* race.beforeNextUnschedule("rel_1", { _tag: "Start", actor: person })
        assert.strictEqual(yield* Orchestrator.runDue({ owner: "loop" }), 1)
        assert.isTrue(yield* race.ran, "the start ran inside the step's unschedule")
        assert.strictEqual((yield* Orchestrator.load("rel_1")).state.status, "in_progress")
        yield* assertRuns(race)
      }))

    test("a release resumed while a step unschedules it (read as paused) stays scheduled, and runs", (race) =>
      Effect.gen(function*() {
        yield* create("rel_1")
        yield* Orchestrator.execute("rel_1", { _tag: "Start", actor: person })
        yield* Orchestrator.execute("rel_1", { _tag: "Pause", actor: person }) // due now, as a person's request leaves it
        yield* race.beforeNextUnschedule("rel_1", { _tag: "Resume", actor: person })
        assert.strictEqual(yield* Orchestrator.runDue({ owner: "loop" }), 1)
        assert.isTrue(yield* race.ran, "the resume ran inside the step's unschedule")
        assert.strictEqual((yield* Orchestrator.load("rel_1")).state.status, "in_progress")
        yield* assertRuns(race)
      }))
  })
}
