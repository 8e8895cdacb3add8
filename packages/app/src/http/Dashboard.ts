/**
 * Handlers of the `dashboard` group (see `@canaryroll/api/Dashboard`): the overview of a team's
 * Workers, a Cloudflare account's scripts, a release's health checks. The overview and the
 * checks are folds of the releases' events (the core's `Release` and `Attention`), so they
 * cost no Cloudflare request; the scripts are read with the team's own token.
 *
 * @since 0.2.0
 */
import { ApiBudget } from "@canaryroll/cloudflare"
import { Attention, EventStore, HealthCheck, NextAction, Release, type ReleaseSummary, TrafficSplit } from "@canaryroll/core"
import { CurrentTeam } from "@canaryroll/api/Access"
import { Api } from "@canaryroll/api/Api"
import { notFound } from "@canaryroll/api/ApiError"
import type { HealthChecks, Progress, WorkerOverview } from "@canaryroll/api/Dashboard"
import { Clock, Effect, Option } from "effect"
import { HttpApiBuilder } from "effect/http-api"
import { CloudflareAccounts, ReleaseSummaries, Workers } from "../index.ts"
import { SecretBox } from "../security/SecretBox.ts"
import { toDeployment } from "./Deployments.ts"
import { RequestBudget } from "./RequestBudget.ts"
import * as Storage from "./Storage.ts"
import * as WorkerViews from "./store/Workers.ts"
import { cloudflareError, withTeamCloudflare } from "./TeamSettings.ts"

/** The split the release's events say is live: none before it started (or if cancelled before). */
const liveSplitOf = (state: Release.ReleaseState) => {
  if (!Release.exists(state)) return null
  const phase = state.phase
  const run = phase._tag === "Pending" ? null : phase.run
  return run === null ? null : run.liveSplit.map((share) => ({ ...share }))
}

const iso = (ms: number) => new Date(ms).toISOString()

const phaseNames = {
  Pending: "pending",
  Shifting: "shifting",
  Soaking: "soaking",
  Paused: "paused",
  RollingBack: "rolling_back",
  Ended: "ended"
} as const

const actionNames = {
  ShiftTraffic: "shift_traffic",
  CheckHealth: "check_health",
  Advance: "advance",
  ApplyRollback: "apply_rollback",
  Wait: "wait"
} as const

/** Where a release stands at `now`: the core's state, next action and attention, as the API shows them. */
export const progressOf = (release: Release.Release, now: number): Progress => {
  const phase = release.phase
  const run = phase._tag === "Pending" ? null : phase.run
  const soaking = phase._tag === "Soaking" ? phase : undefined
  const next = NextAction.nextAction(release, now)
  const attention = Attention.of(release)
  const waitingFor = phase._tag === "Pending"
    ? "start"
    : phase._tag === "Paused"
    ? "resume"
    : phase._tag === "Ended"
    ? "nothing"
    : attention.some((item) => item.kind === "awaiting_advance")
    ? "advance"
    : null
  const soakEndsAt = soaking === undefined || run === null ? undefined : Release.soakEndsAt(release, run, soaking)
  return {
    phase: phaseNames[phase._tag],
    stepIndex: run?.stepIndex ?? null,
    canaryPercentage: run === null ? 0 : TrafficSplit.percentageOf(run.liveSplit, release.canaryVersionId),
    autoAdvance: release.autoAdvance,
    soak: soaking === undefined || soakEndsAt === undefined ? null : {
      from: iso(soaking.checks.coveredFrom),
      endsAt: iso(soakEndsAt),
      coveredUntil: iso(soaking.checks.coveredUntil),
      leftSeconds: Math.max(0, Math.ceil((soakEndsAt - now) / 1000)),
      covered: Release.soakCovered(release, soaking)
    },
    checks: soaking === undefined ? null : {
      lastVerdict: soaking.checks.lastVerdict,
      lastCheckAt: soaking.checks.lastCheckAt === null ? null : iso(soaking.checks.lastCheckAt),
      consecutiveFailures: soaking.checks.consecutiveFailures,
      failuresBeforeAction: release.plan.health.failuresBeforeAction
    },
    next: { action: actionNames[next._tag], at: next._tag === "Wait" ? null : iso(next.at), waitingFor },
    attention: attention.map((item) => ({ ...item })),
    now: iso(now)
  }
}

const sampleView = (sample: HealthCheck.VersionSample | null) =>
  sample === null ? null : { requests: sample.requests, errors: sample.errors, errorRate: HealthCheck.errorRate(sample) }

export const layer = HttpApiBuilder.group(Api, "dashboard", (handlers) =>
  Effect.gen(function*() {
    const box = yield* SecretBox
    const workers = yield* Workers.Workers
    const accounts = yield* CloudflareAccounts.CloudflareAccounts
    const summaries = yield* ReleaseSummaries.ReleaseSummaries
    const store = yield* EventStore.EventStore
    // People's Cloudflare reads spend the requests' share, never the orchestrator's.
    const budget = yield* RequestBudget
    const provide = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
      effect.pipe(
        Effect.provideService(SecretBox, box),
        Effect.provideService(ApiBudget.ApiBudget, budget),
        Effect.provideService(CloudflareAccounts.CloudflareAccounts, accounts),
        Storage.unavailable
      )

    /** The release that says how a Worker stands: the one in progress or paused, else the latest. */
    const releaseOf = (teamId: string, workerId: string) =>
      Effect.gen(function*() {
        const active = yield* summaries.list({ teamId, workerId, statuses: ["in_progress", "paused"], limit: 1 })
        if (active.summaries[0] !== undefined) return active.summaries[0]
        return (yield* summaries.list({ teamId, workerId, limit: 1 })).summaries[0]
      }).pipe(
        // The queries are ours and valid: a refusal is a bug.
        Effect.catchTag("InvalidQuery", (error) => Effect.die(error))
      )

    const overviewOf = (teamId: string, worker: Workers.Worker) =>
      Effect.gen(function*() {
        const release: ReleaseSummary.ReleaseSummary | undefined = yield* releaseOf(teamId, worker.id)
        if (release === undefined) {
          return { worker: WorkerViews.toView(worker), split: null, release: null, attention: [] } satisfies WorkerOverview
        }
        const state = Release.fold((yield* store.readStream(release.id)).map((recorded) => recorded.event))
        return {
          worker: WorkerViews.toView(worker),
          split: liveSplitOf(state),
          release: toDeployment(release),
          attention: Attention.of(state).map((item) => ({ ...item }))
        } satisfies WorkerOverview
      })

    return handlers
      .handle("overview", ({ query }) =>
        Effect.gen(function*() {
          const { team } = yield* CurrentTeam
          const all = yield* workers.list(team.id)
          const overviews = yield* Effect.forEach(all, (worker) => overviewOf(team.id, worker), { concurrency: 4 })
          return {
            workers: query.attention === "true" ? overviews.filter((overview) => overview.attention.length > 0) : overviews
          }
        }).pipe(provide))
      .handle("listScripts", ({ params }) =>
        Effect.gen(function*() {
          const { team } = yield* CurrentTeam
          // Only an account the team connected is read, with the team's own token.
          if (Option.isNone(yield* accounts.find(team.id, params.accountId))) {
            return yield* notFound("Cloudflare account", params.accountId)
          }
          const scripts = yield* withTeamCloudflare(team.id, (api) => api.listScripts(params.accountId)).pipe(
            Effect.mapError(cloudflareError)
          )
          const registered = new Map(
            (yield* workers.inAccount(team.id, params.accountId)).map((worker) => [worker.scriptName, worker.id])
          )
          return [...scripts].sort().map((scriptName) => ({ scriptName, workerId: registered.get(scriptName) ?? null }))
        }).pipe(provide))
      .handle("progress", ({ params }) =>
        Effect.gen(function*() {
          const { team } = yield* CurrentTeam
          const release = yield* summaries.get(team.id, params.id)
          if (Option.isNone(release)) return yield* notFound("deployment", params.id)
          const state = Release.fold((yield* store.readStream(release.value.id)).map((recorded) => recorded.event))
          if (!Release.exists(state)) return yield* notFound("deployment", params.id)
          return progressOf(state, yield* Clock.currentTimeMillis)
        }).pipe(provide))
      .handle("healthChecks", ({ params }) =>
        Effect.gen(function*() {
          const { team } = yield* CurrentTeam
          const release = yield* summaries.get(team.id, params.id)
          if (Option.isNone(release)) return yield* notFound("deployment", params.id)
          const events = yield* store.readStream(release.value.id)
          const state = Release.fold(events.map((recorded) => recorded.event))
          if (!Release.exists(state)) return yield* notFound("deployment", params.id)
          const health = state.plan.health
          const checks: Array<HealthChecks["checks"][number]> = []
          for (const recorded of events) {
            const event = recorded.event
            if (event._tag !== "HealthChecked") continue
            checks.push({
              version: recorded.version,
              at: iso(event.at),
              stepIndex: event.stepIndex,
              percentage: state.plan.steps[event.stepIndex]?.percentage ?? 0,
              window: { start: iso(event.window.start), end: iso(event.window.end) },
              canary: sampleView(event.canary),
              stable: sampleView(event.stable),
              verdict: event.verdict,
              reasons: [...event.reasons],
              consecutiveFailures: event.consecutiveFailures
            })
          }
          return {
            policy: {
              intervalSeconds: health.intervalSeconds,
              failuresBeforeAction: health.failuresBeforeAction,
              maxErrorRate: health.maxErrorRate,
              maxErrorRateIncrease: health.maxErrorRateIncrease ?? null,
              minRequests: health.minRequests
            },
            checks
          } satisfies HealthChecks
        }).pipe(provide))
  }))
