/**
 * The directory contracts of people, sessions, teams and API tokens against the memory layers,
 * with the memory `Transactions` that undoes their writes when a transaction fails.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { ApiTokens, People, Sessions, Storage, Teams } from "../src/index.ts"
import { ApiTokensContract, PeopleContract, SessionsContract, TeamsContract } from "./contracts/index.ts"

const directory = () =>
  Layer.mergeAll(Teams.layerMemory, ApiTokens.layerMemory, Storage.layerMemory).pipe(Layer.provideMerge(People.layerMemory))

PeopleContract.suite("memory", () => People.layerMemory)
SessionsContract.suite("memory", () => Sessions.layerMemory)
TeamsContract.suite("memory", directory)
ApiTokensContract.suite("memory", directory)

describe("memory directory in a failed transaction", () => {
  it.effect("sessions started, ended and tokens created in it are undone; others stay", () =>
    Effect.gen(function*() {
      const sessions = yield* Sessions.Sessions
      const tokens = yield* ApiTokens.ApiTokens
      const transactions = yield* Storage.Transactions
      const start = (key: string) =>
        sessions.create({ id: `session-${key}`, secretHash: `hash-${key}`, userId: "user-ada", expiresAt: 10_000, userAgent: null }, 0)
      yield* start("kept")
      const failed = yield* transactions.atomically(Effect.gen(function*() {
        yield* start("new")
        yield* sessions.endAll("user-ada", { now: 0 })
        yield* tokens.createUserToken({ userId: "user-ada", name: "ci", hash: "hash-token", display: "cru_…", now: 0 })
        return yield* Effect.fail("refused" as const)
      })).pipe(Effect.flip)
      assert.strictEqual(failed, "refused")
      assert.deepStrictEqual((yield* sessions.list("user-ada", 0)).map((session) => session.id), ["session-kept"])
      assert.deepStrictEqual(yield* tokens.userTokens("user-ada"), [])
    }).pipe(Effect.provide(Layer.mergeAll(Sessions.layerMemory, ApiTokens.layerMemory, Storage.layerMemory))))
})
