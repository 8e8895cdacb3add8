/**
 * The in-memory harness: real CanaryRoll releases (the core's orchestrator, decider and memory
 * ports) against a scripted fleet of Workers, with time driven by `TestClock`. Hours of soak
 * and health checks run in milliseconds, and every due step runs exactly at its due time.
 *
 * ```ts
 * const harness = yield* Harness
 * const api = yield* harness.addWorker({ scriptName: "api", liveVersionId: "v1", errorRates: { v2: 0.05 } })
 * const release = yield* harness.release({ worker: api, versionId: "v2", plan })
 * yield* harness.runUntilSettled("1 hour")
 * ```
 *
 * @since 0.1.0
 */
import {
  ActiveReleases,
  Actor,
  AuditEntry,
  EventStore,
  HealthSource,
  Id,
  Orchestrator,
  Outbox,
  type Plan,
  Release,
  ReleaseSummary,
  Scheduler,
  TrafficRouter
} from "@canaryroll/core"
import { Clock, Context, Duration, Effect, Layer } from "effect"
import * as SimulatedTime from "./SimulatedTime.ts"
import * as WorkerFleet from "./WorkerFleet.ts"

export interface ReleaseOptions {
  readonly worker: TrafficRouter.WorkerTarget
  readonly versionId: string
  readonly plan: Plan.Plan
  readonly autoAdvance?: boolean | undefined
  readonly name?: string | undefined
  /** Start right away (default) or leave the release `pending`. */
  readonly start?: boolean | undefined
  readonly actor?: Actor.Actor | undefined
}

export const teamId = "team_harness"
export const defaultActor = Actor.user("usr_harness", "harness")

export class Harness extends Context.Service<Harness, {
  readonly fleet: WorkerFleet.WorkerFleet
  readonly addWorker: (options: WorkerFleet.WorkerOptions) => Effect.Effect<TrafficRouter.WorkerTarget>
  /** Creates a release (started unless `start: false`) and returns its id. */
  readonly release: (options: ReleaseOptions) => Effect.Effect<string, HarnessError>
  readonly execute: (
    releaseId: string,
    request: Orchestrator.PersonRequest
  ) => Effect.Effect<Release.Release, HarnessError>
  /** Moves the clock forward by `duration`, running every due step at its due time. */
  readonly runFor: (duration: Duration.Input) => Effect.Effect<void, HarnessError>
  /**
   * Runs until no release has anything scheduled (all terminal, pending or waiting for a person),
   * or `limit` has passed; returns how long that took.
   */
  readonly runUntilSettled: (limit: Duration.Input) => Effect.Effect<Duration.Duration, HarnessError>
  readonly state: (releaseId: string) => Effect.Effect<Release.ReleaseState, HarnessError>
  readonly summary: (releaseId: string) => Effect.Effect<ReleaseSummary.ReleaseSummary, HarnessError>
  readonly events: (releaseId: string) => Effect.Effect<ReadonlyArray<EventStore.RecordedEvent>, HarnessError>
  readonly audit: (releaseId: string) => Effect.Effect<ReadonlyArray<AuditEntry.AuditEntry>, HarnessError>
  /** Time since the harness started. */
  readonly elapsed: Effect.Effect<Duration.Duration>
}>()("@canaryroll/memory/Harness") {}

export type HarnessError =
  | EventStore.EventStoreUnavailable
  | Scheduler.SchedulerUnavailable
  | Orchestrator.ReleaseBusy
  | ActiveReleases.WorkerBusy
  | ActiveReleases.ActiveReleasesUnavailable
  | import("@canaryroll/core").ReleaseDecider.ReleaseRejected
  | TrafficRouter.TrafficRouterError

const make = Effect.gen(function*() {
  const fleet = yield* WorkerFleet.make
  const context = Context.make(TrafficRouter.TrafficRouter, fleet.router).pipe(
    Context.add(HealthSource.HealthSource, fleet.health),
    Context.add(EventStore.EventStore, yield* EventStore.makeMemory),
    Context.add(Scheduler.Scheduler, yield* Scheduler.makeMemory),
    Context.add(ActiveReleases.ActiveReleases, yield* ActiveReleases.makeMemory)
  )
  const run = <A, E>(effect: Effect.Effect<A, E, Orchestrator.Services>) => Effect.provideContext(effect, context)
  const store = Context.get(context, EventStore.EventStore)

  const readStream = (releaseId: string) => store.readStream(releaseId)

  const harness = Harness.of({
    fleet,
    addWorker: fleet.addWorker,
    release: (options) =>
      Effect.gen(function*() {
        // Made as every runtime makes them (`dep_…`), so that what a plan test prints reads like production.
        const releaseId = yield* Id.make("release")
        const actor = options.actor ?? defaultActor
        yield* run(Orchestrator.create({
          releaseId,
          teamId,
          workerId: `wkr_${options.worker.scriptName}`,
          accountId: options.worker.accountId,
          scriptName: options.worker.scriptName,
          canaryVersionId: options.versionId,
          planId: null,
          plan: options.plan,
          autoAdvance: options.autoAdvance ?? true,
          name: options.name ?? null,
          ticketUrl: null,
          actor
        }))
        if (options.start ?? true) yield* run(Orchestrator.execute(releaseId, { _tag: "Start", actor }))
        return releaseId
      }),
    execute: (releaseId, request) => run(Orchestrator.execute(releaseId, request)),
    runFor: (duration) => run(SimulatedTime.runFor(duration)),
    runUntilSettled: (limit) => run(SimulatedTime.runUntilSettled(limit)),
    state: (releaseId) => Effect.map(readStream(releaseId), (events) => Release.fold(events.map((e) => e.event))),
    summary: (releaseId) =>
      Effect.flatMap(readStream(releaseId), (events) => {
        const summary = ReleaseSummary.project(events.map((e) => e.event))
        return summary === undefined
          ? Effect.die(new Error(`no release ${releaseId}`))
          : Effect.succeed(summary)
      }),
    events: readStream,
    audit: (releaseId) => Effect.map(readStream(releaseId), AuditEntry.project),
    elapsed: Effect.map(Clock.currentTimeMillis, (now) => Duration.millis(now - fleet.startedAt))
  })
  return { harness, context }
})

/**
 * The harness and the ports it runs on (EventStore, Scheduler, TrafficRouter, HealthSource,
 * Outbox), for tests that want to look underneath. Needs `TestClock` (`it.effect` provides it;
 * elsewhere add `TestClock.layer()`).
 */
export const layer: Layer.Layer<
  | Harness
  | EventStore.EventStore
  | Scheduler.Scheduler
  | TrafficRouter.TrafficRouter
  | HealthSource.HealthSource
  | ActiveReleases.ActiveReleases
  | Outbox.Outbox
> = Layer.effectContext(
  Effect.gen(function*() {
    const { harness, context } = yield* make
    const outbox = yield* Outbox.makeMemory.pipe(Effect.provideContext(context))
    return context.pipe(Context.add(Harness, harness), Context.add(Outbox.Outbox, outbox))
  })
)
