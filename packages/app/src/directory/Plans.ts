/**
 * Plans port: a team's release plans, found by id or slug. A plan is the core's `Plan` (steps and
 * health policy); a release takes a snapshot of it, so changing a plan never changes a release
 * already created.
 *
 * Contract (the `PlansContract` suite, `@canaryroll/app/testing`, run on every layer):
 * - A slug is unique within a team (`PlanSlugTaken`); another team may use it.
 * - `find` takes an id or a slug of the team (an id wins over a slug that spells it); another
 *   team's plan is not found.
 * - `remove` refuses a plan a Worker of the team uses by default (`PlanInUse`, naming them).
 * - Names are stored trimmed; times are the caller's (epoch milliseconds).
 *
 * Layers: `layerMemory` (over `MemoryDirectory`'s tables) and `PgPlans.layer` in
 * `@canaryroll/postgres`.
 *
 * @since 0.2.0
 */
import { Id, Plan } from "@canaryroll/core"
import { Context, Effect, Layer, Option, Schema } from "effect"
import * as MemoryDirectory from "./MemoryDirectory.ts"
import { recordUndo, type StorageUnavailable } from "../Storage.ts"

export interface StoredPlan {
  readonly id: string
  readonly teamId: string
  readonly slug: string
  readonly name: string
  readonly plan: Plan.Plan
  readonly createdAt: number
  readonly updatedAt: number
}

export interface NewPlan {
  readonly teamId: string
  readonly slug: string
  readonly name: string
  readonly plan: Plan.Plan
  readonly now: number
}

export interface PlanChange {
  readonly teamId: string
  readonly planId: string
  readonly name: string
  readonly plan: Plan.Plan
  readonly now: number
}

/** The team already has a plan with this slug. */
export class PlanSlugTaken extends Schema.TaggedError<PlanSlugTaken>()("PlanSlugTaken", {
  teamId: Schema.String,
  slug: Schema.String
}) {}

/** The team has no plan with this id. */
export class PlanNotFound extends Schema.TaggedError<PlanNotFound>()("PlanNotFound", {
  teamId: Schema.String,
  planId: Schema.String
}) {}

/** Workers of the team use the plan by default (their script names). */
export class PlanInUse extends Schema.TaggedError<PlanInUse>()("PlanInUse", {
  planId: Schema.String,
  scriptNames: Schema.Array(Schema.String)
}) {}

export class Plans extends Context.Service<Plans, {
  readonly create: (plan: NewPlan) => Effect.Effect<StoredPlan, PlanSlugTaken | StorageUnavailable>
  /** The team's plans, oldest first. */
  readonly list: (teamId: string) => Effect.Effect<ReadonlyArray<StoredPlan>, StorageUnavailable>
  /** By id or slug, within the team. */
  readonly find: (teamId: string, ref: string) => Effect.Effect<Option.Option<StoredPlan>, StorageUnavailable>
  readonly update: (change: PlanChange) => Effect.Effect<StoredPlan, PlanNotFound | StorageUnavailable>
  /** Deletes a plan no Worker uses by default; gives what it deleted. */
  readonly remove: (teamId: string, planId: string) => Effect.Effect<StoredPlan, PlanNotFound | PlanInUse | StorageUnavailable>
}>()("@canaryroll/app/Plans") {}

/** The plan every new team gets, and every Worker registered without one: 1% → 10% → 50% → 100%. */
export const standard = {
  slug: "standard",
  name: "Standard",
  plan: Plan.make({
    steps: [
      { percentage: 1, waitSeconds: 300 },
      { percentage: 10, waitSeconds: 600 },
      { percentage: 50, waitSeconds: 600 },
      { percentage: 100, waitSeconds: 600 }
    ]
  })
} as const

/** Gives the team its standard plan (a new team), or the one it already has. */
export const createStandard = (teamId: string, now: number): Effect.Effect<StoredPlan, StorageUnavailable, Plans> =>
  Plans.use((plans) =>
    plans.create({ teamId, ...standard, now }).pipe(
      Effect.catchTag("PlanSlugTaken", () =>
        Effect.flatMap(plans.find(teamId, standard.slug), (found) =>
          Option.match(found, {
            // Taken a moment ago and gone now: a concurrent delete; make it again.
            // Taken again is a defect; storage down stays the typed `StorageUnavailable`.
            onNone: () => Effect.catchTag(plans.create({ teamId, ...standard, now }), "PlanSlugTaken", (error) => Effect.die(error)),
            onSome: Effect.succeed
          })))
    )
  )

/** Oldest first; an id breaks ties, as the Postgres layer orders them. */
export const byCreation = <A extends { readonly createdAt: number; readonly id: string }>(left: A, right: A) =>
  left.createdAt - right.createdAt || (left.id < right.id ? -1 : left.id > right.id ? 1 : 0)

/** Over the directory's memory tables (`MemoryDirectory`), which the Workers memory layer shares. */
export const makeMemory = Effect.gen(function*() {
  const { plans, workers } = yield* MemoryDirectory.MemoryDirectory
  const put = (plan: StoredPlan) =>
    Effect.gen(function*() {
      const before = plans.get(plan.id)
      plans.set(plan.id, plan)
      yield* recordUndo(() => before === undefined ? plans.delete(plan.id) : plans.set(plan.id, before))
    })
  const ofTeam = (teamId: string) => [...plans.values()].filter((plan) => plan.teamId === teamId).sort(byCreation)
  const byId = (teamId: string, planId: string) =>
    Option.filter(Option.fromNullishOr(plans.get(planId)), (plan) => plan.teamId === teamId)
  return Plans.of({
    create: (input) =>
      Effect.gen(function*() {
        if (ofTeam(input.teamId).some((plan) => plan.slug === input.slug)) {
          return yield* new PlanSlugTaken({ teamId: input.teamId, slug: input.slug })
        }
        const plan: StoredPlan = {
          id: Id.makeUnsafe("plan"),
          teamId: input.teamId,
          slug: input.slug,
          name: input.name.trim(),
          plan: input.plan,
          createdAt: input.now,
          updatedAt: input.now
        }
        yield* put(plan)
        return plan
      }),
    list: (teamId) => Effect.sync(() => ofTeam(teamId)),
    find: (teamId, ref) =>
      Effect.sync(() =>
        Option.orElse(byId(teamId, ref), () => Option.fromNullishOr(ofTeam(teamId).find((plan) => plan.slug === ref)))
      ),
    update: (change) =>
      Effect.gen(function*() {
        const current = byId(change.teamId, change.planId)
        if (Option.isNone(current)) return yield* new PlanNotFound({ teamId: change.teamId, planId: change.planId })
        const updated: StoredPlan = { ...current.value, name: change.name.trim(), plan: change.plan, updatedAt: change.now }
        yield* put(updated)
        return updated
      }),
    remove: (teamId, planId) =>
      Effect.gen(function*() {
        const current = byId(teamId, planId)
        if (Option.isNone(current)) return yield* new PlanNotFound({ teamId, planId })
        const users = [...workers.values()].filter((worker) => worker.defaultPlanId === planId).sort(byCreation)
        if (users.length > 0) {
          return yield* new PlanInUse({ planId, scriptNames: users.map((worker) => worker.scriptName) })
        }
        plans.delete(planId)
        yield* recordUndo(() => plans.set(planId, current.value))
        return current.value
      })
  })
})

export const layerMemory: Layer.Layer<Plans, never, MemoryDirectory.MemoryDirectory> = Layer.effect(Plans, makeMemory)
