/**
 * PasswordHash: verification, the storage format and what it refuses, rehashing, and the
 * password policy. Most tests hash with `testParameters`; two run the production parameters
 * (pure-JavaScript scrypt: a few hundred milliseconds each). Hashes written by the node:crypto
 * version are checked in `StoredValues.test.ts`.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Redacted, Result } from "effect"
import { Base64Url } from "effect/encoding"
import { PasswordHash } from "../../src/index.ts"

const password = Redacted.make("correct horse battery staple")
const hashForTest = (secret: Redacted.Redacted<string>) => PasswordHash.hash(secret, PasswordHash.testParameters)

/** A well-formed test hash with one field replaced. */
const withField = (encoded: string, index: number, value: string) => {
  const fields = encoded.split("$")
  fields[index] = value
  return fields.join("$")
}

const base64url = (length: number) => Base64Url.encode(new Uint8Array(length).fill(7))
const bytesOf = (text: string) => Result.getOrThrow(Base64Url.decode(text))

describe("PasswordHash", () => {
  describe("verify", () => {
    it.effect("accepts the password the hash was made from and refuses any other", () =>
      Effect.gen(function*() {
        const encoded = yield* hashForTest(password)
        assert.isTrue(yield* PasswordHash.verify(password, encoded))
        assert.isFalse(yield* PasswordHash.verify(Redacted.make("correct horse battery stapl"), encoded))
        assert.isFalse(yield* PasswordHash.verify(Redacted.make("Correct horse battery staple"), encoded))
        assert.isFalse(yield* PasswordHash.verify(Redacted.make(""), encoded))
      }))

    it.effect("refuses the right password against a hash whose bytes were changed", () =>
      Effect.gen(function*() {
        const encoded = yield* hashForTest(password)
        const hash = bytesOf(encoded.split("$")[5]!)
        hash[hash.length - 1]! ^= 1
        assert.isFalse(yield* PasswordHash.verify(password, withField(encoded, 5, Base64Url.encode(hash))))
      }))

    it.effect("salts every hash: the same password twice gives two different hashes, both valid", () =>
      Effect.gen(function*() {
        const first = yield* hashForTest(password)
        const second = yield* hashForTest(password)
        assert.notStrictEqual(first, second)
        assert.notStrictEqual(first.split("$")[4], second.split("$")[4])
        assert.isTrue(yield* PasswordHash.verify(password, first))
        assert.isTrue(yield* PasswordHash.verify(password, second))
      }))

    it.effect("normalises Unicode: é typed composed or decomposed is the same password", () =>
      Effect.gen(function*() {
        const encoded = yield* hashForTest(Redacted.make("caf\u00e9 au lait, s'il vous pla\u00eet"))
        assert.isTrue(yield* PasswordHash.verify(Redacted.make("cafe\u0301 au lait, s'il vous plai\u0302t"), encoded))
      }))

    it.effect("production parameters: the stored string names them, and the hash verifies", () =>
      Effect.gen(function*() {
        const encoded = yield* PasswordHash.hash(password)
        const [scheme, n, r, p, salt, hash] = encoded.split("$")
        assert.deepStrictEqual([scheme, n, r, p], ["scrypt", "32768", "8", "1"])
        assert.strictEqual(bytesOf(salt!).length, 16)
        assert.strictEqual(bytesOf(hash!).length, 32)
        assert.isTrue(yield* PasswordHash.verify(password, encoded))
        assert.isFalse(PasswordHash.needsRehash(encoded))
      }))

    it.effect("without an account: answers false, after the work of a real verify", () =>
      Effect.gen(function*() {
        const started = performance.now()
        assert.isFalse(yield* PasswordHash.verifyWithoutAccount(password))
        // A scrypt at N = 2^15 takes tens of milliseconds at the very least; an early `false` takes none.
        assert.isAbove(performance.now() - started, 10)
      }))
  })

  describe("stored hashes it refuses to read", () => {
    const cases: ReadonlyArray<readonly [string, (valid: string) => string, string]> = [
      ["an empty string", () => "", "6 fields"],
      ["too few fields", (valid) => valid.split("$").slice(0, 5).join("$"), "6 fields"],
      ["too many fields", (valid) => `${valid}$x`, "6 fields"],
      ["another scheme", (valid) => withField(valid, 0, "argon2id"), "unknown scheme"],
      ["N not a power of two", (valid) => withField(valid, 1, "1000"), "power of two"],
      ["N of 1", (valid) => withField(valid, 1, "1"), "power of two"],
      ["N with a leading zero", (valid) => withField(valid, 1, "01024"), "decimal"],
      ["r of 0", (valid) => withField(valid, 2, "0"), "decimal"],
      ["p negative", (valid) => withField(valid, 3, "-1"), "decimal"],
      ["N in exponent notation", (valid) => withField(valid, 1, "1e3"), "decimal"],
      ["N beyond what OpenSSL takes for r = 1", (valid) => withField(withField(valid, 2, "1"), 1, "131072"), "2^(16 r)"],
      ["parameters needing more than 256 MiB", (valid) => withField(valid, 1, String(2 ** 20)), "more than"],
      ["p of 1024 (minutes of work)", (valid) => withField(valid, 3, "1024"), "N × r × p"],
      ["a salt of 8 bytes", (valid) => withField(valid, 4, base64url(8)), "salt"],
      ["a hash of 31 bytes", (valid) => withField(valid, 5, base64url(31)), "hash must be"],
      ["a hash of 65 bytes", (valid) => withField(valid, 5, base64url(65)), "hash must be"],
      ["a salt in standard base64", (valid) => withField(valid, 4, "ab+/" + base64url(15)), "base64url"],
      ["a padded hash", (valid) => withField(valid, 5, `${valid.split("$")[5]}=`), "base64url"],
      ["a non-canonical base64url hash", (valid) => withField(valid, 5, valid.split("$")[5]!.slice(0, -1) + "B"), "base64url"],
      ["an empty salt", (valid) => withField(valid, 4, ""), "base64url"]
    ]
    for (const [name, garble, reason] of cases) {
      it.effect(name, () =>
        Effect.gen(function*() {
          const garbled = garble(yield* hashForTest(password))
          const error = yield* PasswordHash.verify(password, garbled).pipe(Effect.flip)
          assert.strictEqual(error._tag, "MalformedPasswordHash")
          assert.include(error.message, reason)
          assert.isTrue(Result.isFailure(PasswordHash.decode(garbled)))
          assert.isTrue(PasswordHash.needsRehash(garbled))
        }))
    }

    it.effect("reads back what it writes, and longer salts and hashes than today's", () =>
      Effect.gen(function*() {
        const encoded = yield* hashForTest(password)
        const decoded = Result.getOrThrow(PasswordHash.decode(encoded))
        assert.deepStrictEqual(decoded.parameters, PasswordHash.testParameters)
        assert.strictEqual(PasswordHash.encode(decoded), encoded)
        assert.isTrue(Result.isSuccess(PasswordHash.decode(withField(encoded, 4, base64url(32)))))
        assert.isTrue(Result.isSuccess(PasswordHash.decode(withField(encoded, 5, base64url(64)))))
      }))
  })

  describe("needsRehash", () => {
    it.effect("says yes for parameters below the target and no at or above it", () =>
      Effect.gen(function*() {
        const cheap = yield* hashForTest(password)
        assert.isTrue(PasswordHash.needsRehash(cheap))
        assert.isFalse(PasswordHash.needsRehash(cheap, PasswordHash.testParameters))
        const atCurrent = withField(cheap, 1, String(PasswordHash.current.cost))
        assert.isFalse(PasswordHash.needsRehash(atCurrent))
        assert.isFalse(PasswordHash.needsRehash(withField(cheap, 1, String(2 ** 16))))
        assert.isTrue(PasswordHash.needsRehash(atCurrent, { ...PasswordHash.current, cost: 2 ** 16 }))
        assert.isTrue(PasswordHash.needsRehash(atCurrent, { ...PasswordHash.current, blockSize: 16 }))
        assert.isTrue(PasswordHash.needsRehash(atCurrent, { ...PasswordHash.current, parallelization: 2 }))
      }))

    it("keeps current at or above N = 2^15, r = 8, p = 1", () => {
      assert.isAtLeast(PasswordHash.current.cost, 2 ** 15)
      assert.isAtLeast(PasswordHash.current.blockSize, 8)
      assert.isAtLeast(PasswordHash.current.parallelization, 1)
    })
  })

  it.effect("hash refuses parameters scrypt cannot run (a bug, so a defect)", () =>
    Effect.gen(function*() {
      const exit = yield* PasswordHash.hash(password, { cost: 1000, blockSize: 8, parallelization: 1 }).pipe(Effect.exit)
      assert.isTrue(exit._tag === "Failure")
    }))

  describe("checkPolicy", () => {
    const rejection = (text: string, field?: string) => {
      const result = PasswordHash.checkPolicy(Redacted.make(text), field)
      assert.isTrue(Result.isFailure(result), `expected ${JSON.stringify(text.slice(0, 20))} to be refused`)
      return (result as Result.Failure<unknown, PasswordHash.PasswordRejected>).failure
    }
    const accepts = (text: string) => assert.isTrue(Result.isSuccess(PasswordHash.checkPolicy(Redacted.make(text))))

    it("takes 12 to 1,024 characters", () => {
      accepts("a".repeat(12))
      accepts("a".repeat(1024))
      accepts("  padded with spaces  ")
    })

    it("refuses 11 characters, naming the field and the minimum", () => {
      const error = rejection("a".repeat(11), "newPassword")
      assert.deepStrictEqual(error.issues, [{ field: "newPassword", message: "must be at least 12 characters (got 11)" }])
      assert.include(error.message, "newPassword: must be at least 12 characters")
    })

    it("names the field `password` by default", () => {
      assert.strictEqual(rejection("short").issues[0]!.field, "password")
    })

    it("refuses 1,025 characters", () => {
      assert.include(rejection("a".repeat(1025)).message, "at most 1024 characters (got 1025)")
    })

    it("refuses only whitespace, however long", () => {
      assert.include(rejection(" ".repeat(12)).message, "only whitespace")
      assert.include(rejection("\t \n\u00a0\u2003".repeat(5)).message, "only whitespace")
    })

    it("counts characters as a person does, not UTF-16 units", () => {
      const sixEmoji = "🔑".repeat(6) // 12 UTF-16 code units, 6 characters
      assert.include(rejection(sixEmoji).message, "(got 6)")
      accepts("🔑".repeat(12))
    })
  })
})
