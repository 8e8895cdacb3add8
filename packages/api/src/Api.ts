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
import { PersonCommand, Plan } from "@canaryroll/core"
import * as Channel from "@canaryroll/notifier/channel-config"
import { Schema } from "effect"
import { HttpApi, HttpApiEndpoint, HttpApiGroup, HttpApiSchema, OpenApi } from "effect/http-api"
import { Authentication, RequiredRole, Role, TeamAccess } from "./Access.ts"
import { declareKeyHeader, Idempotency } from "./Idempotency.ts"
import { DashboardGroup } from "./Dashboard.ts"
import { LiveGroup } from "./Live.ts"
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
import * as OpenApiDocument from "./OpenApiDocument.ts"
import { RequestErrors } from "./RequestErrors.ts"
import * as S from "./Schemas.ts"

const created = <A extends Schema.Top>(schema: A) => schema.pipe(HttpApiSchema.status(201))
const NoContent = HttpApiSchema.NoContent

/**
 * An endpoint's entry in the OpenAPI document: a one-line summary and what it does (who may call
 * it, what it refuses), for people reading the docs and for client generators.
 */
const about = (summary: string, description: string) => OpenApi.annotations({ summary, description })

const teamParam = { team: S.Reference }
const Password = S.Password
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
    }).annotateMerge(about("Create an account", "Creates a person's account and signs them in (sets the session cookie). With `invitationToken` the account joins that invitation's team; when sign-up is invite-only (`CANARYROLL_SIGNUP=invite-only`) the token is required. Failed attempts are throttled per client address (429 with `Retry-After`).")),
    HttpApiEndpoint.post("login", "/login", {
      payload: Schema.Struct({ email: Schema.String.check(Schema.isMaxLength(254)), password: Password }),
      success: Schema.Struct({ user: S.User }),
      error: [BadRequest, Unauthorized, TooManyRequests]
    }).annotateMerge(about("Log in", "Checks an email and password and sets the session cookie. Failed attempts slow further ones per client address and per account (429 with `Retry-After`); the wait always ends, nothing is locked.")),
    HttpApiEndpoint.post("logout", "/logout", { success: NoContent }).annotateMerge(about("Log out", "Ends the session the request came with and clears its cookie. Without a session it does nothing."))
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
    HttpApiEndpoint.get("health", "/api/health", { success: Schema.Struct({ ok: Schema.Boolean }) }).annotateMerge(about("Liveness", "Answers `{ ok: true }` while the process runs. No credentials; nothing is checked beyond the process itself: use it for a load balancer's liveness probe.")),
    HttpApiEndpoint.get("ready", "/api/ready", {
      success: Schema.Struct({ ok: Schema.Boolean, checks: Schema.Array(ReadinessCheck) }),
      error: NotReady
    }).annotateMerge(about("Readiness", "Whether this server can serve: the database answers, its migrations are current and the secret key opens the sealed secrets. 503 names the check that failed. No credentials."))
  )
  .annotateMerge(OpenApi.annotations({ description: "Liveness and readiness probes, without credentials." }))
{}

/** The caller's own account, user tokens and teams. */
export class MeGroup extends HttpApiGroup.make("me")
  .add(
    HttpApiEndpoint.get("me", "/me", {
      success: Schema.Struct({ user: S.User, teams: Schema.Array(S.Team) }),
      error: Forbidden
    }).annotateMerge(about("Who am I", "The caller's account and the teams they belong to, with their role in each. For people (a session or a `cru_` user token); a team token is refused with 403.")),
    HttpApiEndpoint.get("listUserTokens", "/me/tokens", { success: Schema.Array(S.UserToken), error: Forbidden }).annotateMerge(about("List my user tokens", "The caller's user tokens (`cru_…`): names, creation and last use; never the secrets, which are shown once.")),
    HttpApiEndpoint.post("createUserToken", "/me/tokens", {
      payload: Schema.Struct({ name: S.Name }),
      success: created(S.IssuedUserToken),
      error: [BadRequest, Forbidden]
    }).annotateMerge(about("Create a user token", "Issues a user token (`cru_…`) that acts as the caller in every team they belong to. The secret is in this answer only; the server keeps a hash.")),
    HttpApiEndpoint.delete("revokeUserToken", "/me/tokens/:tokenId", {
      params: { tokenId: S.Reference },
      success: NoContent,
      error: [Forbidden, NotFound]
    }).annotateMerge(about("Revoke a user token", "Revokes one of the caller's user tokens; requests with it are refused from then on.")),
    /** Ends every other session of the caller (user tokens are kept: revoke them in the list). */
    HttpApiEndpoint.post("changePassword", "/me/password", {
      payload: Schema.Struct({ currentPassword: Password, newPassword: Password }),
      success: Schema.Struct({ endedSessions: Schema.Number }),
      error: [BadRequest, Forbidden, TooManyRequests]
    }).annotateMerge(about("Change my password", "Checks the current password and sets a new one (12 to 1,024 characters). Every other session of the caller ends; user tokens are kept. Wrong current passwords count as failed log-ins (429 with `Retry-After`).")),
    HttpApiEndpoint.get("listSessions", "/me/sessions", { success: Schema.Array(S.Session), error: Forbidden }).annotateMerge(about("List my sessions", "The caller's signed-in sessions (browser, creation, last use, expiry), marking the one the request came with. Never their secrets.")),
    /** Log out everywhere: every session of the caller ends, the one the request came with too. */
    HttpApiEndpoint.delete("endSessions", "/me/sessions", { success: NoContent, error: Forbidden }).annotateMerge(about("Log out everywhere", "Ends every session of the caller, the current one too. User tokens are kept: revoke them separately.")),
    HttpApiEndpoint.get("listTeams", "/teams", { success: Schema.Array(S.Team) }).annotateMerge(about("List my teams", "The teams the caller belongs to, with their role in each. A team token sees its own team.")),
    HttpApiEndpoint.post("createTeam", "/teams", {
      payload: Schema.Struct({ name: S.Name, slug: S.Slug }),
      success: created(S.Team),
      error: [BadRequest, Conflict, Forbidden]
    }).annotateMerge(about("Create a team", "Creates a team with the caller as its admin. The slug (lowercase letters, digits and dashes) is unique: a taken one is 409.")),
    HttpApiEndpoint.post("acceptInvitation", "/invitations/accept", {
      payload: Schema.Struct({ token: S.Text(200) }),
      success: S.Team,
      error: [BadRequest, Forbidden, NotFound, Conflict]
    }).annotateMerge(about("Accept an invitation", "Joins the caller to the team of an invitation, with the invitation's role. An unknown token is 404; an invitation no longer pending (used, revoked, expired), or a caller already in the team, is 409."))
  )
  .middleware(Authentication)
  .prefix("/api")
  .annotateMerge(OpenApi.annotations({ description: "The caller's own account: profile, user tokens, password, sessions, teams and invitations." }))
{}

interface Annotatable {
  annotate(key: typeof RequiredRole, value: Role): unknown
}
const requires = (role: Role) => <E extends Annotatable>(endpoint: E): E => endpoint.annotate(RequiredRole, role) as E
const readOnly = requires("read_only")
const deploy = requires("deploy")
const admin = requires("admin")

/** What a connected Cloudflare account's token can do, and the account's Workers (`checkCloudflareAccount`). */
export const CloudflareAccessReport = Schema.Struct({
  accountId: Schema.String,
  passed: Schema.Boolean,
  checks: Schema.Array(Schema.Struct({
    name: Schema.Literals(["workers_read", "analytics_read", "deployments_edit"]),
    passed: Schema.Boolean,
    message: Schema.String
  })),
  workers: Schema.Array(Schema.String)
})

/** The team itself, its members, invitations, API tokens and Cloudflare accounts. */
export class TeamsGroup extends HttpApiGroup.make("teams")
  .add(
    readOnly(HttpApiEndpoint.get("getTeam", "/", { params: teamParam, success: S.Team }).annotateMerge(about("Get the team", "The team named in the path (by id or slug) and the caller's role in it."))),
    admin(HttpApiEndpoint.patch("updateTeam", "/", {
      params: teamParam,
      payload: Schema.Struct({ name: S.Name }),
      success: S.Team,
      error: BadRequest
    }).annotateMerge(about("Rename the team", "Changes the team's display name (the slug stays). Admin."))),
    readOnly(HttpApiEndpoint.get("listMembers", "/members", { params: teamParam, success: Schema.Array(S.Member) }).annotateMerge(about("List members", "The team's members with their roles."))),
    admin(HttpApiEndpoint.patch("updateMember", "/members/:userId", {
      params: { ...teamParam, userId: S.Reference },
      payload: Schema.Struct({ role: Role }),
      success: S.Member,
      error: [BadRequest, Conflict]
    }).annotateMerge(about("Change a member's role", "Sets a member's role (`read_only`, `deploy` or `admin`). Admin. The team's last admin cannot be demoted (409)."))),
    // Any member may leave; removing someone else needs admin (checked in the handler).
    readOnly(HttpApiEndpoint.delete("removeMember", "/members/:userId", {
      params: { ...teamParam, userId: S.Reference },
      success: NoContent,
      error: [Conflict]
    }).annotateMerge(about("Remove a member", "Removes a member from the team. Any member may leave; removing someone else needs admin. The team's last admin cannot leave (409)."))),
    /** Signs a member out everywhere (their sessions end; their user tokens are kept). */
    admin(HttpApiEndpoint.delete("endMemberSessions", "/members/:userId/sessions", {
      params: { ...teamParam, userId: S.Reference },
      success: NoContent
    }).annotateMerge(about("Sign a member out", "Ends every session of a member (their user tokens are kept). Admin."))),
    admin(HttpApiEndpoint.get("listInvitations", "/invitations", { params: teamParam, success: Schema.Array(S.Invitation) }).annotateMerge(about("List invitations", "The team's pending invitations. Admin."))),
    admin(HttpApiEndpoint.post("createInvitation", "/invitations", {
      params: teamParam,
      payload: Schema.Struct({ email: S.Email, role: Role }),
      success: created(S.IssuedInvitation),
      error: [BadRequest, Conflict]
    }).annotateMerge(about("Invite someone", "Invites an email address to the team with a role, and emails them the accept link when the server has outgoing mail (`emailed`; `notEmailedReason` says why not: no mail setting, the mail server unreachable or refusing; the invitation is saved either way). The invitation's token and link are in this answer only. Admin. An address that already belongs to the team is 409."))),
    admin(HttpApiEndpoint.delete("revokeInvitation", "/invitations/:invitationId", {
      params: { ...teamParam, invitationId: S.Reference },
      success: NoContent
    }).annotateMerge(about("Revoke an invitation", "Revokes a pending invitation; its token stops working. Admin."))),
    admin(HttpApiEndpoint.get("listTokens", "/tokens", { params: teamParam, success: Schema.Array(S.TeamToken) }).annotateMerge(about("List team tokens", "The team's API tokens (`crt_…`) with their roles and last use; never the secrets. Admin."))),
    admin(HttpApiEndpoint.post("createToken", "/tokens", {
      params: teamParam,
      payload: Schema.Struct({ name: S.Name, role: Role }),
      success: created(S.IssuedTeamToken),
      error: BadRequest
    }).annotateMerge(about("Create a team token", "Issues a team API token (`crt_…`) with a role, for CI and the GitHub Action. The secret is in this answer only; the server keeps a hash. Admin."))),
    admin(HttpApiEndpoint.delete("revokeToken", "/tokens/:tokenId", {
      params: { ...teamParam, tokenId: S.Reference },
      success: NoContent
    }).annotateMerge(about("Revoke a team token", "Revokes a team token; requests with it are refused from then on. Admin."))),
    admin(HttpApiEndpoint.get("listCloudflareAccounts", "/cloudflare/accounts", {
      params: teamParam,
      success: Schema.Array(S.CloudflareAccount)
    }).annotateMerge(about("List Cloudflare accounts", "The Cloudflare accounts the team connected, with when each token was last verified; never the tokens. Admin."))),
    admin(HttpApiEndpoint.put("saveCloudflareAccount", "/cloudflare/accounts/:accountId", {
      params: { ...teamParam, accountId: S.AccountId },
      payload: Schema.Struct({ apiToken: Schema.String.check(Schema.isMinLength(1), Schema.isMaxLength(200)) }),
      success: S.CloudflareAccount,
      error: [BadRequest, BadGateway, Conflict]
    }).annotateMerge(about("Connect a Cloudflare account", "Saves (or replaces) the API token CanaryRoll uses for a Cloudflare account, after verifying it with Cloudflare (account-owned and user tokens both work) and checking that it can read the account's Workers. The token is stored encrypted and never shown again. Admin. A token Cloudflare refuses is 400; an account connected to another team is 409; Cloudflare answering badly or not at all is 502 or 503."))),
    admin(HttpApiEndpoint.delete("removeCloudflareAccount", "/cloudflare/accounts/:accountId", {
      params: { ...teamParam, accountId: S.Reference },
      success: NoContent,
      error: Conflict
    }).annotateMerge(about("Disconnect a Cloudflare account", "Deletes the team's token for a Cloudflare account. Admin. Refused (409) while a registered Worker uses the account."))),
    admin(HttpApiEndpoint.get("checkCloudflareAccount", "/cloudflare/accounts/:accountId/check", {
      params: { ...teamParam, accountId: S.Reference },
      success: CloudflareAccessReport
    }).annotateMerge(about("Check a Cloudflare account's token", "Asks Cloudflare, with the team's saved token for the account, whether it can do what releases need: list the account's Workers (Workers Scripts Read), read their analytics (Account Analytics Read) and change their deployments (Workers Scripts Edit, asked with an empty deployment request that deploys nothing). Lists the account's Workers. Admin. An account the team has not connected is 404.")))
  )
  .middleware(TeamAccess)
  .middleware(Authentication)
  .prefix("/api/teams/:team")
  .annotateMerge(OpenApi.annotations({ description: "A team's settings: members and roles, invitations, team API tokens, and the Cloudflare accounts it connected." }))
{}

export class WorkersGroup extends HttpApiGroup.make("workers")
  .add(
    readOnly(HttpApiEndpoint.get("listWorkers", "/", { params: teamParam, success: Schema.Array(S.Worker) }).annotateMerge(about("List Workers", "The Workers the team registered, with their default plan and health policy."))),
    admin(HttpApiEndpoint.post("registerWorker", "/", {
      params: teamParam,
      payload: Schema.Struct({
        accountId: S.AccountId,
        scriptName: S.ScriptName,
        /** A plan id or slug; the team's `standard` plan when absent. */
        defaultPlanId: Schema.optional(S.Reference),
        healthPolicy: Schema.optional(Schema.NullOr(Plan.HealthPolicy))
      }),
      success: created(S.Worker),
      // 502: Cloudflare refused the team's token while the script was looked up.
      error: [BadRequest, Conflict, BadGateway]
    }).annotateMerge(about("Register a Worker", "Registers a Worker script of a connected Cloudflare account so that it can be released gradually, with an optional default plan and health policy. Admin. A script registered already is 409."))),
    readOnly(HttpApiEndpoint.get("getWorker", "/:workerId", {
      params: { ...teamParam, workerId: S.Reference },
      success: S.Worker
    }).annotateMerge(about("Get a Worker", "One registered Worker."))),
    admin(HttpApiEndpoint.patch("updateWorker", "/:workerId", {
      params: { ...teamParam, workerId: S.Reference },
      payload: Schema.Struct({
        defaultPlanId: Schema.optional(S.Reference),
        healthPolicy: Schema.optional(Schema.NullOr(Plan.HealthPolicy))
      }),
      success: S.Worker,
      error: BadRequest
    }).annotateMerge(about("Change a Worker's defaults", "Sets a Worker's default plan or health policy (`null` clears the policy: the plan's applies). Admin."))),
    admin(HttpApiEndpoint.delete("removeWorker", "/:workerId", {
      params: { ...teamParam, workerId: S.Reference },
      success: NoContent,
      error: Conflict
    }).annotateMerge(about("Unregister a Worker", "Removes a Worker from CanaryRoll (nothing changes on Cloudflare). Admin. Refused (409) while a release of it is in progress or paused."))),
    readOnly(HttpApiEndpoint.get("listVersions", "/:workerId/versions", {
      params: { ...teamParam, workerId: S.Reference },
      success: Schema.Array(S.WorkerVersion),
      error: BadGateway
    }).annotateMerge(about("List a Worker's versions", "The Worker's versions on Cloudflare, newest first, read live from Cloudflare's API (502 or 503 when Cloudflare cannot answer)."))),
    readOnly(HttpApiEndpoint.get("liveDeployment", "/:workerId/deployment", {
      params: { ...teamParam, workerId: S.Reference },
      success: S.LiveDeployment,
      error: BadGateway
    }).annotateMerge(about("Get the live deployment", "The Worker's active Cloudflare deployment: which versions serve what share of the traffic, read live from Cloudflare.")))
  )
  .middleware(TeamAccess)
  .middleware(Authentication)
  .prefix("/api/teams/:team/workers")
  .annotateMerge(OpenApi.annotations({ description: "The Cloudflare Workers a team releases with CanaryRoll, and what Cloudflare says about their versions and live deployment." }))
{}

const PlanFields = {
  name: S.Name,
  steps: Plan.Steps,
  health: Schema.optional(Plan.HealthPolicy)
}

/** A plan's body as `PUT /plans/{plan}` takes it (`POST` adds the `slug`): what clients send. */
export const PlanRequest = Schema.Struct(PlanFields)

/** A notification channel's body as `POST /notifications/channels` takes it. */
export const ChannelRequest = Channel.ChannelInput

export class PlansGroup extends HttpApiGroup.make("plans")
  .add(
    readOnly(HttpApiEndpoint.get("listPlans", "/", { params: teamParam, success: Schema.Array(S.PlanView) }).annotateMerge(about("List plans", "The team's release plans: steps (percentage and soak time) and health policy."))),
    admin(HttpApiEndpoint.post("createPlan", "/", {
      params: teamParam,
      payload: Schema.Struct({ slug: S.Slug, ...PlanFields }),
      success: created(S.PlanView),
      error: [BadRequest, Conflict]
    }).annotateMerge(about("Create a plan", "Creates a release plan: 1 to 20 steps whose percentages strictly increase to 100, and an optional health policy. Admin. A slug in use is 409."))),
    readOnly(HttpApiEndpoint.get("getPlan", "/:plan", { params: { ...teamParam, plan: S.Reference }, success: S.PlanView }).annotateMerge(about("Get a plan", "One plan, by id or slug."))),
    admin(HttpApiEndpoint.put("updatePlan", "/:plan", {
      params: { ...teamParam, plan: S.Reference },
      payload: Schema.Struct(PlanFields),
      success: S.PlanView,
      error: BadRequest
    }).annotateMerge(about("Change a plan", "Replaces a plan's name, steps and health policy. Releases already created keep the steps they were created with. Admin."))),
    admin(HttpApiEndpoint.delete("deletePlan", "/:plan", {
      params: { ...teamParam, plan: S.Reference },
      success: NoContent,
      error: Conflict
    }).annotateMerge(about("Delete a plan", "Deletes a plan. Admin. Refused (409) while a Worker uses it as its default.")))
  )
  .middleware(TeamAccess)
  .middleware(Authentication)
  .prefix("/api/teams/:team/plans")
  .annotateMerge(OpenApi.annotations({ description: "Release plans: the steps (traffic percentage and soak time) and the health policy a release follows." }))
{}

const deploymentParams = { ...teamParam, id: S.Reference }
const act = <const Name extends string, D extends Schema.Top>(name: Name, path: `/${string}`, deployment: D) =>
  deploy(HttpApiEndpoint.post(name, path, {
    params: deploymentParams,
    payload: OptionalReason,
    success: deployment,
    error: [Conflict, BadGateway]
  }))

/** The table the release commands' endpoints are made from (the core's), for clients to derive theirs. */
export { PersonCommand }

/**
 * The endpoint of a person command that takes a reason or nothing (`PersonCommand.simple`):
 * `POST /:id/<name>`, its summary and description from the table. A command the release is not
 * in a state for is 409; Cloudflare failing is 502.
 */
const personCommand = <const Name extends PersonCommand.Name, D extends Schema.Top>(name: Name, deployment: D) =>
  act(name, `/:id/${name}`, deployment).annotateMerge(about(
    PersonCommand.commands[name].summary,
    `${PersonCommand.commands[name].description} Refused (409) in a state it does not apply to. Needs deploy. Send \`Idempotency-Key\` to make a retry safe.`
  ))

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
      params: { ...teamParam, workerId: S.Reference },
      payload: Schema.Struct({
        versionId: Schema.String.check(Schema.isMinLength(1), Schema.isMaxLength(100)),
        /** A plan id or slug; the Worker's default plan when absent. */
        planId: Schema.optional(Schema.NullOr(S.Reference)),
        autoAdvance: Schema.optional(Schema.NullOr(Schema.Boolean)),
        name: Schema.optional(Schema.NullOr(S.Text(200))),
        /** An absolute `https:` or `http:` URL: the release page links to it. */
        ticketUrl: Schema.optional(Schema.NullOr(S.HttpUrl(2000)))
      }),
      success: created(deployment),
      error: [BadRequest, BadGateway]
    }).annotateMerge(about("Create a release", "Creates a release (a deployment) of a Worker version with a plan (the Worker's default when `planId` is absent); it waits in `pending` until started. Called by the GitHub Action. Needs deploy. Another release of the Worker in progress or paused is 409."))),
    readOnly(HttpApiEndpoint.get("listDeployments", "/", {
      params: teamParam,
      query: {
        workerId: Schema.optional(S.Reference),
        /** One status or several, comma-separated. */
        status: Schema.optional(S.StatusList),
        /** 1 to 200; 50 by default. */
        limit: Schema.optional(S.Limit),
        cursor: Schema.optional(S.Reference)
      },
      success: Schema.Struct({ deployments: Schema.Array(deployment), nextCursor: Schema.NullOr(Schema.String) }),
      error: BadRequest
    }).annotateMerge(about("List releases", "The team's releases, newest first, filtered by Worker and status; keyset pagination with `cursor` (`nextCursor` is `null` on the last page)."))),
    readOnly(HttpApiEndpoint.get("getDeployment", "/:id", { params: deploymentParams, success: deployment }).annotateMerge(about("Get a release", "One release: status, current step, the plan's steps and the versions involved. Called by the GitHub Action."))),
    readOnly(HttpApiEndpoint.get("preflight", "/:id/preflight", {
      params: deploymentParams,
      success: S.Preflight,
      error: BadGateway
    }).annotateMerge(about("Check a release before starting it", "Checks that a release can start: the Worker's live deployment, the versions on Cloudflare, the credentials. Read live from Cloudflare. Called by the GitHub Action."))),
    readOnly(HttpApiEndpoint.get("deploymentEvents", "/:id/events", {
      params: deploymentParams,
      success: Schema.Array(S.DeploymentEvent)
    }).annotateMerge(about("List a release's events", "What happened to a release, in order: steps, traffic shifts, health checks, pauses, rollbacks. Called by the GitHub Action."))),
    deploy(HttpApiEndpoint.post("advance", "/:id/advance", {
      params: deploymentParams,
      // An empty body is read as null: the handler refuses it naming fromStep (a schema's own
      // message would name the body).
      payload: [AdvanceRequest, Schema.Null],
      success: deployment,
      error: [BadRequest, Conflict, BadGateway]
    }).annotateMerge(about(
      PersonCommand.commands.advance.summary,
      `${PersonCommand.commands.advance.description} \`fromStep\` (the step as the caller saw it) makes a retried or outdated request harmless: a step that is no longer current is 409. Needs deploy.`
    ))),
    // The other person commands, one endpoint each, named and documented by the table.
    ...PersonCommand.simple.map((name) => personCommand(name, deployment))
  )
  .annotateEndpointsMerge(OpenApi.annotations({ transform: declareKeyHeader }))
  .middleware(Idempotency)
  .middleware(TeamAccess)
  .middleware(Authentication)
  .prefix("/api/teams/:team/deployments")
  .annotateMerge(OpenApi.annotations({ description: "Releases (called deployments for the GitHub Action's compatibility): create, check, start, advance, pause, resume, roll back, cancel, and their events." }))

export class DeploymentsGroup extends deploymentsGroup(S.Deployment) {}

export class AuditGroup extends HttpApiGroup.make("audit")
  .add(
    readOnly(HttpApiEndpoint.get("auditLog", "/audit", {
      params: teamParam,
      query: {
        /** `user:{id}`, `token:{id}` or `system`. */
        actor: Schema.optional(S.Actor),
        deploymentId: Schema.optional(S.Reference),
        /** One type or several, comma-separated (release event types and settings change types). */
        type: Schema.optional(S.CommaSeparated),
        /** ISO 8601 times: entries at or after `from`, before `to`. */
        from: Schema.optional(S.Time),
        to: Schema.optional(S.Time),
        /** 1 to 200; 50 by default. */
        limit: Schema.optional(S.Limit),
        cursor: Schema.optional(S.Reference)
      },
      success: Schema.Struct({ entries: Schema.Array(S.AuditEntry), nextCursor: Schema.NullOr(Schema.String) }),
      error: BadRequest
    }).annotateMerge(about("Read the audit log", "Everything anyone or anything did in the team, newest first: release events and settings changes, with the actor and the time. Filter by actor, release, type and time; keyset pagination with `cursor`.")))
  )
  .middleware(TeamAccess)
  .middleware(Authentication)
  .prefix("/api/teams/:team")
  .annotateMerge(OpenApi.annotations({ description: "The team's audit log: every release event and settings change, with who did it and when." }))
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
    }).annotateMerge(about("List notification channels", "The team's channels (Slack, Discord, Google Chat, email, signed webhooks) and the events each subscribes to; URLs and secrets are masked."))),
    admin(HttpApiEndpoint.post("createChannel", "/channels", {
      params: teamParam,
      payload: Channel.ChannelInput,
      success: created(S.SavedNotificationChannel),
      error: BadRequest
    }).annotateMerge(about("Create a notification channel", "Adds a channel and the release events it receives. A webhook channel's signing secret is generated when absent and shown once. URLs must be public `https:` or `http:` addresses. Admin."))),
    readOnly(HttpApiEndpoint.get("getChannel", "/channels/:channelId", {
      params: { ...teamParam, channelId: S.Reference },
      success: S.NotificationChannel
    }).annotateMerge(about("Get a notification channel", "One channel, its URLs and secrets masked."))),
    admin(HttpApiEndpoint.patch("updateChannel", "/channels/:channelId", {
      params: { ...teamParam, channelId: S.Reference },
      payload: Channel.ChannelPatch,
      success: S.SavedNotificationChannel,
      error: BadRequest
    }).annotateMerge(about("Change a notification channel", "Changes a channel's name, events, enabled flag or settings (the kind stays); `rotateSigningSecret` issues a new webhook secret, shown once. Admin."))),
    admin(HttpApiEndpoint.delete("deleteChannel", "/channels/:channelId", {
      params: { ...teamParam, channelId: S.Reference },
      success: NoContent
    }).annotateMerge(about("Delete a notification channel", "Deletes a channel; messages not yet sent to it are dropped. Admin."))),
    deploy(HttpApiEndpoint.post("sendTestMessage", "/channels/:channelId/test", {
      params: { ...teamParam, channelId: S.Reference },
      /** One attempt now; the answer says how it went (`delivered` or `failed`, with the error). */
      success: S.NotificationDelivery
    }).annotateMerge(about("Send a test message", "Sends one test message to a channel now and answers how it went (`delivered`, or `failed` with the error). Needs deploy."))),
    readOnly(HttpApiEndpoint.get("listDeliveries", "/deliveries", {
      params: teamParam,
      query: {
        channelId: Schema.optional(S.Reference),
        status: Schema.optional(S.DeliveryStatus),
        /** 1 to 200; 50 by default. */
        limit: Schema.optional(S.Limit)
      },
      success: Schema.Array(S.NotificationDelivery)
    }).annotateMerge(about("List deliveries", "The messages sent to the team's channels, newest first, with their status, attempts and last error.")))
  )
  .middleware(TeamAccess)
  .middleware(Authentication)
  .prefix("/api/teams/:team/notifications")
  // A channel has many fields (an email channel, a dozen): a 400 names every wrong one at once,
  // as the notifier's own validation does, rather than one per attempt.
  .annotate(HttpApi.PayloadParseOptions, { errors: "all" })
  .annotate(HttpApi.QueryParseOptions, { errors: "all" })
  .annotateMerge(OpenApi.annotations({ description: "Where a team's release news goes (Slack, Discord, Google Chat, email, signed webhooks) and what was sent." }))
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
  .add(LiveGroup)
  .add(DashboardGroup)
  .middleware(RequestErrors)
  .middleware(Availability)
  .annotateMerge(OpenApi.annotations({
    title: "CanaryRoll API",
    version: "0.1.0",
    description: "Safe, automatic gradual deployments for Cloudflare Workers. Errors are `{ error, message }`.",
    servers: OpenApiDocument.servers,
    license: OpenApiDocument.license,
    transform: OpenApiDocument.declareServerAnswers
  }))
{}

/**
 * The API as the CLI and the GitHub Action call it: the groups they use (the CLI signs up, logs in and
 * sets a team up too), with a release read as
 * `S.PublicDeployment`, the one place where clients stay lenient. The Action also calls the hosted
 * CanaryRoll and older servers, whose releases lack fields ours have; everything else they send
 * is read with the server's own schemas (fields a newer server adds are ignored).
 */
export class ClientApi extends HttpApi.make("canaryroll")
  .add(AuthGroup)
  .add(MeGroup)
  .add(TeamsGroup)
  .add(WorkersGroup)
  .add(PlansGroup)
  .add(deploymentsGroup(S.PublicDeployment))
  .add(AuditGroup)
  .add(NotificationsGroup)
  .add(DashboardGroup)
  .middleware(RequestErrors)
  .middleware(Availability)
{}
