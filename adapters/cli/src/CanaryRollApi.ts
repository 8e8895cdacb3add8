/**
 * A client for a CanaryRoll server's HTTP API, as the CLI and the GitHub Action use it: bearer
 * token, JSON in and out, everything under `{apiUrl}/api/teams/{team}`. Every call answers the
 * server's JSON (for `--json`) beside the decoded value.
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
import { type Duration, Effect, Redacted, Schedule, Schema } from "effect"
import { HttpClient, HttpClientRequest } from "effect/http"
import * as ApiShapes from "./ApiShapes.ts"

export interface Connection {
  /** The server's base URL, e.g. `https://canaryroll.example.com` (without `/api`). */
  readonly apiUrl: string
  readonly token: Redacted.Redacted<string>
  /** The team's id or slug. */
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
}

export type ReleaseAction = "start" | "advance" | "pause" | "resume" | "rollback" | "cancel"

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
  readonly status?: string | undefined
  readonly limit?: number | undefined
  readonly cursor?: string | undefined
}

export interface AuditQuery {
  readonly deploymentId?: string | undefined
  readonly type?: string | undefined
  readonly limit?: number | undefined
  readonly cursor?: string | undefined
}

const errorBody = Schema.Struct({ error: Schema.optional(Schema.String), message: Schema.optional(Schema.String) })

const query = (params: Readonly<Record<string, string | number | undefined>>) => {
  const defined = Object.entries(params).filter((entry): entry is [string, string | number] => entry[1] !== undefined)
  return defined.length === 0 ? "" : `?${new URLSearchParams(defined.map(([key, value]) => [key, String(value)]))}`
}

export const make = Effect.fnUntraced(function*(connection: Connection) {
  const http = yield* HttpClient.HttpClient
  const base = `${connection.apiUrl.replace(/\/+$/, "")}/api`
  const team = `/teams/${encodeURIComponent(connection.team)}`

  const call = <S extends Schema.Top>(
    method: "GET" | "POST" | "DELETE",
    path: string,
    schema: S,
    body?: unknown,
    headers: Readonly<Record<string, string>> = {}
  ): Effect.Effect<Answer<S["Type"]>, ApiError, S["DecodingServices"]> =>
    Effect.gen(function*() {
      const url = `${base}${path}`
      let request = HttpClientRequest.make(method)(url).pipe(
        HttpClientRequest.bearerToken(Redacted.value(connection.token)),
        HttpClientRequest.acceptJson,
        HttpClientRequest.setHeaders(connection.headers ?? {}),
        HttpClientRequest.setHeaders(headers)
      )
      if (body !== undefined) request = HttpClientRequest.bodyJsonUnsafe(request, body)
      const unreachable = (message: string, status?: number) =>
        new ServerUnreachable(status === undefined ? { url, message } : { url, message, status })
      const response = yield* http.execute(request).pipe(
        Effect.mapError((error) => unreachable(error.message))
      )
      const text = yield* response.text.pipe(Effect.mapError((error) => unreachable(error.message)))
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
      const value = yield* Schema.decodeUnknownEffect(schema)(json).pipe(
        Effect.mapError((error) => unreachable(`${method} ${url} answered something unexpected: ${error.message}`, response.status))
      )
      return { value, json }
    })

  const retry = connection.retry ?? defaultRetry
  const retrySchedule = Schedule.exponential(retry.firstDelay).pipe(Schedule.upTo({ times: retry.times }))

  /** A call that changes a release: its own Idempotency-Key, sent again on no answer (see the module doc). */
  const change = <S extends Schema.Top>(path: string, schema: S, body: unknown) => {
    const key = crypto.randomUUID()
    return call("POST", path, schema, body, { "Idempotency-Key": key }).pipe(
      Effect.retry({ schedule: retrySchedule, while: isRetryable })
    )
  }

  const deployments = `${team}/deployments`
  return {
    connection,
    createRelease: (input: CreateRelease) =>
      change(`${deployments}/workers/${encodeURIComponent(input.workerId)}/deployments`, ApiShapes.Deployment, {
        versionId: input.versionId,
        ...(input.planId === undefined ? {} : { planId: input.planId }),
        ...(input.autoAdvance === undefined ? {} : { autoAdvance: input.autoAdvance }),
        ...(input.name === undefined ? {} : { name: input.name }),
        ...(input.ticketUrl === undefined ? {} : { ticketUrl: input.ticketUrl })
      }),
    release: (id: string) => call("GET", `${deployments}/${encodeURIComponent(id)}`, ApiShapes.Deployment),
    events: (id: string) => call("GET", `${deployments}/${encodeURIComponent(id)}/events`, Schema.Array(ApiShapes.DeploymentEvent)),
    preflight: (id: string) => call("GET", `${deployments}/${encodeURIComponent(id)}/preflight`, ApiShapes.Preflight),
    act: (action: ReleaseAction, id: string, options: ActOptions = {}) =>
      change(`${deployments}/${encodeURIComponent(id)}/${action}`, ApiShapes.Deployment, {
        ...(options.fromStep === undefined ? {} : { fromStep: options.fromStep }),
        ...(options.reason === undefined ? {} : { reason: options.reason })
      }),
    releases: (filter: ListReleases) =>
      call("GET", `${deployments}${query({ ...filter })}`, ApiShapes.DeploymentPage),
    plans: () => call("GET", `${team}/plans`, Schema.Array(ApiShapes.Plan)),
    workers: () => call("GET", `${team}/workers`, Schema.Array(ApiShapes.Worker)),
    tokens: () => call("GET", `${team}/tokens`, Schema.Array(ApiShapes.TeamToken)),
    createToken: (name: string, role: string) => call("POST", `${team}/tokens`, ApiShapes.IssuedTeamToken, { name, role }),
    revokeToken: (id: string) => call("DELETE", `${team}/tokens/${encodeURIComponent(id)}`, Schema.Unknown),
    audit: (filter: AuditQuery) => call("GET", `${team}/audit${query({ ...filter })}`, ApiShapes.AuditPage),
    releaseUrl: (id: string) => ApiShapes.releaseUrl(connection.apiUrl, connection.team, id)
  }
})

export type CanaryRollApi = Effect.Success<ReturnType<typeof make>>
