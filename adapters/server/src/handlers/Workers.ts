/**
 * Handlers of the `workers` group: registering Workers (by Cloudflare account and script name),
 * their default plan and health policy, and what Cloudflare says about them (versions, the live
 * deployment), read with the team's own token.
 *
 * @since 0.1.0
 */
import { ApiBudget } from "@canaryroll/cloudflare"
import { Effect, Option } from "effect"
import { HttpApiBuilder } from "effect/http-api"
import { SqlClient } from "effect/sql"
import { CurrentTeam } from "../api/Access.ts"
import { Api } from "../api/Api.ts"
import { BadRequest, Conflict, invalidField, notFound } from "../api/ApiError.ts"
import { SecretBox } from "../security/SecretBox.ts"
import * as CloudflareAccounts from "../store/CloudflareAccounts.ts"
import * as Plans from "../store/Plans.ts"
import * as Workers from "../store/Workers.ts"
import { RequestBudget } from "../RequestBudget.ts"
import * as Storage from "./Storage.ts"
import { audit, cloudflareError, now, transaction, withTeamCloudflare } from "./TeamSettings.ts"

export const findWorker = Effect.fnUntraced(function*(teamId: string, workerId: string) {
  const found = yield* Workers.workerById(teamId, workerId)
  if (Option.isNone(found)) {
    return yield* notFound("Worker", workerId)
  }
  return found.value
})

/** A plan named in a request body: unknown is a bad request (the field is wrong), not a 404. */
export const planField = (teamId: string, ref: string, field: string) =>
  Effect.flatMap(
    Plans.planByRef(teamId, ref),
    Option.match({
      onNone: () => Effect.fail(invalidField(field, `plan ${JSON.stringify(ref)} was not found in this team`)),
      onSome: Effect.succeed
    })
  )

export const layer = HttpApiBuilder.group(Api, "workers", (handlers) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const box = yield* SecretBox
    // People's Cloudflare reads spend the requests' share, never the orchestrator's.
    const budget = yield* RequestBudget
    const provide = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
      effect.pipe(
        Effect.provideService(SqlClient.SqlClient, sql),
        Effect.provideService(SecretBox, box),
        Effect.provideService(ApiBudget.ApiBudget, budget),
        Storage.orDie
      )
    return handlers
      .handle("listWorkers", () => CurrentTeam.use(({ team }) => Workers.listWorkers(team.id)).pipe(provide))
      .handle("getWorker", ({ params }) => CurrentTeam.use(({ team }) => findWorker(team.id, params.workerId)).pipe(provide))
      .handle("registerWorker", ({ payload }) =>
        Effect.gen(function*() {
          const { team } = yield* CurrentTeam
          const at = yield* now
          return yield* transaction(Effect.gen(function*() {
            // Not while the account's credentials are being removed.
            yield* Storage.lock(sql, `canaryroll/cloudflare-account/${payload.accountId}`)
            const accounts = yield* CloudflareAccounts.list(team.id)
            if (!accounts.some((account) => account.accountId === payload.accountId)) {
              return yield* new BadRequest({
                error: "invalid_request",
                message: `accountId: the team has no Cloudflare credentials for account ${payload.accountId}; save them first`
              })
            }
            const plan = yield* planField(team.id, payload.defaultPlanId ?? Plans.standard.slug, "defaultPlanId")
            const registered = yield* Workers.registerWorker({
              teamId: team.id,
              accountId: payload.accountId,
              scriptName: payload.scriptName,
              defaultPlanId: plan.view.id,
              healthPolicy: payload.healthPolicy ?? null,
              now: at
            })
            if (Option.isNone(registered)) {
              return yield* new Conflict({
                error: "worker_exists",
                message: `scriptName: ${payload.scriptName} in account ${payload.accountId} is already registered`
              })
            }
            yield* audit({
              type: "WorkerRegistered",
              at,
              workerId: registered.value.id,
              sentence: (who) => `${who} registered the Worker ${payload.scriptName} with the plan ${plan.view.name}`,
              details: { worker: registered.value }
            })
            return registered.value
          }))
        }).pipe(provide))
      .handle("updateWorker", ({ params, payload }) =>
        Effect.gen(function*() {
          const { team } = yield* CurrentTeam
          const at = yield* now
          return yield* transaction(Effect.gen(function*() {
            const current = yield* findWorker(team.id, params.workerId)
            const planId = payload.defaultPlanId === undefined
              ? current.defaultPlanId
              : (yield* planField(team.id, payload.defaultPlanId, "defaultPlanId")).view.id
            const updated = yield* Workers.updateWorker({
              workerId: current.id,
              defaultPlanId: planId,
              healthPolicy: payload.healthPolicy === undefined ? current.healthPolicy : payload.healthPolicy
            })
            yield* audit({
              type: "WorkerUpdated",
              at,
              workerId: current.id,
              sentence: (who) => `${who} changed the settings of the Worker ${current.scriptName}`,
              details: { before: current, after: updated }
            })
            return updated
          }))
        }).pipe(provide))
      .handle("removeWorker", ({ params }) =>
        Effect.gen(function*() {
          const { team } = yield* CurrentTeam
          const at = yield* now
          yield* transaction(Effect.gen(function*() {
            // Not while a release of it is being created or started.
            yield* Storage.lock(sql, `canaryroll/worker/${params.workerId}`)
            const current = yield* findWorker(team.id, params.workerId)
            const unfinished = yield* Workers.unfinishedReleases(team.id, current.id)
            if (unfinished.length > 0) {
              return yield* new Conflict({
                error: "worker_busy",
                message: `the Worker ${current.scriptName} has unfinished deployments (${
                  unfinished.map((row) => `${row.release_id}: ${row.status}`).join(", ")
                }); cancel or finish them first`
              })
            }
            yield* Workers.removeWorker(current.id)
            yield* audit({
              type: "WorkerRemoved",
              at,
              workerId: current.id,
              sentence: (who) => `${who} removed the Worker ${current.scriptName}`,
              details: { worker: current }
            })
          }))
        }).pipe(provide))
      .handle("listVersions", ({ params }) =>
        Effect.gen(function*() {
          const { team } = yield* CurrentTeam
          const worker = yield* findWorker(team.id, params.workerId)
          const versions = yield* withTeamCloudflare(team.id, (api) =>
            api.listVersions({ accountId: worker.accountId, scriptName: worker.scriptName })).pipe(
              Effect.mapError(cloudflareError)
            )
          return versions.map((version) => ({ ...version }))
        }).pipe(provide))
      .handle("liveDeployment", ({ params }) =>
        Effect.gen(function*() {
          const { team } = yield* CurrentTeam
          const worker = yield* findWorker(team.id, params.workerId)
          const live = yield* withTeamCloudflare(team.id, (api) =>
            api.activeDeployment({ accountId: worker.accountId, scriptName: worker.scriptName })).pipe(
              Effect.mapError(cloudflareError)
            )
          return { deploymentId: live.deploymentId, versions: live.split.map((entry) => ({ ...entry })) }
        }).pipe(provide))
  }))
