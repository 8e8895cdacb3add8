/**
 * The API client's calls that change a release, against a small scripted HTTP server (not
 * CanaryRoll's): each call carries an `Idempotency-Key` of its own, and is sent again with the
 * same key when no answer came back, the server was restarting or was still carrying out the first
 * attempt; a refusal is not sent again, and reads carry no key. An advance sends `fromStep`.
 * Pauses between attempts are a millisecond here, on the real clock.
 */
import { assert, describe, it } from "@effect/vitest"
import { Cause, Effect, Exit, Option, Redacted } from "effect"
import { FetchHttpClient } from "effect/http"
import * as http from "node:http"
import type { AddressInfo } from "node:net"
import type { Schemas } from "@canaryroll/api"
import * as CanaryRollApi from "../src/CanaryRollApi.ts"

type Answer = { readonly status: number; readonly json: unknown } | "drop"

interface Seen {
  readonly method: string
  readonly url: string
  readonly key: string | undefined
  readonly body: string
}

const release: Schemas.PublicDeployment = {
  id: "dep_1", workerId: "wrk_1", teamId: "team_1", planId: "plan_1", cfVersionId: "v2", cfPreviousVersionId: "v1",
  status: "in_progress", currentStep: 1, autoAdvance: false, name: null, ticketUrl: null,
  stepsSnapshot: [{ percentage: 10, waitSeconds: 20 }, { percentage: 50, waitSeconds: 20 }, { percentage: 100, waitSeconds: 20 }],
  startedAt: "2026-11-26T10:00:00.000Z", completedAt: null, createdAt: "2026-11-26T10:00:00.000Z"
}
const ok: Answer = { status: 200, json: release }
const unavailable: Answer = { status: 503, json: { error: "unavailable", message: "the database is unavailable; try again shortly" } }
const inFlight: Answer = { status: 409, json: { error: "idempotency_key_in_flight", message: "still being carried out" } }
const refused: Answer = { status: 409, json: { error: "invalid_state", message: "fromStep 0 is not the deployment's current step" } }

/** A server that gives its answers in order (the last one from then on), and what it was sent. */
const scriptedServer = (answers: ReadonlyArray<Answer>) =>
  Effect.acquireRelease(
    Effect.callback<{ server: http.Server; url: string; seen: Array<Seen> }>((resume) => {
      const seen: Array<Seen> = []
      const server = http.createServer((request, response) => {
        let body = ""
        request.on("data", (chunk) => body += chunk)
        request.on("end", () => {
          const key = request.headers["idempotency-key"]
          seen.push({ method: request.method ?? "", url: request.url ?? "", key: typeof key === "string" ? key : undefined, body })
          const answer = answers[Math.min(seen.length - 1, answers.length - 1)]!
          if (answer === "drop") request.socket.destroy()
          else response.writeHead(answer.status, { "content-type": "application/json" }).end(JSON.stringify(answer.json))
        })
      })
      server.listen(0, "127.0.0.1", () =>
        resume(Effect.succeed({ server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen })))
    }),
    ({ server }) =>
      Effect.callback<void>((resume) => {
        server.closeAllConnections()
        server.close(() => resume(Effect.void))
      })
  )

const client = (url: string) =>
  CanaryRollApi.make({ apiUrl: url, token: Redacted.make("crt_test"), team: "demo", retry: { times: 3, firstDelay: "1 millis" } })

const run = <A, E>(answers: ReadonlyArray<Answer>, use: (api: CanaryRollApi.CanaryRollApi) => Effect.Effect<A, E>) =>
  Effect.gen(function*() {
    const { seen, url } = yield* scriptedServer(answers)
    const api = yield* client(url)
    const exit = yield* Effect.exit(use(api))
    return { exit, seen }
  }).pipe(Effect.scoped, Effect.provide(FetchHttpClient.layer))

describe("calls that change a release", () => {
  it.live("are sent again with the same Idempotency-Key after no answer, a 503 or a request still in flight", () =>
    Effect.gen(function*() {
      const { exit, seen } = yield* run(["drop", unavailable, inFlight, ok], (api) => api.act("advance", "dep_1", { fromStep: 1 }))
      assert.isTrue(Exit.isSuccess(exit), String(exit))
      assert.lengthOf(seen, 4)
      const key = seen[0]!.key
      assert.match(key ?? "", /^[0-9a-f-]{36}$/)
      for (const request of seen) {
        assert.strictEqual(request.method, "POST")
        assert.strictEqual(request.url, "/api/teams/demo/deployments/dep_1/advance")
        assert.strictEqual(request.key, key, "every attempt carries the first attempt's key")
        assert.deepStrictEqual(JSON.parse(request.body), { fromStep: 1 })
      }
    }))

  it.live("give up after their retries, with the last answer", () =>
    Effect.gen(function*() {
      const { exit, seen } = yield* run([unavailable], (api) => api.act("pause", "dep_1", { reason: "lunch" }))
      assert.lengthOf(seen, 4, "the first attempt and three more")
      assert.isTrue(Exit.isFailure(exit))
      assert.deepStrictEqual(JSON.parse(seen[0]!.body), { reason: "lunch" })
    }))

  it.live("are not sent again when the server refuses them", () =>
    Effect.gen(function*() {
      const { exit, seen } = yield* run([refused, ok], (api) => api.act("advance", "dep_1", { fromStep: 0 }))
      assert.lengthOf(seen, 1)
      assert.isTrue(Exit.isFailure(exit))
      const error = Exit.isFailure(exit) ? Cause.findErrorOption(exit.cause) : Option.none()
      assert.isTrue(Option.isSome(error) && error.value._tag === "ApiRefused" && error.value.code === "invalid_state", String(exit))
    }))

  it.live("each have a key of their own; reads have none", () =>
    Effect.gen(function*() {
      const { seen } = yield* run([{ status: 201, json: release }, ok], (api) =>
        Effect.gen(function*() {
          yield* api.createRelease({ workerId: "wrk_1", versionId: "v2" })
          yield* api.act("start", "dep_1")
          yield* api.release("dep_1")
        }))
      assert.deepStrictEqual(seen.map((request) => request.method), ["POST", "POST", "GET"])
      assert.isString(seen[0]!.key)
      assert.isString(seen[1]!.key)
      assert.notStrictEqual(seen[0]!.key, seen[1]!.key)
      assert.isUndefined(seen[2]!.key)
      assert.deepStrictEqual(JSON.parse(seen[1]!.body), {})
    }))

  it("retry what may have been lost or is still running, never a refusal", () => {
    const refusal = (status: number, code: string) =>
      new CanaryRollApi.ApiRefused({ method: "POST", path: "/x", status, code, message: "m" })
    assert.isTrue(CanaryRollApi.isRetryable(new CanaryRollApi.ServerUnreachable({ url: "u", message: "ECONNRESET" })))
    assert.isTrue(CanaryRollApi.isRetryable(refusal(409, "idempotency_key_in_flight")))
    for (const status of [502, 503, 504]) assert.isTrue(CanaryRollApi.isRetryable(refusal(status, "unavailable")))
    for (const [status, code] of [[400, "invalid_request"], [409, "invalid_state"], [422, "idempotency_key_reused"], [500, "internal"]] as const) {
      assert.isFalse(CanaryRollApi.isRetryable(refusal(status, code)), code)
    }
    assert.deepStrictEqual(CanaryRollApi.defaultRetry, { times: 3, firstDelay: "1 second" })
  })
})

describe("the server's URL", () => {
  it("is taken with or without a trailing / or /api", () => {
    for (const given of ["https://cr.example.com", "https://cr.example.com/", "https://cr.example.com/api", "https://cr.example.com/api/", " https://cr.example.com/api// "]) {
      assert.strictEqual(CanaryRollApi.baseUrlOf(given), "https://cr.example.com", given)
    }
    assert.strictEqual(CanaryRollApi.baseUrlOf("https://example.com/canaryroll/api"), "https://example.com/canaryroll")
  })
})

