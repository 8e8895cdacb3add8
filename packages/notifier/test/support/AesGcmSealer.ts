/**
 * A SecretSealer for tests: AES-256-GCM with a random key per layer, associated data
 * authenticated, output `base64url(nonce ‖ ciphertext ‖ tag)`. The server uses its SecretBox;
 * this only has to behave like it (a value opens with its own associated data and no other).
 */
import { Effect, Layer, Redacted } from "effect"
import * as crypto from "node:crypto"
import { SecretSealer } from "../../src/index.ts"

export const make = (key: Uint8Array = crypto.randomBytes(32)): SecretSealer.SecretSealer["Service"] =>
  SecretSealer.SecretSealer.of({
    encrypt: (plaintext, associatedData) =>
      Effect.sync(() => {
        const nonce = crypto.randomBytes(12)
        const cipher = crypto.createCipheriv("aes-256-gcm", key, nonce)
        cipher.setAAD(Buffer.from(associatedData, "utf8"))
        const ciphertext = Buffer.concat([cipher.update(Redacted.value(plaintext), "utf8"), cipher.final()])
        return Buffer.concat([nonce, ciphertext, cipher.getAuthTag()]).toString("base64url")
      }),
    decrypt: (sealed, associatedData) =>
      Effect.try({
        try: () => {
          const envelope = Buffer.from(sealed, "base64url")
          const decipher = crypto.createDecipheriv("aes-256-gcm", key, envelope.subarray(0, 12))
          decipher.setAAD(Buffer.from(associatedData, "utf8"))
          decipher.setAuthTag(envelope.subarray(envelope.length - 16))
          return Redacted.make(
            Buffer.concat([decipher.update(envelope.subarray(12, envelope.length - 16)), decipher.final()]).toString("utf8")
          )
        },
        catch: () => ({ message: "the sealed value does not open with this key and associated data" })
      })
  })

export const layer = (key?: Uint8Array): Layer.Layer<SecretSealer.SecretSealer> =>
  Layer.sync(SecretSealer.SecretSealer, () => make(key))
