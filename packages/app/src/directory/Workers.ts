/**
 * Workers port: the Workers a team registered. A Worker is a script in one of the team's
 * Cloudflare accounts, known by its tag (`id`, the `workerId` of URLs and CI configuration), with
 * a default plan and an optional health policy that replaces the plan's.
 *
 * Contract (the `WorkersContract` suite, `@canaryroll/app/testing`, run on every layer):
 * - A Worker is registered only in an account the team connected (`CloudflareAccountNotConnected`),
 *   checked in the same step as the insert, so it cannot race the account's removal.
 * - Its default plan is one of the team's plans (`PlanNotFound`), likewise.
 * - A script is registered once per team and account (`WorkerExists`).
 * - Another team's Worker is not found, updated or removed (`WorkerNotFound`).
 * - `hold`, inside `Transactions.atomically`, finds the Worker and keeps it until the transaction
 *   ends: another transaction that holds it (a release being created, the Worker's removal) waits.
 *   A release is never created for a Worker being removed, on any storage.
 *
 * Layers: `layerMemory` (over `MemoryDirectory`'s tables) and `PgWorkers.layer` in
 * `@canaryroll/postgres`.
 *
 * @since 0.2.0
 */
import type { Plan } from "@canaryroll/core"
import { Id } from "@canaryroll/core"
import { Context, Effect, Layer, Option, Schema } from "effect"
import { recordUndo, type StorageUnavailable } from "../Storage.ts"
import * as MemoryDirectory from "./MemoryDirectory.ts"
import { byCreation, PlanNotFound } from "./Plans.ts"

export interface Worker {
  readonly id: string
  readonly teamId: string
  readonly accountId: string
  readonly scriptName: string
  readonly defaultPlanId: string
  /** Replaces the plan's health policy; `null`: the plan's applies. */
  readonly healthPolicy: Plan.HealthPolicy | null
  readonly createdAt: number
}

export interface NewWorker {
  readonly teamId: string
  readonly accountId: string
  readonly scriptName: string
  readonly defaultPlanId: string
  readonly healthPolicy: Plan.HealthPolicy | null
  readonly now: number
}

export interface WorkerChange {
  readonly teamId: string
  readonly workerId: string
  readonly defaultPlanId: string
  readonly healthPolicy: Plan.HealthPolicy | null
}

/** The team already registered this script in this account. */
export class WorkerExists extends Schema.TaggedError<WorkerExists>()("WorkerExists", {
  accountId: Schema.String,
  scriptName: Schema.String
}) {}

/** The team has no Worker with this tag. */
export class WorkerNotFound extends Schema.TaggedError<WorkerNotFound>()("WorkerNotFound", {
  teamId: Schema.String,
  workerId: Schema.String
}) {}

/** The team has not connected this Cloudflare account. */
export class CloudflareAccountNotConnected
  extends Schema.TaggedError<CloudflareAccountNotConnected>()("CloudflareAccountNotConnected", {
    teamId: Schema.String,
    accountId: Schema.String
  })
{}

export { PlanNotFound }

export class Workers extends Context.Service<Workers, {
  readonly register: (
    worker: NewWorker
  ) => Effect.Effect<Worker, WorkerExists | CloudflareAccountNotConnected | PlanNotFound | StorageUnavailable>
  /** The team's Workers, oldest first. */
  readonly list: (teamId: string) => Effect.Effect<ReadonlyArray<Worker>, StorageUnavailable>
  readonly find: (teamId: string, workerId: string) => Effect.Effect<Option.Option<Worker>, StorageUnavailable>
  /** The team's Workers in one Cloudflare account, oldest first. */
  readonly inAccount: (teamId: string, accountId: string) => Effect.Effect<ReadonlyArray<Worker>, StorageUnavailable>
  readonly update: (change: WorkerChange) => Effect.Effect<Worker, WorkerNotFound | PlanNotFound | StorageUnavailable>
  /**
   * The team's Worker, held until the surrounding `Transactions.atomically` ends: other holders
   * wait (on Postgres an advisory lock on the Worker; in memory transactions run one at a time).
   */
  readonly hold: (teamId: string, workerId: string) => Effect.Effect<Option.Option<Worker>, StorageUnavailable>
  /** Gives what it removed. */
  readonly remove: (teamId: string, workerId: string) => Effect.Effect<Worker, WorkerNotFound | StorageUnavailable>
}>()("@canaryroll/app/Workers") {}

/** Over the directory's memory tables (`MemoryDirectory`): the accounts and plans it checks are there. */
export const makeMemory = Effect.gen(function*() {
  const { accounts, plans, workers } = yield* MemoryDirectory.MemoryDirectory
  const put = (worker: Worker) =>
    Effect.gen(function*() {
      const before = workers.get(worker.id)
      workers.set(worker.id, worker)
      yield* recordUndo(() => before === undefined ? workers.delete(worker.id) : workers.set(worker.id, before))
    })
  const ofTeam = (teamId: string) => [...workers.values()].filter((worker) => worker.teamId === teamId).sort(byCreation)
  const byId = (teamId: string, workerId: string) =>
    Option.filter(Option.fromNullishOr(workers.get(workerId)), (worker) => worker.teamId === teamId)
  const planOfTeam = (teamId: string, planId: string) => plans.get(planId)?.teamId === teamId
  return Workers.of({
    register: (input) =>
      Effect.gen(function*() {
        if (accounts.get(input.accountId)?.teamId !== input.teamId) {
          return yield* new CloudflareAccountNotConnected({ teamId: input.teamId, accountId: input.accountId })
        }
        if (!planOfTeam(input.teamId, input.defaultPlanId)) {
          return yield* new PlanNotFound({ teamId: input.teamId, planId: input.defaultPlanId })
        }
        const taken = ofTeam(input.teamId).some((worker) =>
          worker.accountId === input.accountId && worker.scriptName === input.scriptName
        )
        if (taken) return yield* new WorkerExists({ accountId: input.accountId, scriptName: input.scriptName })
        const worker: Worker = {
          id: Id.makeUnsafe("worker"),
          teamId: input.teamId,
          accountId: input.accountId,
          scriptName: input.scriptName,
          defaultPlanId: input.defaultPlanId,
          healthPolicy: input.healthPolicy,
          createdAt: input.now
        }
        yield* put(worker)
        return worker
      }),
    list: (teamId) => Effect.sync(() => ofTeam(teamId)),
    find: (teamId, workerId) => Effect.sync(() => byId(teamId, workerId)),
    // Memory transactions already run one at a time: holding is finding.
    hold: (teamId, workerId) => Effect.sync(() => byId(teamId, workerId)),
    inAccount: (teamId, accountId) => Effect.sync(() => ofTeam(teamId).filter((worker) => worker.accountId === accountId)),
    update: (change) =>
      Effect.gen(function*() {
        const current = byId(change.teamId, change.workerId)
        if (Option.isNone(current)) return yield* new WorkerNotFound({ teamId: change.teamId, workerId: change.workerId })
        if (!planOfTeam(change.teamId, change.defaultPlanId)) {
          return yield* new PlanNotFound({ teamId: change.teamId, planId: change.defaultPlanId })
        }
        const updated: Worker = { ...current.value, defaultPlanId: change.defaultPlanId, healthPolicy: change.healthPolicy }
        yield* put(updated)
        return updated
      }),
    remove: (teamId, workerId) =>
      Effect.gen(function*() {
        const current = byId(teamId, workerId)
        if (Option.isNone(current)) return yield* new WorkerNotFound({ teamId, workerId })
        workers.delete(workerId)
        yield* recordUndo(() => workers.set(workerId, current.value))
        return current.value
      })
  })
})

export const layerMemory: Layer.Layer<Workers, never, MemoryDirectory.MemoryDirectory> = Layer.effect(Workers, makeMemory)
