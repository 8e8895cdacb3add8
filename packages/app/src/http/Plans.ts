/**
 * Handlers of the `plans` group, over the `Plans` port (`@canaryroll/app`). Plans are validated by
 * the core's schema as the request is decoded (a bad step names its field: `steps[1].percentage:
 * …`). Each change and its settings-audit entry are one `Transactions.atomically`.
 *
 * @since 0.1.0
 */
import { AuditLog, Plans, Storage as AppStorage } from "../index.ts"
import { Plan } from "@canaryroll/core"
import { Effect, Option } from "effect"
import { HttpApiBuilder } from "effect/http-api"
import { CurrentTeam } from "@canaryroll/api/Access"
import { Api } from "@canaryroll/api/Api"
import { Conflict, NotFound } from "@canaryroll/api/ApiError"
import * as PlanViews from "./store/Plans.ts"
import * as Storage from "./Storage.ts"
import { audit, now } from "./TeamSettings.ts"

const defaultHealth = Plan.make({ steps: [{ percentage: 100, waitSeconds: 0 }] }).health

const planOf = (input: { readonly steps: Plan.Plan["steps"]; readonly health?: Plan.HealthPolicy | undefined }): Plan.Plan => ({
  steps: input.steps,
  health: input.health ?? defaultHealth
})

const describeSteps = (plan: Plan.Plan) => plan.steps.map((step) => `${step.percentage}%`).join(" → ")

const planNotFound = (ref: string, field = "plan") =>
  new NotFound({ error: "not_found", message: `${field}: plan ${JSON.stringify(ref)} was not found in this team` })

export const findPlan = (teamId: string, ref: string, field = "plan") =>
  Plans.Plans.use((plans) => plans.find(teamId, ref)).pipe(
    Effect.flatMap(Option.match({
      onNone: () => Effect.fail(planNotFound(ref, field)),
      onSome: (plan) => Effect.succeed(PlanViews.toStoredPlan(plan))
    }))
  )

export const layer = HttpApiBuilder.group(Api, "plans", (handlers) =>
  Effect.gen(function*() {
    const plans = yield* Plans.Plans
    const transactions = yield* AppStorage.Transactions
    // The settings audit goes through the AuditLog port (see TeamSettings.audit), inside the change's transaction.
    const auditLog = yield* AuditLog.AuditLog
    const provide = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
      effect.pipe(Effect.provideService(AuditLog.AuditLog, auditLog), Storage.unavailable)
    return handlers
      .handle("listPlans", () =>
        CurrentTeam.use(({ team }) => Effect.map(plans.list(team.id), (all) => all.map(PlanViews.toView))).pipe(provide))
      .handle("getPlan", ({ params }) =>
        CurrentTeam.use(({ team }) => Effect.map(findPlan(team.id, params.plan), (plan) => plan.view)).pipe(provide))
      .handle("createPlan", ({ payload }) =>
        Effect.gen(function*() {
          const { team } = yield* CurrentTeam
          const at = yield* now
          const plan = planOf(payload)
          return yield* transactions.atomically(Effect.gen(function*() {
            const created = yield* plans.create({ teamId: team.id, slug: payload.slug, name: payload.name, plan, now: at.getTime() }).pipe(
              Effect.map(PlanViews.toView),
              Effect.catchTag("PlanSlugTaken", () =>
                Effect.fail(
                  new Conflict({ error: "slug_taken", message: `slug: the team already has a plan ${JSON.stringify(payload.slug)}` })
                ))
            )
            yield* audit({
              type: "PlanCreated",
              at,
              sentence: (who) => `${who} created the plan ${payload.name} (${describeSteps(plan)})`,
              details: { planId: created.id, slug: payload.slug, plan: created }
            })
            return created
          }))
        }).pipe(provide))
      .handle("updatePlan", ({ params, payload }) =>
        Effect.gen(function*() {
          const { team } = yield* CurrentTeam
          const at = yield* now
          const plan = planOf(payload)
          return yield* transactions.atomically(Effect.gen(function*() {
            const current = yield* findPlan(team.id, params.plan)
            const updated = yield* plans.update({ teamId: team.id, planId: current.view.id, name: payload.name, plan, now: at.getTime() })
              .pipe(
                Effect.map(PlanViews.toView),
                Effect.catchTag("PlanNotFound", () => Effect.fail(planNotFound(params.plan)))
              )
            yield* audit({
              type: "PlanUpdated",
              at,
              sentence: (who) => `${who} changed the plan ${updated.name} to ${describeSteps(plan)}`,
              details: { planId: current.view.id, before: current.view, after: updated }
            })
            return updated
          }))
        }).pipe(provide))
      .handle("deletePlan", ({ params }) =>
        Effect.gen(function*() {
          const { team } = yield* CurrentTeam
          const at = yield* now
          yield* transactions.atomically(Effect.gen(function*() {
            const current = yield* findPlan(team.id, params.plan)
            yield* plans.remove(team.id, current.view.id).pipe(
              Effect.catchTags({
                PlanNotFound: () => Effect.fail(planNotFound(params.plan)),
                PlanInUse: (error) =>
                  Effect.fail(
                    new Conflict({
                      error: "plan_in_use",
                      message: `plan: ${current.view.slug} is the default plan of ${error.scriptNames.join(", ")}; change their default first`
                    })
                  )
              })
            )
            yield* audit({
              type: "PlanDeleted",
              at,
              sentence: (who) => `${who} deleted the plan ${current.view.name}`,
              details: { planId: current.view.id, plan: current.view }
            })
          }))
        }).pipe(provide))
  }))
