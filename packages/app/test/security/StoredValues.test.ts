/**
 * What the node:crypto server stored before the move to Web APIs still verifies and opens: the
 * fixtures in `test/fixtures/` were made by that code (their `note` names the commit) and are
 * never regenerated. Password hashes at the production parameters, values sealed with and
 * without associated data under the current and a previous key, API tokens and session secrets
 * with their stored hashes. Each is also refused where it must be: a wrong password, an altered
 * value, other associated data, a missing key.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Option, Redacted, Result } from "effect"
import { Base64Url } from "effect/encoding"
import { ApiToken, PasswordHash, SecretBox, SessionSecret } from "../../src/index.ts"
import passwordFixtures from "../fixtures/password-hashes.json" with { type: "json" }
import sealedFixtures from "../fixtures/sealed-secrets.json" with { type: "json" }
import tokenFixtures from "../fixtures/tokens.json" with { type: "json" }

const key = (text: string) => Result.getOrThrow(SecretBox.parseKey(text, "fixture"))
const currentKey = key(sealedFixtures.keys.current)
const previousKey = key(sealedFixtures.keys.previous)

const boxOf = (keys: SecretBox.Keys) => SecretBox.make(keys)

/** Flips one bit of the envelope's byte at `index` (negative: from the end). */
const flipByte = (sealed: string, index: number) => {
  const bytes = Result.getOrThrow(Base64Url.decode(sealed))
  const at = index < 0 ? bytes.length + index : index
  bytes[at]! ^= 0x01
  return Base64Url.encode(bytes)
}

/** JSON has no `undefined`: a value sealed without associated data has no such field. */
const associatedDataOf = (value: { readonly associatedData?: string }) => value.associatedData

describe("stored by the node:crypto server", () => {
  describe("password hashes", () => {
    for (const { hash, password } of passwordFixtures.hashes) {
      const [, n] = hash.split("$")
      it.effect(`verify ${JSON.stringify(password)} (N = ${n}) and refuse other passwords`, () =>
        Effect.gen(function*() {
          assert.isTrue(yield* PasswordHash.verify(Redacted.make(password), hash))
          assert.isFalse(yield* PasswordHash.verify(Redacted.make(`${password}!`), hash))
          assert.isFalse(yield* PasswordHash.verify(Redacted.make(password.toUpperCase()), hash))
          // The stored form reads back to the same string: the format did not move.
          assert.strictEqual(PasswordHash.encode(Result.getOrThrow(PasswordHash.decode(hash))), hash)
        }))
    }

    it("at today's parameters, ask for no rehash", () => {
      const atCurrent = passwordFixtures.hashes.filter(({ hash }) => hash.startsWith("scrypt$32768$8$1$"))
      assert.isAtLeast(atCurrent.length, 3)
      for (const { hash } of atCurrent) assert.isFalse(PasswordHash.needsRehash(hash))
    })

    it.effect("verify a password typed in another Unicode form (NFKC, as before)", () =>
      Effect.gen(function*() {
        const [composed] = passwordFixtures.hashes.filter(({ password }) => password.includes("\u00e9"))
        assert.isDefined(composed)
        assert.isTrue(yield* PasswordHash.verify(Redacted.make(composed!.password.normalize("NFD")), composed!.hash))
        const [fullWidth] = passwordFixtures.hashes.filter(({ password }) => password.includes("\uff21"))
        assert.isTrue(yield* PasswordHash.verify(Redacted.make("ABC full-width letters"), fullWidth!.hash))
      }))
  })

  describe("sealed secrets", () => {
    it.effect("have the key ids the server showed", () =>
      Effect.gen(function*() {
        assert.strictEqual((yield* boxOf({ current: currentKey })).currentKeyId, sealedFixtures.currentKeyId)
        assert.strictEqual((yield* boxOf({ current: previousKey })).currentKeyId, sealedFixtures.previousKeyId)
      }))

    for (const value of sealedFixtures.sealed) {
      const associatedData = associatedDataOf(value)
      const name = `${JSON.stringify(value.plaintext)} (${value.key} key, ${
        associatedData === undefined ? "no associated data" : `bound to ${associatedData}`
      })`
      it.effect(`open ${name}`, () =>
        Effect.gen(function*() {
          const box = yield* boxOf({ current: currentKey, previous: [previousKey] })
          assert.strictEqual(Redacted.value(yield* box.decrypt(value.sealed, associatedData)), value.plaintext)
          assert.strictEqual(box.isEncryptedWithCurrentKey(value.sealed), value.key === "current")
          assert.deepStrictEqual(
            SecretBox.keyIdOfSealed(value.sealed),
            Option.some(value.key === "current" ? sealedFixtures.currentKeyId : sealedFixtures.previousKeyId)
          )
        }))

      it.effect(`refuse ${name} altered, elsewhere, or without its key`, () =>
        Effect.gen(function*() {
          const box = yield* boxOf({ current: currentKey, previous: [previousKey] })
          for (const index of [5, 17, -1]) {
            const error = yield* box.decrypt(flipByte(value.sealed, index), associatedData).pipe(Effect.flip)
            assert.strictEqual(error.reason, "authenticationFailed")
          }
          for (const other of ["cfa_another_row", `${associatedData ?? ""}x`]) {
            const error = yield* box.decrypt(value.sealed, other).pipe(Effect.flip)
            assert.strictEqual(error.reason, "authenticationFailed")
            if (value.plaintext !== "") assert.notInclude(error.message, value.plaintext)
          }
          const onlyTheOtherKey = yield* boxOf({ current: value.key === "current" ? previousKey : currentKey })
          assert.strictEqual((yield* onlyTheOtherKey.decrypt(value.sealed, associatedData).pipe(Effect.flip)).reason, "unknownKey")
        }))
    }

    it.effect("open with a dangling last character, as node:crypto's decoder did", () =>
      Effect.gen(function*() {
        const box = yield* boxOf({ current: currentKey, previous: [previousKey] })
        const value = sealedFixtures.sealed.find(({ sealed }) => sealed.length % 4 === 0)
        assert.isDefined(value)
        const opened = yield* box.decrypt(`${value!.sealed}A`, associatedDataOf(value!))
        assert.strictEqual(Redacted.value(opened), value!.plaintext)
      }))

    it.effect("re-sealed under the current key, still open with the same associated data", () =>
      Effect.gen(function*() {
        const box = yield* boxOf({ current: currentKey, previous: [previousKey] })
        for (const value of sealedFixtures.sealed.filter(({ key }) => key === "previous")) {
          const associatedData = associatedDataOf(value)
          const renewed = yield* box.encrypt(yield* box.decrypt(value.sealed, associatedData), associatedData)
          assert.isTrue(box.isEncryptedWithCurrentKey(renewed))
          assert.strictEqual(Redacted.value(yield* box.decrypt(renewed, associatedData)), value.plaintext)
        }
      }))
  })

  describe("API tokens and session secrets", () => {
    it("tokens are well-formed, of their kind, and hash and display as stored", () => {
      for (const { display, hash, kind, token } of tokenFixtures.tokens) {
        assert.deepStrictEqual(ApiToken.kindOf(token), Option.some(kind))
        assert.strictEqual(ApiToken.hash(token), hash)
        assert.strictEqual(ApiToken.hash(Redacted.make(token)), hash)
        assert.strictEqual(ApiToken.display(token), display)
        assert.isFalse(ApiToken.isWellFormed(`${token.slice(0, -1)}${token.endsWith("0") ? "1" : "0"}`))
      }
    })

    it("session secrets hash as stored, so live sessions stay signed in", () => {
      for (const { hash, secret } of tokenFixtures.sessions) {
        assert.strictEqual(SessionSecret.hash(Redacted.make(secret)), hash)
        assert.notStrictEqual(SessionSecret.hash(Redacted.make(`${secret.slice(0, -1)}A`)), hash)
      }
    })

    it.effect("new session secrets have the stored ones' shape: 32 bytes in base64url", () =>
      Effect.gen(function*() {
        const issued = yield* SessionSecret.issue
        const secret = Redacted.value(issued.secret)
        assert.match(secret, /^[A-Za-z0-9_-]{43}$/)
        assert.strictEqual(Result.getOrThrow(Base64Url.decode(secret)).length, SessionSecret.secretBytes)
        assert.strictEqual(issued.hash, SessionSecret.hash(issued.secret))
        for (const stored of tokenFixtures.sessions) assert.match(stored.secret, /^[A-Za-z0-9_-]{43}$/)
        assert.notStrictEqual(Redacted.value((yield* SessionSecret.issue).secret), secret)
        assert.notInclude(String(issued.secret), secret)
      }))
  })
})
