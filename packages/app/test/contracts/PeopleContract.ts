/**
 * The People contract, run against every layer: one person per email whatever its case, found by
 * id and by email; names kept without surrounding spaces; password hashes replaced.
 *
 * `makeLayer` is called once per test and must give an empty store.
 *
 * @since 0.2.0
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, type Layer, Option } from "effect"
import { TestClock } from "effect/testing"
import { People } from "../../src/index.ts"

/** 2026-01-01T00:00:00Z, in epoch milliseconds. */
const t0 = 1_767_225_600_000

export const suite = (name: string, makeLayer: () => Layer.Layer<People.People, unknown>) => {
  const test = <A, E>(title: string, body: () => Effect.Effect<A, E, People.People>) =>
    it.effect(title, () => Effect.andThen(TestClock.setTime(t0), body().pipe(Effect.provide(makeLayer(), { local: true }))))

  const create = (email: string, name = "Ada Lovelace", passwordHash = "hash-1") =>
    People.People.use((people) => people.create({ email, name, passwordHash, now: t0 }))

  describe(`People contract (${name})`, () => {
    test("a new person is found by id and by email in any case", () =>
      Effect.gen(function*() {
        const people = yield* People.People
        const created = yield* create("Ada@Example.com", "  Ada Lovelace ")
        assert.deepStrictEqual(created.person, {
          id: created.person.id,
          email: "Ada@Example.com",
          name: "Ada Lovelace",
          createdAt: t0
        })
        assert.strictEqual(created.passwordHash, "hash-1")
        assert.deepStrictEqual(yield* people.byId(created.person.id), Option.some(created))
        assert.deepStrictEqual(yield* people.byEmail("ada@example.COM"), Option.some(created))
        assert.isTrue(Option.isNone(yield* people.byEmail("bo@example.com")))
        assert.isTrue(Option.isNone(yield* people.byId("usr_unknown")))
      }))

    test("an email belongs to one person, whatever its case", () =>
      Effect.gen(function*() {
        const people = yield* People.People
        const first = yield* create("ada@example.com")
        const refused = yield* create("ADA@example.com", "Someone else").pipe(Effect.flip)
        assert.strictEqual(refused._tag, "EmailTaken")
        assert.strictEqual(refused._tag === "EmailTaken" ? refused.email : undefined, "ADA@example.com")
        assert.deepStrictEqual(yield* people.byEmail("ada@example.com"), Option.some(first))
        const other = yield* create("bo@example.com", "Bo")
        assert.notStrictEqual(other.person.id, first.person.id)
      }))

    test("a password hash is replaced; an unknown person changes nothing", () =>
      Effect.gen(function*() {
        const people = yield* People.People
        const created = yield* create("ada@example.com")
        yield* people.updatePasswordHash(created.person.id, "hash-2")
        yield* people.updatePasswordHash("usr_unknown", "hash-3")
        const found = Option.getOrThrow(yield* people.byId(created.person.id))
        assert.strictEqual(found.passwordHash, "hash-2")
        assert.deepStrictEqual(found.person, created.person)
        assert.isTrue(Option.isNone(yield* people.byEmail("usr_unknown")))
      }))
  })
}
