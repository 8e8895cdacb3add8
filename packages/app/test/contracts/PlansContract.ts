/**
 * The Plans contract (see the port's module doc), run against every layer: plans by id or slug
 * within their team, unique slugs per team, updates that keep the creation, deletion refused for
 * a plan a Worker uses, the standard plan, and writes undone with a failed transaction.
 *
 * `makeLayer` is called once per test and must give empty storage (see `DirectoryFixtures`).
 *
 * @since 0.2.0
 */
import { assert, describe } from "@effect/vitest"
import { Clock, Effect, Exit, Option } from "effect"
import { TestClock } from "effect/testing"
import * as Plans from "../../src/directory/Plans.ts"
import * as Workers from "../../src/directory/Workers.ts"
import * as Storage from "../../src/Storage.ts"
import { makePlan, type MakeLayer, oneStep, register, t0, teamWithAccount, testWith, twoSteps } from "./DirectoryFixtures.ts"
import * as NewTeam from "./NewTeam.ts"

export const suite = (name: string, makeLayer: MakeLayer) => {
  const test = testWith(makeLayer)

  describe(`Plans contract (${name})`, () => {
    test("a plan is found by id and by slug, within its team; names are stored trimmed", () =>
      Effect.gen(function*() {
        const plans = yield* Plans.Plans
        const teamId = yield* NewTeam.make
        const other = yield* NewTeam.make
        const created = yield* plans.create({ teamId, slug: "careful", name: "  Careful  ", plan: twoSteps, now: t0 })
        assert.deepStrictEqual(
          { slug: created.slug, name: created.name, createdAt: created.createdAt, updatedAt: created.updatedAt },
          { slug: "careful", name: "Careful", createdAt: t0, updatedAt: t0 }
        )
        assert.deepStrictEqual(created.plan, twoSteps)
        assert.deepStrictEqual(yield* plans.find(teamId, created.id), Option.some(created))
        assert.deepStrictEqual(yield* plans.find(teamId, "careful"), Option.some(created))
        assert.isTrue(Option.isNone(yield* plans.find(other, created.id)), "another team's plan is not found by id")
        assert.isTrue(Option.isNone(yield* plans.find(other, "careful")), "nor by slug")
        assert.isTrue(Option.isNone(yield* plans.find(teamId, "unknown")))
      }))

    test("slugs are unique within a team, and another team may use the same", () =>
      Effect.gen(function*() {
        const plans = yield* Plans.Plans
        const teamId = yield* NewTeam.make
        const other = yield* NewTeam.make
        yield* makePlan(teamId, "fast")
        const again = yield* Effect.flip(makePlan(teamId, "fast"))
        assert.strictEqual(again._tag, "PlanSlugTaken")
        yield* makePlan(other, "fast")
        assert.strictEqual((yield* plans.list(teamId)).length, 1)
        assert.strictEqual((yield* plans.list(other)).length, 1)
      }))

    test("plans are listed oldest first", () =>
      Effect.gen(function*() {
        const plans = yield* Plans.Plans
        const teamId = yield* NewTeam.make
        for (const slug of ["c", "a", "b"]) {
          yield* plans.create({ teamId, slug, name: slug, plan: twoSteps, now: yield* Clock.currentTimeMillis })
          yield* TestClock.adjust("1 second")
        }
        assert.deepStrictEqual((yield* plans.list(teamId)).map((plan) => plan.slug), ["c", "a", "b"])
      }))

    test("an update changes the name and the plan, keeps the slug and the creation; another team's is not found", () =>
      Effect.gen(function*() {
        const plans = yield* Plans.Plans
        const teamId = yield* NewTeam.make
        const other = yield* NewTeam.make
        const created = yield* makePlan(teamId, "careful")
        const updated = yield* plans.update({ teamId, planId: created.id, name: " Quick ", plan: oneStep, now: t0 + 5_000 })
        assert.deepStrictEqual(updated, { ...created, name: "Quick", plan: oneStep, updatedAt: t0 + 5_000 })
        assert.deepStrictEqual(yield* plans.find(teamId, "careful"), Option.some(updated))
        const refused = yield* Effect.flip(plans.update({ teamId: other, planId: created.id, name: "x", plan: twoSteps, now: t0 }))
        assert.strictEqual(refused._tag, "PlanNotFound")
        assert.deepStrictEqual(yield* plans.find(teamId, created.id), Option.some(updated), "unchanged by the refused update")
      }))

    test("a plan a Worker uses by default is not deleted; once unused it is", () =>
      Effect.gen(function*() {
        const plans = yield* Plans.Plans
        const workers = yield* Workers.Workers
        const { planId, teamId } = yield* teamWithAccount("acc-plans-1")
        const spare = yield* makePlan(teamId, "spare")
        const api = yield* register(teamId, "acc-plans-1", "api", planId)
        yield* register(teamId, "acc-plans-1", "web", planId)
        const inUse = yield* Effect.flip(plans.remove(teamId, planId))
        assert.deepStrictEqual(inUse._tag === "PlanInUse" ? [...inUse.scriptNames].sort() : inUse._tag, ["api", "web"])
        yield* workers.update({ teamId, workerId: api.id, defaultPlanId: spare.id, healthPolicy: null })
        yield* Effect.flatMap(workers.list(teamId), (all) =>
          Effect.forEach(all.filter((worker) => worker.defaultPlanId === planId), (worker) =>
            workers.remove(teamId, worker.id)))
        const removed = yield* plans.remove(teamId, planId)
        assert.strictEqual(removed.id, planId)
        assert.isTrue(Option.isNone(yield* plans.find(teamId, planId)))
        assert.strictEqual((yield* Effect.flip(plans.remove(teamId, planId)))._tag, "PlanNotFound")
      }))

    test("deleting a plan while a Worker is registered with it at once: never both, and no Worker is left without its plan", () =>
      Effect.gen(function*() {
        const plans = yield* Plans.Plans
        const workers = yield* Workers.Workers
        for (let round = 0; round < 5; round++) {
          const { teamId } = yield* teamWithAccount(`acc-plans-race-${round}`)
          const plan = yield* makePlan(teamId, "racing")
          const [removed, registered] = yield* Effect.all(
            [Effect.exit(plans.remove(teamId, plan.id)), Effect.exit(register(teamId, `acc-plans-race-${round}`, "api", plan.id))],
            { concurrency: "unbounded" }
          )
          assert.isFalse(Exit.isSuccess(removed) && Exit.isSuccess(registered), "not both")
          const users = (yield* workers.list(teamId)).filter((worker) => worker.defaultPlanId === plan.id)
          assert.isTrue(users.length === 0 || Option.isSome(yield* plans.find(teamId, plan.id)), "a Worker's plan is still there")
        }
      }))

    test("another team's plan is not deleted", () =>
      Effect.gen(function*() {
        const plans = yield* Plans.Plans
        const teamId = yield* NewTeam.make
        const other = yield* NewTeam.make
        const created = yield* makePlan(teamId, "mine")
        assert.strictEqual((yield* Effect.flip(plans.remove(other, created.id)))._tag, "PlanNotFound")
        assert.isTrue(Option.isSome(yield* plans.find(teamId, created.id)))
      }))

    test("an id wins over another plan's slug that spells it", () =>
      Effect.gen(function*() {
        const plans = yield* Plans.Plans
        const teamId = yield* NewTeam.make
        const first = yield* makePlan(teamId, "first")
        const impostor = yield* makePlan(teamId, first.id)
        assert.deepStrictEqual(Option.map(yield* plans.find(teamId, first.id), (plan) => plan.id), Option.some(first.id))
        assert.notStrictEqual(impostor.id, first.id)
      }))

    test("the standard plan: 1% → 10% → 50% → 100%, made once per team", () =>
      Effect.gen(function*() {
        const plans = yield* Plans.Plans
        const teamId = yield* NewTeam.make
        const made = yield* Plans.createStandard(teamId, t0)
        const again = yield* Plans.createStandard(teamId, t0 + 1_000)
        assert.strictEqual(again.id, made.id)
        assert.deepStrictEqual(made.plan.steps.map((step) => step.percentage), [1, 10, 50, 100])
        assert.deepStrictEqual((yield* plans.list(teamId)).map((plan) => plan.slug), ["standard"])
      }))

    test("writes made in a failed transaction are undone", () =>
      Effect.gen(function*() {
        const plans = yield* Plans.Plans
        const transactions = yield* Storage.Transactions
        const teamId = yield* NewTeam.make
        const kept = yield* makePlan(teamId, "kept")
        const failed = yield* transactions.atomically(Effect.gen(function*() {
          yield* makePlan(teamId, "undone")
          yield* plans.update({ teamId, planId: kept.id, name: "Changed", plan: oneStep, now: t0 + 1 })
          return yield* Effect.fail("the change fails")
        })).pipe(Effect.exit)
        assert.isTrue(Exit.isFailure(failed))
        assert.deepStrictEqual(yield* plans.list(teamId), [kept])
      }))
  })
}
