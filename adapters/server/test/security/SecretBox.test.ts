/**
 * SecretBox: round trips, tampering and associated data, key rotation, key material from the
 * environment and from the key file in the data directory.
 */
import { assert, describe, it } from "@effect/vitest"
import { ConfigProvider, Effect, Layer, Redacted, References, Result } from "effect"
import * as crypto from "node:crypto"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { afterAll } from "vitest"
import { SecretBox } from "../../src/index.ts"

const keyA = crypto.randomBytes(32)
const keyB = crypto.randomBytes(32)
const cloudflareToken = Redacted.make("cf-api-token-Zx81kQm2vP7nR4tY9wE3")

const temporaryRoot = fs.mkdtempSync(path.join(os.tmpdir(), "canaryroll-secretbox-test-"))
afterAll(() => fs.rmSync(temporaryRoot, { recursive: true, force: true }))
let directories = 0
const freshDataDirectory = () => path.join(temporaryRoot, `data-${directories++}`, ".canaryroll")

/** The box `layer` builds; its errors, if any, fail the effect. */
const boxOf = <E>(layer: Layer.Layer<SecretBox.SecretBox, E>) =>
  Effect.gen(function*() {
    return yield* SecretBox.SecretBox
  }).pipe(Effect.provide(layer), Effect.provideService(References.MinimumLogLevel, "Error"))

const withEnvironment = (env: Record<string, string>, options: SecretBox.FileOptions = {}) =>
  SecretBox.layerFromEnvOrFile(options).pipe(Layer.provide(ConfigProvider.layer(ConfigProvider.fromEnvRecord(env))))

/** The box reading (or creating) the key file in `dataDirectory`, whatever this process's environment says. */
const fromFile = (dataDirectory: string) => withEnvironment({}, { dataDirectory })

/** Flips one bit of the envelope's byte at `index` (negative: from the end). */
const flipByte = (sealed: string, index: number) => {
  const bytes = Buffer.from(sealed, "base64url")
  const at = index < 0 ? bytes.length + index : index
  bytes[at]! ^= 0x01
  return bytes.toString("base64url")
}

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
        assert.notInclude(first, Buffer.from(plaintext).toString("base64url").slice(0, 12))
        assert.isFalse(Buffer.from(first, "base64url").includes(Buffer.from(plaintext)))
        assert.notStrictEqual(first, second)
      }))

    it.effect("lays the envelope out as documented: version 1, key id, nonce, ciphertext, tag", () =>
      Effect.gen(function*() {
        const box = yield* boxOf(SecretBox.layerFromKey(keyA))
        const bytes = Buffer.from(yield* box.encrypt(Redacted.make("abc")), "base64url")
        assert.strictEqual(bytes.length, 1 + 4 + 12 + 3 + 16)
        assert.strictEqual(bytes[0], 1)
        const keyId = crypto.createHash("sha256").update(keyA).digest().subarray(0, 4).toString("hex")
        assert.strictEqual(bytes.subarray(1, 5).toString("hex"), keyId)
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
        assert.include(error.message, crypto.createHash("sha256").update(keyA).digest().subarray(0, 4).toString("hex"))
        assert.include(error.message, "CANARYROLL_SECRET_KEY_PREVIOUS")
      }))
  })

  describe("key material", () => {
    it("reads 64 hex digits, base64 and base64url, ignoring surrounding whitespace", () => {
      for (const text of [keyA.toString("hex"), keyA.toString("hex").toUpperCase(), keyA.toString("base64"),
        keyA.toString("base64").slice(0, 43), keyA.toString("base64url"), `  ${keyA.toString("base64")}\n`]) {
        const key = SecretBox.parseKey(text, "CANARYROLL_SECRET_KEY")
        assert.isTrue(Result.isSuccess(key), text)
        assert.isTrue(Buffer.from(Result.getOrThrow(key)).equals(keyA))
      }
    })

    it("refuses anything else, naming the source and never repeating the material", () => {
      const refused = [
        "",
        "hunter2",
        "correct horse battery staple correct horse battery staple!!!!!!",
        keyA.toString("hex").slice(0, 62),
        `${keyA.toString("hex")}00`,
        crypto.randomBytes(31).toString("base64"),
        crypto.randomBytes(33).toString("base64"),
        crypto.randomBytes(16).toString("hex"),
        `${keyA.toString("base64").slice(0, 20)}!${keyA.toString("base64").slice(21)}`
      ]
      for (const text of refused) {
        const key = SecretBox.parseKey(text, "CANARYROLL_SECRET_KEY")
        assert.isTrue(Result.isFailure(key), text)
        const { message } = (key as Result.Failure<Uint8Array, SecretBox.SecretKeyError>).failure
        assert.match(message, /^CANARYROLL_SECRET_KEY must be a 32-byte key written as 64 hex digits or as base64/)
        if (text.length > 4) assert.notInclude(message, text.trim())
      }
    })

    it.effect("refuses keys of the wrong length given in code", () =>
      Effect.gen(function*() {
        const error = yield* boxOf(SecretBox.layerFromKey(crypto.randomBytes(16))).pipe(Effect.flip)
        assert.strictEqual(error._tag, "SecretKeyError")
        assert.include(error.message, "16 bytes")
        const previous = yield* boxOf(SecretBox.layerFromKey(keyA, [crypto.randomBytes(24)])).pipe(Effect.flip)
        assert.include(previous.message, "previous key 1 is 24 bytes")
      }))
  })

  describe("layerFromEnvOrFile", () => {
    it.effect("takes CANARYROLL_SECRET_KEY and its previous keys, and creates no file", () =>
      Effect.gen(function*() {
        const dataDirectory = freshDataDirectory()
        const old = yield* (yield* boxOf(SecretBox.layerFromKey(keyA))).encrypt(cloudflareToken)
        const box = yield* boxOf(withEnvironment({
          CANARYROLL_SECRET_KEY: keyB.toString("base64"),
          CANARYROLL_SECRET_KEY_PREVIOUS: ` ${crypto.randomBytes(32).toString("hex")}, ${keyA.toString("hex")} `
        }, { dataDirectory }))
        assert.strictEqual(box.keySource, "CANARYROLL_SECRET_KEY")
        assert.strictEqual(box.currentKeyId, (yield* boxOf(SecretBox.layerFromKey(keyB))).currentKeyId)
        assert.strictEqual(Redacted.value(yield* box.decrypt(old)), Redacted.value(cloudflareToken))
        assert.isFalse(fs.existsSync(dataDirectory))
      }))

    it.effect("refuses bad key material in the environment with a message naming the variable", () =>
      Effect.gen(function*() {
        const bad = yield* boxOf(withEnvironment({ CANARYROLL_SECRET_KEY: "not-a-key" })).pipe(Effect.flip)
        assert.strictEqual(bad._tag, "SecretKeyError")
        assert.include(bad.message, "CANARYROLL_SECRET_KEY must be a 32-byte key")
        const badPrevious = yield* boxOf(withEnvironment({
          CANARYROLL_SECRET_KEY: keyA.toString("hex"),
          CANARYROLL_SECRET_KEY_PREVIOUS: "abc"
        })).pipe(Effect.flip)
        assert.include(badPrevious.message, "(key 2) must be a 32-byte key")
      }))

    it.effect("refuses an empty CANARYROLL_SECRET_KEY instead of falling back to the file", () =>
      Effect.gen(function*() {
        const dataDirectory = freshDataDirectory()
        const error = yield* boxOf(withEnvironment({ CANARYROLL_SECRET_KEY: " " }, { dataDirectory })).pipe(Effect.flip)
        assert.include(error.message, "set but empty")
        assert.isFalse(fs.existsSync(dataDirectory))
      }))

    it.effect("without the variable, generates a key file with mode 0600 and reuses it afterwards", () =>
      Effect.gen(function*() {
        const dataDirectory = freshDataDirectory()
        const file = path.join(dataDirectory, "secret.key")
        const first = yield* boxOf(fromFile(dataDirectory))
        assert.strictEqual(first.keySource, path.resolve(file))
        assert.strictEqual(fs.statSync(file).mode & 0o777, 0o600)
        const content = fs.readFileSync(file, "utf8")
        assert.match(content, /^[A-Za-z0-9+/]{43}=\n$/)
        assert.deepStrictEqual(fs.readdirSync(dataDirectory), ["secret.key"], "no temporary file left behind")

        const sealed = yield* first.encrypt(cloudflareToken, "row-1")
        const second = yield* boxOf(fromFile(dataDirectory))
        assert.strictEqual(second.currentKeyId, first.currentKeyId)
        assert.strictEqual(fs.readFileSync(file, "utf8"), content)
        assert.strictEqual(Redacted.value(yield* second.decrypt(sealed, "row-1")), Redacted.value(cloudflareToken))
        // The file's key is the key: it works as CANARYROLL_SECRET_KEY too.
        const fromVariable = yield* boxOf(withEnvironment({ CANARYROLL_SECRET_KEY: content }))
        assert.strictEqual(Redacted.value(yield* fromVariable.decrypt(sealed, "row-1")), Redacted.value(cloudflareToken))
      }))

    it.effect("servers starting together on one data directory agree on one key", () =>
      Effect.gen(function*() {
        const dataDirectory = freshDataDirectory()
        const boxes = yield* Effect.forEach(Array.from({ length: 8 }), () => boxOf(fromFile(dataDirectory)), {
          concurrency: "unbounded"
        })
        assert.strictEqual(new Set(boxes.map((box) => box.currentKeyId)).size, 1)
        assert.deepStrictEqual(fs.readdirSync(dataDirectory), ["secret.key"])
      }))

    it.effect("reads an existing file with previous keys on later lines", () =>
      Effect.gen(function*() {
        const dataDirectory = freshDataDirectory()
        fs.mkdirSync(dataDirectory, { recursive: true })
        fs.writeFileSync(path.join(dataDirectory, "secret.key"), `${keyB.toString("hex")}\n\n${keyA.toString("base64")}\n`, {
          mode: 0o600
        })
        const old = yield* (yield* boxOf(SecretBox.layerFromKey(keyA))).encrypt(cloudflareToken)
        const box = yield* boxOf(fromFile(dataDirectory))
        assert.strictEqual(box.currentKeyId, (yield* boxOf(SecretBox.layerFromKey(keyB))).currentKeyId)
        assert.strictEqual(Redacted.value(yield* box.decrypt(old)), Redacted.value(cloudflareToken))
      }))

    it.effect("refuses a key file with bad material, naming the file", () =>
      Effect.gen(function*() {
        const dataDirectory = freshDataDirectory()
        const file = path.join(dataDirectory, "secret.key")
        fs.mkdirSync(dataDirectory, { recursive: true })
        fs.writeFileSync(file, "changeme\n", { mode: 0o600 })
        const error = yield* boxOf(fromFile(dataDirectory)).pipe(Effect.flip)
        assert.include(error.message, `The secret key file ${file} must be a 32-byte key`)
        fs.writeFileSync(file, "\n")
        assert.include((yield* boxOf(fromFile(dataDirectory)).pipe(Effect.flip)).message, "holds no key")
      }))
  })
})
