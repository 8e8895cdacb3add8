/**
 * Release plans, per team, by id or slug. The definition (steps and health policy) is stored in
 * the core's encoded form and decoded with the core's schema on the way out; a release takes a
 * snapshot of it, so editing a plan never changes a release already created.
 *
 * @since 0.1.0
 */
import { Plan } from "@canaryroll/core"
import { Effect, Option, Schema } from "effect"
import { SqlClient } from "effect/sql"
import type * as S from "../api/Schemas.ts"
import { newId } from "./Accounts.ts"

interface PlanRow {
  readonly id: string
  readonly team_id: string
  readonly slug: string
  readonly name: string
  readonly definition: unknown
  readonly created_at: Date
  readonly updated_at: Date
}

export interface StoredPlan {
  readonly view: S.PlanView
  readonly plan: Plan.Plan
}

const encode = Schema.encodeSync(Plan.Plan)

const toPlan = (row: PlanRow): StoredPlan => {
  const plan = Plan.make(row.definition as Plan.PlanInput)
  return {
    plan,
    view: {
      id: row.id,
      slug: row.slug,
      name: row.name,
      steps: plan.steps,
      health: plan.health,
      createdAt: row.created_at.toISOString(),
      updatedAt: row.updated_at.toISOString()
    }
  }
}

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
}

/** Creates a plan; `None` when the slug is taken in this team. */
export const createPlan = Effect.fnUntraced(function*(input: {
  readonly teamId: string
  readonly slug: string
  readonly name: string
  readonly plan: Plan.Plan
  readonly now: Date
}) {
  const sql = yield* SqlClient.SqlClient
  const rows = yield* sql<PlanRow>`
    INSERT INTO plans (id, team_id, slug, name, definition, created_at, updated_at)
    VALUES (${newId("plan")}, ${input.teamId}, ${input.slug}, ${input.name.trim()},
      ${JSON.stringify(encode(input.plan))}::jsonb, ${input.now}, ${input.now})
    ON CONFLICT (team_id, slug) DO NOTHING RETURNING *`
  return Option.map(Option.fromNullishOr(rows[0]), toPlan)
})

export const listPlans = Effect.fnUntraced(function*(teamId: string) {
  const sql = yield* SqlClient.SqlClient
  const rows = yield* sql<PlanRow>`SELECT * FROM plans WHERE team_id = ${teamId} ORDER BY created_at, id`
  return rows.map(toPlan)
})

/** By id or slug, within the team. */
export const planByRef = Effect.fnUntraced(function*(teamId: string, ref: string) {
  const sql = yield* SqlClient.SqlClient
  const rows = yield* sql<PlanRow>`
    SELECT * FROM plans WHERE team_id = ${teamId} AND (id = ${ref} OR slug = ${ref})
    ORDER BY (id = ${ref}) DESC LIMIT 1`
  return Option.map(Option.fromNullishOr(rows[0]), toPlan)
})

export const updatePlan = Effect.fnUntraced(function*(input: {
  readonly planId: string
  readonly name: string
  readonly plan: Plan.Plan
  readonly now: Date
}) {
  const sql = yield* SqlClient.SqlClient
  const rows = yield* sql<PlanRow>`
    UPDATE plans SET name = ${input.name.trim()}, definition = ${JSON.stringify(encode(input.plan))}::jsonb,
      updated_at = ${input.now}
    WHERE id = ${input.planId} RETURNING *`
  return toPlan(rows[0]!)
})

/** Deletes a plan no Worker uses by default; `false` when one does. */
export const deletePlan = Effect.fnUntraced(function*(planId: string) {
  const sql = yield* SqlClient.SqlClient
  const users = yield* sql<{ script_name: string }>`SELECT script_name FROM workers WHERE default_plan_id = ${planId}`
  if (users.length > 0) return { deleted: false as const, usedBy: users.map((row) => row.script_name) }
  yield* sql`DELETE FROM plans WHERE id = ${planId}`
  return { deleted: true as const, usedBy: [] }
})
