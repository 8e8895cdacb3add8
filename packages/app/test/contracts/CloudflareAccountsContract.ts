/**
 * The CloudflareAccounts contract (see the port's module doc), run against every layer: the
 * sealed token is stored as sealed for its row and comes back as it went in; an account belongs
 * to one team, even when two teams save it at once; saving again keeps the row; an account with
 * Workers is not removed; the orchestrator's lookup by account; whether a real account exists;
 * writes undone with a failed transaction.
 *
 * `makeLayer` is called once per test and must give empty storage (see `DirectoryFixtures`).
 *
 * @since 0.2.0
 */
import { assert, describe } from "@effect/vitest"
import { Effect, Exit, Option } from "effect"
import * as CloudflareAccounts from "../../src/directory/CloudflareAccounts.ts"
import * as Workers from "../../src/directory/Workers.ts"
import * as Storage from "../../src/Storage.ts"
import { connect, makePlan, type MakeLayer, register, sealFor, t0, testWith } from "./DirectoryFixtures.ts"
import * as NewTeam from "./NewTeam.ts"

export const suite = (name: string, makeLayer: MakeLayer) => {
  const test = testWith(makeLayer)

  describe(`CloudflareAccounts contract (${name})`, () => {
    test("a saved account keeps its token sealed for its row, and is found by team and by account", () =>
      Effect.gen(function*() {
        const accounts = yield* CloudflareAccounts.CloudflareAccounts
        const teamId = yield* NewTeam.make
        const other = yield* NewTeam.make
        const saved = yield* connect(teamId, "acc-1", { token: "secret-1" })
        assert.match(saved.id, /^cfa_/)
        assert.deepStrictEqual(saved, {
          id: saved.id,
          teamId,
          accountId: "acc-1",
          sealedApiToken: `sealed(secret-1)@${saved.id}`,
          tokenDisplay: "toke…en-1",
          baseUrl: "https://api.cloudflare.com/client/v4",
          sandbox: false,
          verifiedAt: t0,
          createdAt: t0,
          updatedAt: t0
        })
        assert.deepStrictEqual(yield* accounts.list(teamId), [saved])
        assert.deepStrictEqual(yield* accounts.find(teamId, "acc-1"), Option.some(saved))
        assert.deepStrictEqual(yield* accounts.forAccount("acc-1"), Option.some(saved))
        assert.isTrue(Option.isNone(yield* accounts.find(other, "acc-1")))
        assert.deepStrictEqual(yield* accounts.list(other), [])
        assert.isTrue(Option.isNone(yield* accounts.forAccount("acc-unknown")))
      }))

    test("saving again replaces the token and keeps the row", () =>
      Effect.gen(function*() {
        const accounts = yield* CloudflareAccounts.CloudflareAccounts
        const teamId = yield* NewTeam.make
        const first = yield* connect(teamId, "acc-2", { token: "old" })
        const second = yield* accounts.save({
          teamId,
          accountId: "acc-2",
          seal: sealFor("new"),
          tokenDisplay: "new…",
          baseUrl: "http://127.0.0.1:8787/client/v4",
          sandbox: true,
          now: t0 + 60_000
        })
        assert.deepStrictEqual(second, {
          ...first,
          sealedApiToken: `sealed(new)@${first.id}`,
          tokenDisplay: "new…",
          baseUrl: "http://127.0.0.1:8787/client/v4",
          sandbox: true,
          verifiedAt: t0 + 60_000,
          updatedAt: t0 + 60_000
        })
        assert.deepStrictEqual(yield* accounts.list(teamId), [second])
      }))

    test("an account belongs to one team, even when two teams save it at once", () =>
      Effect.gen(function*() {
        const accounts = yield* CloudflareAccounts.CloudflareAccounts
        const first = yield* NewTeam.make
        const second = yield* NewTeam.make
        yield* connect(first, "acc-3")
        const taken = yield* Effect.flip(connect(second, "acc-3"))
        assert.strictEqual(taken._tag, "CloudflareAccountTaken")
        assert.deepStrictEqual(yield* accounts.list(second), [])

        const racers = yield* Effect.forEach([first, second, first, second], (teamId) => Effect.exit(connect(teamId, "acc-4")), {
          concurrency: "unbounded"
        })
        const winners = new Set(
          racers.flatMap((exit, n) => Exit.isSuccess(exit) ? [[first, second, first, second][n]] : [])
        )
        assert.strictEqual(winners.size, 1, "one team's saves succeed, the other's are refused")
        for (const exit of racers) {
          if (Exit.isFailure(exit)) assert.include(String(exit.cause), "CloudflareAccountTaken")
        }
        const owner = yield* accounts.forAccount("acc-4")
        assert.isTrue(Option.isSome(owner) && winners.has(owner.value.teamId))
      }))

    test("a failed seal stores nothing", () =>
      Effect.gen(function*() {
        const accounts = yield* CloudflareAccounts.CloudflareAccounts
        const teamId = yield* NewTeam.make
        const failed = yield* Effect.flip(accounts.save({
          teamId,
          accountId: "acc-5",
          seal: () => Effect.fail("no key" as const),
          tokenDisplay: "…",
          baseUrl: "https://api.cloudflare.com/client/v4",
          sandbox: false,
          now: t0
        }))
        assert.strictEqual(failed, "no key")
        assert.deepStrictEqual(yield* accounts.list(teamId), [])
      }))

    test("an account the team's Workers are registered in is not removed; once unused it is", () =>
      Effect.gen(function*() {
        const accounts = yield* CloudflareAccounts.CloudflareAccounts
        const workers = yield* Workers.Workers
        const teamId = yield* NewTeam.make
        const other = yield* NewTeam.make
        yield* connect(teamId, "acc-6")
        const plan = yield* makePlan(teamId, "standard")
        const api = yield* register(teamId, "acc-6", "api", plan.id)
        const inUse = yield* Effect.flip(accounts.remove(teamId, "acc-6"))
        assert.deepStrictEqual(inUse._tag === "CloudflareAccountInUse" ? inUse.scriptNames : inUse._tag, ["api"])
        assert.strictEqual((yield* Effect.flip(accounts.remove(other, "acc-6")))._tag, "CloudflareAccountNotFound")
        yield* workers.remove(teamId, api.id)
        const removed = yield* accounts.remove(teamId, "acc-6")
        assert.strictEqual(removed.accountId, "acc-6")
        assert.deepStrictEqual(yield* accounts.list(teamId), [])
        assert.isTrue(Option.isNone(yield* accounts.forAccount("acc-6")))
        assert.strictEqual((yield* Effect.flip(accounts.remove(teamId, "acc-6")))._tag, "CloudflareAccountNotFound")
        // Free again: another team may connect it now.
        yield* connect(other, "acc-6")
      }))

    test("removing an account while a Worker is registered in it at once: never both, and no Worker is left without its account", () =>
      Effect.gen(function*() {
        const accounts = yield* CloudflareAccounts.CloudflareAccounts
        const workers = yield* Workers.Workers
        for (let round = 0; round < 5; round++) {
          const teamId = yield* NewTeam.make
          const accountId = `acc-race-${round}`
          yield* connect(teamId, accountId)
          const plan = yield* makePlan(teamId, "standard")
          const [removed, registered] = yield* Effect.all(
            [Effect.exit(accounts.remove(teamId, accountId)), Effect.exit(register(teamId, accountId, "api", plan.id))],
            { concurrency: "unbounded" }
          )
          assert.isFalse(Exit.isSuccess(removed) && Exit.isSuccess(registered), "not both")
          const left = yield* workers.inAccount(teamId, accountId)
          const account = yield* accounts.find(teamId, accountId)
          assert.isTrue(left.length === 0 || Option.isSome(account), "a Worker's account is still connected")
        }
      }))

    test("anyReal: only accounts that are not the sandbox's count; latestSandbox: the simulated one saved last", () =>
      Effect.gen(function*() {
        const accounts = yield* CloudflareAccounts.CloudflareAccounts
        const teamId = yield* NewTeam.make
        assert.isFalse(yield* accounts.anyReal)
        assert.isTrue(Option.isNone(yield* accounts.latestSandbox))
        yield* connect(teamId, "acc-sandbox", { sandbox: true })
        assert.isFalse(yield* accounts.anyReal)
        yield* connect(teamId, "acc-7")
        assert.isTrue(yield* accounts.anyReal)
        const later = yield* accounts.save({
          teamId,
          accountId: "acc-sandbox-2",
          seal: sealFor("sim"),
          tokenDisplay: "…",
          baseUrl: "http://127.0.0.1:8787/client/v4",
          sandbox: true,
          now: t0 + 1_000
        })
        assert.deepStrictEqual(yield* accounts.latestSandbox, Option.some(later))
      }))

    test("writes made in a failed transaction are undone", () =>
      Effect.gen(function*() {
        const accounts = yield* CloudflareAccounts.CloudflareAccounts
        const transactions = yield* Storage.Transactions
        const teamId = yield* NewTeam.make
        const kept = yield* connect(teamId, "acc-8", { token: "kept" })
        const failed = yield* transactions.atomically(Effect.gen(function*() {
          yield* connect(teamId, "acc-9")
          yield* connect(teamId, "acc-8", { token: "changed" })
          return yield* Effect.fail("the change fails")
        })).pipe(Effect.exit)
        assert.isTrue(Exit.isFailure(failed))
        assert.deepStrictEqual(yield* accounts.list(teamId), [kept])
      }))
  })
}
