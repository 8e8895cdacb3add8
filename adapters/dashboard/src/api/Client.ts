/**
 * Every call the dashboard makes goes through Effect's `HttpApiClient` built from
 * `@canaryroll/api`'s `Api`: requests are encoded and answers decoded by the server's own
 * schemas. Same origin, so the session cookie goes with each request (`credentials:
 * "same-origin"`, fetch's default) and the server's Origin check passes.
 *
 * `call` runs one request as a Promise for TanStack Query; a refusal becomes an `ApiProblem`
 * holding the API's own `message` (what the screens show), and its status (401 sends the person
 * to the sign-in screen). `change` is a call that changes a release: it carries a fresh
 * `Idempotency-Key`, so a retried click cannot act twice.
 */
import { AuditGroup, AuthGroup, DeploymentsGroup, MeGroup, NotificationsGroup, PlansGroup, TeamsGroup, WorkersGroup } from "@canaryroll/api/Api"
import { Availability } from "@canaryroll/api/ApiError"
import { DashboardGroup } from "@canaryroll/api/Dashboard"
import { RequestErrors } from "@canaryroll/api/RequestErrors"
import * as ApiError from "@canaryroll/api/ApiError"
import { Context, Effect, Schema } from "effect"
import { FetchHttpClient, HttpClient, HttpClientRequest } from "effect/http"
import { HttpApi, HttpApiClient } from "effect/http-api"

/** A request the API refused, or one that never got an answer (`status` 0). */
export class ApiProblem extends Error {
  readonly status: number
  readonly code: string
  constructor(status: number, code: string, message: string) {
    super(message)
    this.status = status
    this.code = code
  }
}

const IdempotencyKey = Context.Reference<string | undefined>("@canaryroll/dashboard/IdempotencyKey", {
  defaultValue: () => undefined
})

/** The status of the last answer of a call: kept for refusals the API does not declare on that endpoint. */
const LastAnswer = Context.Reference<{ status: number } | undefined>("@canaryroll/dashboard/LastAnswer", {
  defaultValue: () => undefined
})

/**
 * The groups of `@canaryroll/api`'s `Api` the dashboard calls (the same definitions, so the same
 * paths, schemas and errors). The audit log and notification groups are declared here too (the
 * settings and audit screens call them): their schemas are already in the build through `Api`.
 */
export class DashboardApi extends HttpApi.make("canaryroll")
  .add(AuthGroup)
  .add(MeGroup)
  .add(TeamsGroup)
  .add(WorkersGroup)
  .add(PlansGroup)
  .add(DeploymentsGroup)
  .add(AuditGroup)
  .add(NotificationsGroup)
  .add(DashboardGroup)
  .middleware(RequestErrors)
  .middleware(Availability)
{}

const makeClient = HttpApiClient.make(DashboardApi, {
  baseUrl: globalThis.location?.origin ?? "http://localhost",
  transformClient: (http) =>
    http.pipe(
      HttpClient.mapRequestEffect((request) =>
        Effect.map(IdempotencyKey, (key) =>
          key === undefined ? HttpClientRequest.acceptJson(request) : HttpClientRequest.setHeader(HttpClientRequest.acceptJson(request), "Idempotency-Key", key))
      ),
      HttpClient.tap((response) =>
        Effect.map(LastAnswer, (answer) => {
          if (answer !== undefined) answer.status = response.status
        })
      )
    )
}).pipe(Effect.provide(FetchHttpClient.layer))

export type Client = Effect.Success<typeof makeClient>

const client: Client = Effect.runSync(makeClient)

const hasApiFields = (error: unknown): error is { readonly _tag: string; readonly error: string; readonly message: string } =>
  typeof error === "object" && error !== null && "_tag" in error && "message" in error && "error" in error &&
  typeof (error as { message: unknown }).message === "string"

const statusOf = (tag: string): number | undefined => (ApiError.status as Record<string, number | undefined>)[tag]

/**
 * A request the typed client refused to encode (a field the API's schema rejects): never sent, so
 * said as the server's 400 would say it, the field first (`ticketUrl: must be …`).
 */
const unsentRequest = (error: Schema.SchemaError): ApiProblem => {
  const [message = "", ...rest] = error.message.split("\n")
  const at = rest.map((line) => /^\s*at (\[.*\])\s*$/.exec(line)?.[1]).find((found) => found !== undefined)
  let field: string | undefined
  try {
    field = at === undefined ? undefined : (JSON.parse(at) as Array<string | number>).join(".")
  } catch {
    field = undefined
  }
  return new ApiProblem(400, "invalid_request", field === undefined || field === "" ? message : `${field}: ${message}`)
}

const toProblem = (error: unknown, answered: number | undefined): ApiProblem => {
  if (hasApiFields(error)) return new ApiProblem(statusOf(error._tag) ?? answered ?? 0, error.error, error.message)
  if (answered === undefined && Schema.isSchemaError(error)) return unsentRequest(error)
  if (answered === 401) return new ApiProblem(401, "unauthorized", "Your session has ended; sign in again.")
  if (answered !== undefined && answered >= 400) {
    return new ApiProblem(answered, `http_${answered}`, `The server answered ${answered}.`)
  }
  if (answered === undefined) return new ApiProblem(0, "unreachable", "The server could not be reached. Check your connection and try again.")
  return new ApiProblem(answered, "unexpected", "The server's answer could not be read.")
}

/** One request of the typed client, as a Promise; refusals are `ApiProblem`s. */
export const call = <A, E>(request: (client: Client) => Effect.Effect<A, E>): Promise<A> => {
  const answer: { status: number } = { status: -1 }
  return Effect.runPromise(
    request(client).pipe(
      Effect.provideService(LastAnswer, answer),
      Effect.mapError((error) => toProblem(error, answer.status === -1 ? undefined : answer.status)),
      Effect.catchDefect((defect) => Effect.fail(toProblem(defect, answer.status === -1 ? undefined : answer.status)))
    )
  ).catch((error: unknown) => {
    throw error instanceof ApiProblem ? error : toProblem(error, answer.status === -1 ? undefined : answer.status)
  })
}

/** A request that changes something: sent with an `Idempotency-Key` of its own. */
export const change = <A, E>(request: (client: Client) => Effect.Effect<A, E>, key: string = crypto.randomUUID()): Promise<A> =>
  call((client) => request(client).pipe(Effect.provideService(IdempotencyKey, key)))

export const isProblem = (error: unknown): error is ApiProblem => error instanceof ApiProblem

/** A sentence for any failure a screen shows. */
export const messageOf = (error: unknown): string =>
  error instanceof ApiProblem ? error.message : error instanceof Error ? error.message : String(error)
