/**
 * Handlers of the `workers` group: registering Workers (by Cloudflare account and script name),
 * their default plan and health policy, and what Cloudflare says about them (versions, the live
 * deployment), read with the team's own token. Storage is the `Workers`, `Plans` and
 * `CloudflareAccounts` ports (`@canaryroll/app`); each change and its settings-audit entry are one
 * `Transactions.atomically`.
 *
 * @since 0.1.0
 */
import { AuditLog, CloudflareAccounts, Keyset, Plans, ReleaseSummaries, Storage as AppStorage, Workers } from "../index.ts"
import { ApiBudget } from "@canaryroll/cloudflare"
import { Effect, Option } from "effect"
import { HttpApiBuilder } from "effect/http-api"
import { CurrentTeam } from "@canaryroll/api/Access"
import { Api } from "@canaryroll/api/Api"
import { BadRequest, Conflict, invalidField, NotFound, notFound } from "@canaryroll/api/ApiError"
import { SecretBox } from "../security/SecretBox.ts"
import * as PlanViews from "./store/Plans.ts"
import * as WorkerViews from "./store/Workers.ts"
import { RequestBudget } from "./RequestBudget.ts"
import * as Storage from "./Storage.ts"
import { audit, cloudflareError, now, withTeamCloudflare } from "./TeamSettings.ts"

// The ports and their failure, so that modules using these functions can name them in their types.
export type {
  CloudflareAccounts as CloudflareAccountsPort,
  Plans as PlansPort,
  Storage as StoragePort,
  Workers as WorkersPort
} from "../index.ts"

/**
 * The team's Worker named by `ref`: its id (`wrk_…`), or its Cloudflare script name, which is what
 * people and CI know it by. The id wins (a script could be called `wrk_…`). A script name is one
 * Worker unless the team registered that name in two Cloudflare accounts: then the name is
 * ambiguous and the answer lists the ids to choose from. Another team's Worker is as good as
 * missing (404). Resolved here, by the server, so that every client (CLI, Action, dashboard,
 * curl) takes names the same way.
 */
export const findWorker = (teamId: string, ref: string) =>
  Workers.Workers.use((workers) =>
    Effect.gen(function*() {
      const byId = yield* workers.find(teamId, ref)
      if (Option.isSome(byId)) return WorkerViews.toView(byId.value)
      const named = (yield* workers.list(teamId)).filter((worker) => worker.scriptName === ref)
      if (named.length === 1) return WorkerViews.toView(named[0]!)
      if (named.length === 0) return yield* notFound("Worker", ref)
      return yield* new NotFound({
        error: "ambiguous_worker",
        message: `Worker ${JSON.stringify(ref)} is registered in ${named.length} Cloudflare accounts (${
          named.map((worker) => `${worker.id} in ${worker.accountId}`).join(", ")
        }): name it by its id`
      })
    })
  )

/**
 * A `workerId` filter as people give it (an id or a script name), as the id to filter on: a name
 * no Worker has stays as it is (it matches nothing).
 */
export const workerFilter = (teamId: string, ref: string | undefined) =>
  ref === undefined
    ? Effect.succeed(undefined)
    : findWorker(teamId, ref).pipe(Effect.map((worker) => worker.id), Effect.catchTag("NotFound", () => Effect.succeed(ref)))

const unknownPlan = (field: string, ref: string) => invalidField(field, `plan ${JSON.stringify(ref)} was not found in this team`)

/** A plan named in a request body: unknown is a bad request (the field is wrong), not a 404. */
export const planField = (teamId: string, ref: string, field: string) =>
  Plans.Plans.use((plans) => plans.find(teamId, ref)).pipe(
    Effect.flatMap(Option.match({
      onNone: () => Effect.fail(unknownPlan(field, ref)),
      onSome: (plan) => Effect.succeed(PlanViews.toStoredPlan(plan))
    }))
  )

const notConnected = (accountId: string) =>
  new BadRequest({
    error: "invalid_request",
    message: `accountId: the team has no Cloudflare credentials for account ${accountId}; save them first`
  })

/**
 * A Worker is registered only when its script exists in the account on Cloudflare: a typo would
 * otherwise be accepted and fail only at the first release. Asked with the team's token for the
 * account; the refusal lists the scripts the account has.
 */
const scriptOnCloudflare = (teamId: string, accountId: string, scriptName: string) =>
  withTeamCloudflare(teamId, (api) => api.listScripts(accountId)).pipe(
    Effect.mapError(cloudflareError),
    Effect.flatMap((scripts) =>
      scripts.includes(scriptName)
        ? Effect.void
        : Effect.fail(invalidField(
          "scriptName",
          `Cloudflare account ${accountId} has no Worker script ${JSON.stringify(scriptName)} (${
            scripts.length === 0 ? "it has no Workers" : `its Workers: ${scripts.slice(0, 20).join(", ")}${scripts.length > 20 ? ", …" : ""}`
          }); deploy it with wrangler first, or check the name`
        ))
    )
  )

export const layer = HttpApiBuilder.group(Api, "workers", (handlers) =>
  Effect.gen(function*() {
    const box = yield* SecretBox
    const auditLog = yield* AuditLog.AuditLog
    const workers = yield* Workers.Workers
    const accounts = yield* CloudflareAccounts.CloudflareAccounts
    const transactions = yield* AppStorage.Transactions
    const summaries = yield* ReleaseSummaries.ReleaseSummaries
    /** Releases of the Worker not finished (pending, in progress or paused), oldest first. */
    const unfinishedReleases = (teamId: string, workerId: string) =>
      summaries.list({ teamId, workerId, statuses: ["pending", "in_progress", "paused"], limit: Keyset.maxLimit }).pipe(
        Effect.map((page) => [...page.summaries].reverse()),
        // The query is ours and valid: a refusal is a bug.
        Effect.catchTag("InvalidQuery", (error) => Effect.die(error))
      )
    // People's Cloudflare reads spend the requests' share, never the orchestrator's.
    const budget = yield* RequestBudget
    const provide = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
      effect.pipe(
        Effect.provideService(AuditLog.AuditLog, auditLog),
        Effect.provideService(SecretBox, box),
        Effect.provideService(ApiBudget.ApiBudget, budget),
        Storage.unavailable
      )
    return handlers
      .handle("listWorkers", () =>
        CurrentTeam.use(({ team }) => Effect.map(workers.list(team.id), (all) => all.map(WorkerViews.toView))).pipe(provide))
      .handle("getWorker", ({ params }) => CurrentTeam.use(({ team }) => findWorker(team.id, params.workerId)).pipe(provide))
      .handle("registerWorker", ({ payload }) =>
        Effect.gen(function*() {
          const { team } = yield* CurrentTeam
          const at = yield* now
          // Checked before Cloudflare is asked: the cheap refusals first, each naming its field.
          if (Option.isNone(yield* accounts.find(team.id, payload.accountId))) return yield* notConnected(payload.accountId)
          yield* planField(team.id, payload.defaultPlanId ?? Plans.standard.slug, "defaultPlanId")
          yield* scriptOnCloudflare(team.id, payload.accountId, payload.scriptName)
          return yield* transactions.atomically(Effect.gen(function*() {
            if (Option.isNone(yield* accounts.find(team.id, payload.accountId))) {
              return yield* notConnected(payload.accountId)
            }
            const defaultPlan = payload.defaultPlanId ?? Plans.standard.slug
            const plan = yield* planField(team.id, defaultPlan, "defaultPlanId")
            // The port checks the account and the plan again, in the step that inserts: either
            // may have gone meanwhile.
            const registered = yield* workers.register({
              teamId: team.id,
              accountId: payload.accountId,
              scriptName: payload.scriptName,
              defaultPlanId: plan.view.id,
              healthPolicy: payload.healthPolicy ?? null,
              now: at.getTime()
            }).pipe(
              Effect.map(WorkerViews.toView),
              Effect.catchTags({
                WorkerExists: () =>
                  Effect.fail(
                    new Conflict({
                      error: "worker_exists",
                      message: `scriptName: ${payload.scriptName} in account ${payload.accountId} is already registered`
                    })
                  ),
                CloudflareAccountNotConnected: () => Effect.fail(notConnected(payload.accountId)),
                PlanNotFound: () => Effect.fail(unknownPlan("defaultPlanId", defaultPlan))
              })
            )
            yield* audit({
              type: "WorkerRegistered",
              at,
              workerId: registered.id,
              sentence: (who) => `${who} registered the Worker ${payload.scriptName} with the plan ${plan.view.name}`,
              details: { worker: registered }
            })
            return registered
          }))
        }).pipe(provide))
      .handle("updateWorker", ({ params, payload }) =>
        Effect.gen(function*() {
          const { team } = yield* CurrentTeam
          const at = yield* now
          return yield* transactions.atomically(Effect.gen(function*() {
            const current = yield* findWorker(team.id, params.workerId)
            const planId = payload.defaultPlanId === undefined
              ? current.defaultPlanId
              : (yield* planField(team.id, payload.defaultPlanId, "defaultPlanId")).view.id
            const updated = yield* workers.update({
              teamId: team.id,
              workerId: current.id,
              defaultPlanId: planId,
              healthPolicy: payload.healthPolicy === undefined ? current.healthPolicy : payload.healthPolicy
            }).pipe(
              Effect.map(WorkerViews.toView),
              Effect.catchTags({
                WorkerNotFound: () => Effect.fail(notFound("Worker", params.workerId)),
                PlanNotFound: () => Effect.fail(unknownPlan("defaultPlanId", payload.defaultPlanId ?? planId))
              })
            )
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
          yield* transactions.atomically(Effect.gen(function*() {
            // Held: a release of it being created waits, or is created before the check below.
            const held = yield* workers.hold(team.id, (yield* findWorker(team.id, params.workerId)).id)
            if (Option.isNone(held)) return yield* notFound("Worker", params.workerId)
            const current = WorkerViews.toView(held.value)
            const unfinished = yield* unfinishedReleases(team.id, current.id)
            if (unfinished.length > 0) {
              return yield* new Conflict({
                error: "worker_busy",
                message: `the Worker ${current.scriptName} has unfinished deployments (${
                  unfinished.map((release) => `${release.id}: ${release.status}`).join(", ")
                }); cancel or finish them first`
              })
            }
            yield* workers.remove(team.id, current.id).pipe(
              Effect.catchTag("WorkerNotFound", () => Effect.fail(notFound("Worker", params.workerId)))
            )
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
