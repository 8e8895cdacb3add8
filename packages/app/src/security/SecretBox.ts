/**
 * SecretBox: encryption of the secrets the application must be able to read back (Cloudflare
 * API tokens, webhook URLs, SMTP passwords), so that a copy of the database or a backup does not
 * give them away. AES-256-GCM; each sealed value is one base64url string of
 *
 *     version (1 byte, 1) ‖ key id (4 bytes) ‖ nonce (12 bytes) ‖ ciphertext ‖ tag (16 bytes)
 *
 * - The key id is the first 4 bytes of SHA-256 of the key (the key cannot be recovered from it),
 *   so `decrypt` picks the right key among the current and previous ones, and keys can be
 *   rotated: new values are encrypted with the current key, old ones still decrypt with a
 *   previous key, and `isEncryptedWithCurrentKey` finds the rows to re-encrypt. Deriving the id
 *   from the key means operators never number keys by hand.
 * - Associated data binds a value to where it is stored: encrypt a team's Cloudflare token with
 *   the credential row's id, and a value copied into another row fails to decrypt there. The
 *   version byte and key id are authenticated too.
 * - Nonces are random: safe for far more values than a server will ever encrypt under one key
 *   (the limit is about 2^32).
 * - Plaintext goes in and comes out `Redacted`, so it does not end up in logs by accident.
 *
 * WebCrypto only (`crypto.subtle`, `crypto.getRandomValues`), so every runtime seals alike, and
 * values sealed by the node:crypto version open unchanged (`test/fixtures/sealed-secrets.json`).
 * The keys are handed in (`make`, `layer`): where they live is the runtime's business. The Node
 * server reads `CANARYROLL_SECRET_KEY` (and `CANARYROLL_SECRET_KEY_PREVIOUS`) or the key file in
 * its data directory (`SecretKeyFile` in `@canaryroll/server`); a Worker would read its secrets.
 * `parseKey` reads a key as operators write it, wherever it came from.
 *
 * @since 0.1.0
 */
import { Context, Effect, Layer, Option, Redacted, Result, Schema } from "effect"
import { Base64, Base64Url, Hex } from "effect/encoding"

/** Where operators put the current key, as 64 hex digits or base64 of 32 bytes. */
export const keyVariable = "CANARYROLL_SECRET_KEY"
/** Keys that were current before, comma-separated, still accepted for decryption. */
export const previousKeysVariable = "CANARYROLL_SECRET_KEY_PREVIOUS"

export const keyLength = 32

const formatVersion = 1
const keyIdLength = 4
const nonceLength = 12
const tagLength = 16
const headerLength = 1 + keyIdLength
const minimumLength = headerLength + nonceLength + tagLength

/** Key material that cannot be used, or that cannot be read from where it is kept. */
export class SecretKeyError extends Schema.TaggedError<SecretKeyError>()("SecretKeyError", {
  message: Schema.String
}) {}

/**
 * A value that cannot be decrypted. `reason`: `malformed` (not a sealed value at all),
 * `unknownKey` (sealed under a key that is not configured: the key was changed without keeping
 * the old one as a previous key), `authenticationFailed` (altered, or decrypted with other
 * associated data than it was encrypted with).
 */
export class SecretUndecryptable extends Schema.TaggedError<SecretUndecryptable>()("SecretUndecryptable", {
  reason: Schema.Literals(["malformed", "unknownKey", "authenticationFailed"]),
  message: Schema.String
}) {}

export class SecretBox extends Context.Service<SecretBox, {
  /** Where the keys came from, for the start-up log: the variable's name or the file's path. */
  readonly keySource: string
  /** The current key's id, in hex. */
  readonly currentKeyId: string
  /**
   * Encrypts `plaintext` with the current key. Pass the same `associatedData` (e.g. the row's
   * id) to `decrypt`; absent and empty are the same.
   */
  readonly encrypt: (plaintext: Redacted.Redacted<string>, associatedData?: string) => Effect.Effect<string>
  readonly decrypt: (
    sealed: string,
    associatedData?: string
  ) => Effect.Effect<Redacted.Redacted<string>, SecretUndecryptable>
  /** Whether `sealed` uses the current key; `false` means it should be re-encrypted (or is malformed). */
  readonly isEncryptedWithCurrentKey: (sealed: string) => boolean
}>()("@canaryroll/app/SecretBox") {}

/** The keys a box holds: one to encrypt with, and older ones it still decrypts. */
export interface Keys {
  readonly current: Uint8Array
  readonly previous?: ReadonlyArray<Uint8Array> | undefined
}

const hexKey = /^[0-9a-fA-F]{64}$/
const base64Key = /^(?:[A-Za-z0-9+/]{43}|[A-Za-z0-9_-]{43})=?$/

/**
 * Reads one key written as 64 hex digits or as base64 / base64url of 32 bytes (surrounding
 * whitespace ignored). `source` names where it came from in the message, which never repeats
 * the material itself.
 */
export const parseKey = (text: string, source: string): Result.Result<Uint8Array, SecretKeyError> => {
  const trimmed = text.trim()
  const bytes = hexKey.test(trimmed)
    ? Result.getOrUndefined(Hex.decode(trimmed))
    : base64Key.test(trimmed)
    // One alphabet, padded: the form `Base64.decode` takes. 43 characters carry 258 bits; the
    // last 2 are ignored, as node:crypto's decoder ignored them.
    ? Result.getOrUndefined(Base64.decode(trimmed.replace(/-/g, "+").replace(/_/g, "/").replace(/=?$/, "=")))
    : undefined
  if (bytes !== undefined && bytes.length === keyLength) return Result.succeed(bytes)
  return Result.fail(
    new SecretKeyError({
      message: `${source} must be a ${keyLength}-byte key written as 64 hex digits or as base64 (44 characters): ` +
        `it is ${trimmed.length} characters long and neither. Generate one with: openssl rand -base64 32`
    })
  )
}

/** A key id in the form `currentKeyId` and messages show it. */
const showId = (id: Uint8Array): string => Hex.encode(id)

const keyIdOf = (key: Uint8Array<ArrayBuffer>) =>
  Effect.promise(() => crypto.subtle.digest("SHA-256", key)).pipe(
    Effect.map((digest) => new Uint8Array(digest, 0, keyIdLength))
  )

/** Whether two byte strings are equal, in a time that depends on their length only. */
const sameBytes = (a: Uint8Array, b: Uint8Array): boolean => {
  if (a.length !== b.length) return false
  let difference = 0
  for (let i = 0; i < a.length; i++) difference |= a[i]! ^ b[i]!
  return difference === 0
}

/**
 * What the AEAD authenticates besides the ciphertext: the envelope's header (fixed length, so
 * the concatenation is unambiguous), then the caller's associated data.
 */
const additionalData = (header: Uint8Array, associatedData: string | undefined): Uint8Array<ArrayBuffer> => {
  const data = new TextEncoder().encode(associatedData ?? "")
  const out = new Uint8Array(header.length + data.length)
  out.set(header)
  out.set(data, header.length)
  return out
}

const strictBase64url = /^[A-Za-z0-9_-]*$/

/** The envelope's bytes if `sealed` has the shape of one of ours, whatever its key. */
const readEnvelope = (sealed: string): Result.Result<Uint8Array<ArrayBuffer>, SecretUndecryptable> => {
  const malformed = (detail: string) =>
    Result.fail(new SecretUndecryptable({ reason: "malformed", message: `Not an encrypted secret: ${detail}` }))
  if (!strictBase64url.test(sealed)) return malformed("expected base64url")
  // node:crypto's decoder, which read these values until the move, ignores a dangling last
  // character (6 bits, no whole byte); so does this one, so whatever opened then opens now.
  const decoded = Base64Url.decode(sealed.length % 4 === 1 ? sealed.slice(0, -1) : sealed)
  // The alphabet was checked and the length fixed above, so decoding cannot fail; if it did, the
  // value is not ours either way.
  if (Result.isFailure(decoded)) return malformed("expected base64url")
  const envelope = new Uint8Array(decoded.success)
  if (envelope.length < minimumLength) {
    return malformed(`${envelope.length} bytes, shorter than the ${minimumLength} of an empty secret`)
  }
  if (envelope[0] !== formatVersion) return malformed(`unknown format version ${envelope[0]}`)
  return Result.succeed(envelope)
}

/** The id of the key `sealed` was encrypted with (as `currentKeyId` shows ids), if it is one of ours. */
export const keyIdOfSealed = (sealed: string): Option.Option<string> => {
  const envelope = readEnvelope(sealed)
  return Result.isSuccess(envelope) ? Option.some(showId(envelope.success.subarray(1, headerLength))) : Option.none()
}

/** A key ready for WebCrypto, with its id. */
interface ImportedKey {
  readonly id: Uint8Array
  readonly bytes: Uint8Array
  readonly key: CryptoKey
}

/**
 * A box over `keys`. Fails if a key is not 32 bytes. Every key's id must differ (a 1 in 2^32
 * accident, reported rather than ignored). `keySource` says where the keys came from.
 */
/** The `keySource` of keys handed in without a name (tests, embedding). */
export const unnamedKeySource = "keys given in code"

export const make = ({ current, previous = [] }: Keys, keySource = unnamedKeySource) =>
  Effect.gen(function*() {
    const byId = new Map<string, ImportedKey>()
    /** Checks and imports one key, in order, so that a failure names the first bad one. */
    const admit = Effect.fnUntraced(function*(given: Uint8Array, name: string) {
      if (given.length !== keyLength) {
        return yield* new SecretKeyError({ message: `${name} is ${given.length} bytes; keys are ${keyLength} bytes` })
      }
      // A copy: the caller's array may be reused or wiped, and WebCrypto wants its own buffer.
      const bytes = new Uint8Array(given)
      const id = yield* keyIdOf(bytes)
      const known = byId.get(showId(id))
      if (known !== undefined) {
        if (sameBytes(known.bytes, bytes)) return known
        return yield* new SecretKeyError({
          message: `${name} has the same id as another key (${showId(id)}); replace one`
        })
      }
      // Not extractable: once imported, the key cannot be read back out of the box.
      const key = yield* Effect.promise(() =>
        crypto.subtle.importKey("raw", bytes, { name: "AES-GCM" }, false, ["encrypt", "decrypt"])
      )
      const imported: ImportedKey = { id, bytes, key }
      byId.set(showId(id), imported)
      return imported
    })
    const { id: currentId, key: encryptionKey } = yield* admit(current, "the current key")
    for (const [index, key] of previous.entries()) yield* admit(key, `previous key ${index + 1}`)

    const encrypt = (plaintext: Redacted.Redacted<string>, associatedData?: string) =>
      Effect.gen(function*() {
        const header = new Uint8Array([formatVersion, ...currentId])
        const nonce = crypto.getRandomValues(new Uint8Array(nonceLength))
        // WebCrypto returns the ciphertext with the tag appended: the envelope's layout.
        const sealed = yield* Effect.promise(() =>
          crypto.subtle.encrypt(
            { name: "AES-GCM", iv: nonce, additionalData: additionalData(header, associatedData), tagLength: tagLength * 8 },
            encryptionKey,
            new TextEncoder().encode(Redacted.value(plaintext))
          )
        )
        const envelope = new Uint8Array(header.length + nonce.length + sealed.byteLength)
        envelope.set(header)
        envelope.set(nonce, header.length)
        envelope.set(new Uint8Array(sealed), header.length + nonce.length)
        return Base64Url.encode(envelope)
      })

    const decrypt = (sealed: string, associatedData?: string) =>
      Effect.gen(function*() {
        const envelope = readEnvelope(sealed)
        if (Result.isFailure(envelope)) return yield* envelope.failure
        const id = showId(envelope.success.subarray(1, headerLength))
        const key = byId.get(id)
        if (key === undefined) {
          return yield* new SecretUndecryptable({
            reason: "unknownKey",
            message: `Encrypted with key ${id}, which is not configured (the current key is ${showId(currentId)}). ` +
              `If ${keyVariable} was changed, add the old key to ${previousKeysVariable}.`
          })
        }
        const header = envelope.success.subarray(0, headerLength)
        const nonce = envelope.success.subarray(headerLength, headerLength + nonceLength)
        const ciphertextAndTag = envelope.success.subarray(headerLength + nonceLength)
        // WebCrypto rejects when authentication fails, and for nothing else with a valid key.
        const opened = yield* Effect.tryPromise({
          try: () =>
            crypto.subtle.decrypt(
              { name: "AES-GCM", iv: nonce, additionalData: additionalData(header, associatedData), tagLength: tagLength * 8 },
              key.key,
              ciphertextAndTag
            ),
          catch: () =>
            new SecretUndecryptable({
              reason: "authenticationFailed",
              message: "The encrypted secret was altered, or belongs to another record"
            })
        })
        return Redacted.make(new TextDecoder().decode(opened))
      })

    const isEncryptedWithCurrentKey = (sealed: string) => {
      const envelope = readEnvelope(sealed)
      return Result.isSuccess(envelope) && sameBytes(envelope.success.subarray(1, headerLength), currentId)
    }

    return SecretBox.of({ keySource, currentKeyId: showId(currentId), encrypt, decrypt, isEncryptedWithCurrentKey })
  })

/** A box over `keys`, handed in by the runtime; `keySource` names them in the start-up log. */
export const layer = (keys: Keys, keySource?: string): Layer.Layer<SecretBox, SecretKeyError> =>
  Layer.effect(SecretBox, make(keys, keySource))

/** A box over keys given in code: tests, or a runtime that gets its keys elsewhere. */
export const layerFromKey = (
  current: Uint8Array,
  previous: ReadonlyArray<Uint8Array> = []
): Layer.Layer<SecretBox, SecretKeyError> => layer({ current, previous })
