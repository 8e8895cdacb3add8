import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { Id } from "../src/index.ts"

const kinds = Object.keys(Id.kinds) as ReadonlyArray<Id.Kind>

describe("Id", () => {
  it("makes each kind as its prefix, `_` and its random bytes in lowercase hex", () => {
    for (const kind of kinds) {
      const id = Id.makeUnsafe(kind)
      const { prefix, bytes } = Id.kinds[kind]
      assert.match(id, new RegExp(`^${prefix}_[0-9a-f]{${bytes * 2}}$`), kind)
      assert.isTrue(Id.isOf(kind, id), kind)
    }
    // The formats ids already stored have: a Worker's tag is short, a release's is a `dep_` and 32 digits.
    assert.match(Id.makeUnsafe("worker"), /^wrk_[0-9a-f]{16}$/)
    assert.match(Id.makeUnsafe("release"), /^dep_[0-9a-f]{32}$/)
  })

  it("gives every kind its own prefix, so an id says what it names", () => {
    const prefixes = kinds.map((kind) => Id.kinds[kind].prefix)
    assert.strictEqual(new Set(prefixes).size, prefixes.length)
    for (const kind of kinds) {
      for (const other of kinds) {
        if (other !== kind) assert.isFalse(Id.isOf(other, Id.makeUnsafe(kind)), `${kind} read as ${other}`)
      }
    }
  })

  it("never repeats itself (random, not a counter or a clock)", () => {
    const made = Array.from({ length: 10_000 }, () => Id.makeUnsafe("delivery"))
    assert.strictEqual(new Set(made).size, made.length)
    // Every hex digit shows up in every position of 10,000 random ids; a constant or counter part would not.
    for (let position = 4; position < made[0]!.length; position++) {
      assert.strictEqual(new Set(made.map((id) => id[position])).size, 16, `position ${position}`)
    }
  })

  it.effect("make is an Effect: a new id each time it runs", () =>
    Effect.gen(function*() {
      const make = Id.make("notificationChannel")
      const first = yield* make
      const second = yield* make
      assert.notStrictEqual(first, second)
      assert.isTrue(Id.isOf("notificationChannel", first))
    }))

  it("isOf refuses other shapes", () => {
    assert.isFalse(Id.isOf("worker", "wrk_9A3E51C07B2D44F8"))
    assert.isFalse(Id.isOf("worker", "wrk_9a3e51c07b2d44f"))
    assert.isFalse(Id.isOf("worker", "wrkx9a3e51c07b2d44f8"))
    assert.isFalse(Id.isOf("release", "dep_1f0c2d3e-4f50-6172-8394-a5b6c7d8e9f0"))
  })
})
