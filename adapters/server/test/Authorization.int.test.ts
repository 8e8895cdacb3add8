/**
 * The authorization matrix (issue 5): every endpoint of the API, read from the `Api` definition
 * itself, called over real HTTP by every kind of caller, with the exact status each must get:
 *
 * - no credentials, a malformed bearer token and a revoked team token: 401 on every endpoint that
 *   needs credentials;
 * - team A's own callers (team tokens read_only / deploy / admin, the admin's session, a
 *   read_only member's session, a deploy member's `cru_` user token): the endpoint's success
 *   status when their role includes the endpoint's `RequiredRole`, else 403 naming that role;
 * - a user who is no member of team A and team B's admin token: 404 on every team A endpoint,
 *   exactly as for a team that does not exist;
 * - team tokens on the endpoints for people (`/api/me…`, creating a team, accepting an
 *   invitation): 403 `user_required`.
 *
 * Every request is a valid one, on real team A resources (fresh ones where the call changes
 * things), so a missing check would show as a success, not as a 404 for a missing resource.
 * No response to team B or to the non-member contains any of team A's ids, no response contains
 * another team's ids, and no response ever contains a token, a password (or its hash), a
 * Cloudflare API token or a notification channel's signing secret after the one response that
 * issues it. A second table sends team B's token to team B's own paths with team A's
 * ids (one team's ids in another's requests): always 404 (or 400 for a field), and team A is
 * unchanged afterwards. An endpoint added to the API without a row here fails the file.
 *
 * The matrix runs twice: on a server on Postgres and on one on the memory layers of every port.
 */
import { ApiBudget } from "@canaryroll/cloudflare"
import { assert, layer } from "@effect/vitest"
import * as TestDatabase from "@canaryroll/postgres/test-database"
import { Context, Effect, Layer, Option, Predicate } from "effect"
import { HttpApi } from "effect/http-api"
import { TestClock } from "effect/testing"
import { Authentication, includes, RequiredRole, type Role, TeamAccess } from "../src/api/Access.ts"
import { Api } from "../src/api/Api.ts"
import * as EventStream from "./support/EventStream.ts"
import * as TestServer from "./support/TestServer.ts"
import * as TestTeam from "./support/TestTeam.ts"

const database = TestDatabase.forFile()

const password = "correct horse battery staple"

// ---------------------------------------------------------------------------------------------
// The endpoints, as the API defines them

interface Endpoint {
  /** `group.endpoint`, e.g. `deployments.start`. */
  readonly key: string
  readonly method: string
  /** With `:param` placeholders, e.g. `/api/teams/:team/deployments/:id/start`. */
  readonly path: string
  /** Passes the `Authentication` middleware (needs credentials). */
  readonly authenticated: boolean
  /** The role needed in the path's team, when the endpoint passes `TeamAccess`. */
  readonly teamRole: Role | null
  readonly successStatus: number
}

/** The mark Effect's HttpApiSchema puts on a streamed (server-sent events) success schema. */
const streamSchemaTypeId = "~effect/http-api/HttpApiSchema/Stream"

const endpoints: ReadonlyArray<Endpoint> = (() => {
  const found: Array<Endpoint> = []
  HttpApi.reflect(Api, {
    onGroup: () => undefined,
    onEndpoint: ({ endpoint, group, mergedAnnotations, middleware, successes }) => {
      // A streamed success (server-sent events) is 200 and has no buffered body schema.
      // (`HttpApiSchema.isStreamSchema` exists at run time but is not in Effect's declarations.)
      const streamed = [...endpoint.success].some((schema) => Predicate.hasProperty(schema, streamSchemaTypeId))
      const statuses = streamed ? [200] : [...successes.keys()]
      assert.lengthOf(statuses, 1, `${group.identifier}.${endpoint.identifier} has one success status`)
      found.push({
        key: `${group.identifier}.${endpoint.identifier}`,
        method: endpoint.method,
        path: endpoint.path,
        authenticated: middleware.has(Authentication as never),
        // Without the annotation the server asks for admin (fail closed); so does the matrix.
        teamRole: middleware.has(TeamAccess as never)
          ? Option.getOrElse(Context.getOption(mergedAnnotations, RequiredRole), () => "admin" as const)
          : null,
        successStatus: statuses[0]!
      })
    }
  })
  return found
})()

const placeholders = (path: string) => [...path.matchAll(/:(\w+)/g)].map((match) => match[1]!)

// ---------------------------------------------------------------------------------------------
// The callers

interface CallerSpec {
  readonly name: string
  readonly kind: "nobody" | "team token" | "user"
  /** Whether the server knows who this is (credentials valid). */
  readonly authenticated: boolean
  /** Its role in team A; null when it is no member of team A. */
  readonly roleInA: Role | null
}

const callerSpecs = [
  { name: "no credentials", kind: "nobody", authenticated: false, roleInA: null },
  { name: "a malformed bearer token", kind: "nobody", authenticated: false, roleInA: null },
  { name: "a revoked admin team token of team A", kind: "team token", authenticated: false, roleInA: null },
  { name: "team A's read_only team token", kind: "team token", authenticated: true, roleInA: "read_only" },
  { name: "team A's deploy team token", kind: "team token", authenticated: true, roleInA: "deploy" },
  { name: "team A's admin team token", kind: "team token", authenticated: true, roleInA: "admin" },
  { name: "team A's admin (session)", kind: "user", authenticated: true, roleInA: "admin" },
  { name: "a read_only member of team A (session)", kind: "user", authenticated: true, roleInA: "read_only" },
  { name: "a deploy member of team A (cru_ user token)", kind: "user", authenticated: true, roleInA: "deploy" },
  { name: "a user who is no member of team A (cru_ user token)", kind: "user", authenticated: true, roleInA: null },
  { name: "team B's admin team token", kind: "team token", authenticated: true, roleInA: null }
] as const satisfies ReadonlyArray<CallerSpec>

type CallerName = typeof callerSpecs[number]["name"]

interface Credentials {
  readonly token?: string
  readonly cookie?: string
}

interface Person {
  readonly email: string
  readonly userId: string
}

interface Caller {
  readonly spec: CallerSpec
  readonly credentials: Credentials
  /** The person behind a user caller. */
  readonly person: Person | null
}

// ---------------------------------------------------------------------------------------------
// The world the matrix runs in: one server, teams A and B, a lobby team for invitations

interface WorldShape {
  readonly server: TestServer.Running
  readonly a: TestTeam.Team
  readonly b: TestTeam.Team
  readonly lobby: { readonly slug: string; readonly adminCookie: string }
  readonly callers: ReadonlyMap<CallerName, Caller>
  /** A pending deployment of team A, to read. */
  readonly deploymentId: string
  /** Team A's plan for `updatePlan` (no Worker uses it). */
  readonly steadyPlanId: string
  /** Team A's webhook channel, on a loopback receiver that answers 200 (test messages go there). */
  readonly channelId: string
  readonly hookUrl: string
  /** A person with no team, to log in as. */
  readonly loginEmail: string
  /** In-progress releases of team A with traffic live and a healthy check: one `advance` each. */
  readonly advanceable: Array<string>
  /** Team A's ids (team, Workers, deployments, plans, tokens, invitations, members); grows as tests create things. */
  readonly aIds: Set<string>
  readonly bIds: Set<string>
  /** Values no response may contain: tokens, passwords, Cloudflare API tokens, session secrets. */
  readonly secrets: Set<string>
  readonly next: () => number
}

class World extends Context.Service<World, WorldShape>()("test/Authorization/World") {}

type Run = (method: string, path: string, options?: { readonly body?: unknown } & Credentials) => Effect.Effect<TestServer.Response>

const runner = (server: TestServer.Running): Run => (method, path, options = {}) => server.client.request(method, path, options)

/** A call that must succeed (the matrix's preparations). */
const must = (run: Run) => (method: string, path: string, options: { readonly body?: unknown } & Credentials = {}) =>
  Effect.map(run(method, path, options), (response) => {
    assert.isTrue(
      response.status >= 200 && response.status < 300,
      `preparing ${method} ${path}: ${response.status} ${JSON.stringify(response.body)}`
    )
    return response.body
  })

/**
 * The matrix makes some hundreds of Cloudflare calls with one token (registering Workers checks
 * their scripts, the account check asks four things) on a TestClock that never moves the budget's
 * window on: the budget is not what this tests, so it is ten times Cloudflare's.
 */
const roomyLimits: ApiBudget.Limits = {
  ...ApiBudget.cloudflareLimits,
  rest: { requests: 12_000, windowSeconds: 300 },
  graphql: { requests: 3_000, windowSeconds: 300 }
}

const setUp = (storage: TestServer.Storage) => Effect.gen(function*() {
  const server = yield* storage.start({ cloudflareLimits: roomyLimits })
  const run = runner(server)
  const ok = must(run)
  const a = yield* TestTeam.create(server, "acme")
  const b = yield* TestTeam.create(server, "other", { account: "own" })
  let counter = 0
  const next = () => ++counter
  const asAdmin = { cookie: a.adminCookie }
  const base = `/api/teams/${a.slug}`

  const lobbyAdmin = yield* TestTeam.signUp(server, "admin@lobby.example")
  yield* ok("POST", "/api/teams", { cookie: lobbyAdmin.cookie, body: { name: "Lobby", slug: "lobby" } })

  /** A person who joins team A through an invitation, as the issue asks. */
  const member = (email: string, role: Role) =>
    Effect.gen(function*() {
      const person = yield* TestTeam.signUp(server, email)
      const invitation = yield* ok("POST", `${base}/invitations`, { ...asAdmin, body: { email, role } })
      yield* ok("POST", "/api/invitations/accept", { cookie: person.cookie, body: { token: invitation.token } })
      return { ...person, email, invitationToken: invitation.token as string }
    })
  const readOnlyMember = yield* member("reader@acme.example", "read_only")
  const deployMember = yield* member("deployer@acme.example", "deploy")
  const deployMemberToken = yield* ok("POST", "/api/me/tokens", { cookie: deployMember.cookie, body: { name: "laptop" } })
  const outsider = yield* TestTeam.signUp(server, "outsider@elsewhere.example")
  const outsiderToken = yield* ok("POST", "/api/me/tokens", { cookie: outsider.cookie, body: { name: "laptop" } })
  yield* TestTeam.signUp(server, "login@nowhere.example")

  const revoked = yield* ok("POST", `${base}/tokens`, { ...asAdmin, body: { name: "revoked", role: "admin" } })
  yield* ok("DELETE", `${base}/tokens/${revoked.id}`, asAdmin)

  const callers = new Map<CallerName, Caller>()
  const add = (name: CallerName, credentials: Credentials, person: Person | null = null) =>
    callers.set(name, { spec: callerSpecs.find((spec) => spec.name === name)!, credentials, person })
  add("no credentials", {})
  add("a malformed bearer token", { token: "not-a-canaryroll-token" })
  add("a revoked admin team token of team A", { token: revoked.token })
  add("team A's read_only team token", { token: a.tokens.read_only })
  add("team A's deploy team token", { token: a.tokens.deploy })
  add("team A's admin team token", { token: a.tokens.admin })
  add("team A's admin (session)", { cookie: a.adminCookie }, { email: a.adminEmail, userId: a.adminUserId })
  add("a read_only member of team A (session)", { cookie: readOnlyMember.cookie }, readOnlyMember)
  add("a deploy member of team A (cru_ user token)", { token: deployMemberToken.token }, deployMember)
  add("a user who is no member of team A (cru_ user token)", { token: outsiderToken.token }, {
    email: "outsider@elsewhere.example",
    userId: outsider.userId
  })
  add("team B's admin team token", { token: b.tokens.admin })

  const steady = yield* ok("POST", `${base}/plans`, {
    ...asAdmin,
    body: { slug: "steady", name: "Steady", steps: [{ percentage: 10, waitSeconds: 600 }, { percentage: 100, waitSeconds: 600 }] }
  })
  const deployment = yield* ok("POST", `${base}/deployments/workers/${a.workers[0]!.workerId}/deployments`, {
    ...asAdmin,
    body: { versionId: a.workers[0]!.goodVersionId }
  })
  const hook = yield* TestServer.receiver()
  const hookUrl = `${hook.origin}/hook`
  const channel = yield* ok("POST", `${base}/notifications/channels`, {
    ...asAdmin,
    body: { name: "ops", events: ["release.completed"], config: { kind: "webhook", url: hookUrl } }
  })

  const aIds = new Set<string>([a.teamId, ...a.workers.map((worker) => worker.workerId), a.fastPlanId, ...Object.values(a.tokenIds)])
  aIds.add(steady.id)
  aIds.add(deployment.id)
  aIds.add(revoked.id)
  aIds.add(channel.id)
  for (const plan of yield* ok("GET", `${base}/plans`, asAdmin)) aIds.add(plan.id)
  for (const invitation of yield* ok("GET", `${base}/invitations`, asAdmin)) aIds.add(invitation.id)
  const bIds = new Set<string>([b.teamId, ...b.workers.map((worker) => worker.workerId), b.fastPlanId, ...Object.values(b.tokenIds)])
  for (const plan of yield* ok("GET", `/api/teams/${b.slug}/plans`, { cookie: b.adminCookie })) bIds.add(plan.id)

  const secrets = new Set<string>([
    password,
    server.seeded.apiToken,
    revoked.token,
    deployMemberToken.token,
    outsiderToken.token,
    readOnlyMember.invitationToken,
    deployMember.invitationToken,
    channel.signingSecret,
    ...Object.values(a.tokens),
    ...Object.values(b.tokens),
    // The session secrets (the cookie's value).
    ...[a.adminCookie, b.adminCookie, readOnlyMember.cookie, deployMember.cookie, outsider.cookie, lobbyAdmin.cookie].map((
      cookie
    ) => cookie.split("=")[1]!)
  ])

  const world: WorldShape = {
    server,
    a,
    b,
    lobby: { slug: "lobby", adminCookie: lobbyAdmin.cookie },
    callers,
    deploymentId: deployment.id,
    steadyPlanId: steady.id,
    channelId: channel.id,
    hookUrl,
    loginEmail: "login@nowhere.example",
    advanceable: [],
    aIds,
    bIds,
    secrets,
    next
  }

  // One advanceable release per caller: started, traffic live, a healthy check passed, waiting
  // for a person (autoAdvance: false). Made together, so the scheduler's passes serve them all.
  for (let index = 0; index < callerSpecs.length; index++) {
    world.advanceable.push(yield* freshRelease(world, "in_progress"))
  }
  const healthy = (id: string) =>
    Effect.map(
      ok("GET", `${base}/deployments/${id}/events`, asAdmin),
      (events: ReadonlyArray<any>) => events.some((event) => event.eventType === "HealthChecked" && event.details.verdict === "healthy")
    )
  for (let pass = 0; pass < 60; pass++) {
    const ready = yield* Effect.forEach(world.advanceable, healthy)
    if (ready.every(Boolean)) break
    yield* TestServer.runDue(server)
    yield* TestClock.adjust("5 seconds")
  }
  for (const id of world.advanceable) assert.isTrue(yield* healthy(id), `release ${id} had a healthy check`)
  return world
})

// ---------------------------------------------------------------------------------------------
// Fresh team A resources, made by team A's admin (session)

const asAdminOf = (world: WorldShape) => ({ cookie: world.a.adminCookie })
const aBase = (world: WorldShape) => `/api/teams/${world.a.slug}`

/** A person who joined team A as read_only. */
const freshMember = (world: WorldShape) =>
  Effect.gen(function*() {
    const ok = must(runner(world.server))
    const email = `member-${world.next()}@acme.example`
    const person = yield* TestTeam.signUp(world.server, email)
    const invitation = yield* ok("POST", `${aBase(world)}/invitations`, { ...asAdminOf(world), body: { email, role: "read_only" } })
    yield* ok("POST", "/api/invitations/accept", { cookie: person.cookie, body: { token: invitation.token } })
    world.aIds.add(person.userId)
    world.aIds.add(invitation.id)
    world.secrets.add(invitation.token)
    return person.userId
  })

const freshInvitation = (world: WorldShape) =>
  Effect.gen(function*() {
    const invitation = yield* must(runner(world.server))("POST", `${aBase(world)}/invitations`, {
      ...asAdminOf(world),
      body: { email: `invitee-${world.next()}@elsewhere.example`, role: "deploy" }
    })
    world.aIds.add(invitation.id)
    world.secrets.add(invitation.token)
    return invitation.id as string
  })

const freshTeamToken = (world: WorldShape) =>
  Effect.gen(function*() {
    const issued = yield* must(runner(world.server))("POST", `${aBase(world)}/tokens`, {
      ...asAdminOf(world),
      body: { name: `spare-${world.next()}`, role: "read_only" }
    })
    world.aIds.add(issued.id)
    world.secrets.add(issued.token)
    return issued.id as string
  })

/** A Cloudflare account of its own (no Workers), saved by team A only. */
const freshCloudflareAccount = (world: WorldShape) =>
  Effect.gen(function*() {
    const { simulator } = world.server
    const account = simulator.createAccount({ name: `spare ${world.next()}` })
    const token = simulator.createToken({ accountIds: [account.id] })
    world.secrets.add(token.value)
    yield* must(runner(world.server))("PUT", `${aBase(world)}/cloudflare/accounts/${account.id}`, {
      ...asAdminOf(world),
      body: { apiToken: token.value }
    })
    return account.id
  })

/** A Worker of its own on Cloudflare (one version live, a healthy candidate), registered in team A. */
const freshWorker = (world: WorldShape) =>
  Effect.gen(function*() {
    const { seeded, simulator } = world.server
    const scriptName = `matrix-${world.next()}`
    simulator.createScript({ accountId: seeded.accountId, scriptName, requestsPerMinute: 600, errorRate: 0.001 })
    const candidate = simulator.createVersion({ accountId: seeded.accountId, scriptName, errorRate: 0.001, message: "candidate" })
    const worker = yield* must(runner(world.server))("POST", `${aBase(world)}/workers`, {
      ...asAdminOf(world),
      body: { accountId: seeded.accountId, scriptName, defaultPlanId: "fast" }
    })
    world.aIds.add(worker.id)
    return { workerId: worker.id as string, candidateVersionId: candidate.id }
  })

/** A release of team A in `state`, alone on its Worker (so starting or resuming it is allowed). */
const freshRelease = (world: WorldShape, state: "pending" | "in_progress" | "paused") =>
  Effect.gen(function*() {
    const ok = must(runner(world.server))
    const worker = yield* freshWorker(world)
    const base = `${aBase(world)}/deployments`
    const created = yield* ok("POST", `${base}/workers/${worker.workerId}/deployments`, {
      ...asAdminOf(world),
      body: { versionId: worker.candidateVersionId, autoAdvance: false }
    })
    world.aIds.add(created.id)
    if (state !== "pending") yield* ok("POST", `${base}/${created.id}/start`, asAdminOf(world))
    if (state === "paused") yield* ok("POST", `${base}/${created.id}/pause`, asAdminOf(world))
    return created.id as string
  })

const freshPlan = (world: WorldShape) =>
  Effect.gen(function*() {
    const plan = yield* must(runner(world.server))("POST", `${aBase(world)}/plans`, {
      ...asAdminOf(world),
      body: { slug: `spare-${world.next()}`, name: "Spare", steps: [{ percentage: 100, waitSeconds: 60 }] }
    })
    world.aIds.add(plan.id)
    return plan.id as string
  })

const channelBody = (world: WorldShape) => ({
  name: `hook-${world.next()}`,
  events: ["release.failed"],
  config: { kind: "webhook", url: world.hookUrl }
})

/** A webhook channel of team A; its signing secret joins the values no response may show. */
const freshChannel = (world: WorldShape) =>
  Effect.gen(function*() {
    const channel = yield* must(runner(world.server))("POST", `${aBase(world)}/notifications/channels`, {
      ...asAdminOf(world),
      body: channelBody(world)
    })
    world.aIds.add(channel.id)
    world.secrets.add(channel.signingSecret)
    return channel.id as string
  })

// ---------------------------------------------------------------------------------------------
// The matrix: one valid request per endpoint

interface Request {
  readonly params: Readonly<Record<string, string>>
  readonly query?: Readonly<Record<string, string>>
  readonly body?: unknown
  /** Other credentials of the same caller (logging out must not end the session the matrix uses). */
  readonly credentials?: Credentials
}

interface Case {
  /** A request the endpoint's allowed callers succeed with. */
  readonly request: (world: WorldShape, caller: Caller) => Effect.Effect<Request>
  /** For people only: a team token gets 403 `user_required`. */
  readonly usersOnly?: true
  /** For a signed-in person only: a user token gets 403 `session_required` too. */
  readonly sessionOnly?: true
  /** When the handler asks for more than the endpoint's `RequiredRole` (say why). */
  readonly effectiveRole?: Role
  /** The response shows a secret just issued (once, by design): its `token` field is not scanned. */
  readonly issuesSecret?: true
  /**
   * The success is a stream that never ends (server-sent events): read up to its first message,
   * which is scanned like a body, then closed.
   */
  readonly stream?: true
  /**
   * Team B's admin token on team B's own path, naming team A's things (ids in the path, the
   * body or the query): what it gets, 404 unless given.
   */
  readonly foreign?: (world: WorldShape) => Effect.Effect<Request & { readonly status?: number }>
}

const teamA = (world: WorldShape, more: Record<string, string> = {}) => ({ team: world.a.slug, ...more })
const teamB = (world: WorldShape, more: Record<string, string> = {}) => ({ team: world.b.slug, ...more })
const just = <A extends Request>(request: A) => Effect.succeed(request)
const planBody = { name: "Steady", steps: [{ percentage: 10, waitSeconds: 600 }, { percentage: 100, waitSeconds: 600 }] }

/** A user token of the caller's own (a team token's or nobody's request names the admin's). */
const ownUserToken = (world: WorldShape, caller: Caller) =>
  Effect.gen(function*() {
    // Minting a user token takes a session: a caller on a user token signs in for it.
    const credentials = caller.spec.kind !== "user"
      ? asAdminOf(world)
      : caller.credentials.cookie !== undefined || caller.person === null
      ? caller.credentials
      : {
        cookie: TestTeam.cookieOf(
          yield* runner(world.server)("POST", "/api/auth/login", { body: { email: caller.person.email, password } })
        )
      }
    const issued = yield* must(runner(world.server))("POST", "/api/me/tokens", { ...credentials, body: { name: `spare-${world.next()}` } })
    world.secrets.add(issued.token)
    return issued.id as string
  })

/**
 * A person of their own, signed in: who a session caller's "log out everywhere" is sent as, since
 * ending every session of the caller would end the one the matrix goes on using.
 */
const standIn = (world: WorldShape) =>
  Effect.map(TestTeam.signUp(world.server, `stand-in-${world.next()}@elsewhere.example`), (person) => {
    world.secrets.add(person.cookie.split("=")[1]!)
    return { cookie: person.cookie }
  })

const cases: Record<string, Case> = {
  "health.health": { request: () => just({ params: {} }) },
  "health.ready": { request: () => just({ params: {} }) },
  "auth.signup": {
    request: (world) => just({ params: {}, body: { email: `newcomer-${world.next()}@elsewhere.example`, name: "Newcomer", password } })
  },
  "auth.login": { request: (world) => just({ params: {}, body: { email: world.loginEmail, password } }) },
  "auth.logout": {
    // A session caller logs out of a second session of theirs, not the one the matrix goes on using.
    request: (world, caller) =>
      caller.credentials.cookie === undefined || caller.person === null
        ? just({ params: {} })
        : Effect.map(
          runner(world.server)("POST", "/api/auth/login", { body: { email: caller.person.email, password } }),
          (login) => ({ params: {}, credentials: { cookie: TestTeam.cookieOf(login) } })
        )
  },

  "me.me": { usersOnly: true, request: () => just({ params: {} }) },
  "me.listUserTokens": { usersOnly: true, request: () => just({ params: {} }) },
  // A leaked user token must not mint tokens that outlive its revocation.
  "me.createUserToken": { usersOnly: true, sessionOnly: true, issuesSecret: true, request: () => just({ params: {}, body: { name: "ci" } }) },
  "me.revokeUserToken": {
    usersOnly: true,
    request: (world, caller) => Effect.map(ownUserToken(world, caller), (tokenId) => ({ params: { tokenId } }))
  },
  "me.changePassword": {
    usersOnly: true,
    // To the same password: the matrix's people go on logging in with it. A session caller keeps
    // the session it sends; the other sessions it ends are none the matrix uses.
    request: () => just({ params: {}, body: { currentPassword: password, newPassword: password } })
  },
  "me.listSessions": { usersOnly: true, request: () => just({ params: {} }) },
  "me.endSessions": {
    usersOnly: true,
    // A user-token caller ends its person's sessions (none the matrix uses); a session caller is
    // stood in for by a person of its own (see `standIn`).
    request: (world, caller) =>
      caller.spec.kind === "user" && caller.credentials.cookie !== undefined
        ? Effect.map(standIn(world), (credentials) => ({ params: {}, credentials }))
        : just({ params: {} })
  },
  "me.listTeams": { request: () => just({ params: {} }) },
  "me.createTeam": {
    usersOnly: true,
    request: (world) => Effect.sync(() => ({ params: {}, body: { name: "Spin-off", slug: `spin-off-${world.next()}` } }))
  },
  "me.acceptInvitation": {
    usersOnly: true,
    // An invitation to the lobby team for the caller's own email (joining it changes nothing in A or B).
    request: (world, caller) =>
      Effect.map(
        must(runner(world.server))("POST", `/api/teams/${world.lobby.slug}/invitations`, {
          cookie: world.lobby.adminCookie,
          body: { email: caller.person?.email ?? `stranger-${world.next()}@elsewhere.example`, role: "read_only" }
        }),
        (invitation) => {
          world.secrets.add(invitation.token)
          return { params: {}, body: { token: invitation.token } }
        }
      )
  },

  "teams.getTeam": { request: (world) => just({ params: teamA(world) }) },
  "teams.updateTeam": { request: (world) => just({ params: teamA(world), body: { name: "ACME" } }) },
  "teams.listMembers": { request: (world) => just({ params: teamA(world) }) },
  "teams.updateMember": {
    request: (world) => Effect.map(freshMember(world), (userId) => ({ params: teamA(world, { userId }), body: { role: "deploy" } })),
    foreign: (world) => Effect.map(freshMember(world), (userId) => ({ params: teamB(world, { userId }), body: { role: "admin" } }))
  },
  "teams.removeMember": {
    // Any member may leave, so the endpoint asks for read_only; removing someone else (always the
    // case here: the member removed is a fresh one) needs admin, checked in the handler.
    effectiveRole: "admin",
    request: (world) => Effect.map(freshMember(world), (userId) => ({ params: teamA(world, { userId }) })),
    foreign: (world) => Effect.map(freshMember(world), (userId) => ({ params: teamB(world, { userId }) }))
  },
  "teams.endMemberSessions": {
    request: (world) => Effect.map(freshMember(world), (userId) => ({ params: teamA(world, { userId }) })),
    foreign: (world) => Effect.map(freshMember(world), (userId) => ({ params: teamB(world, { userId }) }))
  },
  "teams.listInvitations": { request: (world) => just({ params: teamA(world) }) },
  "teams.createInvitation": {
    issuesSecret: true,
    request: (world) =>
      Effect.sync(() => ({ params: teamA(world), body: { email: `invitee-${world.next()}@elsewhere.example`, role: "read_only" } }))
  },
  "teams.revokeInvitation": {
    request: (world) => Effect.map(freshInvitation(world), (invitationId) => ({ params: teamA(world, { invitationId }) })),
    foreign: (world) => Effect.map(freshInvitation(world), (invitationId) => ({ params: teamB(world, { invitationId }) }))
  },
  "teams.listTokens": { request: (world) => just({ params: teamA(world) }) },
  "teams.createToken": {
    issuesSecret: true,
    request: (world) => Effect.sync(() => ({ params: teamA(world), body: { name: `ci-${world.next()}`, role: "read_only" } }))
  },
  "teams.revokeToken": {
    request: (world) => Effect.map(freshTeamToken(world), (tokenId) => ({ params: teamA(world, { tokenId }) })),
    foreign: (world) => Effect.map(freshTeamToken(world), (tokenId) => ({ params: teamB(world, { tokenId }) }))
  },
  "teams.listCloudflareAccounts": { request: (world) => just({ params: teamA(world) }) },
  "teams.checkCloudflareAccount": {
    request: (world) => just({ params: teamA(world, { accountId: world.server.seeded.accountId }) }),
    // Team A's account through team B: not team B's to ask Cloudflare about with team A's token.
    foreign: (world) => just({ params: teamB(world, { accountId: world.server.seeded.accountId }) })
  },
  "teams.saveCloudflareAccount": {
    // Saving the token the team already has: verified against Cloudflare again, nothing else changes.
    request: (world) =>
      just({ params: teamA(world, { accountId: world.server.seeded.accountId }), body: { apiToken: world.server.seeded.apiToken } }),
    // A Cloudflare account belongs to one team: team B, even with a token that reaches team A's
    // account, cannot connect it (the scheduler resolves a release's token by its account).
    foreign: (world) =>
      Effect.map(freshCloudflareAccount(world), (accountId) => {
        const token = world.server.simulator.createToken({ accountIds: [accountId] })
        world.secrets.add(token.value)
        return { params: teamB(world, { accountId }), body: { apiToken: token.value }, status: 409 }
      })
  },
  "teams.removeCloudflareAccount": {
    request: (world) => Effect.map(freshCloudflareAccount(world), (accountId) => ({ params: teamA(world, { accountId }) })),
    foreign: (world) => Effect.map(freshCloudflareAccount(world), (accountId) => ({ params: teamB(world, { accountId }) }))
  },

  "workers.listWorkers": { request: (world) => just({ params: teamA(world) }) },
  "workers.registerWorker": {
    // The script exists on Cloudflare: a Worker is registered only then.
    request: (world) =>
      Effect.sync(() => {
        const scriptName = `registered-${world.next()}`
        world.server.simulator.createScript({ accountId: world.server.seeded.accountId, scriptName, requestsPerMinute: 60 })
        return {
          params: teamA(world),
          body: { accountId: world.server.seeded.accountId, scriptName, defaultPlanId: "steady" }
        }
      }),
    // Team A's plan as the default plan of a team B Worker: the field is wrong.
    foreign: (world) =>
      Effect.sync(() => ({
        params: teamB(world),
        body: { accountId: world.server.seeded.accountId, scriptName: `foreign-${world.next()}`, defaultPlanId: world.steadyPlanId },
        status: 400
      }))
  },
  "workers.getWorker": {
    request: (world) => just({ params: teamA(world, { workerId: world.a.workers[0]!.workerId }) }),
    foreign: (world) => just({ params: teamB(world, { workerId: world.a.workers[0]!.workerId }) })
  },
  "workers.updateWorker": {
    request: (world) => just({ params: teamA(world, { workerId: world.a.workers[1]!.workerId }), body: { defaultPlanId: "fast" } }),
    foreign: (world) => just({ params: teamB(world, { workerId: world.a.workers[1]!.workerId }), body: { defaultPlanId: "fast" } })
  },
  "workers.removeWorker": {
    request: (world) => Effect.map(freshWorker(world), ({ workerId }) => ({ params: teamA(world, { workerId }) })),
    foreign: (world) => Effect.map(freshWorker(world), ({ workerId }) => ({ params: teamB(world, { workerId }) }))
  },
  "workers.listVersions": {
    request: (world) => just({ params: teamA(world, { workerId: world.a.workers[0]!.workerId }) }),
    foreign: (world) => just({ params: teamB(world, { workerId: world.a.workers[0]!.workerId }) })
  },
  "workers.liveDeployment": {
    request: (world) => just({ params: teamA(world, { workerId: world.a.workers[0]!.workerId }) }),
    foreign: (world) => just({ params: teamB(world, { workerId: world.a.workers[0]!.workerId }) })
  },

  "plans.listPlans": { request: (world) => just({ params: teamA(world) }) },
  "plans.createPlan": {
    request: (world) => Effect.sync(() => ({ params: teamA(world), body: { slug: `new-${world.next()}`, ...planBody } }))
  },
  "plans.getPlan": {
    request: (world) => just({ params: teamA(world, { plan: world.steadyPlanId }) }),
    foreign: (world) => just({ params: teamB(world, { plan: world.steadyPlanId }) })
  },
  "plans.updatePlan": {
    request: (world) => just({ params: teamA(world, { plan: world.steadyPlanId }), body: planBody }),
    foreign: (world) => just({ params: teamB(world, { plan: world.steadyPlanId }), body: planBody })
  },
  "plans.deletePlan": {
    request: (world) => Effect.map(freshPlan(world), (plan) => ({ params: teamA(world, { plan }) })),
    foreign: (world) => Effect.map(freshPlan(world), (plan) => ({ params: teamB(world, { plan }) }))
  },

  "deployments.createDeployment": {
    request: (world) =>
      just({ params: teamA(world, { workerId: world.a.workers[0]!.workerId }), body: { versionId: world.a.workers[0]!.goodVersionId } }),
    foreign: (world) =>
      just({ params: teamB(world, { workerId: world.a.workers[0]!.workerId }), body: { versionId: world.a.workers[0]!.goodVersionId } })
  },
  "deployments.listDeployments": {
    request: (world) => just({ params: teamA(world) }),
    // Filtering by team A's Worker: an empty page, not team A's deployments.
    foreign: (world) => just({ params: teamB(world), query: { workerId: world.a.workers[0]!.workerId }, status: 200 })
  },
  "deployments.getDeployment": {
    request: (world) => just({ params: teamA(world, { id: world.deploymentId }) }),
    foreign: (world) => just({ params: teamB(world, { id: world.deploymentId }) })
  },
  "deployments.preflight": {
    request: (world) => just({ params: teamA(world, { id: world.deploymentId }) }),
    foreign: (world) => just({ params: teamB(world, { id: world.deploymentId }) })
  },
  "deployments.deploymentEvents": {
    request: (world) => just({ params: teamA(world, { id: world.deploymentId }) }),
    foreign: (world) => just({ params: teamB(world, { id: world.deploymentId }) })
  },
  "deployments.start": {
    request: (world) => Effect.map(freshRelease(world, "pending"), (id) => ({ params: teamA(world, { id }) })),
    foreign: (world) => Effect.map(freshRelease(world, "pending"), (id) => ({ params: teamB(world, { id }) }))
  },
  "deployments.advance": {
    request: (world) => Effect.sync(() => ({ params: teamA(world, { id: world.advanceable.pop()! }), body: { fromStep: 0 } })),
    foreign: (world) => Effect.map(freshRelease(world, "in_progress"), (id) => ({ params: teamB(world, { id }), body: { fromStep: 0 } }))
  },
  "deployments.pause": {
    request: (world) => Effect.map(freshRelease(world, "in_progress"), (id) => ({ params: teamA(world, { id }) })),
    foreign: (world) => Effect.map(freshRelease(world, "in_progress"), (id) => ({ params: teamB(world, { id }) }))
  },
  "deployments.resume": {
    request: (world) => Effect.map(freshRelease(world, "paused"), (id) => ({ params: teamA(world, { id }) })),
    foreign: (world) => Effect.map(freshRelease(world, "paused"), (id) => ({ params: teamB(world, { id }) }))
  },
  "deployments.rollback": {
    request: (world) => Effect.map(freshRelease(world, "in_progress"), (id) => ({ params: teamA(world, { id }), body: { reason: "matrix" } })),
    foreign: (world) => Effect.map(freshRelease(world, "in_progress"), (id) => ({ params: teamB(world, { id }) }))
  },
  "deployments.cancel": {
    request: (world) => Effect.map(freshRelease(world, "pending"), (id) => ({ params: teamA(world, { id }) })),
    foreign: (world) => Effect.map(freshRelease(world, "pending"), (id) => ({ params: teamB(world, { id }) }))
  },

  "live.deploymentEventStream": {
    stream: true,
    request: (world) => just({ params: teamA(world, { id: world.deploymentId }) }),
    foreign: (world) => just({ params: teamB(world, { id: world.deploymentId }) })
  },

  "dashboard.overview": { request: (world) => just({ params: teamA(world) }) },
  "dashboard.listScripts": {
    request: (world) => just({ params: teamA(world, { accountId: world.server.seeded.accountId }) }),
    // Team A's account through team B: not team B's to read.
    foreign: (world) => just({ params: teamB(world, { accountId: world.server.seeded.accountId }) })
  },
  "dashboard.progress": {
    request: (world) => just({ params: teamA(world, { id: world.deploymentId }) }),
    foreign: (world) => just({ params: teamB(world, { id: world.deploymentId }) })
  },
  "dashboard.healthChecks": {
    request: (world) => just({ params: teamA(world, { id: world.deploymentId }) }),
    foreign: (world) => just({ params: teamB(world, { id: world.deploymentId }) })
  },

  "audit.auditLog": {
    request: (world) => just({ params: teamA(world) }),
    // Filtering by team A's deployment: an empty page, not team A's entries.
    foreign: (world) => just({ params: teamB(world), query: { deploymentId: world.deploymentId }, status: 200 })
  },

  "notifications.listChannels": { request: (world) => just({ params: teamA(world) }) },
  "notifications.createChannel": {
    // The response shows the generated signing secret once (`signingSecret`, not token-like and
    // not yet among the known secrets, so the scan passes it).
    request: (world) => Effect.sync(() => ({ params: teamA(world), body: channelBody(world) }))
  },
  "notifications.getChannel": {
    request: (world) => just({ params: teamA(world, { channelId: world.channelId }) }),
    foreign: (world) => just({ params: teamB(world, { channelId: world.channelId }) })
  },
  "notifications.updateChannel": {
    request: (world) => just({ params: teamA(world, { channelId: world.channelId }), body: { name: "ops" } }),
    foreign: (world) => just({ params: teamB(world, { channelId: world.channelId }), body: { name: "taken over", enabled: false } })
  },
  "notifications.deleteChannel": {
    request: (world) => Effect.map(freshChannel(world), (channelId) => ({ params: teamA(world, { channelId }) })),
    foreign: (world) => Effect.map(freshChannel(world), (channelId) => ({ params: teamB(world, { channelId }) }))
  },
  "notifications.sendTestMessage": {
    request: (world) => just({ params: teamA(world, { channelId: world.channelId }) }),
    foreign: (world) => just({ params: teamB(world, { channelId: world.channelId }) })
  },
  "notifications.listDeliveries": {
    request: (world) => just({ params: teamA(world) }),
    // Filtering by team A's channel: an empty list, not team A's deliveries.
    foreign: (world) => just({ params: teamB(world), query: { channelId: world.channelId }, status: 200 })
  }
}

// ---------------------------------------------------------------------------------------------
// What each caller must get, and what no response may contain

interface Expected {
  readonly status: number
  readonly error?: string
  /** Words the message must contain. */
  readonly message?: string
}

const expectedFor = (endpoint: Endpoint, row: Case, caller: CallerSpec, world: WorldShape): Expected => {
  const success = { status: endpoint.successStatus }
  if (!endpoint.authenticated) return success
  if (!caller.authenticated) return { status: 401, error: "unauthorized" }
  if (row.usersOnly === true && caller.kind === "team token") return { status: 403, error: "user_required" }
  if (row.sessionOnly === true && caller.name.includes("cru_")) return { status: 403, error: "session_required" }
  if (endpoint.teamRole === null) return success
  if (caller.roleInA === null) return { status: 404, error: "not_found", message: `team "${world.a.slug}" was not found` }
  const needed = row.effectiveRole ?? endpoint.teamRole
  return includes(caller.roleInA, needed) ? success : { status: 403, error: "forbidden", message: `the ${needed} role` }
}

const fill = (path: string, params: Readonly<Record<string, string>>) =>
  path.replace(/:(\w+)/g, (_, name: string) => {
    const value = params[name]
    assert.isDefined(value, `a value for :${name} in ${path}`)
    return encodeURIComponent(value!)
  })

const withQuery = (path: string, query: Readonly<Record<string, string>> | undefined) =>
  query === undefined ? path : `${path}?${new URLSearchParams(query).toString()}`

const tokenLike = /\bcr[tui]_[0-9A-Za-z]{20,}/g

/** What a response shows that it must not: secrets, and ids of teams the caller may not see. */
const leaks = (
  body: unknown,
  world: WorldShape,
  options: { readonly issuesSecret: boolean; readonly hidden: ReadonlyArray<ReadonlySet<string>> }
): ReadonlyArray<string> => {
  const shown = options.issuesSecret && body !== null && typeof body === "object"
    ? { ...(body as Record<string, unknown>), token: "(issued)", acceptUrl: "(issued)" }
    : body
  const text = typeof shown === "string" ? shown : JSON.stringify(shown) ?? ""
  const found: Array<string> = []
  for (const secret of world.secrets) if (text.includes(secret)) found.push(`a secret (${secret.slice(0, 6)}…)`)
  for (const match of text.matchAll(tokenLike)) found.push(`something token-like (${match[0].slice(0, 8)}…)`)
  if (text.includes("scrypt$")) found.push("a password hash")
  for (const ids of options.hidden) for (const id of ids) if (text.includes(id)) found.push(`the id ${id}`)
  return found
}

/** A streamed endpoint's answer: its status, and its error body or its first message's data. */
const firstOfStream = (server: TestServer.Running, path: string, credentials: Credentials) =>
  Effect.promise(async () => {
    const stream = await EventStream.open(`${server.url}${path}`, {
      ...(credentials.token === undefined ? {} : { authorization: `Bearer ${credentials.token}` }),
      ...(credentials.cookie === undefined ? {} : { cookie: credentials.cookie })
    })
    try {
      const body = stream.status === 200 ? JSON.parse((await stream.next((message) => message.event === "message")).data) : stream.error
      return { status: stream.status, body, headers: stream.headers } satisfies TestServer.Response
    } finally {
      stream.close()
    }
  })

const callerOf = (world: WorldShape, name: CallerName) => world.callers.get(name)!

/** Who may not see team A's ids, and team B's. */
const hiddenFrom = (world: WorldShape, caller: CallerSpec): ReadonlyArray<ReadonlySet<string>> => [
  ...(caller.roleInA === null ? [world.aIds] : []),
  ...(caller.name === "team B's admin team token" ? [] : [world.bIds])
]

// ---------------------------------------------------------------------------------------------

// The same matrix on each storage: Postgres and the memory layers.
for (const storage of TestServer.storages(database)) {
  layer(Layer.effect(World, setUp(storage)), { timeout: "120 seconds" })(`authorization matrix (${storage.name})`, (it) => {
    it.effect("every endpoint of the API has a row, and every endpoint naming a resource has a foreign-id row", () =>
      Effect.sync(() => {
        const keys = endpoints.map((endpoint) => endpoint.key)
        assert.deepStrictEqual(keys.filter((key) => cases[key] === undefined), [], "endpoints missing from the matrix")
        assert.deepStrictEqual(Object.keys(cases).filter((key) => !keys.includes(key)), [], "rows for endpoints the API no longer has")
        const namingResources = endpoints.filter((endpoint) =>
          endpoint.teamRole !== null && placeholders(endpoint.path).some((name) => name !== "team")
        )
        assert.deepStrictEqual(
          namingResources.filter((endpoint) => cases[endpoint.key]!.foreign === undefined).map((endpoint) => endpoint.key),
          [],
          "endpoints taking a resource id without a foreign-id row"
        )
        // The matrix's premise about the API: a new endpoint without credentials is one to review here.
        assert.deepStrictEqual(
          endpoints.filter((endpoint) => !endpoint.authenticated).map((endpoint) => endpoint.key),
          ["health.health", "health.ready", "auth.signup", "auth.login", "auth.logout"]
        )
      }))

    it.effect("the scan finds what it looks for (so a clean scan means something)", () =>
      Effect.gen(function*() {
        const world = yield* World
        const scan = (body: unknown, hidden: ReadonlyArray<ReadonlySet<string>> = []) => leaks(body, world, { issuesSecret: false, hidden })
        assert.lengthOf(scan({ teamId: world.a.teamId }), 0)
        assert.isNotEmpty(scan({ teamId: world.a.teamId }, [world.aIds]))
        assert.isNotEmpty(scan({ workers: [{ id: world.a.workers[1]!.workerId }] }, [world.aIds]))
        assert.isNotEmpty(scan({ note: `token ${world.a.tokens.admin}` }))
        assert.isNotEmpty(scan({ apiToken: world.server.seeded.apiToken }))
        assert.isNotEmpty(scan({ password }))
        assert.isNotEmpty(scan({ hash: "scrypt$32768$8$1$c2FsdA$aGFzaA" }))
        assert.isNotEmpty(scan({ token: "crt_thgwWNiWl3S4XqgS60NfmQyL2XNEGw2aFPaU" }))
        assert.lengthOf(leaks({ token: "crt_thgwWNiWl3S4XqgS60NfmQyL2XNEGw2aFPaU" }, world, { issuesSecret: true, hidden: [] }), 0)
        assert.lengthOf(scan({ display: "crt_thgw…FPaU" }), 0)
      }))

    for (const spec of callerSpecs) {
      it.effect(`${spec.name}: every endpoint answers exactly as the caller's role allows`, () =>
        Effect.gen(function*() {
          const world = yield* World
          const caller = callerOf(world, spec.name)
          const run = runner(world.server)
          const wrong: Array<string> = []
          for (const endpoint of endpoints) {
            const row = cases[endpoint.key]
            if (row === undefined) continue // the first test names it
            const request = yield* row.request(world, caller)
            const path = withQuery(fill(endpoint.path, request.params), request.query)
            const credentials = request.credentials ?? caller.credentials
            const response = row.stream === true
              ? yield* firstOfStream(world.server, path, credentials)
              : yield* run(endpoint.method, path, { ...credentials, body: request.body })
            const expected = expectedFor(endpoint, row, spec, world)
            const what = `${endpoint.method} ${endpoint.path} (${endpoint.key})`
            const body = response.body as { error?: unknown; message?: unknown } | null
            if (response.status !== expected.status) {
              wrong.push(`${what}: ${response.status}, expected ${expected.status}: ${JSON.stringify(response.body)}`)
            } else if (expected.error !== undefined && body?.error !== expected.error) {
              wrong.push(`${what}: error ${JSON.stringify(body?.error)}, expected ${expected.error}`)
            } else if (expected.message !== undefined && !String(body?.message).includes(expected.message)) {
              wrong.push(`${what}: message ${JSON.stringify(body?.message)} does not say ${JSON.stringify(expected.message)}`)
            }
            for (const leak of leaks(response.body, world, { issuesSecret: row.issuesSecret === true, hidden: hiddenFrom(world, spec) })) {
              wrong.push(`${what}: the response shows ${leak}`)
            }
          }
          assert.deepStrictEqual(wrong, [])
        }))
    }

    it.effect("team A is invisible to team B and to a non-member: the same 404 as a team that does not exist", () =>
      Effect.gen(function*() {
        const world = yield* World
        const run = runner(world.server)
        const missingId = world.a.teamId.replace(/[0-9a-f]/g, "0")
        for (const name of ["team B's admin team token", "a user who is no member of team A (cru_ user token)"] as const) {
          const { credentials } = callerOf(world, name)
          for (const [ref, missing] of [[world.a.teamId, missingId], [world.a.slug, "no-such-team"]] as const) {
            for (const tail of ["", "/deployments", `/deployments/${world.deploymentId}`, `/workers/${world.a.workers[0]!.workerId}`]) {
              const hidden = yield* run("GET", `/api/teams/${ref}${tail}`, credentials)
              const absent = yield* run("GET", `/api/teams/${missing}${tail}`, credentials)
              assert.strictEqual(hidden.status, 404, `${name} on ${ref}${tail}`)
              assert.deepStrictEqual(JSON.stringify(hidden.body).replaceAll(ref, missing), JSON.stringify(absent.body), `${name} on ${ref}${tail}`)
            }
          }
        }
      }))

    it.effect("team B naming team A's things on its own paths gets 404 (or 400 for a field) and team A is unchanged", () =>
      Effect.gen(function*() {
        const world = yield* World
        const run = runner(world.server)
        const b = { token: world.b.tokens.admin }
        const admin = asAdminOf(world)
        const base = aBase(world)
        // Team A as its admin sees it; fresh things are made before the first snapshot.
        const prepared: Array<{ readonly endpoint: Endpoint; readonly request: Request & { readonly status?: number } }> = []
        for (const endpoint of endpoints) {
          const foreign = cases[endpoint.key]?.foreign
          if (foreign !== undefined) prepared.push({ endpoint, request: yield* foreign(world) })
        }
        const snapshot = Effect.gen(function*() {
          const ok = must(run)
          const deployments = yield* ok("GET", `${base}/deployments?limit=200`, admin)
          return {
            members: yield* ok("GET", `${base}/members`, admin),
            invitations: yield* ok("GET", `${base}/invitations`, admin),
            tokens: yield* ok("GET", `${base}/tokens`, admin),
            accounts: yield* ok("GET", `${base}/cloudflare/accounts`, admin),
            workers: yield* ok("GET", `${base}/workers`, admin),
            plans: yield* ok("GET", `${base}/plans`, admin),
            deployments: deployments.deployments,
            latestAudit: (yield* ok("GET", `${base}/audit?limit=1`, admin)).entries,
            channels: yield* ok("GET", `${base}/notifications/channels`, admin),
            deliveries: yield* ok("GET", `${base}/notifications/deliveries`, admin)
          }
        })
        const before = yield* snapshot
        const wrong: Array<string> = []
        for (const { endpoint, request } of prepared) {
          const path = withQuery(fill(endpoint.path, request.params), request.query)
          const response = yield* run(endpoint.method, path, { ...b, body: request.body })
          const expected = request.status ?? 404
          const what = `${endpoint.method} ${path} (${endpoint.key})`
          if (response.status !== expected) wrong.push(`${what}: ${response.status}, expected ${expected}: ${JSON.stringify(response.body)}`)
          // A 404 names the id the caller sent, as for any id that does not exist: not a leak.
          const sent = `${path} ${JSON.stringify(request.body ?? null)}`
          const hidden = new Set([...world.aIds].filter((id) => !sent.includes(id)))
          for (const leak of leaks(response.body, world, { issuesSecret: false, hidden: [hidden] })) {
            wrong.push(`${what}: the response shows ${leak}`)
          }
        }
        assert.deepStrictEqual(wrong, [])
        assert.deepStrictEqual(yield* snapshot, before, "team A after team B's requests")
      }))
  })
}
