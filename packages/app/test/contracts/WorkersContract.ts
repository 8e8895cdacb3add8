/**
 * The Workers contract (see the port's module doc), run against every layer: a Worker is
 * registered in an account its team connected, with one of its team's plans, once per script and
 * account; another team's Worker is not found, changed, held or removed; the health policy comes
 * back as it went in; writes are undone with a failed transaction.
 *
 * `makeLayer` is called once per test and must give empty storage (see `DirectoryFixtures`).
 *
 * @since 0.2.0
 */
import { assert, describe } from "@effect/vitest"
import { Effect, Exit, Option } from "effect"
import * as Workers from "../../src/directory/Workers.ts"
import * as Storage from "../../src/Storage.ts"
import { connect, makePlan, type MakeLayer, oneStep, register, t0, teamWithAccount, testWith } from "./DirectoryFixtures.ts"
import * as NewTeam from "./NewTeam.ts"

export const suite = (name: string, makeLayer: MakeLayer) => {
  const test = testWith(makeLayer)

  describe(`Workers contract (${name})`, () => {
    test("a registered Worker is found by its tag, listed, and listed by account", () =>
      Effect.gen(function*() {
        const workers = yield* Workers.Workers
        const { planId, teamId } = yield* teamWithAccount("acc-w-1")
        yield* connect(teamId, "acc-w-2")
        const api = yield* register(teamId, "acc-w-1", "api", planId)
        const web = yield* register(teamId, "acc-w-2", "web", planId)
        assert.match(api.id, /^wrk_[0-9a-f]{16}$/)
        assert.deepStrictEqual(
          { ...api, id: "" },
          { id: "", teamId, accountId: "acc-w-1", scriptName: "api", defaultPlanId: planId, healthPolicy: null, createdAt: t0 }
        )
        assert.deepStrictEqual(yield* workers.find(teamId, api.id), Option.some(api))
        assert.deepStrictEqual([...(yield* workers.list(teamId))].map((worker) => worker.id).sort(), [api.id, web.id].sort())
        assert.deepStrictEqual(yield* workers.inAccount(teamId, "acc-w-2"), [web])
      }))

    test("the health policy that replaces the plan's comes back as it was given", () =>
      Effect.gen(function*() {
        const workers = yield* Workers.Workers
        const { planId, teamId } = yield* teamWithAccount("acc-w-3")
        const registered = yield* workers.register({
          teamId,
          accountId: "acc-w-3",
          scriptName: "api",
          defaultPlanId: planId,
          healthPolicy: oneStep.health,
          now: t0
        })
        assert.deepStrictEqual(registered.healthPolicy, oneStep.health)
        assert.deepStrictEqual(Option.map(yield* workers.find(teamId, registered.id), (worker) => worker.healthPolicy), Option.some(oneStep.health))
      }))

    test("only in an account the team connected, with one of the team's plans, once per script and account", () =>
      Effect.gen(function*() {
        const { planId, teamId } = yield* teamWithAccount("acc-w-4")
        const other = yield* teamWithAccount("acc-w-5")
        assert.strictEqual((yield* Effect.flip(register(teamId, "acc-w-unknown", "api", planId)))._tag, "CloudflareAccountNotConnected")
        assert.strictEqual(
          (yield* Effect.flip(register(teamId, "acc-w-5", "api", planId)))._tag,
          "CloudflareAccountNotConnected",
          "another team's account"
        )
        assert.strictEqual((yield* Effect.flip(register(teamId, "acc-w-4", "api", other.planId)))._tag, "PlanNotFound")
        yield* register(teamId, "acc-w-4", "api", planId)
        const twice = yield* Effect.flip(register(teamId, "acc-w-4", "api", planId))
        assert.strictEqual(twice._tag, "WorkerExists")
        // The same script name in another team's account is another Worker.
        yield* register(other.teamId, "acc-w-5", "api", other.planId)
      }))

    test("an update changes the default plan and the health policy; another team's Worker is not changed", () =>
      Effect.gen(function*() {
        const workers = yield* Workers.Workers
        const { planId, teamId } = yield* teamWithAccount("acc-w-6")
        const other = yield* teamWithAccount("acc-w-7")
        const quick = yield* makePlan(teamId, "quick", oneStep)
        const api = yield* register(teamId, "acc-w-6", "api", planId)
        const updated = yield* workers.update({ teamId, workerId: api.id, defaultPlanId: quick.id, healthPolicy: oneStep.health })
        assert.deepStrictEqual(updated, { ...api, defaultPlanId: quick.id, healthPolicy: oneStep.health })
        assert.deepStrictEqual(yield* workers.find(teamId, api.id), Option.some(updated))
        const foreign = yield* Effect.flip(
          workers.update({ teamId: other.teamId, workerId: api.id, defaultPlanId: other.planId, healthPolicy: null })
        )
        assert.strictEqual(foreign._tag, "WorkerNotFound")
        const foreignPlan = yield* Effect.flip(workers.update({ teamId, workerId: api.id, defaultPlanId: other.planId, healthPolicy: null }))
        assert.strictEqual(foreignPlan._tag, "PlanNotFound")
        assert.deepStrictEqual(yield* workers.find(teamId, api.id), Option.some(updated))
        assert.isTrue(Option.isNone(yield* workers.find(other.teamId, api.id)))
      }))

    test("a removed Worker is gone; another team's is not removed", () =>
      Effect.gen(function*() {
        const workers = yield* Workers.Workers
        const { planId, teamId } = yield* teamWithAccount("acc-w-8")
        const otherTeam = yield* NewTeam.make
        const api = yield* register(teamId, "acc-w-8", "api", planId)
        assert.strictEqual((yield* Effect.flip(workers.remove(otherTeam, api.id)))._tag, "WorkerNotFound")
        assert.deepStrictEqual(yield* workers.remove(teamId, api.id), api)
        assert.isTrue(Option.isNone(yield* workers.find(teamId, api.id)))
        assert.deepStrictEqual(yield* workers.list(teamId), [])
        assert.strictEqual((yield* Effect.flip(workers.remove(teamId, api.id)))._tag, "WorkerNotFound")
      }))

    test("hold gives the team's Worker inside a transaction; another team's or a removed one is none", () =>
      Effect.gen(function*() {
        const workers = yield* Workers.Workers
        const transactions = yield* Storage.Transactions
        const { planId, teamId } = yield* teamWithAccount("acc-w-10")
        const otherTeam = yield* NewTeam.make
        const api = yield* register(teamId, "acc-w-10", "api", planId)
        assert.deepStrictEqual(yield* transactions.atomically(workers.hold(teamId, api.id)), Option.some(api))
        assert.isTrue(Option.isNone(yield* transactions.atomically(workers.hold(otherTeam, api.id))))
        // Held, then removed in the same transaction: what a Worker's removal does.
        yield* transactions.atomically(Effect.andThen(workers.hold(teamId, api.id), workers.remove(teamId, api.id)))
        assert.isTrue(Option.isNone(yield* transactions.atomically(workers.hold(teamId, api.id))))
      }))

    test("writes made in a failed transaction are undone", () =>
      Effect.gen(function*() {
        const workers = yield* Workers.Workers
        const transactions = yield* Storage.Transactions
        const { planId, teamId } = yield* teamWithAccount("acc-w-9")
        const api = yield* register(teamId, "acc-w-9", "api", planId)
        const failed = yield* transactions.atomically(Effect.gen(function*() {
          yield* register(teamId, "acc-w-9", "web", planId)
          yield* workers.remove(teamId, api.id)
          return yield* Effect.fail("the change fails")
        })).pipe(Effect.exit)
        assert.isTrue(Exit.isFailure(failed))
        assert.deepStrictEqual(yield* workers.list(teamId), [api])
      }))
  })
}
