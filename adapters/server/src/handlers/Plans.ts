/**
 * Handlers of the `plans` group. Plans are validated by the core's schema as the request is
 * decoded (a bad step names its field: `steps[1].percentage: …`).
 *
 * @since 0.1.0
 */
import { Plan } from "@canaryroll/core"
import { Effect, Option } from "effect"
import { HttpApiBuilder } from "effect/http-api"
import { SqlClient } from "effect/sql"
import { CurrentTeam } from "../api/Access.ts"
import { Api } from "../api/Api.ts"
import { Conflict, NotFound } from "../api/ApiError.ts"
import * as Plans from "../store/Plans.ts"
import * as Storage from "./Storage.ts"
import { audit, now, transaction } from "./TeamSettings.ts"

const defaultHealth = Plan.make({ steps: [{ percentage: 100, waitSeconds: 0 }] }).health

const planOf = (input: { readonly steps: Plan.Plan["steps"]; readonly health?: Plan.HealthPolicy | undefined }): Plan.Plan => ({
  steps: input.steps,
  health: input.health ?? defaultHealth
})

const describeSteps = (plan: Plan.Plan) => plan.steps.map((step) => `${step.percentage}%`).join(" → ")

export const findPlan = Effect.fnUntraced(function*(teamId: string, ref: string, field = "plan") {
  const found = yield* Plans.planByRef(teamId, ref)
  if (Option.isNone(found)) {
    return yield* new NotFound({ error: "not_found", message: `${field}: plan ${JSON.stringify(ref)} was not found in this team` })
  }
  return found.value
})

export const layer = HttpApiBuilder.group(Api, "plans", (handlers) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const provide = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
      effect.pipe(Effect.provideService(SqlClient.SqlClient, sql), Storage.orDie)
    return handlers
      .handle("listPlans", () =>
        CurrentTeam.use(({ team }) => Effect.map(Plans.listPlans(team.id), (plans) => plans.map((plan) => plan.view))).pipe(provide))
      .handle("getPlan", ({ params }) =>
        CurrentTeam.use(({ team }) => Effect.map(findPlan(team.id, params.plan), (plan) => plan.view)).pipe(provide))
      .handle("createPlan", ({ payload }) =>
        Effect.gen(function*() {
          const { team } = yield* CurrentTeam
          const at = yield* now
          const plan = planOf(payload)
          return yield* transaction(Effect.gen(function*() {
            const created = yield* Plans.createPlan({ teamId: team.id, slug: payload.slug, name: payload.name, plan, now: at })
            if (Option.isNone(created)) {
              return yield* new Conflict({ error: "slug_taken", message: `slug: the team already has a plan ${JSON.stringify(payload.slug)}` })
            }
            yield* audit({
              type: "PlanCreated",
              at,
              sentence: (who) => `${who} created the plan ${payload.name} (${describeSteps(plan)})`,
              details: { planId: created.value.view.id, slug: payload.slug, plan: created.value.view }
            })
            return created.value.view
          }))
        }).pipe(provide))
      .handle("updatePlan", ({ params, payload }) =>
        Effect.gen(function*() {
          const { team } = yield* CurrentTeam
          const at = yield* now
          const plan = planOf(payload)
          return yield* transaction(Effect.gen(function*() {
            const current = yield* findPlan(team.id, params.plan)
            const updated = yield* Plans.updatePlan({ planId: current.view.id, name: payload.name, plan, now: at })
            yield* audit({
              type: "PlanUpdated",
              at,
              sentence: (who) => `${who} changed the plan ${updated.view.name} to ${describeSteps(plan)}`,
              details: { planId: current.view.id, before: current.view, after: updated.view }
            })
            return updated.view
          }))
        }).pipe(provide))
      .handle("deletePlan", ({ params }) =>
        Effect.gen(function*() {
          const { team } = yield* CurrentTeam
          const at = yield* now
          yield* transaction(Effect.gen(function*() {
            const current = yield* findPlan(team.id, params.plan)
            const result = yield* Plans.deletePlan(current.view.id)
            if (!result.deleted) {
              return yield* new Conflict({
                error: "plan_in_use",
                message: `plan: ${current.view.slug} is the default plan of ${result.usedBy.join(", ")}; change their default first`
              })
            }
            yield* audit({
              type: "PlanDeleted",
              at,
              sentence: (who) => `${who} deleted the plan ${current.view.name}`,
              details: { planId: current.view.id, plan: current.view }
            })
          }))
        }).pipe(provide))
  }))
