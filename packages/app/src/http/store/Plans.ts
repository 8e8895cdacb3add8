/**
 * What remains of the server's plan store: the API's view of a stored plan, and the standard plan
 * a new team gets, over the `Plans` port (`@canaryroll/app`), for the callers that have not moved
 * to the port yet (a new team's first plan). No SQL.
 *
 * @since 0.1.0
 */
import { Plans } from "../../index.ts"
import type { Plan } from "@canaryroll/core"
import { Effect } from "effect"
import type * as S from "@canaryroll/api/Schemas"

// The port and its failure, so that modules using these functions can name them in their types.
export type { Plans as Port, Storage } from "../../index.ts"

export interface StoredPlan {
  readonly view: S.PlanView
  readonly plan: Plan.Plan
}

export const toView = (stored: Plans.StoredPlan): S.PlanView => ({
  id: stored.id,
  slug: stored.slug,
  name: stored.name,
  steps: stored.plan.steps,
  health: stored.plan.health,
  createdAt: new Date(stored.createdAt).toISOString(),
  updatedAt: new Date(stored.updatedAt).toISOString()
})

export const toStoredPlan = (stored: Plans.StoredPlan): StoredPlan => ({ plan: stored.plan, view: toView(stored) })

/** The plan every new team gets, and every Worker registered without one: 1% → 10% → 50% → 100%. */
export const standard = Plans.standard

/** Gives a new team its standard plan (or the one it has). */
export const createPlan = (input: { readonly teamId: string; readonly now: Date }) =>
  Effect.map(Plans.createStandard(input.teamId, input.now.getTime()), toStoredPlan)
