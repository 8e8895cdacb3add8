/**
 * A person's request is safe to send twice (issue 12, item 6), over real HTTP against a whole
 * server on real Postgres, the releases stepped on the TestClock:
 *
 * - `POST …/advance` names the step it moves on from (`fromStep`): a retried advance moves the
 *   release one step, not two, and an advance from a step the release is not at is
 *   `409 invalid_state` saying where it is; a request without `fromStep` is 400 naming it.
 * - Every request that changes a release honours `Idempotency-Key`: the same key and request get
 *   the first response again (`Idempotent-Replayed: true`) and change nothing more; the key with
 *   another request is 422 and changes nothing; a key still being carried out is 409; keys are
 *   forgotten after 24 hours and are per team.
 */
import { assert, describe, it } from "@effect/vitest"
import * as TestDatabase from "@canaryroll/postgres/test-database"
import { Clock, Context, Effect } from "effect"
import { TestClock } from "effect/testing"
import * as Idempotency from "../src/handlers/Idempotency.ts"
import * as IdempotencyKeys from "../src/IdempotencyKeys.ts"
import * as TestServer from "./support/TestServer.ts"
import * as TestTeam from "./support/TestTeam.ts"

const database = TestDatabase.forFile()

const replayed = (response: TestServer.Response) => response.headers.get("idempotent-replayed")

const expectError = (response: TestServer.Response, status: number, error: string, mentions?: string) => {
  const what = `${response.status} ${JSON.stringify(response.body)}`
  assert.strictEqual(response.status, status, what)
  assert.deepStrictEqual(Object.keys(response.body).sort(), ["error", "message"], what)
  assert.strictEqual(response.body.error, error, what)
  if (mentions !== undefined) assert.include(response.body.message, mentions, what)
}

interface Setup {
  readonly server: TestServer.Running
  readonly team: TestTeam.Team
  readonly base: string
  readonly call: (
    method: string,
    path: string,
    options?: { readonly body?: unknown; readonly key?: string; readonly token?: string }
  ) => Effect.Effect<TestServer.Response>
}

const setup = Effect.gen(function*() {
  const server = yield* TestServer.start(database)
  const team = yield* TestTeam.create(server)
  const base = `/api/teams/${team.slug}/deployments`
  const call: Setup["call"] = (method, path, options = {}) =>
    server.client.request(method, path, {
      token: options.token ?? team.tokens.deploy,
      ...(options.body === undefined ? {} : { body: options.body }),
      ...(options.key === undefined ? {} : { headers: { "Idempotency-Key": options.key } })
    })
  return { server, team, base, call } satisfies Setup
})

/** The release's events, oldest first. */
const events = (s: Setup, id: string) =>
  Effect.map(s.call("GET", `${s.base}/${id}/events`), (response) => response.body as ReadonlyArray<any>)

const count = (list: ReadonlyArray<any>, type: string) => list.filter((event) => event.eventType === type).length

/** Steps the scheduler and 5 s of TestClock time until the release's step `step` had a healthy check. */
const untilHealthyAt = (s: Setup, id: string, step: number) =>
  Effect.gen(function*() {
    for (let round = 0; round < 100; round++) {
      const seen = yield* events(s, id)
      if (seen.some((event) => event.eventType === "HealthChecked" && event.stepIndex === step && event.details.verdict === "healthy")) {
        return
      }
      yield* TestServer.runDue(s.server)
      yield* TestClock.adjust("5 seconds")
    }
    return assert.fail(`release ${id} never had a healthy check at step ${step}`)
  })

/** A started release of the first Worker that waits for a person at each step. */
const manualRelease = (s: Setup) =>
  Effect.gen(function*() {
    const worker = s.team.workers[0]!
    const created = yield* s.call("POST", `${s.base}/workers/${worker.workerId}/deployments`, {
      body: { versionId: worker.goodVersionId, autoAdvance: false }
    })
    TestTeam.expectStatus(created, 201, "create")
    TestTeam.expectStatus(yield* s.call("POST", `${s.base}/${created.body.id}/start`), 200, "start")
    return created.body.id as string
  })

describe("advance names the step it moves on from", () => {
  it.effect("a retried advance moves the release one step, not two: the retry is 409 invalid_state", () =>
    Effect.gen(function*() {
      const s = yield* setup
      const id = yield* manualRelease(s)
      yield* untilHealthyAt(s, id, 0)
      const advanced = yield* s.call("POST", `${s.base}/${id}/advance`, { body: { fromStep: 0 } })
      TestTeam.expectStatus(advanced, 200, "advance from step 0")
      assert.strictEqual(advanced.body.currentStep, 1)
      // The answer was lost; by the time the client retries, step 1 is live and healthy, so an
      // advance "from wherever it is" would complete the release.
      yield* untilHealthyAt(s, id, 1)
      const retried = yield* s.call("POST", `${s.base}/${id}/advance`, { body: { fromStep: 0 } })
      expectError(retried, 409, "invalid_state", "at step 1 (100%)")
      assert.include(retried.body.message, "fromStep 1")
      const after = yield* s.call("GET", `${s.base}/${id}`)
      assert.strictEqual(after.body.status, "in_progress")
      assert.strictEqual(after.body.currentStep, 1)
      assert.strictEqual(count(yield* events(s, id), "Promoted"), 1)
      assert.strictEqual(count(yield* events(s, id), "Completed"), 0)
    }).pipe(Effect.scoped))

  it.effect("an advance from a step the release has not reached is 409 invalid_state; no fromStep is 400", () =>
    Effect.gen(function*() {
      const s = yield* setup
      const id = yield* manualRelease(s)
      yield* untilHealthyAt(s, id, 0)
      const before = yield* events(s, id)
      expectError(yield* s.call("POST", `${s.base}/${id}/advance`, { body: { fromStep: 1 } }), 409, "invalid_state", "at step 0 (50%)")
      for (const body of [undefined, {}, { reason: "ship it" }, { fromStep: -1 }, { fromStep: 0.5 }, { fromStep: "0" }]) {
        expectError(yield* s.call("POST", `${s.base}/${id}/advance`, body === undefined ? {} : { body }), 400, "invalid_request", "fromStep")
      }
      assert.deepStrictEqual(yield* events(s, id), before, "nothing was recorded")
      // From the step it is at, it moves on.
      const advanced = yield* s.call("POST", `${s.base}/${id}/advance`, { body: { fromStep: 0, reason: "looks good" } })
      TestTeam.expectStatus(advanced, 200, "advance from step 0")
      assert.strictEqual(advanced.body.currentStep, 1)
    }).pipe(Effect.scoped))
})

describe("Idempotency-Key", () => {
  it.effect("the same key and request: the first response again, and nothing happens twice", () =>
    Effect.gen(function*() {
      const s = yield* setup
      const worker = s.team.workers[0]!
      const create = { versionId: worker.goodVersionId, autoAdvance: false, name: "Release 7" }
      const created = yield* s.call("POST", `${s.base}/workers/${worker.workerId}/deployments`, { body: create, key: "create-7" })
      TestTeam.expectStatus(created, 201, "create")
      assert.isNull(replayed(created))
      // The same body, its keys in another order: the same request.
      const again = yield* s.call("POST", `${s.base}/workers/${worker.workerId}/deployments`, {
        body: { name: "Release 7", autoAdvance: false, versionId: worker.goodVersionId },
        key: "create-7"
      })
      TestTeam.expectStatus(again, 201, "create, retried")
      assert.strictEqual(replayed(again), "true")
      assert.deepStrictEqual(again.body, created.body)
      const listed = yield* s.call("GET", s.base)
      assert.deepStrictEqual(listed.body.deployments.map((deployment: any) => deployment.id), [created.body.id])

      const id = created.body.id as string
      const started = yield* s.call("POST", `${s.base}/${id}/start`, { key: "start-7" })
      TestTeam.expectStatus(started, 200, "start")
      const startedAgain = yield* s.call("POST", `${s.base}/${id}/start`, { key: "start-7" })
      assert.strictEqual(replayed(startedAgain), "true")
      assert.deepStrictEqual(startedAgain.body, started.body)

      // A refusal is the request's outcome too: replayed, even once the release could move on.
      const early = yield* s.call("POST", `${s.base}/${id}/advance`, { body: { fromStep: 0 }, key: "advance-early" })
      expectError(early, 409, "traffic_not_live")
      yield* untilHealthyAt(s, id, 0)
      const earlyAgain = yield* s.call("POST", `${s.base}/${id}/advance`, { body: { fromStep: 0 }, key: "advance-early" })
      expectError(earlyAgain, 409, "traffic_not_live")
      assert.strictEqual(replayed(earlyAgain), "true")
      assert.strictEqual((yield* s.call("GET", `${s.base}/${id}`)).body.currentStep, 0)

      const advanced = yield* s.call("POST", `${s.base}/${id}/advance`, { body: { fromStep: 0 }, key: "advance-0" })
      TestTeam.expectStatus(advanced, 200, "advance")
      yield* untilHealthyAt(s, id, 1)
      const advancedAgain = yield* s.call("POST", `${s.base}/${id}/advance`, { body: { fromStep: 0 }, key: "advance-0" })
      TestTeam.expectStatus(advancedAgain, 200, "advance, retried")
      assert.strictEqual(replayed(advancedAgain), "true")
      assert.deepStrictEqual(advancedAgain.body, advanced.body, "the first answer, not the release as it is now")
      const seen = yield* events(s, id)
      assert.strictEqual(count(seen, "ReleaseCreated"), 1)
      assert.strictEqual(count(seen, "ReleaseStarted"), 1)
      assert.strictEqual(count(seen, "Promoted"), 1)
      assert.strictEqual((yield* s.call("GET", `${s.base}/${id}`)).body.status, "in_progress")
    }).pipe(Effect.scoped))

  it.effect("every action honours it: a replayed pause, resume, rollback or cancel does not act again", () =>
    Effect.gen(function*() {
      const s = yield* setup
      const id = yield* manualRelease(s)
      const status = Effect.map(s.call("GET", `${s.base}/${id}`), (response) => response.body.status as string)
      // Each toggle is sent with a key, undone without one, then sent again with the same key: the
      // replay answers as the first time and the release stays as the undo left it.
      const toggles = [
        { verb: "pause", undo: "resume", after: "paused", undone: "in_progress" },
        { verb: "resume", undo: "pause", after: "in_progress", undone: "paused" }
      ] as const
      for (const { after, undo, undone, verb } of toggles) {
        const first = yield* s.call("POST", `${s.base}/${id}/${verb}`, { key: `${verb}-once` })
        TestTeam.expectStatus(first, 200, verb)
        assert.strictEqual(first.body.status, after)
        TestTeam.expectStatus(yield* s.call("POST", `${s.base}/${id}/${undo}`), 200, undo)
        const replay = yield* s.call("POST", `${s.base}/${id}/${verb}`, { key: `${verb}-once` })
        assert.strictEqual(replayed(replay), "true", verb)
        assert.deepStrictEqual(replay.body, first.body, `${verb}: the first answer`)
        assert.strictEqual(yield* status, undone, `${verb} was not done again`)
      }
      const rolledBack = yield* s.call("POST", `${s.base}/${id}/rollback`, { body: { reason: "bad" }, key: "rollback-once" })
      TestTeam.expectStatus(rolledBack, 200, "rollback")
      const rollbackAgain = yield* s.call("POST", `${s.base}/${id}/rollback`, { body: { reason: "bad" }, key: "rollback-once" })
      assert.strictEqual(replayed(rollbackAgain), "true")
      assert.deepStrictEqual(rollbackAgain.body, rolledBack.body)
      assert.strictEqual(count(yield* events(s, id), "RollbackStarted"), 1)

      const worker = s.team.workers[1]!
      const pending = yield* s.call("POST", `${s.base}/workers/${worker.workerId}/deployments`, { body: { versionId: worker.goodVersionId } })
      const cancelled = yield* s.call("POST", `${s.base}/${pending.body.id}/cancel`, { key: "cancel-once" })
      TestTeam.expectStatus(cancelled, 200, "cancel")
      const cancelAgain = yield* s.call("POST", `${s.base}/${pending.body.id}/cancel`, { key: "cancel-once" })
      assert.strictEqual(replayed(cancelAgain), "true")
      assert.deepStrictEqual(cancelAgain.body, cancelled.body)
      assert.strictEqual(count(yield* events(s, pending.body.id), "Cancelled"), 1)
    }).pipe(Effect.scoped))

  it.effect("the key with another request is 422 idempotency_key_reused and changes nothing", () =>
    Effect.gen(function*() {
      const s = yield* setup
      const id = yield* manualRelease(s)
      yield* untilHealthyAt(s, id, 0)
      TestTeam.expectStatus(yield* s.call("POST", `${s.base}/${id}/pause`, { body: { reason: "lunch" }, key: "k" }), 200, "pause")
      TestTeam.expectStatus(yield* s.call("POST", `${s.base}/${id}/resume`), 200, "resume")
      const before = yield* events(s, id)
      const reused = [
        yield* s.call("POST", `${s.base}/${id}/pause`, { body: { reason: "dinner" }, key: "k" }),
        yield* s.call("POST", `${s.base}/${id}/pause`, { key: "k" }),
        yield* s.call("POST", `${s.base}/${id}/rollback`, { body: { reason: "lunch" }, key: "k" })
      ]
      for (const response of reused) expectError(response, 422, "idempotency_key_reused", "Idempotency-Key")
      assert.deepStrictEqual(yield* events(s, id), before, "nothing was recorded")
      assert.strictEqual((yield* s.call("GET", `${s.base}/${id}`)).body.status, "in_progress")
    }).pipe(Effect.scoped))

  it.effect("a key still being carried out is 409 idempotency_key_in_flight; a malformed key is 400", () =>
    Effect.gen(function*() {
      const s = yield* setup
      const id = yield* manualRelease(s)
      // Another request holds the key, as one running in another process would.
      const keys = Context.get(s.server.context, IdempotencyKeys.IdempotencyKeys)
      const held = yield* keys.claim({
        teamId: s.team.teamId,
        key: "running",
        fingerprint: Idempotency.fingerprint({
          method: "POST",
          endpointPath: "/api/teams/:team/deployments/:id/pause",
          params: { team: s.team.teamId, id },
          body: ""
        })
      }, yield* Clock.currentTimeMillis)
      assert.strictEqual(held._tag, "Acquired")
      // Through the slug, with an empty body: the same request.
      expectError(yield* s.call("POST", `${s.base}/${id}/pause`, { key: "running" }), 409, "idempotency_key_in_flight")
      for (const key of ["", "has space", "x".repeat(256)]) {
        expectError(
          yield* s.server.client.request("POST", `${s.base}/${id}/pause`, { token: s.team.tokens.deploy, headers: { "Idempotency-Key": key } }),
          400,
          "invalid_request",
          "Idempotency-Key: "
        )
      }
      assert.strictEqual((yield* s.call("GET", `${s.base}/${id}`)).body.status, "in_progress")
    }).pipe(Effect.scoped))

  it.effect("a key is forgotten 24 hours after its first use", () =>
    Effect.gen(function*() {
      const s = yield* setup
      const worker = s.team.workers[0]!
      const path = `${s.base}/workers/${worker.workerId}/deployments`
      const body = { versionId: worker.goodVersionId }
      const first = yield* s.call("POST", path, { body, key: "nightly" })
      TestTeam.expectStatus(first, 201, "create")
      yield* TestClock.adjust("23 hours")
      const replay = yield* s.call("POST", path, { body, key: "nightly" })
      assert.strictEqual(replayed(replay), "true")
      assert.strictEqual(replay.body.id, first.body.id)
      yield* TestClock.adjust("1 hour")
      const fresh = yield* s.call("POST", path, { body, key: "nightly" })
      TestTeam.expectStatus(fresh, 201, "create, a day later")
      assert.isNull(replayed(fresh))
      assert.notStrictEqual(fresh.body.id, first.body.id)
    }).pipe(Effect.scoped))

  it.effect("keys are per team: team A's key does not replay for team B", () =>
    Effect.gen(function*() {
      const s = yield* setup
      const b = yield* TestTeam.create(s.server, "other", { account: "own" })
      const workerA = s.team.workers[0]!
      const workerB = b.workers[0]!
      const createdA = yield* s.call("POST", `${s.base}/workers/${workerA.workerId}/deployments`, {
        body: { versionId: workerA.goodVersionId },
        key: "shared-key"
      })
      TestTeam.expectStatus(createdA, 201, "team A creates")
      // Team B's token on team A's path is refused before any key is looked at.
      const foreign = yield* s.call("POST", `${s.base}/workers/${workerA.workerId}/deployments`, {
        body: { versionId: workerA.goodVersionId },
        key: "shared-key",
        token: b.tokens.deploy
      })
      expectError(foreign, 404, "not_found")
      assert.notInclude(JSON.stringify(foreign.body), createdA.body.id)
      const createdB = yield* s.call("POST", `/api/teams/${b.slug}/deployments/workers/${workerB.workerId}/deployments`, {
        body: { versionId: workerB.goodVersionId },
        key: "shared-key",
        token: b.tokens.deploy
      })
      TestTeam.expectStatus(createdB, 201, "team B creates with the same key")
      assert.isNull(replayed(createdB))
      assert.strictEqual(createdB.body.teamId, b.teamId)
      assert.notStrictEqual(createdB.body.id, createdA.body.id)
    }).pipe(Effect.scoped))
})
