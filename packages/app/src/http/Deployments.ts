/**
 * Handlers of the `deployments` group: releases. Creating one checks the Worker, the plan and
 * that the version is one of this Worker's on Cloudflare, then records ReleaseCreated (pending);
 * the person's requests (start, advance, pause, resume, rollback, cancel) go through the core's
 * Orchestrator, so the decider's rules apply and the scheduler takes over from there.
 *
 * At most one release per Worker is in progress or paused: starting (or resuming) one takes a
 * per-Worker advisory lock for the check and the start, so two concurrent starts cannot both pass.
 *
 * A person's request is safe to send twice. An advance names the step it moves on from
 * (`fromStep`), and one that does not name the current step is refused (409 `invalid_state`,
 * naming where the release is), so a retried or out-of-date advance never moves the release a
 * second step; the other actions are "already done" when repeated. A request with an
 * `Idempotency-Key` is answered once and replayed after (the `Idempotency` middleware). The
 * handlers that change things are uninterruptible: a client hanging up does not stop a request
 * half-way, so its answer is there for the retry.
 *
 * @since 0.1.0
 */
import { ApiBudget, type WorkersApi } from "@canaryroll/cloudflare"
import {
  ActiveReleases,
  EventStore,
  HealthSource,
  Id,
  Orchestrator,
  PersonCommand,
  type ReleaseDecider,
  type ReleaseSummary,
  Scheduler,
  TrafficRouter,
  TrafficSplit
} from "@canaryroll/core"
import { AuditLog, Keyset, ReleaseSummaries, Storage as AppStorage, Workers as WorkersPort } from "../index.ts"
import { Effect, Option } from "effect"
import { HttpServerResponse } from "effect/http"
import { HttpApiBuilder } from "effect/http-api"
import { CurrentTeam } from "@canaryroll/api/Access"
import { Api, fromStepRequired } from "@canaryroll/api/Api"
import { BadRequest, Conflict, invalidField, notFound, Unavailable } from "@canaryroll/api/ApiError"
import type * as S from "@canaryroll/api/Schemas"
import { SecretBox } from "../security/SecretBox.ts"
import * as Workers from "./store/Workers.ts"
import * as Access from "./Access.ts"
import { auditEntryView } from "./Audit.ts"
import { RequestBudget } from "./RequestBudget.ts"
import * as Storage from "./Storage.ts"
import { cloudflareError, withTeamCloudflare } from "./TeamSettings.ts"
import { findWorker, planField, workerFilter } from "./Workers.ts"

export const toDeployment = (summary: ReleaseSummary.ReleaseSummary): S.Deployment => ({
  id: summary.id,
  workerId: summary.workerId,
  teamId: summary.teamId,
  planId: summary.planId,
  cfVersionId: summary.cfVersionId,
  cfPreviousVersionId: summary.cfPreviousVersionId,
  status: summary.status,
  currentStep: summary.currentStep,
  currentPercentage: summary.currentPercentage,
  autoAdvance: summary.autoAdvance,
  name: summary.name,
  ticketUrl: summary.ticketUrl,
  stepsSnapshot: summary.stepsSnapshot.map((step) => ({ percentage: step.percentage, waitSeconds: step.waitSeconds })),
  statusReason: summary.statusReason,
  rollbackReason: summary.rollbackReason,
  startedAt: summary.startedAt,
  completedAt: summary.completedAt,
  createdAt: summary.createdAt,
  updatedAt: summary.updatedAt
})

/**
 * The decider's rejection, as the API answers it. `stale_step` (an advance from a step the release
 * has not reached) is the API's `invalid_state`, like an advance from a step it has left.
 */
const rejected = (error: ReleaseDecider.ReleaseRejected) =>
  new Conflict({ error: error.code === "stale_step" ? "invalid_state" : error.code, message: error.message })

/** An advance whose `fromStep` is not where the release is: says where it is. */
const staleStep = (release: ReleaseSummary.ReleaseSummary, fromStep: number) =>
  new Conflict({
    error: "invalid_state",
    message: `fromStep ${fromStep} is not the deployment's current step: it is at step ${release.currentStep} (${release.currentPercentage}%) ` +
      `and ${release.status.replace("_", " ")}; read it again and send fromStep ${release.currentStep} to advance from there`
  })

const busy = (error: Orchestrator.ReleaseBusy) => new Unavailable({ error: "release_busy", message: error.message })

/**
 * Another release holding the Worker (in progress or paused), if any, with its status: the core's
 * ActiveReleases port says who holds it; the holder's events say how it stands.
 */
const otherActive = (workerId: string, releaseId: string) =>
  Effect.gen(function*() {
    const active = yield* ActiveReleases.ActiveReleases
    const holder = yield* active.holder(workerId)
    if (Option.isNone(holder) || holder.value.releaseId === releaseId) return undefined
    const { state } = yield* Orchestrator.load(holder.value.releaseId)
    return state.status === "in_progress" || state.status === "paused"
      ? { release_id: holder.value.releaseId, status: state.status }
      : undefined
  })

/** 409 worker_busy: the Worker is held by another release, named with its status. */
const workerBusy = (busy: ActiveReleases.WorkerBusy) =>
  Effect.gen(function*() {
    const { state } = yield* Orchestrator.load(busy.holder)
    return yield* new Conflict({
      error: "worker_busy",
      message: `another deployment of this Worker is ${state.status} (${busy.holder}); finish, roll back or cancel it first`
    })
  })

/** Cloudflare's version ids are UUIDs; anything else given as `versionId` is a `workers/tag`. */
const versionIdPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

/**
 * The Cloudflare version id a request names: a version id (checked to be one of the Worker's), or
 * the tag it was uploaded with (`wrangler versions upload --tag`, the `workers/tag` annotation),
 * which is what CI knows (a commit). A tag on several versions (the same commit uploaded twice)
 * names the newest of them, the one uploaded last.
 */
const resolveVersion = (teamId: string, target: { readonly accountId: string; readonly scriptName: string }, ref: string) =>
  withTeamCloudflare(teamId, (api) =>
    versionIdPattern.test(ref)
      ? Effect.map(api.getVersion(target, ref), (version) => version.id)
      : Effect.flatMap(api.listVersions(target), (versions) => {
        const tagged = versions.filter((version) => version.tag === ref).sort((a, b) => b.number - a.number)
        return tagged[0] === undefined
          ? Effect.fail(
            new BadRequest({
              error: "invalid_version",
              message: `versionId: ${JSON.stringify(ref)} is neither a version id nor the tag of one of the Worker ${target.scriptName}'s ` +
                `${versions.length} newest versions`
            })
          )
          : Effect.succeed(tagged[0].id)
      })).pipe(
    Effect.catchTag("TrafficRouterError", (error) =>
      Effect.fail(
        error.kind === "not_found" || error.kind === "permanent"
          ? new BadRequest({
            error: "invalid_version",
            message: `versionId: ${ref} is not a version of the Worker ${target.scriptName} (${error.message})`
          })
          : cloudflareError(error)
      ))
  )

export const layer = HttpApiBuilder.group(Api, "deployments", (handlers) =>
  Effect.gen(function*() {
    const box = yield* SecretBox
    const transactions = yield* AppStorage.Transactions
    const workers = yield* WorkersPort.Workers
    // People's Cloudflare reads spend the requests' share, never the orchestrator's.
    const budget = yield* RequestBudget
    const summaries = yield* ReleaseSummaries.ReleaseSummaries
    const auditLog = yield* AuditLog.AuditLog
    const store = yield* EventStore.EventStore
    const scheduler = yield* Scheduler.Scheduler
    const router = yield* TrafficRouter.TrafficRouter
    const health = yield* HealthSource.HealthSource
    const activeReleases = yield* ActiveReleases.ActiveReleases
    const provide = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
      effect.pipe(
        Effect.provideService(ActiveReleases.ActiveReleases, activeReleases),
        Effect.provideService(SecretBox, box),
        Effect.provideService(ApiBudget.ApiBudget, budget),
        Effect.provideService(EventStore.EventStore, store),
        Effect.provideService(Scheduler.Scheduler, scheduler),
        Effect.provideService(TrafficRouter.TrafficRouter, router),
        Effect.provideService(HealthSource.HealthSource, health),
        Storage.unavailable
      )

    /** The release, if it belongs to the current team (another team's is as good as missing). */
    const findRelease = (teamId: string, releaseId: string) =>
      Effect.flatMap(summaries.get(teamId, releaseId), (summary) =>
        Option.isSome(summary)
          ? Effect.succeed(summary.value)
          : Effect.fail(
            notFound("deployment", releaseId)
          ))

    /** The release as it stands after a change this request made (so it exists). */
    const current = (teamId: string, releaseId: string) =>
      Effect.flatMap(summaries.get(teamId, releaseId), (summary) =>
        Option.isSome(summary)
          ? Effect.succeed(toDeployment(summary.value))
          : Effect.die(new Error(`release ${releaseId} has events but no summary row`)))

    /** The handler of a person command (`PersonCommand`): its endpoint is `POST /:id/<verb>`. */
    const act = (verb: PersonCommand.Name) =>
    ({ params, payload }: {
      readonly params: { readonly id: string }
      readonly payload: { readonly reason?: string | undefined; readonly fromStep?: number | undefined } | null
    }) =>
      Effect.gen(function*() {
        const { team, actor } = yield* CurrentTeam
        // An advance with an empty body (read as null) is refused here, naming the field.
        if (verb === "advance" && payload?.fromStep === undefined) return yield* invalidField("fromStep", fromStepRequired)
        const release = yield* findRelease(team.id, params.id)
        // The step the caller saw; the current one for the other verbs (unused by them).
        const fromStep = payload?.fromStep ?? release.currentStep
        if (verb === "advance" && fromStep !== release.currentStep) return yield* staleStep(release, fromStep)
        // Starting a finished release is refused by the decider (`invalid_state`), nowhere else.
        // A blank reason is no reason: the release then records its own ("paused by …").
        const reason = payload?.reason?.trim() || undefined
        const request = PersonCommand.request(verb, { actor, reason, fromStep })
        const execute = Orchestrator.execute(release.id, request).pipe(
          Effect.catchTag("ReleaseRejected", (error) => Effect.fail(rejected(error))),
          Effect.catchTag("ReleaseBusy", (error) => Effect.fail(busy(error))),
          Effect.catchTag("TrafficRouterError", (error) => Effect.fail(cloudflareError(error))),
          // One release per Worker: the orchestrator claims the Worker (ActiveReleases) first.
          Effect.catchTag("WorkerBusy", workerBusy)
        )
        yield* execute
        return yield* current(team.id, release.id)
      }).pipe(provide)

    // Requests that change things run to the end even if the client hangs up (see the module doc).
    const changes = { uninterruptible: true }

    return handlers
      .handle("createDeployment", ({ params, payload }) =>
        Effect.gen(function*() {
          const { team, actor } = yield* CurrentTeam
          const worker = yield* findWorker(team.id, params.workerId)
          const plan = yield* planField(team.id, payload.planId ?? worker.defaultPlanId, "planId")
          const target = { accountId: worker.accountId, scriptName: worker.scriptName }
          const versionId = yield* resolveVersion(team.id, target, payload.versionId.trim())
          const releaseId = yield* Id.make("release")
          // The Worker held (`Workers.hold`), so that it cannot be removed in between.
          yield* transactions.atomically(Effect.gen(function*() {
            const held = yield* workers.hold(team.id, worker.id)
            if (Option.isNone(held)) return yield* notFound("Worker", worker.id)
            yield* Orchestrator.create({
            releaseId,
            teamId: team.id,
            workerId: worker.id,
            accountId: worker.accountId,
            scriptName: worker.scriptName,
            canaryVersionId: versionId,
            planId: plan.view.id,
            plan: worker.healthPolicy === null ? plan.plan : { ...plan.plan, health: worker.healthPolicy },
            autoAdvance: payload.autoAdvance ?? true,
            name: payload.name ?? null,
            ticketUrl: payload.ticketUrl ?? null,
            actor
          }).pipe(
            Effect.catchTag("ReleaseRejected", (error) => Effect.fail(rejected(error))),
            Effect.catchTag("ReleaseBusy", (error) => Effect.fail(busy(error)))
          )
          }))
          return yield* current(team.id, releaseId)
        }).pipe(provide), changes)
      .handle("listDeployments", ({ query }) =>
        Effect.gen(function*() {
          const { team } = yield* CurrentTeam
          // The API's query schema has split and checked the statuses (Schemas.StatusList).
          const page = yield* summaries.list({
            teamId: team.id,
            workerId: yield* workerFilter(team.id, query.workerId),
            statuses: query.status,
            limit: query.limit,
            cursor: query.cursor
          }).pipe(
            Effect.catchTag("InvalidQuery", (error) =>
              Effect.fail(invalidField(error.field === "statuses" ? "status" : error.field, error.message)))
          )
          return { deployments: page.summaries.map(toDeployment), nextCursor: page.nextCursor }
        }).pipe(provide))
      .handle("getDeployment", ({ params }) =>
        CurrentTeam.use(({ team }) =>
          // Looked up with the caller's token when it was a team token (see Access.Prefetched),
          // and sent as it is: `toDeployment` builds exactly the `Deployment` schema's encoded
          // form, key for key (a test holds it to that), so the schema's encoding is skipped on
          // the endpoint every client polls (measured: docs/benchmarks.md, HTTP API).
          Effect.flatMap(Access.prefetchedRelease(team.id, params.id), (prefetched) =>
            Option.isSome(prefetched)
              ? Option.isSome(prefetched.value)
                ? Effect.succeed(HttpServerResponse.jsonUnsafe(toDeployment(prefetched.value.value)))
                : Effect.fail(notFound("deployment", params.id))
              : Effect.map(findRelease(team.id, params.id), (summary) => HttpServerResponse.jsonUnsafe(toDeployment(summary))))
          // A read: none of the services `provide` adds (each one a context entry per request).
        ).pipe(Storage.unavailable))
      .handle("deploymentEvents", ({ params }) =>
        Effect.gen(function*() {
          const { team } = yield* CurrentTeam
          const release = yield* findRelease(team.id, params.id)
          const entries: Array<AuditLog.Entry> = []
          let cursor: string | undefined
          do {
            const page = yield* auditLog.page({ teamId: team.id, releaseId: release.id, limit: Keyset.maxLimit, cursor }).pipe(
              Effect.catchTag("InvalidQuery", (error) => Effect.die(error))
            )
            entries.push(...page.entries)
            cursor = page.nextCursor ?? undefined
          } while (cursor !== undefined)
          // Oldest first: the order things happened in.
          return entries.reverse().map((entry) => {
            const view = auditEntryView(entry)
            return {
              id: view.id,
              deploymentId: release.id,
              eventType: view.type,
              stepIndex: view.stepIndex,
              percentage: view.percentage,
              details: { ...view.details, message: view.message },
              createdAt: view.at
            }
          })
        }).pipe(provide))
      .handle("preflight", ({ params }) =>
        Effect.gen(function*() {
          const { team } = yield* CurrentTeam
          const release = yield* findRelease(team.id, params.id)
          const worker = yield* findWorker(team.id, release.workerId)
          const target = { accountId: worker.accountId, scriptName: worker.scriptName }
          const checks: Array<{ name: string; passed: boolean; message: string }> = []
          const check = (name: string, passed: boolean, message: string) => checks.push({ name, passed, message })
          check(
            "pending",
            release.status === "pending",
            release.status === "pending" ? "the deployment is pending, ready to start" : `the deployment is ${release.status}`
          )
          const failureOf = (error: WorkersApi.WorkersApiError) => cloudflareError(error).message
          yield* withTeamCloudflare(team.id, (api) =>
            Effect.gen(function*() {
              const credentials = yield* Effect.result(api.listVersions(target, { deployable: true }))
              if (credentials._tag === "Failure") {
                // Cloudflare down or our budget spent says nothing about the credentials: 503.
                const { kind } = credentials.failure
                if (kind === "transient" || kind === "rate_limited") return yield* cloudflareError(credentials.failure)
                check("credentials", false, failureOf(credentials.failure))
                return
              }
              check("credentials", true, `Cloudflare accepts the team's token for account ${worker.accountId}`)
              const version = credentials.success.find((candidate) => candidate.id === release.cfVersionId)
              check(
                "version",
                version !== undefined,
                version !== undefined
                  ? `version ${version.number} of ${worker.scriptName} exists and can be deployed`
                  : `${release.cfVersionId} is not a deployable version of ${worker.scriptName}`
              )
              const live = yield* Effect.result(api.activeDeployment(target))
              if (live._tag === "Failure") {
                check("live_deployment", false, `the live deployment is unknown: ${failureOf(live.failure)}`)
                return
              }
              check("live_deployment", true, `live: ${TrafficSplit.describe(live.success.split)}`)
              const alreadyLive = TrafficSplit.percentageOf(live.success.split, release.cfVersionId) >= 100
              check(
                "not_already_live",
                !alreadyLive,
                alreadyLive ? `${release.cfVersionId} already serves all traffic` : "the version is not live yet"
              )
            }))
          const other = yield* otherActive(worker.id, release.id)
          check(
            "no_other_deployment",
            other === undefined,
            other === undefined
              ? "no other deployment of this Worker is in progress or paused"
              : `another deployment of this Worker is ${other.status} (${other.release_id})`
          )
          return { passed: checks.every((entry) => entry.passed), checks }
        }).pipe(provide))
      // One handler per person command; the API declares an endpoint for each (`PersonCommand.names`),
      // and a command added to the table is a compile error here until it is handled.
      .handle("start", act("start"), changes)
      .handle("advance", act("advance"), changes)
      .handle("pause", act("pause"), changes)
      .handle("resume", act("resume"), changes)
      .handle("rollback", act("rollback"), changes)
      .handle("cancel", act("cancel"), changes)
  }))
