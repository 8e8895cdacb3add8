/**
 * SecretBox: encryption of the secrets the server must be able to read back (Cloudflare API
 * tokens, webhook URLs, SMTP passwords), so that a copy of the database or a backup does not
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
 * The key comes from `CANARYROLL_SECRET_KEY` (32 bytes, as 64 hex digits or base64; generate one
 * with `openssl rand -base64 32`), with older keys still accepted for decryption in
 * `CANARYROLL_SECRET_KEY_PREVIOUS` (comma-separated). Without it, the key is read from
 * `secret.key` in the data directory, and generated there (mode 0600) on the first start; the
 * file holds one key per line, the first the current one. Back that file up: what it encrypted
 * cannot be recovered without it. To move to the environment variable, set it to the file's
 * first line.
 *
 * @since 0.1.0
 */
import { Config, Context, Effect, Layer, Option, Redacted, Result, Schema } from "effect"
import * as crypto from "node:crypto"
import * as fs from "node:fs/promises"
import * as path from "node:path"

/** The current key, as 64 hex digits or base64 of 32 bytes. */
export const keyVariable = "CANARYROLL_SECRET_KEY"
/** Keys that were current before, comma-separated, still accepted for decryption. */
export const previousKeysVariable = "CANARYROLL_SECRET_KEY_PREVIOUS"
/** The key file in the data directory, used when `CANARYROLL_SECRET_KEY` is not set. */
export const keyFileName = "secret.key"
/** The data directory when none is given, under the current working directory. */
export const defaultDataDirectory = ".canaryroll"

export const keyLength = 32

const formatVersion = 1
const keyIdLength = 4
const nonceLength = 12
const tagLength = 16
const headerLength = 1 + keyIdLength
const minimumLength = headerLength + nonceLength + tagLength

/** Key material that cannot be used, or a key file that cannot be read or written. */
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
}>()("@canaryroll/server/SecretBox") {}

/** The keys a box holds: one to encrypt with, and older ones it still decrypts. */
export interface Keys {
  readonly current: Uint8Array
  readonly previous?: ReadonlyArray<Uint8Array> | undefined
}

const keyIdOf = (key: Uint8Array): Buffer => crypto.createHash("sha256").update(key).digest().subarray(0, keyIdLength)

const hexKey = /^[0-9a-fA-F]{64}$/
const base64Key = /^(?:[A-Za-z0-9+/]{43}|[A-Za-z0-9_-]{43})=?$/

/**
 * Reads one key written as 64 hex digits or as base64 / base64url of 32 bytes (surrounding
 * whitespace ignored). `source` names where it came from in the message, which never repeats
 * the material itself.
 */
export const parseKey = (text: string, source: string): Result.Result<Uint8Array, SecretKeyError> => {
  const trimmed = text.trim()
  if (hexKey.test(trimmed)) return Result.succeed(Buffer.from(trimmed, "hex"))
  if (base64Key.test(trimmed)) {
    const bytes = Buffer.from(trimmed.replace(/-/g, "+").replace(/_/g, "/"), "base64")
    if (bytes.length === keyLength) return Result.succeed(bytes)
  }
  return Result.fail(
    new SecretKeyError({
      message: `${source} must be a ${keyLength}-byte key written as 64 hex digits or as base64 (44 characters): ` +
        `it is ${trimmed.length} characters long and neither. Generate one with: openssl rand -base64 32`
    })
  )
}

/** A key id in the form `currentKeyId` and messages show it. */
const showId = (id: Uint8Array): string => Buffer.from(id).toString("hex")

/**
 * What the AEAD authenticates besides the ciphertext: the envelope's header (fixed length, so
 * the concatenation is unambiguous), then the caller's associated data.
 */
const additionalData = (header: Uint8Array, associatedData: string | undefined): Buffer =>
  Buffer.concat([header, Buffer.from(associatedData ?? "", "utf8")])

/** The plaintext, or `None` when authentication fails. node:crypto reports that by throwing. */
const openWith = (key: Uint8Array, envelope: Buffer, associatedData: string | undefined): Option.Option<string> => {
  const header = envelope.subarray(0, headerLength)
  const nonce = envelope.subarray(headerLength, headerLength + nonceLength)
  const ciphertext = envelope.subarray(headerLength + nonceLength, envelope.length - tagLength)
  const tag = envelope.subarray(envelope.length - tagLength)
  const decipher = crypto.createDecipheriv("aes-256-gcm", key, nonce, { authTagLength: tagLength })
  decipher.setAAD(additionalData(header, associatedData))
  decipher.setAuthTag(tag)
  try {
    return Option.some(Buffer.concat([decipher.update(ciphertext), decipher.final()]).toString("utf8"))
  } catch {
    return Option.none()
  }
}

const strictBase64url = /^[A-Za-z0-9_-]*$/

/** The envelope's bytes if `sealed` has the shape of one of ours, whatever its key. */
const readEnvelope = (sealed: string): Result.Result<Buffer, SecretUndecryptable> => {
  const malformed = (detail: string) =>
    Result.fail(new SecretUndecryptable({ reason: "malformed", message: `Not an encrypted secret: ${detail}` }))
  if (!strictBase64url.test(sealed)) return malformed("expected base64url")
  const envelope = Buffer.from(sealed, "base64url")
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

/**
 * A box over `keys`. Fails if a key is not 32 bytes. Every key's id must differ (a 1 in 2^32
 * accident, reported rather than ignored).
 */
export const make = ({ current, previous = [] }: Keys, keySource = "keys given in code") =>
  Effect.gen(function*() {
    const byId = new Map<string, Uint8Array>()
    for (const [index, key] of [current, ...previous].entries()) {
      const name = index === 0 ? "the current key" : `previous key ${index}`
      if (key.length !== keyLength) {
        return yield* new SecretKeyError({ message: `${name} is ${key.length} bytes; keys are ${keyLength} bytes` })
      }
      const id = showId(keyIdOf(key))
      const known = byId.get(id)
      if (known !== undefined && !crypto.timingSafeEqual(known, key)) {
        return yield* new SecretKeyError({ message: `${name} has the same id as another key (${id}); replace one` })
      }
      byId.set(id, Buffer.from(key))
    }
    const currentKey = Buffer.from(current)
    const currentId = keyIdOf(current)

    const encrypt = (plaintext: Redacted.Redacted<string>, associatedData?: string) =>
      Effect.sync(() => {
        const header = Buffer.concat([Buffer.of(formatVersion), currentId])
        const nonce = crypto.randomBytes(nonceLength)
        const cipher = crypto.createCipheriv("aes-256-gcm", currentKey, nonce, { authTagLength: tagLength })
        cipher.setAAD(additionalData(header, associatedData))
        const ciphertext = Buffer.concat([cipher.update(Redacted.value(plaintext), "utf8"), cipher.final()])
        return Buffer.concat([header, nonce, ciphertext, cipher.getAuthTag()]).toString("base64url")
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
        const plaintext = openWith(key, envelope.success, associatedData)
        if (Option.isNone(plaintext)) {
          return yield* new SecretUndecryptable({
            reason: "authenticationFailed",
            message: "The encrypted secret was altered, or belongs to another record"
          })
        }
        return Redacted.make(plaintext.value)
      })

    const isEncryptedWithCurrentKey = (sealed: string) => {
      const envelope = readEnvelope(sealed)
      return Result.isSuccess(envelope) && envelope.success.subarray(1, headerLength).equals(currentId)
    }

    return SecretBox.of({ keySource, currentKeyId: showId(currentId), encrypt, decrypt, isEncryptedWithCurrentKey })
  })

/** A box over keys given in code: tests, or a server that gets its keys elsewhere. */
export const layerFromKey = (
  current: Uint8Array,
  previous: ReadonlyArray<Uint8Array> = []
): Layer.Layer<SecretBox, SecretKeyError> => Layer.effect(SecretBox, make({ current, previous }))

export interface FileOptions {
  /** Where `secret.key` lives. Default `.canaryroll` under the current working directory. */
  readonly dataDirectory?: string | undefined
}

/** Reads every key in `lines`, the first the current one; `source` names them in messages. */
const parseKeyList = (lines: ReadonlyArray<string>, source: string): Result.Result<Keys, SecretKeyError> => {
  const keys: Array<Uint8Array> = []
  for (const [index, line] of lines.entries()) {
    const key = parseKey(line, lines.length === 1 ? source : `${source} (key ${index + 1})`)
    if (Result.isFailure(key)) return Result.fail(key.failure)
    keys.push(key.success)
  }
  const [current, ...previous] = keys
  return current === undefined
    ? Result.fail(new SecretKeyError({ message: `${source} holds no key` }))
    : Result.succeed({ current, previous })
}

/** A node:fs call; its failure keeps the raw error, so callers can branch on `code` first. */
const fileSystem = <A>(call: () => Promise<A>) => Effect.tryPromise({ try: call, catch: (cause) => cause })

const hasCode = (code: string) => (cause: unknown): boolean =>
  typeof cause === "object" && cause !== null && (cause as NodeJS.ErrnoException).code === code

const keyFileError = (what: string) => (cause: unknown) =>
  new SecretKeyError({ message: `${what}: ${cause instanceof Error ? cause.message : String(cause)}` })

/** The key file's content, or `None` if there is no file yet. */
const readKeyFile = (file: string) =>
  fileSystem(() => fs.readFile(file, "utf8")).pipe(
    Effect.map(Option.some),
    Effect.catchIf(hasCode("ENOENT"), () => Effect.succeedNone),
    Effect.mapError(keyFileError(`Cannot read the secret key file ${file}`))
  )

/**
 * Writes a new key to `file` with mode 0600, atomically: written and flushed to disk under a
 * temporary name, then linked into place, which fails if the file appeared meanwhile. Two
 * servers starting at once on one data directory thus agree on one key, and none ever reads a
 * half-written file. Returns the file's content, whoever wrote it, and whether we did.
 */
const createKeyFile = (file: string) =>
  Effect.gen(function*() {
    yield* fileSystem(() => fs.mkdir(path.dirname(file), { recursive: true, mode: 0o700 }))
    const temporary = `${file}.${process.pid}.${crypto.randomBytes(4).toString("hex")}.tmp`
    const content = `${crypto.randomBytes(keyLength).toString("base64")}\n`
    // The mode applies at creation, and a umask only ever removes permissions: never wider than 0600.
    yield* fileSystem(() => fs.writeFile(temporary, content, { mode: 0o600, flag: "wx", flush: true }))
    return yield* fileSystem(() => fs.link(temporary, file)).pipe(
      Effect.as({ content, created: true }),
      Effect.catchIf(
        hasCode("EEXIST"),
        () => fileSystem(() => fs.readFile(file, "utf8")).pipe(Effect.map((content) => ({ content, created: false })))
      ),
      Effect.ensuring(Effect.ignore(fileSystem(() => fs.rm(temporary, { force: true }))))
    )
  }).pipe(Effect.mapError(keyFileError(`Cannot create the secret key file ${file}`)))

/** Warns when the key file is readable by other users: it should be 0600, as it was created. */
const checkKeyFileMode = (file: string) =>
  fileSystem(() => fs.stat(file)).pipe(
    Effect.mapError(keyFileError(`Cannot read the secret key file ${file}`)),
    Effect.flatMap((stat) =>
      process.platform !== "win32" && (stat.mode & 0o077) !== 0
        ? Effect.logWarning(
          `The secret key file ${file} can be read by other users (mode ${(stat.mode & 0o777).toString(8)}); ` +
            `restrict it with: chmod 600 ${file}`
        )
        : Effect.void
    )
  )

const keysFromFile = (file: string) =>
  Effect.gen(function*() {
    const existing = yield* readKeyFile(file)
    const content = Option.isSome(existing)
      ? existing.value
      : yield* createKeyFile(file).pipe(
        Effect.tap(({ created }) =>
          created
            ? Effect.logInfo(
              `Generated a secret key in ${file}. Back it up: ` +
                "the credentials it encrypts cannot be recovered without it."
            )
            : Effect.void
        ),
        Effect.map(({ content }) => content)
      )
    yield* checkKeyFileMode(file)
    const lines = content.split("\n").map((line) => line.trim()).filter((line) => line !== "")
    const keys = parseKeyList(lines, `The secret key file ${file}`)
    return Result.isFailure(keys) ? yield* keys.failure : keys.success
  })

const keysFromEnvironment = (current: Redacted.Redacted<string>) =>
  Effect.gen(function*() {
    const previousText = yield* Config.option(Config.String(previousKeysVariable))
    const previous = Option.match(previousText, {
      onNone: () => [],
      onSome: (text) => text.split(",").map((key) => key.trim()).filter((key) => key !== "")
    })
    const keys = parseKeyList([Redacted.value(current), ...previous], keyVariable)
    if (Result.isFailure(keys)) return yield* keys.failure
    return keys.success
  })

/**
 * The box the server runs with: keys from `CANARYROLL_SECRET_KEY` (and
 * `CANARYROLL_SECRET_KEY_PREVIOUS`) when set, otherwise from `secret.key` in the data directory,
 * generated on first use. An empty `CANARYROLL_SECRET_KEY` is refused rather than taken as
 * unset: a secret missing from a deployment must not silently switch to a new key.
 */
export const layerFromEnvOrFile = (
  options: FileOptions = {}
): Layer.Layer<SecretBox, SecretKeyError | Config.ConfigError> =>
  Layer.effect(
    SecretBox,
    Effect.gen(function*() {
      const fromEnvironment = yield* Config.option(Config.Redacted(keyVariable))
      if (Option.isSome(fromEnvironment)) {
        if (Redacted.value(fromEnvironment.value).trim() === "") {
          return yield* new SecretKeyError({
            message: `${keyVariable} is set but empty; set it to a key (openssl rand -base64 32), ` +
              `or unset it to use the key file in the data directory`
          })
        }
        return yield* make(yield* keysFromEnvironment(fromEnvironment.value), keyVariable)
      }
      const file = path.resolve(options.dataDirectory ?? defaultDataDirectory, keyFileName)
      return yield* make(yield* keysFromFile(file), file)
    })
  )
