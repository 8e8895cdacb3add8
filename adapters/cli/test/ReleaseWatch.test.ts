/**
 * The wait loop against a small scripted HTTP server (not CanaryRoll's): a server restarting
 * (no answer, a proxy's 502 page, 503, 504) is waited out until the deadline; a refusal or a
 * nonsensical answer ends the wait at once. The poll interval passes on the TestClock.
 */
import { assert, describe, it } from "@effect/vitest"
import { type Duration, Effect, Exit, Fiber, Option, Redacted } from "effect"
import { FetchHttpClient } from "effect/http"
import { TestClock } from "effect/testing"
import * as http from "node:http"
import type { AddressInfo } from "node:net"
import type { Schemas } from "@canaryroll/api"
import * as CanaryRollApi from "../src/CanaryRollApi.ts"
import * as ReleaseWatch from "../src/ReleaseWatch.ts"

/** One answer to `GET …/deployments/dep_1`: JSON, some other text, or a dropped connection. */
type Answer = { readonly status: number; readonly json: unknown } | { readonly status: number; readonly text: string } | "drop"

const release = (status: Schemas.Status): Schemas.PublicDeployment => ({
  id: "dep_1", workerId: "wrk_1", teamId: "team_1", planId: "plan_1", cfVersionId: "v2", cfPreviousVersionId: "v1",
  status, currentStep: 0, autoAdvance: true, name: null, ticketUrl: null,
  stepsSnapshot: [{ percentage: 10, waitSeconds: 20 }, { percentage: 100, waitSeconds: 20 }],
  startedAt: "2026-11-26T10:00:00.000Z", completedAt: null, createdAt: "2026-11-26T10:00:00.000Z"
})
const ok = (status: Schemas.Status): Answer => ({ status: 200, json: release(status) })
const unavailable: Answer = { status: 503, json: { error: "unavailable", message: "The server is shutting down" } }
const badGateway: Answer = { status: 502, text: "<html><body>502 Bad Gateway</body></html>" }
const gatewayTimeout: Answer = { status: 504, json: { error: "gateway_timeout" } }

/** A server that gives the release's answers in order (the last one from then on) and no events. */
const scriptedServer = (answers: ReadonlyArray<Answer>) =>
  Effect.acquireRelease(
    Effect.callback<{ server: http.Server; url: string; requests: Array<string> }>((resume) => {
      const requests: Array<string> = []
      let next = 0
      const server = http.createServer((request, response) => {
        requests.push(`${request.method} ${request.url}`)
        if (request.url?.endsWith("/events")) {
          response.writeHead(200, { "content-type": "application/json" }).end("[]")
          return
        }
        // A server that predates `progress` (as the hosted CanaryRoll may): progress from the events.
        if (request.url?.endsWith("/progress")) {
          response.writeHead(404, { "content-type": "application/json" }).end(JSON.stringify({ error: "not_found", message: "no such route" }))
          return
        }
        const answer = answers[Math.min(next++, answers.length - 1)]!
        if (answer === "drop") {
          request.socket.destroy()
        } else if ("json" in answer) {
          response.writeHead(answer.status, { "content-type": "application/json" }).end(JSON.stringify(answer.json))
        } else {
          response.writeHead(answer.status, { "content-type": "text/html" }).end(answer.text)
        }
      })
      server.listen(0, "127.0.0.1", () =>
        resume(Effect.succeed({ server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests })))
    }),
    ({ server }) =>
      Effect.callback<void>((resume) => {
        server.closeAllConnections()
        server.close(() => resume(Effect.void))
      })
  )

interface Watched {
  readonly exit: Exit.Exit<CanaryRollApi.Answer<Schemas.PublicDeployment>, ReleaseWatch.WaitTimedOut | CanaryRollApi.ApiError>
  readonly requests: ReadonlyArray<string>
  readonly progress: ReadonlyArray<Schemas.Status>
  readonly outages: ReadonlyArray<string>
  readonly virtualSeconds: number
}

/**
 * Waits for dep_1 with a 1 s poll interval, moving the TestClock a second at a time whenever the
 * loop may be asleep (the HTTP calls themselves take real, if tiny, time).
 */
const watch = (answers: ReadonlyArray<Answer>, timeout: Duration.Input, stopWhenPaused = false) =>
  Effect.gen(function*() {
    const { requests, url } = yield* scriptedServer(answers)
    const api = yield* CanaryRollApi.make({ apiUrl: url, token: Redacted.make("crt_test"), team: "demo" })
    const progress: Array<Schemas.Status> = []
    const outages: Array<string> = []
    const fiber = yield* ReleaseWatch.untilFinished(api, "dep_1", {
      pollInterval: "1 second",
      timeout,
      stopWhenPaused,
      onProgress: (_, seen) => Effect.sync(() => progress.push(seen.status)),
      onUnavailable: (error) => Effect.sync(() => outages.push(error.message))
    }).pipe(Effect.forkChild)
    let virtualSeconds = 0
    while (fiber.pollUnsafe() === undefined) {
      yield* Effect.promise(() => new Promise((resolve) => setTimeout(resolve, 2)))
      yield* TestClock.adjust("1 second")
      virtualSeconds++
    }
    const exit = yield* Fiber.await(fiber)
    return {
      exit,
      requests: requests.filter((request) => !request.endsWith("/events") && !request.endsWith("/progress")),
      progress,
      outages,
      virtualSeconds
    } satisfies Watched
  }).pipe(Effect.scoped, Effect.provide(FetchHttpClient.layer))

const failureOf = (watched: Watched) => Option.getOrUndefined(Exit.findErrorOption(watched.exit))

describe("waiting for a release", () => {
  it.effect("waits out a server that restarts: no answer, 502, 503, 504, until the release finishes", () =>
    Effect.gen(function*() {
      const watched = yield* watch(
        [unavailable, "drop", badGateway, gatewayTimeout, ok("in_progress"), unavailable, ok("completed")],
        "1 hour"
      )
      assert.isTrue(Exit.isSuccess(watched.exit), String(watched.exit))
      if (Exit.isSuccess(watched.exit)) assert.strictEqual(watched.exit.value.value.status, "completed")
      assert.strictEqual(watched.requests.length, 7)
      assert.deepStrictEqual(watched.progress, ["in_progress", "completed"])
      // Said once per outage, not once per poll.
      assert.strictEqual(watched.outages.length, 2)
      assert.include(watched.outages[0], "shutting down")
    }))

  it.effect("gives up only at the deadline (WaitTimedOut), with the last status it read", () =>
    Effect.gen(function*() {
      const never = yield* watch([unavailable], "30 seconds")
      const timedOut = failureOf(never)
      assert.strictEqual(timedOut?._tag, "WaitTimedOut")
      if (timedOut?._tag === "WaitTimedOut") {
        assert.isNull(timedOut.status)
        assert.include(timedOut.unavailable, "503")
        assert.isAtLeast(timedOut.waitedSeconds, 30)
      }
      assert.isAtLeast(never.requests.length, 2)
      assert.strictEqual(never.outages.length, 1)

      const seen = yield* watch([ok("in_progress"), unavailable], "30 seconds")
      assert.deepInclude(failureOf(seen), { _tag: "WaitTimedOut", status: "in_progress" })
    }))

  it.effect("ends at once on a refusal or an answer that makes no sense", () =>
    Effect.gen(function*() {
      const notFound = yield* watch([unavailable, { status: 404, json: { error: "not_found", message: "No such release" } }], "1 hour")
      assert.deepInclude(failureOf(notFound), { _tag: "ApiRefused", status: 404 })
      assert.strictEqual(notFound.requests.length, 2)
      const broken = yield* watch([{ status: 500, json: { error: "internal" } }], "1 hour")
      assert.deepInclude(failureOf(broken), { _tag: "ApiRefused", status: 500 })
      assert.strictEqual(broken.requests.length, 1)
      const nonsense = yield* watch([{ status: 200, json: { id: "dep_1" } }], "1 hour")
      assert.deepInclude(failureOf(nonsense), { _tag: "ServerUnreachable", status: 200 })
      assert.strictEqual(nonsense.requests.length, 1)
    }))
})

describe("a paused release", () => {
  it.effect("ends the wait when asked to (release wait), and is waited through otherwise (the Action)", () =>
    Effect.gen(function*() {
      const stopped = yield* watch([ok("in_progress"), ok("paused"), ok("in_progress"), ok("completed")], "1 hour", true)
      assert.isTrue(Exit.isSuccess(stopped.exit))
      if (Exit.isSuccess(stopped.exit)) assert.strictEqual(stopped.exit.value.value.status, "paused")
      assert.strictEqual(stopped.requests.length, 2)
      const through = yield* watch([ok("in_progress"), ok("paused"), ok("in_progress"), ok("completed")], "1 hour")
      assert.deepStrictEqual(through.progress, ["in_progress", "paused", "in_progress", "completed"])
    }))
})

describe("what is worth asking again", () => {
  it("no answer and 502/503/504, not a refusal or a 500", () => {
    const refused = (status: number) => new CanaryRollApi.ApiRefused({ method: "GET", path: "/x", status, code: "c", message: "m" })
    const unreachable = (status?: number) =>
      new CanaryRollApi.ServerUnreachable(status === undefined ? { url: "http://x", message: "m" } : { url: "http://x", message: "m", status })
    assert.isTrue(ReleaseWatch.isTransient(unreachable()))
    for (const status of [502, 503, 504]) {
      assert.isTrue(ReleaseWatch.isTransient(refused(status)), String(status))
      assert.isTrue(ReleaseWatch.isTransient(unreachable(status)), String(status))
    }
    for (const status of [400, 401, 403, 404, 409, 429, 500]) assert.isFalse(ReleaseWatch.isTransient(refused(status)), String(status))
    assert.isFalse(ReleaseWatch.isTransient(unreachable(200)))
  })
})
