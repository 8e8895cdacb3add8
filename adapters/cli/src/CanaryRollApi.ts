/**
 * A client for a CanaryRoll server's HTTP API, as the CLI and the GitHub Action use it:
 * `HttpApiClient.make(ClientApi, { baseUrl })` over `@canaryroll/api` (so requests are built and
 * answers read with the server's own definition; releases as `PublicDeployment`, lenient toward
 * the hosted CanaryRoll and older servers), a bearer token, everything under
 * `{apiUrl}/api/teams/{team}`. Every call answers the server's JSON (for `--json`) beside the
 * decoded value.
 *
 * A refusal keeps the server's `{ error, message }` (the message already says what is wrong, and a
 * 403 names the role needed); a server that cannot be reached or answers something unreadable is
 * an error of its own, so callers can tell "the server said no" from "no answer".
 *
 * A call that changes a release (create, start, advance, pause, resume, roll back, cancel) is safe
 * to send again, and is sent again when no answer came back or the server was restarting (no
 * answer, 502, 503, 504, or `409 idempotency_key_in_flight`), a few times with growing pauses
 * (`retryDelays`). Each call carries an `Idempotency-Key` of its own, the same on each of its
 * attempts, so the server carries it out once and answers the retries with the first answer.
 * Reads are not retried here (`ReleaseWatch` waits out a restarting server its own way).
 *
 * @since 0.1.0
 */
import { Api, ApiError, type Schemas } from "@canaryroll/api"
import { sessionCookie } from "@canaryroll/api/Access"
import { Context, type Duration, Effect, Redacted, Schedule, Schema } from "effect"
import { HttpClient, type HttpClientError, type HttpClientResponse, HttpClientRequest } from "effect/http"
import { HttpApiClient } from "effect/http-api"

export interface Connection {
  /** The server's base URL, e.g. `https://canaryroll.example.com` (a trailing `/api` is dropped: `baseUrlOf`). */
  readonly apiUrl: string
  /** An API token (`crt_…`, `cru_…`), sent as `Authorization: Bearer`. */
  readonly token?: Redacted.Redacted<string> | undefined
  /**
   * A session from `canaryroll login`, sent as the session cookie when there is no token. Sent
   * without `Origin`, as a program does, so the server's cross-site checks let it through.
   */
  readonly session?: Redacted.Redacted<string> | undefined
  /** The team's id or slug; empty for the calls that are not a team's (log-in, the caller's teams). */
  readonly team: string
  /** Extra headers on every call (Cloudflare Access service tokens in front of the server). */
  readonly headers?: Readonly<Record<string, string>>
  /** How a call that changes a release is sent again (default: 3 more times, after 1 s, 2 s and 4 s). */
  readonly retry?: Retry
}

/** `times` more attempts at most, the first after `firstDelay`, each next one twice as long after. */
export interface Retry {
  readonly times: number
  readonly firstDelay: Duration.Input
}

export const defaultRetry: Retry = { times: 3, firstDelay: "1 second" }

/** The server answered with an error status. */
export class ApiRefused extends Schema.TaggedError<ApiRefused>()("ApiRefused", {
  method: Schema.String,
  path: Schema.String,
  status: Schema.Number,
  /** The server's stable code (`forbidden`, `invalid_state`, …), or `http_<status>`. */
  code: Schema.String,
  message: Schema.String
}) {}

/** No answer: connection refused, DNS, TLS, a proxy's HTML page. */
export class ServerUnreachable extends Schema.TaggedError<ServerUnreachable>()("ServerUnreachable", {
  url: Schema.String,
  message: Schema.String,
  /** The HTTP status when something did answer, but not our server's JSON (a proxy's 502 page). */
  status: Schema.optional(Schema.Number)
}) {}

export type ApiError = ApiRefused | ServerUnreachable

/** Statuses a server or its proxy answers while it restarts or is replaced. */
const transientStatuses: ReadonlySet<number> = new Set([502, 503, 504])

/** Worth asking again: no answer at all, or a gateway's or an unavailable server's status. */
export const isTransient = (error: ApiError): boolean =>
  error._tag === "ServerUnreachable"
    ? error.status === undefined || transientStatuses.has(error.status)
    : transientStatuses.has(error.status)

/**
 * Worth sending a call that changes a release again, with its key: no answer or a restarting
 * server, or the server still carrying out the first attempt.
 */
export const isRetryable = (error: ApiError): boolean =>
  isTransient(error) || (error._tag === "ApiRefused" && error.status === 409 && error.code === "idempotency_key_in_flight")

/** A decoded answer and the JSON it came from. */
export interface Answer<A> {
  readonly value: A
  readonly json: unknown
  /** The session the answer started (log-in and sign-up set the session cookie). */
  readonly session?: Redacted.Redacted<string> | undefined
}

/** What people may ask of a release: the API's table of person commands. */
export type ReleaseAction = Api.PersonCommand.Name

export interface ActOptions {
  /** Recorded by pause, rollback and cancel. */
  readonly reason?: string | undefined
  /** `advance`: the step it moves on from (the release's `currentStep` as the caller saw it); required there. */
  readonly fromStep?: number | undefined
}

export interface CreateRelease {
  readonly workerId: string
  readonly versionId: string
  readonly planId?: string | undefined
  readonly autoAdvance?: boolean | undefined
  readonly name?: string | undefined
  readonly ticketUrl?: string | undefined
}

export interface ListReleases {
  readonly workerId?: string | undefined
  readonly status?: ReadonlyArray<Schemas.Status> | undefined
  readonly limit?: number | undefined
  readonly cursor?: string | undefined
}

export interface AuditQuery {
  readonly deploymentId?: string | undefined
  readonly type?: ReadonlyArray<string> | undefined
  readonly limit?: number | undefined
  readonly cursor?: string | undefined
}

/**
 * The server's base URL as people paste it: with or without a trailing `/` or `/api` (the
 * API's own prefix, which every call adds), e.g. `https://canaryroll.example.com/api/` →
 * `https://canaryroll.example.com`.
 */
export const baseUrlOf = (apiUrl: string) => apiUrl.trim().replace(/\/+$/, "").replace(/\/api$/, "")

/** Sent with every call: the server shows it in the list of sessions. */
export const userAgent = "canaryroll-cli/0.1.0"

/** The session secret in an answer's `Set-Cookie` (log-in and sign-up set it). */
const sessionOf = (response: HttpClientResponse.HttpClientResponse | undefined): Redacted.Redacted<string> | undefined => {
  const header = response?.headers["set-cookie"]
  const cookies = Array.isArray(header) ? header : typeof header === "string" ? header.split(/,(?=\s*[\w-]+=)/) : []
  for (const cookie of cookies) {
    const match = new RegExp(`^\\s*${sessionCookie}=([^;]*)`).exec(cookie)
    if (match !== null && match[1] !== undefined && match[1] !== "") return Redacted.make(decodeURIComponent(match[1]))
  }
  return undefined
}

const errorBody = Schema.Struct({ error: Schema.optional(Schema.String), message: Schema.optional(Schema.String) })

/** What one call (all its attempts) shares with the HTTP client under it: its key, and the last answer. */
interface CallState {
  readonly idempotencyKey: string | undefined
  response: HttpClientResponse.HttpClientResponse | undefined
}

const CurrentCall = Context.Reference<CallState | undefined>("@canaryroll/cli/CanaryRollApi/CurrentCall", {
  defaultValue: () => undefined
})

const isApiError = (error: unknown): error is { readonly _tag: keyof typeof ApiError.status; readonly error: string; readonly message: string } =>
  typeof error === "object" && error !== null && "_tag" in error && typeof error._tag === "string" &&
  Object.hasOwn(ApiError.status, error._tag)

const defined = <A extends Record<string, unknown>>(fields: A) =>
  Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined)) as {
    [K in keyof A as undefined extends A[K] ? never : K]: A[K]
  } & { [K in keyof A as undefined extends A[K] ? K : never]?: Exclude<A[K], undefined> }

export const make = Effect.fnUntraced(function*(connection: Connection) {
  const apiUrl = baseUrlOf(connection.apiUrl)
  const team = connection.team
  const client = yield* HttpApiClient.make(Api.ClientApi, {
    baseUrl: apiUrl,
    transformClient: (http) =>
      http.pipe(
        HttpClient.mapRequestEffect((request) =>
          Effect.map(CurrentCall, (call) => {
            const authenticated = connection.token !== undefined
              ? HttpClientRequest.bearerToken(request, Redacted.value(connection.token))
              : connection.session !== undefined
              ? HttpClientRequest.setHeader(request, "Cookie", `${sessionCookie}=${encodeURIComponent(Redacted.value(connection.session))}`)
              : request
            const sent = authenticated.pipe(
              HttpClientRequest.acceptJson,
              HttpClientRequest.setHeader("User-Agent", userAgent),
              HttpClientRequest.setHeaders(connection.headers ?? {})
            )
            return call?.idempotencyKey === undefined ? sent : HttpClientRequest.setHeader(sent, "Idempotency-Key", call.idempotencyKey)
          })
        ),
        // Kept for the caller: the JSON for `--json`, and the status of an answer that did not decode.
        HttpClient.tap((response) =>
          Effect.map(CurrentCall, (call) => {
            if (call !== undefined) call.response = response
          })
        )
      )
  })

  /** Runs one request of `client`, as an `Answer` or an `ApiError`. */
  const call = <A, E>(method: string, path: string, request: Effect.Effect<A, E>): Effect.Effect<Answer<A>, ApiError> =>
    Effect.flatMap(CurrentCall, (outer) => {
      const state: CallState = { idempotencyKey: outer?.idempotencyKey, response: undefined }
      const url = `${apiUrl}/api${path}`
      const unreachable = (message: string, status?: number) =>
        new ServerUnreachable(status === undefined ? { url, message } : { url, message, status })
      const failed = (error: E | HttpClientError.HttpClientError): Effect.Effect<never, ApiError> =>
        Effect.gen(function*() {
          const response = state.response
          // The server's own refusal, decoded by the API's schemas.
          if (isApiError(error)) {
            return yield* new ApiRefused({
              method,
              path,
              status: response?.status ?? ApiError.status[error._tag],
              code: error.error,
              message: error.message
            })
          }
          const reason = error instanceof Error ? error.message : String(error)
          if (response === undefined) return yield* unreachable(reason)
          const text = yield* Effect.orElseSucceed(response.text, () => "")
          let json: unknown
          try {
            json = text === "" ? null : JSON.parse(text)
          } catch {
            // A proxy's or load balancer's HTML page: not our server speaking.
            return yield* unreachable(
              `${method} ${url} answered ${response.status} with something that is not JSON: ${text.slice(0, 120)}`,
              response.status
            )
          }
          if (response.status >= 400) {
            // A status the API does not declare (a proxy's JSON 502, an older server's refusal).
            const parsed = Schema.decodeUnknownOption(errorBody)(json)
            const fields = parsed._tag === "Some" ? parsed.value : {}
            return yield* new ApiRefused({
              method,
              path,
              status: response.status,
              code: fields.error ?? `http_${response.status}`,
              message: fields.message ?? fields.error ?? `${method} ${path} answered ${response.status}`
            })
          }
          return yield* unreachable(`${method} ${url} answered something unexpected: ${reason}`, response.status)
        })
      return request.pipe(
        Effect.flatMap((value) =>
          Effect.map(
            state.response === undefined ? Effect.succeed(null) : Effect.orElseSucceed(state.response.json, () => null),
            (json): Answer<A> => {
              const session = sessionOf(state.response)
              return session === undefined ? { value, json } : { value, json, session }
            }
          )
        ),
        Effect.catch(failed),
        Effect.provideService(CurrentCall, state)
      )
    })

  const retry = connection.retry ?? defaultRetry
  const retrySchedule = Schedule.exponential(retry.firstDelay).pipe(Schedule.upTo({ times: retry.times }))

  /** A call that changes a release: its own Idempotency-Key, sent again on no answer (see the module doc). */
  const change = <A>(answer: Effect.Effect<Answer<A>, ApiError>) =>
    answer.pipe(
      Effect.retry({ schedule: retrySchedule, while: isRetryable }),
      Effect.provideService(CurrentCall, { idempotencyKey: crypto.randomUUID(), response: undefined })
    )

  const deployments = `/teams/${encodeURIComponent(team)}/deployments`
  const teamPath = `/teams/${encodeURIComponent(team)}`
  const act = (action: ReleaseAction, id: string, options: ActOptions = {}) => {
    const params = { team, id }
    const path = `${deployments}/${encodeURIComponent(id)}/${action}`
    const reason = defined({ reason: options.reason })
    return action === "advance"
      ? change(call("POST", path, client.deployments.advance({
        params,
        // Without fromStep the server answers 400 naming it: sent as the caller gave it.
        payload: { ...reason, ...(options.fromStep === undefined ? {} : { fromStep: options.fromStep }) } as {
          readonly fromStep: number
          readonly reason?: string
        }
      })))
      // Every other command's endpoint takes the same request (an optional reason): one call for all.
      : change(call("POST", path, client.deployments[action]({ params, payload: reason })))
  }

  const me = (path: string) => `/${path}`
  return {
    connection,
    // The caller's account: no team needed.
    signup: (input: { readonly email: string; readonly name: string; readonly password: Redacted.Redacted<string>; readonly invitationToken?: string | undefined }) =>
      call("POST", "/auth/signup", client.auth.signup({
        payload: defined({ email: input.email, name: input.name, password: Redacted.value(input.password), invitationToken: input.invitationToken })
      })),
    login: (email: string, password: Redacted.Redacted<string>) =>
      call("POST", "/auth/login", client.auth.login({ payload: { email, password: Redacted.value(password) } })),
    logout: () => call("POST", "/auth/logout", client.auth.logout()),
    me: () => call("GET", me("me"), client.me.me()),
    teams: () => call("GET", me("teams"), client.me.listTeams()),
    createTeam: (name: string, slug: string) => call("POST", me("teams"), client.me.createTeam({ payload: { name, slug } })),
    acceptInvitation: (token: string) =>
      call("POST", me("invitations/accept"), client.me.acceptInvitation({ payload: { token } })),
    // The team's settings.
    members: () => call("GET", `${teamPath}/members`, client.teams.listMembers({ params: { team } })),
    invite: (email: string, role: Schemas.TeamToken["role"]) =>
      call("POST", `${teamPath}/invitations`, client.teams.createInvitation({ params: { team }, payload: { email, role } })),
    cloudflareAccounts: () =>
      call("GET", `${teamPath}/cloudflare/accounts`, client.teams.listCloudflareAccounts({ params: { team } })),
    checkCloudflareAccount: (accountId: string) =>
      call(
        "GET",
        `${teamPath}/cloudflare/accounts/${encodeURIComponent(accountId)}/check`,
        client.teams.checkCloudflareAccount({ params: { team, accountId } })
      ),
    saveCloudflareAccount: (accountId: string, apiToken: Redacted.Redacted<string>) =>
      call(
        "PUT",
        `${teamPath}/cloudflare/accounts/${encodeURIComponent(accountId)}`,
        client.teams.saveCloudflareAccount({ params: { team, accountId }, payload: { apiToken: Redacted.value(apiToken) } })
      ),
    registerWorker: (input: { readonly accountId: string; readonly scriptName: string; readonly defaultPlanId?: string | undefined }) =>
      call("POST", `${teamPath}/workers`, client.workers.registerWorker({ params: { team }, payload: defined({ ...input }) })),
    versions: (workerId: string) =>
      call(
        "GET",
        `${teamPath}/workers/${encodeURIComponent(workerId)}/versions`,
        client.workers.listVersions({ params: { team, workerId } })
      ),
    plan: (plan: string) =>
      call("GET", `${teamPath}/plans/${encodeURIComponent(plan)}`, client.plans.getPlan({ params: { team, plan } })),
    createPlan: (payload: typeof Api.PlanRequest.Type & { readonly slug: string }) =>
      call("POST", `${teamPath}/plans`, client.plans.createPlan({ params: { team }, payload })),
    updatePlan: (plan: string, payload: typeof Api.PlanRequest.Type) =>
      call("PUT", `${teamPath}/plans/${encodeURIComponent(plan)}`, client.plans.updatePlan({ params: { team, plan }, payload })),
    channels: () =>
      call("GET", `${teamPath}/notifications/channels`, client.notifications.listChannels({ params: { team } })),
    createChannel: (payload: typeof Api.ChannelRequest.Type) =>
      call("POST", `${teamPath}/notifications/channels`, client.notifications.createChannel({ params: { team }, payload })),
    testChannel: (channelId: string) =>
      call(
        "POST",
        `${teamPath}/notifications/channels/${encodeURIComponent(channelId)}/test`,
        client.notifications.sendTestMessage({ params: { team, channelId } })
      ),
    createRelease: (input: CreateRelease) =>
      change(call(
        "POST",
        `${deployments}/workers/${encodeURIComponent(input.workerId)}/deployments`,
        client.deployments.createDeployment({
          params: { team, workerId: input.workerId },
          payload: defined({
            versionId: input.versionId,
            planId: input.planId,
            autoAdvance: input.autoAdvance,
            name: input.name,
            ticketUrl: input.ticketUrl
          })
        })
      )),
    release: (id: string) =>
      call("GET", `${deployments}/${encodeURIComponent(id)}`, client.deployments.getDeployment({ params: { team, id } })),
    events: (id: string) =>
      call("GET", `${deployments}/${encodeURIComponent(id)}/events`, client.deployments.deploymentEvents({ params: { team, id } })),
    /** Where the release stands, computed by the server's core at its clock (a 404 from a server that predates it). */
    progress: (id: string) =>
      call("GET", `${deployments}/${encodeURIComponent(id)}/progress`, client.dashboard.progress({ params: { team, id } })),
    preflight: (id: string) =>
      call("GET", `${deployments}/${encodeURIComponent(id)}/preflight`, client.deployments.preflight({ params: { team, id } })),
    act,
    releases: (filter: ListReleases) =>
      call("GET", deployments, client.deployments.listDeployments({ params: { team }, query: defined({ ...filter }) })),
    plans: () => call("GET", `${teamPath}/plans`, client.plans.listPlans({ params: { team } })),
    workers: () => call("GET", `${teamPath}/workers`, client.workers.listWorkers({ params: { team } })),
    tokens: () => call("GET", `${teamPath}/tokens`, client.teams.listTokens({ params: { team } })),
    createToken: (name: string, role: Schemas.TeamToken["role"]) =>
      call("POST", `${teamPath}/tokens`, client.teams.createToken({ params: { team }, payload: { name, role } })),
    revokeToken: (id: string) =>
      call("DELETE", `${teamPath}/tokens/${encodeURIComponent(id)}`, client.teams.revokeToken({ params: { team, tokenId: id } })),
    audit: (filter: AuditQuery) =>
      call("GET", `${teamPath}/audit`, client.audit.auditLog({ params: { team }, query: defined({ ...filter }) })),
    releaseUrl: (id: string) => releaseUrl(apiUrl, team, id)
  }
})

/** The page people open for a release (the same link the server puts in notifications). */
export const releaseUrl = (apiUrl: string, team: string, releaseId: string) =>
  `${apiUrl.replace(/\/+$/, "")}/teams/${encodeURIComponent(team)}/deployments/${encodeURIComponent(releaseId)}`

export type CanaryRollApi = Effect.Success<ReturnType<typeof make>>
