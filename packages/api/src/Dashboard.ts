/**
 * What the dashboard's screens read that the other groups do not give (issue 16), under
 * `/api/teams/{team}`:
 *
 * - `GET overview`: every Worker with the split CanaryRoll last put live, its release in progress
 *   or paused (else its latest) and what needs a person about it (`?attention=true`: only those).
 *   The split comes from the release's events, not from Cloudflare, so the page costs no
 *   Cloudflare request however often it refreshes; `GET workers/{id}/deployment` reads Cloudflare.
 * - `GET cloudflare/accounts/{accountId}/scripts`: the account's Worker scripts, each with the
 *   CanaryRoll Worker registered for it (to add a Worker). Admin, as registering is.
 * - `GET deployments/{id}/progress`: where a release stands (the step ladder's state, time left in
 *   the soak, what happens next and when), computed by the core from its events.
 * - `GET deployments/{id}/checks`: the release's health checks, for the chart: per check window
 *   the canary's and the stable version's requests, errors and error rate, the verdict and its
 *   reasons, and the policy's limits (the threshold line).
 *
 * @since 0.2.0
 */
import { Attention } from "@canaryroll/core"
import { Schema } from "effect"
import { HttpApiEndpoint, HttpApiGroup, OpenApi } from "effect/http-api"
import { Authentication, RequiredRole, TeamAccess } from "./Access.ts"
import { BadGateway, BadRequest } from "./ApiError.ts"
import { AccountId, Deployment, Reference, Worker } from "./Schemas.ts"

const IsoTime = Schema.String

export const AttentionItem = Schema.Struct({
  kind: Schema.Literals(Attention.kinds),
  /** Why, in words: the pause's reason, the failed checks and the limit, the step waiting. */
  message: Schema.String
})

export const VersionShare = Schema.Struct({ versionId: Schema.String, percentage: Schema.Number })

export const WorkerOverview = Schema.Struct({
  worker: Worker,
  /** The split the release's events say is live; `null` before any release of it shifted traffic. */
  split: Schema.NullOr(Schema.Array(VersionShare)),
  /** Its release in progress or paused, else its latest; `null` when it has none. */
  release: Schema.NullOr(Deployment),
  /** Empty when nothing needs a person. */
  attention: Schema.Array(AttentionItem)
})
export type WorkerOverview = typeof WorkerOverview.Type

export const Overview = Schema.Struct({ workers: Schema.Array(WorkerOverview) })

export const Script = Schema.Struct({
  scriptName: Schema.String,
  /** The CanaryRoll Worker registered for this script in this account, if any. */
  workerId: Schema.NullOr(Schema.String)
})

export const CheckSample = Schema.Struct({
  requests: Schema.Number,
  errors: Schema.Number,
  /** errors / requests; 0 without requests. */
  errorRate: Schema.Number
})

export const HealthCheckView = Schema.Struct({
  /** The event's version in the release's stream (the live stream's id). */
  version: Schema.Int,
  at: IsoTime,
  stepIndex: Schema.Int,
  percentage: Schema.Number,
  window: Schema.Struct({ start: IsoTime, end: IsoTime }),
  /** `null` when analytics had no row for the version in the window. */
  canary: Schema.NullOr(CheckSample),
  stable: Schema.NullOr(CheckSample),
  verdict: Schema.Literals(["healthy", "unhealthy", "inconclusive"]),
  reasons: Schema.Array(Schema.String),
  consecutiveFailures: Schema.Int
})

export const HealthChecks = Schema.Struct({
  /** The release's health policy (its plan snapshot, or the Worker's policy): the chart's limits. */
  policy: Schema.Struct({
    intervalSeconds: Schema.Number,
    failuresBeforeAction: Schema.Number,
    maxErrorRate: Schema.Number,
    maxErrorRateIncrease: Schema.NullOr(Schema.Number),
    minRequests: Schema.Number
  }),
  /** Oldest first. */
  checks: Schema.Array(HealthCheckView)
})
export type HealthChecks = typeof HealthChecks.Type

/**
 * Where a release stands, computed by the core from its events at the server's clock: the phase,
 * the soak at the current step (it counts judged time only: `coveredUntil` is how far healthy
 * checks reach), the checks, what happens next and when, and what needs a person.
 */
export const Progress = Schema.Struct({
  phase: Schema.Literals(["pending", "shifting", "soaking", "paused", "rolling_back", "ended"]),
  /** The current step (0-based); `null` before the release started or when it ended before starting. */
  stepIndex: Schema.NullOr(Schema.Int),
  /** The canary's share of the traffic the events say is live. */
  canaryPercentage: Schema.Number,
  autoAdvance: Schema.Boolean,
  /** While soaking: from when the soak counts, when it ends if checks stay healthy, how far they cover it. */
  soak: Schema.NullOr(Schema.Struct({
    from: IsoTime,
    endsAt: IsoTime,
    coveredUntil: IsoTime,
    /** Seconds until `endsAt` on the server's clock (0 once passed). */
    leftSeconds: Schema.Number,
    /** Healthy checks cover the whole soak: an automatic release moves on, a manual one may be advanced. */
    covered: Schema.Boolean
  })),
  /** While soaking: the step's checks so far. */
  checks: Schema.NullOr(Schema.Struct({
    lastVerdict: Schema.NullOr(Schema.Literals(["healthy", "unhealthy", "inconclusive"])),
    lastCheckAt: Schema.NullOr(IsoTime),
    consecutiveFailures: Schema.Int,
    failuresBeforeAction: Schema.Int
  })),
  /** What the release does next by itself and when; `wait` when it waits for a person or has ended. */
  next: Schema.Struct({
    action: Schema.Literals(["shift_traffic", "check_health", "advance", "apply_rollback", "wait"]),
    at: Schema.NullOr(IsoTime),
    /** Who or what it waits for: `start`, `resume`, `advance` (a manual step that soaked), or `nothing` (ended). */
    waitingFor: Schema.NullOr(Schema.Literals(["start", "resume", "advance", "nothing"]))
  }),
  attention: Schema.Array(AttentionItem),
  /** The server's clock when this was computed. */
  now: IsoTime
})
export type Progress = typeof Progress.Type

const about = (summary: string, description: string) => OpenApi.annotations({ summary, description })

export class DashboardGroup extends HttpApiGroup.make("dashboard")
  .add(
    HttpApiEndpoint.get("overview", "/overview", {
      params: { team: Reference },
      query: {
        /** `true`: only the Workers that need a person (drift, paused, waiting to advance, failing checks, stalled). */
        attention: Schema.optional(Schema.Literals(["true", "false"]))
      },
      success: Overview,
      error: BadRequest
    }).annotate(RequiredRole, "read_only").annotateMerge(about(
      "Overview of the team's Workers",
      "Every Worker with the split its releases last put live, its current or latest release and what needs attention " +
        "(?attention=true: only those). Reads no Cloudflare API. Needs read_only."
    )),
    HttpApiEndpoint.get("listScripts", "/cloudflare/accounts/:accountId/scripts", {
      params: { team: Reference, accountId: AccountId },
      success: Schema.Array(Script),
      error: [BadRequest, BadGateway]
    }).annotate(RequiredRole, "admin").annotateMerge(about(
      "List a Cloudflare account's Worker scripts",
      "The scripts of a connected account, read with the team's token, each with the Worker registered for it. Needs admin."
    )),
    HttpApiEndpoint.get("progress", "/deployments/:id/progress", {
      params: { team: Reference, id: Reference },
      success: Progress
    }).annotate(RequiredRole, "read_only").annotateMerge(about(
      "Where a deployment stands",
      "Phase, current step, the soak's window and time left, the checks, what happens next and when, what needs attention: " +
        "computed from its events at the server's clock. Needs read_only."
    )),
    HttpApiEndpoint.get("healthChecks", "/deployments/:id/checks", {
      params: { team: Reference, id: Reference },
      success: HealthChecks
    }).annotate(RequiredRole, "read_only").annotateMerge(about(
      "A deployment's health checks",
      "Per check window: canary and stable requests, errors and error rates, verdict, reasons; and the policy's limits. " +
        "Needs read_only."
    ))
  )
  .middleware(TeamAccess)
  .middleware(Authentication)
  .prefix("/api/teams/:team")
  .annotateMerge(OpenApi.annotations({
    title: "Dashboard",
    description: "What the dashboard's screens read: the overview, an account's scripts, a deployment's health checks."
  }))
{}
