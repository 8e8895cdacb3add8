/**
 * PgPlans: the application's Plans port on the table `plans` (migration `0006_teams`). The plan
 * is stored in the core's encoded form and decoded with the core's schema on the way out.
 *
 * Deleting locks the plan's row (`FOR UPDATE`) before looking for Workers that use it, and
 * registering or changing a Worker locks its plan `FOR SHARE` (see `PgWorkers`), so a plan is never
 * deleted under a Worker being given it. Each change is its own transaction, or a savepoint of the
 * caller's (`Storage.Transactions`).
 *
 * @since 0.2.0
 */
import { Plans } from "@canaryroll/app"
import { Id, Plan } from "@canaryroll/core"
import { Effect, Layer, Option, Schema } from "effect"
import { SqlClient } from "effect/sql"
import { orUnavailable } from "./PgStorageErrors.ts"

interface PlanRow {
  readonly id: string
  readonly team_id: string
  readonly slug: string
  readonly name: string
  readonly definition: unknown
  readonly created_at: Date
  readonly updated_at: Date
}

// Read under the stored rules: a plan saved before the exact checks still reads back.
const decodePlan = Schema.decodeUnknownSync(Plan.Stored)
const encodePlan = Schema.encodeSync(Plan.Plan)

const toPlan = (row: PlanRow): Plans.StoredPlan => ({
  id: row.id,
  teamId: row.team_id,
  slug: row.slug,
  name: row.name,
  plan: decodePlan(row.definition),
  createdAt: row.created_at.getTime(),
  updatedAt: row.updated_at.getTime()
})

const definition = (plan: Plan.Plan) => JSON.stringify(encodePlan(plan))

export const make: Effect.Effect<Plans.Plans["Service"], never, SqlClient.SqlClient> = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient

  return Plans.Plans.of({
    create: (input) =>
      orUnavailable(Effect.gen(function*() {
        const rows = yield* sql<PlanRow>`
          INSERT INTO plans (id, team_id, slug, name, definition, created_at, updated_at)
          VALUES (${Id.makeUnsafe("plan")}, ${input.teamId}, ${input.slug}, ${input.name.trim()},
            ${definition(input.plan)}::jsonb, ${new Date(input.now)}, ${new Date(input.now)})
          ON CONFLICT (team_id, slug) DO NOTHING RETURNING *`
        const row = rows[0]
        if (row === undefined) return yield* new Plans.PlanSlugTaken({ teamId: input.teamId, slug: input.slug })
        return toPlan(row)
      })),
    list: (teamId) =>
      orUnavailable(Effect.map(
        sql<PlanRow>`SELECT * FROM plans WHERE team_id = ${teamId} ORDER BY created_at, id`,
        (rows) => rows.map(toPlan)
      )),
    find: (teamId, ref) =>
      orUnavailable(Effect.map(
        sql<PlanRow>`
          SELECT * FROM plans WHERE team_id = ${teamId} AND (id = ${ref} OR slug = ${ref})
          ORDER BY (id = ${ref}) DESC LIMIT 1`,
        (rows) => Option.map(Option.fromNullishOr(rows[0]), toPlan)
      )),
    update: (change) =>
      orUnavailable(Effect.gen(function*() {
        const rows = yield* sql<PlanRow>`
          UPDATE plans SET name = ${change.name.trim()}, definition = ${definition(change.plan)}::jsonb,
            updated_at = ${new Date(change.now)}
          WHERE team_id = ${change.teamId} AND id = ${change.planId} RETURNING *`
        const row = rows[0]
        if (row === undefined) return yield* new Plans.PlanNotFound({ teamId: change.teamId, planId: change.planId })
        return toPlan(row)
      })),
    remove: (teamId, planId) =>
      orUnavailable(Effect.gen(function*() {
        const rows = yield* sql<PlanRow>`SELECT * FROM plans WHERE team_id = ${teamId} AND id = ${planId} FOR UPDATE`
        const row = rows[0]
        if (row === undefined) return yield* new Plans.PlanNotFound({ teamId, planId })
        const users = yield* sql<{ readonly script_name: string }>`
          SELECT script_name FROM workers WHERE default_plan_id = ${planId} ORDER BY created_at, id`
        if (users.length > 0) {
          return yield* new Plans.PlanInUse({ planId, scriptNames: users.map((row) => row.script_name) })
        }
        yield* sql`DELETE FROM plans WHERE id = ${planId}`
        return toPlan(row)
      }).pipe(sql.withTransaction))
  })
})

export const layer: Layer.Layer<Plans.Plans, never, SqlClient.SqlClient> = Layer.effect(Plans.Plans, make)
