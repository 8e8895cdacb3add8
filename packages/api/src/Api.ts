/**
 * The CanaryRoll HTTP API, as one Effect HttpApi definition: every server runtime is built from
 * it (the Node server's `handlers/`), and so are the OpenAPI document at `/api/openapi.json` and
 * the clients (`HttpApiClient.make(Api, { baseUrl })`; the CLI and the GitHub Action use
 * `ClientApi`, below).
 *
 * Everything lives under `/api`. Team resources live under `/api/teams/{team}` (`team` is the
 * team's id or slug) and pass the `TeamAccess` middleware with each endpoint's `RequiredRole`.
 * Releases are called deployments here: the public `canaryroll/action@v1` calls
 * `POST deployments/workers/{workerId}/deployments`, `GET deployments/{id}/preflight`,
 * `POST deployments/{id}/start`, `GET deployments/{id}` and `GET deployments/{id}/events`.
 * Notification channels and deliveries are under `/api/teams/{team}/notifications`.
 *
 * @since 0.1.0
 */
import { Plan } from "@canaryroll/core"
import * as Channel from "@canaryroll/notifier/channel-config"
import { Schema } from "effect"
import { HttpApi, HttpApiEndpoint, HttpApiGroup, HttpApiSchema, OpenApi } from "effect/http-api"
import { Authentication, RequiredRole, Role, TeamAccess } from "./Access.ts"
import { Idempotency } from "./Idempotency.ts"
import {
  Availability,
  BadGateway,
  BadRequest,
  Conflict,
  Forbidden,
  NotFound,
  NotReady,
  ReadinessCheck,
  TooManyRequests,
  Unauthorized
} from "./ApiError.ts"
import { RequestErrors } from "./RequestErrors.ts"
import * as S from "./Schemas.ts"

const created = <A extends Schema.Top>(schema: A) => schema.pipe(HttpApiSchema.status(201))
const NoContent = HttpApiSchema.NoContent

const teamParam = { team: Schema.String }
const Password = Schema.String
const Reason = Schema.Struct({ reason: Schema.optional(S.Text(1000)) })
/** Requests that act on a release take an optional `reason`; an empty body (read as `null`) is fine. */
const OptionalReason = [Reason, Schema.Null] as const

/** No credentials needed: signing up and logging in set the session cookie. */
export class AuthGroup extends HttpApiGroup.make("auth")
  .add(
    HttpApiEndpoint.post("signup", "/signup", {
      payload: Schema.Struct({
        email: S.Email,
        name: S.Name,
        password: Password,
        /**
         * An invitation's token: the new account joins its team. Required when the server's
         * sign-up is invite-only (`CANARYROLL_SIGNUP=invite-only`).
         */
        invitationToken: Schema.optional(Schema.String.check(Schema.isMaxLength(200)))
      }),
      success: created(Schema.Struct({ user: S.User })),
      error: [BadRequest, Conflict, Forbidden, TooManyRequests]
    }),
    HttpApiEndpoint.post("login", "/login", {
      payload: Schema.Struct({ email: Schema.String.check(Schema.isMaxLength(254)), password: Password }),
      success: Schema.Struct({ user: S.User }),
      error: [BadRequest, Unauthorized, TooManyRequests]
    }),
    HttpApiEndpoint.post("logout", "/logout", { success: NoContent })
  )
  .prefix("/api/auth")
  .annotateMerge(OpenApi.annotations({ title: "Accounts", description: "Sign up, log in and out (session cookie)." }))
{}

/**
 * `/api/health`: the process answers (liveness). `/api/ready`: it can serve (readiness): the
 * database answers, its migrations are current and the secret key opens the sealed secrets;
 * otherwise 503 with the check that failed.
 */
export class HealthGroup extends HttpApiGroup.make("health")
  .add(
    HttpApiEndpoint.get("health", "/api/health", { success: Schema.Struct({ ok: Schema.Boolean }) }),
    HttpApiEndpoint.get("ready", "/api/ready", {
      success: Schema.Struct({ ok: Schema.Boolean, checks: Schema.Array(ReadinessCheck) }),
      error: NotReady
    })
  )
{}

/** The caller's own account, user tokens and teams. */
export class MeGroup extends HttpApiGroup.make("me")
  .add(
    HttpApiEndpoint.get("me", "/me", {
      success: Schema.Struct({ user: S.User, teams: Schema.Array(S.Team) }),
      error: Forbidden
    }),
    HttpApiEndpoint.get("listUserTokens", "/me/tokens", { success: Schema.Array(S.UserToken), error: Forbidden }),
    HttpApiEndpoint.post("createUserToken", "/me/tokens", {
      payload: Schema.Struct({ name: S.Name }),
      success: created(S.IssuedUserToken),
      error: [BadRequest, Forbidden]
    }),
    HttpApiEndpoint.delete("revokeUserToken", "/me/tokens/:tokenId", {
      params: { tokenId: Schema.String },
      success: NoContent,
      error: [Forbidden, NotFound]
    }),
    /** Ends every other session of the caller (user tokens are kept: revoke them in the list). */
    HttpApiEndpoint.post("changePassword", "/me/password", {
      payload: Schema.Struct({ currentPassword: Password, newPassword: Password }),
      success: Schema.Struct({ endedSessions: Schema.Number }),
      error: [BadRequest, Forbidden, TooManyRequests]
    }),
    HttpApiEndpoint.get("listSessions", "/me/sessions", { success: Schema.Array(S.Session), error: Forbidden }),
    /** Log out everywhere: every session of the caller ends, the one the request came with too. */
    HttpApiEndpoint.delete("endSessions", "/me/sessions", { success: NoContent, error: Forbidden }),
    HttpApiEndpoint.get("listTeams", "/teams", { success: Schema.Array(S.Team) }),
    HttpApiEndpoint.post("createTeam", "/teams", {
      payload: Schema.Struct({ name: S.Name, slug: S.Slug }),
      success: created(S.Team),
      error: [BadRequest, Conflict, Forbidden]
    }),
    HttpApiEndpoint.post("acceptInvitation", "/invitations/accept", {
      payload: Schema.Struct({ token: Schema.String }),
      success: S.Team,
      error: [BadRequest, Forbidden, NotFound, Conflict]
    })
  )
  .middleware(Authentication)
  .prefix("/api")
{}

interface Annotatable {
  annotate(key: typeof RequiredRole, value: Role): unknown
}
const requires = (role: Role) => <E extends Annotatable>(endpoint: E): E => endpoint.annotate(RequiredRole, role) as E
const readOnly = requires("read_only")
const deploy = requires("deploy")
const admin = requires("admin")

/** The team itself, its members, invitations, API tokens and Cloudflare accounts. */
export class TeamsGroup extends HttpApiGroup.make("teams")
  .add(
    readOnly(HttpApiEndpoint.get("getTeam", "/", { params: teamParam, success: S.Team })),
    admin(HttpApiEndpoint.patch("updateTeam", "/", {
      params: teamParam,
      payload: Schema.Struct({ name: S.Name }),
      success: S.Team,
      error: BadRequest
    })),
    readOnly(HttpApiEndpoint.get("listMembers", "/members", { params: teamParam, success: Schema.Array(S.Member) })),
    admin(HttpApiEndpoint.patch("updateMember", "/members/:userId", {
      params: { ...teamParam, userId: Schema.String },
      payload: Schema.Struct({ role: Role }),
      success: S.Member,
      error: [BadRequest, Conflict]
    })),
    // Any member may leave; removing someone else needs admin (checked in the handler).
    readOnly(HttpApiEndpoint.delete("removeMember", "/members/:userId", {
      params: { ...teamParam, userId: Schema.String },
      success: NoContent,
      error: [Conflict]
    })),
    /** Signs a member out everywhere (their sessions end; their user tokens are kept). */
    admin(HttpApiEndpoint.delete("endMemberSessions", "/members/:userId/sessions", {
      params: { ...teamParam, userId: Schema.String },
      success: NoContent
    })),
    admin(HttpApiEndpoint.get("listInvitations", "/invitations", { params: teamParam, success: Schema.Array(S.Invitation) })),
    admin(HttpApiEndpoint.post("createInvitation", "/invitations", {
      params: teamParam,
      payload: Schema.Struct({ email: S.Email, role: Role }),
      success: created(S.IssuedInvitation),
      error: [BadRequest, Conflict]
    })),
    admin(HttpApiEndpoint.delete("revokeInvitation", "/invitations/:invitationId", {
      params: { ...teamParam, invitationId: Schema.String },
      success: NoContent
    })),
    admin(HttpApiEndpoint.get("listTokens", "/tokens", { params: teamParam, success: Schema.Array(S.TeamToken) })),
    admin(HttpApiEndpoint.post("createToken", "/tokens", {
      params: teamParam,
      payload: Schema.Struct({ name: S.Name, role: Role }),
      success: created(S.IssuedTeamToken),
      error: BadRequest
    })),
    admin(HttpApiEndpoint.delete("revokeToken", "/tokens/:tokenId", {
      params: { ...teamParam, tokenId: Schema.String },
      success: NoContent
    })),
    admin(HttpApiEndpoint.get("listCloudflareAccounts", "/cloudflare/accounts", {
      params: teamParam,
      success: Schema.Array(S.CloudflareAccount)
    })),
    admin(HttpApiEndpoint.put("saveCloudflareAccount", "/cloudflare/accounts/:accountId", {
      params: { ...teamParam, accountId: S.AccountId },
      payload: Schema.Struct({ apiToken: Schema.String.check(Schema.isMinLength(1), Schema.isMaxLength(200)) }),
      success: S.CloudflareAccount,
      error: [BadRequest, BadGateway, Conflict]
    })),
    admin(HttpApiEndpoint.delete("removeCloudflareAccount", "/cloudflare/accounts/:accountId", {
      params: { ...teamParam, accountId: Schema.String },
      success: NoContent,
      error: Conflict
    }))
  )
  .middleware(TeamAccess)
  .middleware(Authentication)
  .prefix("/api/teams/:team")
{}

export class WorkersGroup extends HttpApiGroup.make("workers")
  .add(
    readOnly(HttpApiEndpoint.get("listWorkers", "/", { params: teamParam, success: Schema.Array(S.Worker) })),
    admin(HttpApiEndpoint.post("registerWorker", "/", {
      params: teamParam,
      payload: Schema.Struct({
        accountId: S.AccountId,
        scriptName: S.ScriptName,
        /** A plan id or slug; the team's `standard` plan when absent. */
        defaultPlanId: Schema.optional(Schema.String),
        healthPolicy: Schema.optional(Schema.NullOr(Plan.HealthPolicy))
      }),
      success: created(S.Worker),
      // 502: Cloudflare refused the team's token while the script was looked up.
      error: [BadRequest, Conflict, BadGateway]
    })),
    readOnly(HttpApiEndpoint.get("getWorker", "/:workerId", {
      params: { ...teamParam, workerId: Schema.String },
      success: S.Worker
    })),
    admin(HttpApiEndpoint.patch("updateWorker", "/:workerId", {
      params: { ...teamParam, workerId: Schema.String },
      payload: Schema.Struct({
        defaultPlanId: Schema.optional(Schema.String),
        healthPolicy: Schema.optional(Schema.NullOr(Plan.HealthPolicy))
      }),
      success: S.Worker,
      error: BadRequest
    })),
    admin(HttpApiEndpoint.delete("removeWorker", "/:workerId", {
      params: { ...teamParam, workerId: Schema.String },
      success: NoContent,
      error: Conflict
    })),
    readOnly(HttpApiEndpoint.get("listVersions", "/:workerId/versions", {
      params: { ...teamParam, workerId: Schema.String },
      success: Schema.Array(S.WorkerVersion),
      error: BadGateway
    })),
    readOnly(HttpApiEndpoint.get("liveDeployment", "/:workerId/deployment", {
      params: { ...teamParam, workerId: Schema.String },
      success: S.LiveDeployment,
      error: BadGateway
    }))
  )
  .middleware(TeamAccess)
  .middleware(Authentication)
  .prefix("/api/teams/:team/workers")
{}

const PlanFields = {
  name: S.Name,
  steps: Plan.Steps,
  health: Schema.optional(Plan.HealthPolicy)
}

export class PlansGroup extends HttpApiGroup.make("plans")
  .add(
    readOnly(HttpApiEndpoint.get("listPlans", "/", { params: teamParam, success: Schema.Array(S.PlanView) })),
    admin(HttpApiEndpoint.post("createPlan", "/", {
      params: teamParam,
      payload: Schema.Struct({ slug: S.Slug, ...PlanFields }),
      success: created(S.PlanView),
      error: [BadRequest, Conflict]
    })),
    readOnly(HttpApiEndpoint.get("getPlan", "/:plan", { params: { ...teamParam, plan: Schema.String }, success: S.PlanView })),
    admin(HttpApiEndpoint.put("updatePlan", "/:plan", {
      params: { ...teamParam, plan: Schema.String },
      payload: Schema.Struct(PlanFields),
      success: S.PlanView,
      error: BadRequest
    })),
    admin(HttpApiEndpoint.delete("deletePlan", "/:plan", {
      params: { ...teamParam, plan: Schema.String },
      success: NoContent,
      error: Conflict
    }))
  )
  .middleware(TeamAccess)
  .middleware(Authentication)
  .prefix("/api/teams/:team/plans")
{}

const deploymentParams = { ...teamParam, id: Schema.String }
const act = <const Name extends string, D extends Schema.Top>(name: Name, path: `/${string}`, deployment: D) =>
  deploy(HttpApiEndpoint.post(name, path, {
    params: deploymentParams,
    payload: OptionalReason,
    success: deployment,
    error: [Conflict, BadGateway]
  }))

/**
 * An advance names the step it moves on from: the deployment's `currentStep` as the caller saw
 * it. A retried request, or a click on a page that is out of date, cannot move the release twice:
 * a `fromStep` that is not the current step is `409 invalid_state`. Required: a request without
 * it is 400 naming it (`reason` is accepted, as on the other actions, and not recorded).
 */
export const fromStepRequired = "is required: the step the deployment is at as you saw it (its currentStep)"

const AdvanceRequest = Schema.Struct({
  fromStep: Schema.Int.check(Schema.isGreaterThanOrEqualTo(0)).annotateKey({ messageMissingKey: fromStepRequired }),
  ...Reason.fields
})

/**
 * The releases of a team, over a release shape: `S.Deployment` on the server, `S.PublicDeployment`
 * in `ClientApi`.
 */
const deploymentsGroup = <D extends Schema.Top>(deployment: D) =>
  HttpApiGroup.make("deployments")
  .add(
    deploy(HttpApiEndpoint.post("createDeployment", "/workers/:workerId/deployments", {
      params: { ...teamParam, workerId: Schema.String },
      payload: Schema.Struct({
        versionId: Schema.String.check(Schema.isMinLength(1), Schema.isMaxLength(100)),
        /** A plan id or slug; the Worker's default plan when absent. */
        planId: Schema.optional(Schema.NullOr(Schema.String)),
        autoAdvance: Schema.optional(Schema.NullOr(Schema.Boolean)),
        name: Schema.optional(Schema.NullOr(S.Text(200))),
        /** An absolute `https:` or `http:` URL: the release page links to it. */
        ticketUrl: Schema.optional(Schema.NullOr(S.HttpUrl(2000)))
      }),
      success: created(deployment),
      error: [BadRequest, BadGateway]
    })),
    readOnly(HttpApiEndpoint.get("listDeployments", "/", {
      params: teamParam,
      query: {
        workerId: Schema.optional(Schema.String),
        /** One status or several, comma-separated. */
        status: Schema.optional(S.StatusList),
        /** 1 to 200; 50 by default. */
        limit: Schema.optional(S.Limit),
        cursor: Schema.optional(Schema.String)
      },
      success: Schema.Struct({ deployments: Schema.Array(deployment), nextCursor: Schema.NullOr(Schema.String) }),
      error: BadRequest
    })),
    readOnly(HttpApiEndpoint.get("getDeployment", "/:id", { params: deploymentParams, success: deployment })),
    readOnly(HttpApiEndpoint.get("preflight", "/:id/preflight", {
      params: deploymentParams,
      success: S.Preflight,
      error: BadGateway
    })),
    readOnly(HttpApiEndpoint.get("deploymentEvents", "/:id/events", {
      params: deploymentParams,
      success: Schema.Array(S.DeploymentEvent)
    })),
    act("start", "/:id/start", deployment),
    deploy(HttpApiEndpoint.post("advance", "/:id/advance", {
      params: deploymentParams,
      // An empty body is read as null: the handler refuses it naming fromStep (a schema's own
      // message would name the body).
      payload: [AdvanceRequest, Schema.Null],
      success: deployment,
      error: [BadRequest, Conflict, BadGateway]
    })),
    act("pause", "/:id/pause", deployment),
    act("resume", "/:id/resume", deployment),
    act("rollback", "/:id/rollback", deployment),
    act("cancel", "/:id/cancel", deployment)
  )
  .middleware(Idempotency)
  .middleware(TeamAccess)
  .middleware(Authentication)
  .prefix("/api/teams/:team/deployments")

export class DeploymentsGroup extends deploymentsGroup(S.Deployment) {}

export class AuditGroup extends HttpApiGroup.make("audit")
  .add(
    readOnly(HttpApiEndpoint.get("auditLog", "/audit", {
      params: teamParam,
      query: {
        /** `user:{id}`, `token:{id}` or `system`. */
        actor: Schema.optional(S.Actor),
        deploymentId: Schema.optional(Schema.String),
        /** One type or several, comma-separated (release event types and settings change types). */
        type: Schema.optional(S.CommaSeparated),
        /** ISO 8601 times: entries at or after `from`, before `to`. */
        from: Schema.optional(S.Time),
        to: Schema.optional(S.Time),
        /** 1 to 200; 50 by default. */
        limit: Schema.optional(S.Limit),
        cursor: Schema.optional(Schema.String)
      },
      success: Schema.Struct({ entries: Schema.Array(S.AuditEntry), nextCursor: Schema.NullOr(Schema.String) }),
      error: BadRequest
    }))
  )
  .middleware(TeamAccess)
  .middleware(Authentication)
  .prefix("/api/teams/:team")
{}

/**
 * A team's notification channels (Slack, Discord, Google Chat, email, signed webhooks) and what
 * they were sent. Reading needs read_only; changing a channel needs admin (a channel's URL is a
 * credential, and where the team's news goes is the team's setting). Sending a test message
 * needs deploy: it changes nothing, and a deploy caller already makes every subscribed channel
 * speak by running a release, so it grants no new power while letting the people who release
 * check that the messages arrive.
 */
export class NotificationsGroup extends HttpApiGroup.make("notifications")
  .add(
    readOnly(HttpApiEndpoint.get("listChannels", "/channels", {
      params: teamParam,
      success: Schema.Array(S.NotificationChannel)
    })),
    admin(HttpApiEndpoint.post("createChannel", "/channels", {
      params: teamParam,
      payload: Channel.ChannelInput,
      success: created(S.SavedNotificationChannel),
      error: BadRequest
    })),
    readOnly(HttpApiEndpoint.get("getChannel", "/channels/:channelId", {
      params: { ...teamParam, channelId: Schema.String },
      success: S.NotificationChannel
    })),
    admin(HttpApiEndpoint.patch("updateChannel", "/channels/:channelId", {
      params: { ...teamParam, channelId: Schema.String },
      payload: Channel.ChannelPatch,
      success: S.SavedNotificationChannel,
      error: BadRequest
    })),
    admin(HttpApiEndpoint.delete("deleteChannel", "/channels/:channelId", {
      params: { ...teamParam, channelId: Schema.String },
      success: NoContent
    })),
    deploy(HttpApiEndpoint.post("sendTestMessage", "/channels/:channelId/test", {
      params: { ...teamParam, channelId: Schema.String },
      /** One attempt now; the answer says how it went (`delivered` or `failed`, with the error). */
      success: S.NotificationDelivery
    })),
    readOnly(HttpApiEndpoint.get("listDeliveries", "/deliveries", {
      params: teamParam,
      query: {
        channelId: Schema.optional(Schema.String),
        status: Schema.optional(S.DeliveryStatus),
        /** 1 to 200; 50 by default. */
        limit: Schema.optional(Schema.NumberFromString.check(Schema.isInt(), Schema.isBetween({ minimum: 1, maximum: 200 })))
      },
      success: Schema.Array(S.NotificationDelivery)
    }))
  )
  .middleware(TeamAccess)
  .middleware(Authentication)
  .prefix("/api/teams/:team/notifications")
  // A channel has many fields (an email channel, a dozen): a 400 names every wrong one at once,
  // as the notifier's own validation does, rather than one per attempt.
  .annotate(HttpApi.PayloadParseOptions, { errors: "all" })
  .annotate(HttpApi.QueryParseOptions, { errors: "all" })
{}

export class Api extends HttpApi.make("canaryroll")
  .add(HealthGroup)
  .add(AuthGroup)
  .add(MeGroup)
  .add(TeamsGroup)
  .add(WorkersGroup)
  .add(PlansGroup)
  .add(DeploymentsGroup)
  .add(AuditGroup)
  .add(NotificationsGroup)
  .middleware(RequestErrors)
  .middleware(Availability)
  .annotateMerge(OpenApi.annotations({
    title: "CanaryRoll API",
    version: "0.1.0",
    description: "Safe, automatic gradual deployments for Cloudflare Workers. Errors are `{ error, message }`."
  }))
{}

/**
 * The API as the CLI and the GitHub Action call it: the groups they use, with a release read as
 * `S.PublicDeployment`, the one place where clients stay lenient. The Action also calls the hosted
 * CanaryRoll and older servers, whose releases lack fields ours have; everything else they send
 * is read with the server's own schemas (fields a newer server adds are ignored).
 */
export class ClientApi extends HttpApi.make("canaryroll")
  .add(TeamsGroup)
  .add(WorkersGroup)
  .add(PlansGroup)
  .add(deploymentsGroup(S.PublicDeployment))
  .add(AuditGroup)
  .middleware(RequestErrors)
  .middleware(Availability)
{}
