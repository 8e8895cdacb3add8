/**
 * Natural batching on its own: who goes in which call, and what every request gets back, with
 * calls that end only when the test says so.
 */
import { assert, describe, it } from "@effect/vitest"
import { Deferred, Effect, Exit, Fiber } from "effect"
import * as NaturalBatching from "../src/NaturalBatching.ts"

/**
 * A batcher whose calls are recorded and held open: `calls` lists each call's requests, and a
 * call ends when `release(n)` (its index) is called, answering every request with its double,
 * or failing every request with "down" when the request list includes "fail".
 */
const held = (options: { callsInFlight: number; maxBatch?: number; canJoin?: (batch: ReadonlyArray<string>, request: string) => boolean }) =>
  Effect.gen(function*() {
    const calls: Array<ReadonlyArray<string>> = []
    const gates: Array<Deferred.Deferred<void>> = []
    const started = yield* Deferred.make<void>()
    let waitingFor = 0
    let startedOf: Deferred.Deferred<void> = started
    const batching = NaturalBatching.make<string, string, string>({
      callsInFlight: options.callsInFlight,
      maxBatch: options.maxBatch ?? 100,
      canJoin: options.canJoin,
      call: (requests) =>
        Effect.gen(function*() {
          const gate = Deferred.makeUnsafe<void>()
          calls.push(requests)
          gates.push(gate)
          if (calls.length >= waitingFor) Deferred.doneUnsafe(startedOf, Exit.void)
          yield* Deferred.await(gate)
          if (requests.includes("fail")) return yield* Effect.fail("down")
          return requests.map((request) =>
            request.startsWith("no ") ? Exit.fail(`refused ${request.slice(3)}`) : Exit.succeed(request + request)
          )
        })
    })
    /** Waits until `count` calls have started. */
    const callsStarted = (count: number) =>
      Effect.suspend(() => {
        if (calls.length >= count) return Effect.void
        waitingFor = count
        startedOf = Deferred.makeUnsafe<void>()
        return Deferred.await(startedOf)
      })
    const release = (index: number) => Deferred.succeed(gates[index]!, undefined)
    return { batching, calls, callsStarted, release }
  })

describe("NaturalBatching", () => {
  it.effect("a request that finds a call free goes at once, alone", () =>
    Effect.gen(function*() {
      const { batching, calls, callsStarted, release } = yield* held({ callsInFlight: 2 })
      const a = yield* Effect.forkChild(batching.submit("a"))
      const b = yield* Effect.forkChild(batching.submit("b"))
      yield* callsStarted(2)
      assert.deepStrictEqual(calls, [["a"], ["b"]])
      yield* release(1)
      assert.strictEqual(yield* Fiber.join(b), "bb")
      yield* release(0)
      assert.strictEqual(yield* Fiber.join(a), "aa")
    }))

  it.effect("requests that arrive while every call is busy share the next call, in order", () =>
    Effect.gen(function*() {
      const { batching, calls, callsStarted, release } = yield* held({ callsInFlight: 1 })
      const first = yield* Effect.forkChild(batching.submit("a"))
      yield* callsStarted(1)
      const queued = yield* Effect.forEach(["b", "c", "d"], (request) => Effect.forkChild(batching.submit(request)))
      yield* Effect.yieldNow
      assert.deepStrictEqual(calls, [["a"]], "nothing else starts while the only call runs")
      yield* release(0)
      assert.strictEqual(yield* Fiber.join(first), "aa")
      yield* callsStarted(2)
      assert.deepStrictEqual(calls[1], ["b", "c", "d"])
      yield* release(1)
      assert.deepStrictEqual(yield* Effect.forEach(queued, Fiber.join), ["bb", "cc", "dd"])
    }))

  it.effect("a request that may not join waits for a later call; maxBatch caps a call", () =>
    Effect.gen(function*() {
      const { batching, calls, callsStarted, release } = yield* held({
        callsInFlight: 1,
        maxBatch: 2,
        // One request per stream ("s1:…") in a call.
        canJoin: (batch, request) => batch.every((other) => other.split(":")[0] !== request.split(":")[0])
      })
      const fibers = [yield* Effect.forkChild(batching.submit("s1:a"))]
      yield* callsStarted(1)
      for (const request of ["s2:b", "s2:c", "s3:d", "s4:e"]) fibers.push(yield* Effect.forkChild(batching.submit(request)))
      yield* Effect.yieldNow
      yield* release(0)
      yield* callsStarted(2)
      assert.deepStrictEqual(calls[1], ["s2:b", "s3:d"], "s2:c waits for a call without s2; the cap leaves s4:e")
      yield* release(1)
      yield* callsStarted(3)
      assert.deepStrictEqual(calls[2], ["s2:c", "s4:e"])
      yield* release(2)
      assert.deepStrictEqual(yield* Effect.forEach(fibers, Fiber.join), ["s1:as1:a", "s2:bs2:b", "s2:cs2:c", "s3:ds3:d", "s4:es4:e"])
    }))

  it.effect("each request gets its own outcome; a failed call fails every request in it", () =>
    Effect.gen(function*() {
      const { batching, callsStarted, release } = yield* held({ callsInFlight: 1 })
      const first = yield* Effect.forkChild(Effect.exit(batching.submit("a")))
      yield* callsStarted(1)
      const refused = yield* Effect.forkChild(Effect.exit(batching.submit("no b")))
      const accepted = yield* Effect.forkChild(Effect.exit(batching.submit("c")))
      yield* Effect.yieldNow
      yield* release(0)
      yield* callsStarted(2)
      const failing = yield* Effect.forkChild(Effect.exit(batching.submit("fail")))
      const alongside = yield* Effect.forkChild(Effect.exit(batching.submit("d")))
      yield* Effect.yieldNow
      yield* release(1)
      assert.deepStrictEqual(yield* Fiber.join(first), Exit.succeed("aa"))
      assert.deepStrictEqual(yield* Fiber.join(refused), Exit.fail("refused b"))
      assert.deepStrictEqual(yield* Fiber.join(accepted), Exit.succeed("cc"))
      yield* callsStarted(3)
      yield* release(2)
      assert.deepStrictEqual(yield* Fiber.join(failing), Exit.fail("down"))
      assert.deepStrictEqual(yield* Fiber.join(alongside), Exit.fail("down"))
    }))

  it.effect("a request interrupted while queued leaves the queue, and the slot is not lost", () =>
    Effect.gen(function*() {
      const { batching, calls, callsStarted, release } = yield* held({ callsInFlight: 1 })
      const first = yield* Effect.forkChild(batching.submit("a"))
      yield* callsStarted(1)
      const gone = yield* Effect.forkChild(batching.submit("b"))
      const staying = yield* Effect.forkChild(batching.submit("c"))
      yield* Effect.yieldNow
      yield* Fiber.interrupt(gone)
      yield* release(0)
      yield* Fiber.join(first)
      yield* callsStarted(2)
      assert.deepStrictEqual(calls[1], ["c"])
      yield* release(1)
      assert.strictEqual(yield* Fiber.join(staying), "cc")
      // Every slot is free again: the next request goes at once.
      const later = yield* Effect.forkChild(batching.submit("e"))
      yield* callsStarted(3)
      assert.deepStrictEqual(calls[2], ["e"])
      yield* release(2)
      assert.strictEqual(yield* Fiber.join(later), "ee")
    }))

  it.effect("a call runs to its end when the request that made it is interrupted, and settles the others", () =>
    Effect.gen(function*() {
      const { batching, calls, callsStarted, release } = yield* held({ callsInFlight: 1 })
      const first = yield* Effect.forkChild(batching.submit("a"))
      yield* callsStarted(1)
      const queued = yield* Effect.forkChild(batching.submit("b"))
      yield* Effect.yieldNow
      const interrupting = yield* Effect.forkChild(Fiber.interrupt(first))
      yield* Effect.yieldNow
      yield* release(0)
      yield* Fiber.join(interrupting)
      yield* callsStarted(2)
      assert.deepStrictEqual(calls[1], ["b"])
      yield* release(1)
      assert.strictEqual(yield* Fiber.join(queued), "bb")
    }))
})
