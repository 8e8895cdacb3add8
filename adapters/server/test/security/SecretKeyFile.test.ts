/**
 * SecretKeyFile: where the Node server finds its SecretBox keys, the environment
 * (`CANARYROLL_SECRET_KEY`, `CANARYROLL_SECRET_KEY_PREVIOUS`) or the key file in the data
 * directory, created on the first start. The box itself is tested in `@canaryroll/app`.
 */
import { SecretBox } from "@canaryroll/app"
import { assert, describe, it } from "@effect/vitest"
import { ConfigProvider, Effect, Layer, Redacted, References } from "effect"
import * as crypto from "node:crypto"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { afterAll } from "vitest"
import * as SecretKeyFile from "../../src/security/SecretKeyFile.ts"

const keyA = crypto.randomBytes(32)
const keyB = crypto.randomBytes(32)
const cloudflareToken = Redacted.make("cf-api-token-Zx81kQm2vP7nR4tY9wE3")

const temporaryRoot = fs.mkdtempSync(path.join(os.tmpdir(), "canaryroll-secretkeyfile-test-"))
afterAll(() => fs.rmSync(temporaryRoot, { recursive: true, force: true }))
let directories = 0
const freshDataDirectory = () => path.join(temporaryRoot, `data-${directories++}`, ".canaryroll")

/** The box `layer` builds; its errors, if any, fail the effect. */
const boxOf = <E>(layer: Layer.Layer<SecretBox.SecretBox, E>) =>
  Effect.gen(function*() {
    return yield* SecretBox.SecretBox
  }).pipe(Effect.provide(layer), Effect.provideService(References.MinimumLogLevel, "Error"))

const withEnvironment = (env: Record<string, string>, options: SecretKeyFile.FileOptions = {}) =>
  SecretKeyFile.layerFromEnvOrFile(options).pipe(
    Layer.provide(ConfigProvider.layer(ConfigProvider.fromEnvRecord(env)))
  )

/** The box reading (or creating) the key file in `dataDirectory`, whatever this process's environment says. */
const fromFile = (dataDirectory: string) => withEnvironment({}, { dataDirectory })

describe("SecretKeyFile", () => {
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
