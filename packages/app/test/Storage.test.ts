import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit } from "effect"
import { Storage } from "../src/index.ts"

describe("Storage.Transactions (memory)", () => {
  it.effect("a failed transaction undoes the memory writes it recorded; a successful one keeps them", () =>
    Effect.gen(function*() {
      const transactions = yield* Storage.makeMemory
      const table = new Map<string, number>()
      const write = (key: string, value: number) =>
        Effect.suspend(() => {
          const before = table.get(key)
          table.set(key, value)
          return Storage.recordUndo(() => before === undefined ? table.delete(key) : table.set(key, before))
        })
      yield* transactions.atomically(Effect.all([write("a", 1), write("b", 2)]))
      const failed = yield* transactions.atomically(
        Effect.andThen(Effect.all([write("a", 10), write("c", 3)]), Effect.fail("no"))
      ).pipe(Effect.exit)
      assert.isTrue(Exit.isFailure(failed))
      assert.deepStrictEqual([...table.entries()], [["a", 1], ["b", 2]])
      // outside a transaction nothing is recorded, and nested transactions join the outer one
      yield* write("d", 4)
      const nested = yield* transactions.atomically(
        Effect.andThen(transactions.atomically(write("e", 5)), Effect.fail("outer fails"))
      ).pipe(Effect.exit)
      assert.isTrue(Exit.isFailure(nested))
      assert.isFalse(table.has("e"))
      assert.strictEqual(table.get("d"), 4)
    }))
})
