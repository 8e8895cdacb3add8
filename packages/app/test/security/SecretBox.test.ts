/**
 * SecretBox: round trips, tampering and associated data, key rotation, key material. Values
 * sealed by the node:crypto version are opened in `StoredValues.test.ts`; where the Node server
 * finds its keys (environment, key file) is tested in `@canaryroll/server` (`SecretKeyFile`).
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer, Redacted, Result } from "effect"
import { Base64, Base64Url, Hex } from "effect/encoding"
import { SecretBox } from "../../src/index.ts"

const randomBytes = (length: number) => crypto.getRandomValues(new Uint8Array(length))
const keyA = randomBytes(32)
const keyB = randomBytes(32)
const cloudflareToken = Redacted.make("cf-api-token-Zx81kQm2vP7nR4tY9wE3")

/** The box `layer` builds; its errors, if any, fail the effect. */
const boxOf = <E>(layer: Layer.Layer<SecretBox.SecretBox, E>) =>
  Effect.gen(function*() {
    return yield* SecretBox.SecretBox
  }).pipe(Effect.provide(layer))

const bytesOf = (sealed: string) => Result.getOrThrow(Base64Url.decode(sealed))

/** Flips one bit of the envelope's byte at `index` (negative: from the end). */
const flipByte = (sealed: string, index: number) => {
  const bytes = bytesOf(sealed)
  const at = index < 0 ? bytes.length + index : index
  bytes[at]! ^= 0x01
  return Base64Url.encode(bytes)
}

/** The first 4 bytes of SHA-256 of `key`, in hex, by WebCrypto: the documented key id. */
const keyIdOf = (key: Uint8Array<ArrayBuffer>) =>
  Effect.promise(() => crypto.subtle.digest("SHA-256", key)).pipe(
    Effect.map((digest) => Hex.encode(new Uint8Array(digest, 0, 4)))
  )

const includesBytes = (haystack: Uint8Array, needle: Uint8Array) =>
  haystack.some((_, start) => needle.every((byte, i) => haystack[start + i] === byte))

describe("SecretBox", () => {
  describe("encrypt and decrypt", () => {
    it.effect("round-trips secrets, with and without associated data", () =>
      Effect.gen(function*() {
        const box = yield* boxOf(SecretBox.layerFromKey(keyA))
        for (const text of ["", "x", "https://hooks.slack.com/services/T0/B0/XYZ", "pässwörd 🔑", "k".repeat(10_000)]) {
          const sealed = yield* box.encrypt(Redacted.make(text))
          assert.strictEqual(Redacted.value(yield* box.decrypt(sealed)), text)
          const bound = yield* box.encrypt(Redacted.make(text), "credential-42")
          assert.strictEqual(Redacted.value(yield* box.decrypt(bound, "credential-42")), text)
        }
      }))

    it.effect("hides the plaintext: not in the sealed text, not in its bytes, and never twice the same", () =>
      Effect.gen(function*() {
        const box = yield* boxOf(SecretBox.layerFromKey(keyA))
        const plaintext = Redacted.value(cloudflareToken)
        const first = yield* box.encrypt(cloudflareToken)
        const second = yield* box.encrypt(cloudflareToken)
        assert.notInclude(first, plaintext)
        assert.notInclude(first, Base64Url.encode(plaintext).slice(0, 12))
        assert.isFalse(includesBytes(bytesOf(first), new TextEncoder().encode(plaintext)))
        assert.notStrictEqual(first, second)
      }))

    it.effect("lays the envelope out as documented: version 1, key id, nonce, ciphertext, tag", () =>
      Effect.gen(function*() {
        const box = yield* boxOf(SecretBox.layerFromKey(keyA))
        const bytes = bytesOf(yield* box.encrypt(Redacted.make("abc")))
        assert.strictEqual(bytes.length, 1 + 4 + 12 + 3 + 16)
        assert.strictEqual(bytes[0], 1)
        const keyId = yield* keyIdOf(keyA)
        assert.strictEqual(Hex.encode(bytes.subarray(1, 5)), keyId)
        assert.strictEqual(box.currentKeyId, keyId)
      }))

    it.effect("returns what it decrypts redacted", () =>
      Effect.gen(function*() {
        const box = yield* boxOf(SecretBox.layerFromKey(keyA))
        const opened = yield* box.decrypt(yield* box.encrypt(cloudflareToken))
        assert.isTrue(Redacted.isRedacted(opened))
        assert.notInclude(String(opened), Redacted.value(cloudflareToken))
      }))
  })

  describe("refuses what was altered", () => {
    const alterations: ReadonlyArray<readonly [string, number]> = [
      ["a byte of the nonce", 5],
      ["the nonce's last byte", 16],
      ["a byte of the ciphertext", 17],
      ["the ciphertext's last byte", -17],
      ["a byte of the tag", -16],
      ["the tag's last byte", -1]
    ]
    for (const [name, index] of alterations) {
      it.effect(name, () =>
        Effect.gen(function*() {
          const box = yield* boxOf(SecretBox.layerFromKey(keyA))
          const sealed = yield* box.encrypt(cloudflareToken, "row-1")
          const error = yield* box.decrypt(flipByte(sealed, index), "row-1").pipe(Effect.flip)
          assert.strictEqual(error.reason, "authenticationFailed")
        }))
    }

    it.effect("a changed key id: no such key", () =>
      Effect.gen(function*() {
        const box = yield* boxOf(SecretBox.layerFromKey(keyA))
        const error = yield* box.decrypt(flipByte(yield* box.encrypt(cloudflareToken), 2)).pipe(Effect.flip)
        assert.strictEqual(error.reason, "unknownKey")
      }))

    it.effect("a changed version byte, a truncated value, or something else entirely: malformed", () =>
      Effect.gen(function*() {
        const box = yield* boxOf(SecretBox.layerFromKey(keyA))
        const sealed = yield* box.encrypt(cloudflareToken)
        for (const garbage of [flipByte(sealed, 0), sealed.slice(0, 30), "", "not base64!", Redacted.value(cloudflareToken)]) {
          const error = yield* box.decrypt(garbage).pipe(Effect.flip)
          assert.strictEqual(error.reason, "malformed", garbage)
          assert.isFalse(box.isEncryptedWithCurrentKey(garbage))
        }
      }))

    it.effect("other associated data: a value moved to another row does not decrypt there", () =>
      Effect.gen(function*() {
        const box = yield* boxOf(SecretBox.layerFromKey(keyA))
        const sealed = yield* box.encrypt(cloudflareToken, "credential-1")
        for (const other of ["credential-2", "credential-10", "", undefined]) {
          const error = yield* box.decrypt(sealed, other).pipe(Effect.flip)
          assert.strictEqual(error.reason, "authenticationFailed")
          assert.notInclude(error.message, Redacted.value(cloudflareToken))
        }
        const unbound = yield* box.encrypt(cloudflareToken)
        assert.strictEqual((yield* box.decrypt(unbound, "credential-1").pipe(Effect.flip)).reason, "authenticationFailed")
      }))
  })

  describe("key rotation", () => {
    it.effect("after a new current key, old values still decrypt; new ones use the new key", () =>
      Effect.gen(function*() {
        const before = yield* boxOf(SecretBox.layerFromKey(keyA))
        const old = yield* before.encrypt(cloudflareToken, "row-1")
        const after = yield* boxOf(SecretBox.layerFromKey(keyB, [keyA]))
        assert.strictEqual(Redacted.value(yield* after.decrypt(old, "row-1")), Redacted.value(cloudflareToken))
        assert.isFalse(after.isEncryptedWithCurrentKey(old))
        const renewed = yield* after.encrypt(yield* after.decrypt(old, "row-1"), "row-1")
        assert.isTrue(after.isEncryptedWithCurrentKey(renewed))
        assert.strictEqual(Redacted.value(yield* after.decrypt(renewed, "row-1")), Redacted.value(cloudflareToken))
        // The old key alone cannot read what the new key wrote.
        assert.strictEqual((yield* before.decrypt(renewed, "row-1").pipe(Effect.flip)).reason, "unknownKey")
      }))

    it.effect("without the old key, says which key is missing and how to keep it", () =>
      Effect.gen(function*() {
        const old = yield* (yield* boxOf(SecretBox.layerFromKey(keyA))).encrypt(cloudflareToken)
        const error = yield* (yield* boxOf(SecretBox.layerFromKey(keyB))).decrypt(old).pipe(Effect.flip)
        assert.strictEqual(error.reason, "unknownKey")
        assert.include(error.message, yield* keyIdOf(keyA))
        assert.include(error.message, "CANARYROLL_SECRET_KEY_PREVIOUS")
      }))
  })

  describe("key material", () => {
    it("reads 64 hex digits, base64 and base64url, ignoring surrounding whitespace", () => {
      for (const text of [Hex.encode(keyA), Hex.encode(keyA).toUpperCase(), Base64.encode(keyA),
        Base64.encode(keyA).slice(0, 43), Base64Url.encode(keyA), `  ${Base64.encode(keyA)}\n`]) {
        const key = SecretBox.parseKey(text, "CANARYROLL_SECRET_KEY")
        assert.isTrue(Result.isSuccess(key), text)
        assert.deepStrictEqual(Result.getOrThrow(key), keyA)
      }
    })

    it("refuses anything else, naming the source and never repeating the material", () => {
      const refused = [
        "",
        "hunter2",
        "correct horse battery staple correct horse battery staple!!!!!!",
        Hex.encode(keyA).slice(0, 62),
        `${Hex.encode(keyA)}00`,
        Base64.encode(randomBytes(31)),
        Base64.encode(randomBytes(33)),
        Hex.encode(randomBytes(16)),
        `${Base64.encode(keyA).slice(0, 20)}!${Base64.encode(keyA).slice(21)}`,
        // Both alphabets in one key: neither base64 nor base64url.
        `-+${Base64.encode(keyA).slice(2)}`
      ]
      for (const text of refused) {
        const key = SecretBox.parseKey(text, "CANARYROLL_SECRET_KEY")
        assert.isTrue(Result.isFailure(key), text)
        const { message } = (key as Result.Failure<Uint8Array, SecretBox.SecretKeyError>).failure
        assert.match(message, /^CANARYROLL_SECRET_KEY must be a 32-byte key written as 64 hex digits or as base64/)
        if (text.length > 4) assert.notInclude(message, text.trim())
      }
    })

    it.effect("takes the keys a runtime hands in, naming where they came from", () =>
      Effect.gen(function*() {
        const old = yield* (yield* boxOf(SecretBox.layerFromKey(keyA))).encrypt(cloudflareToken, "row-1")
        const box = yield* boxOf(SecretBox.layer({ current: keyB, previous: [keyA] }, "the Worker's secrets"))
        assert.strictEqual(box.keySource, "the Worker's secrets")
        assert.strictEqual(box.currentKeyId, yield* keyIdOf(keyB))
        assert.strictEqual(Redacted.value(yield* box.decrypt(old, "row-1")), Redacted.value(cloudflareToken))
        assert.strictEqual((yield* boxOf(SecretBox.layerFromKey(keyA))).keySource, "keys given in code")
      }))

    it.effect("accepts the current key listed again as a previous one", () =>
      Effect.gen(function*() {
        const box = yield* boxOf(SecretBox.layerFromKey(keyA, [keyB, keyA]))
        assert.strictEqual(Redacted.value(yield* box.decrypt(yield* box.encrypt(cloudflareToken))), Redacted.value(cloudflareToken))
      }))

    it.effect("refuses keys of the wrong length given in code", () =>
      Effect.gen(function*() {
        const error = yield* boxOf(SecretBox.layerFromKey(randomBytes(16))).pipe(Effect.flip)
        assert.strictEqual(error._tag, "SecretKeyError")
        assert.include(error.message, "16 bytes")
        const previous = yield* boxOf(SecretBox.layerFromKey(keyA, [randomBytes(24)])).pipe(Effect.flip)
        assert.include(previous.message, "previous key 1 is 24 bytes")
      }))
  })
})
