/**
 * What the CLI and the GitHub Action read from a CanaryRoll server: a release (`Deployment`, the
 * public `canaryroll/action@v1` contract in docs/api.md) and its events. Decoding keeps only the
 * fields we use and ignores the rest, so a newer server with more fields is still understood; the
 * `--json` output prints the server's own JSON, not these.
 *
 * @since 0.1.0
 */
import { Schema } from "effect"

export const Status = Schema.Literals(["pending", "in_progress", "paused", "completed", "rolled_back", "failed", "cancelled"])
export type Status = typeof Status.Type

export const terminalStatuses: ReadonlyArray<Status> = ["completed", "rolled_back", "failed", "cancelled"]
export const isTerminal = (status: Status) => terminalStatuses.includes(status)

export const Step = Schema.Struct({ percentage: Schema.Number, waitSeconds: Schema.Number })
export type Step = typeof Step.Type

/** A release as the API calls it: a deployment. */
export const Deployment = Schema.Struct({
  id: Schema.String,
  workerId: Schema.String,
  teamId: Schema.String,
  planId: Schema.NullOr(Schema.String),
  cfVersionId: Schema.String,
  cfPreviousVersionId: Schema.NullOr(Schema.String),
  status: Status,
  currentStep: Schema.Number,
  autoAdvance: Schema.Boolean,
  name: Schema.NullOr(Schema.String),
  ticketUrl: Schema.NullOr(Schema.String),
  stepsSnapshot: Schema.Array(Step),
  startedAt: Schema.NullOr(Schema.String),
  completedAt: Schema.NullOr(Schema.String),
  createdAt: Schema.String,
  /** Not in the public contract; present on our server. */
  statusReason: Schema.optional(Schema.NullOr(Schema.String)),
  rollbackReason: Schema.optional(Schema.NullOr(Schema.String))
})
export type Deployment = typeof Deployment.Type

export const DeploymentEvent = Schema.Struct({
  id: Schema.String,
  deploymentId: Schema.String,
  eventType: Schema.String,
  stepIndex: Schema.NullOr(Schema.Number),
  percentage: Schema.NullOr(Schema.Number),
  details: Schema.Record(Schema.String, Schema.Unknown),
  createdAt: Schema.String
})
export type DeploymentEvent = typeof DeploymentEvent.Type

export const Preflight = Schema.Struct({
  passed: Schema.Boolean,
  checks: Schema.Array(Schema.Struct({ name: Schema.String, passed: Schema.Boolean, message: Schema.optional(Schema.String) }))
})
export type Preflight = typeof Preflight.Type

export const DeploymentPage = Schema.Struct({ deployments: Schema.Array(Deployment), nextCursor: Schema.NullOr(Schema.String) })

export const Plan = Schema.Struct({
  id: Schema.String,
  slug: Schema.String,
  name: Schema.String,
  steps: Schema.Array(Step)
})

export const Worker = Schema.Struct({
  id: Schema.String,
  accountId: Schema.String,
  scriptName: Schema.String,
  defaultPlanId: Schema.String
})

export const TeamToken = Schema.Struct({
  id: Schema.String,
  name: Schema.String,
  role: Schema.String,
  display: Schema.String,
  createdAt: Schema.String,
  lastUsedAt: Schema.NullOr(Schema.String),
  revokedAt: Schema.NullOr(Schema.String)
})

export const IssuedTeamToken = Schema.Struct({ ...TeamToken.fields, token: Schema.String })

export const AuditPage = Schema.Struct({
  entries: Schema.Array(Schema.Struct({
    id: Schema.String,
    type: Schema.String,
    at: Schema.String,
    actor: Schema.Struct({ kind: Schema.String, id: Schema.NullOr(Schema.String), name: Schema.NullOr(Schema.String) }),
    deploymentId: Schema.NullOr(Schema.String),
    message: Schema.String
  })),
  nextCursor: Schema.NullOr(Schema.String)
})

/** The page people open for a release (the same link the server puts in notifications). */
export const releaseUrl = (apiUrl: string, team: string, releaseId: string) =>
  `${apiUrl.replace(/\/+$/, "")}/teams/${encodeURIComponent(team)}/deployments/${encodeURIComponent(releaseId)}`
