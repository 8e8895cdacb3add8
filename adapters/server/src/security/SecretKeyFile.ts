/**
 * SecretKeyFile: where the Node server finds the keys of its SecretBox (the box itself, over
 * WebCrypto, is `SecretBox` in `@canaryroll/app`, which never touches a file system or the
 * environment: the runtime hands it the keys).
 *
 * The key comes from `CANARYROLL_SECRET_KEY` (32 bytes, as 64 hex digits or base64; generate one
 * with `openssl rand -base64 32`), with older keys still accepted for decryption in
 * `CANARYROLL_SECRET_KEY_PREVIOUS` (comma-separated). Without it, the key is read from
 * `secret.key` in the data directory, and generated there (mode 0600) on the first start; the
 * file holds one key per line, the first the current one. Back that file up: what it encrypted
 * cannot be recovered without it. To move to the environment variable, set it to the file's
 * first line.
 *
 * @since 0.2.0
 */
import { SecretBox } from "@canaryroll/app"
import { Config, Effect, Layer, Option, Redacted, Result } from "effect"
import * as crypto from "node:crypto"
import * as fs from "node:fs/promises"
import * as path from "node:path"

/** The key file in the data directory, used when `CANARYROLL_SECRET_KEY` is not set. */
export const keyFileName = "secret.key"
/** The data directory when none is given, under the current working directory. */
export const defaultDataDirectory = ".canaryroll"

export interface FileOptions {
  /** Where `secret.key` lives. Default `.canaryroll` under the current working directory. */
  readonly dataDirectory?: string | undefined
}

/** Reads every key in `lines`, the first the current one; `source` names them in messages. */
const parseKeyList = (
  lines: ReadonlyArray<string>,
  source: string
): Result.Result<SecretBox.Keys, SecretBox.SecretKeyError> => {
  const keys: Array<Uint8Array> = []
  for (const [index, line] of lines.entries()) {
    const key = SecretBox.parseKey(line, lines.length === 1 ? source : `${source} (key ${index + 1})`)
    if (Result.isFailure(key)) return Result.fail(key.failure)
    keys.push(key.success)
  }
  const [current, ...previous] = keys
  return current === undefined
    ? Result.fail(new SecretBox.SecretKeyError({ message: `${source} holds no key` }))
    : Result.succeed({ current, previous })
}

/** A node:fs call; its failure keeps the raw error, so callers can branch on `code` first. */
const fileSystem = <A>(call: () => Promise<A>) => Effect.tryPromise({ try: call, catch: (cause) => cause })

const hasCode = (code: string) => (cause: unknown): boolean =>
  typeof cause === "object" && cause !== null && (cause as NodeJS.ErrnoException).code === code

const keyFileError = (what: string) => (cause: unknown) =>
  new SecretBox.SecretKeyError({ message: `${what}: ${cause instanceof Error ? cause.message : String(cause)}` })

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
    const content = `${crypto.randomBytes(SecretBox.keyLength).toString("base64")}\n`
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
    const previousText = yield* Config.option(Config.String(SecretBox.previousKeysVariable))
    const previous = Option.match(previousText, {
      onNone: () => [],
      onSome: (text) => text.split(",").map((key) => key.trim()).filter((key) => key !== "")
    })
    const keys = parseKeyList([Redacted.value(current), ...previous], SecretBox.keyVariable)
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
): Layer.Layer<SecretBox.SecretBox, SecretBox.SecretKeyError | Config.ConfigError> =>
  Layer.effect(
    SecretBox.SecretBox,
    Effect.gen(function*() {
      const fromEnvironment = yield* Config.option(Config.Redacted(SecretBox.keyVariable))
      if (Option.isSome(fromEnvironment)) {
        if (Redacted.value(fromEnvironment.value).trim() === "") {
          return yield* new SecretBox.SecretKeyError({
            message: `${SecretBox.keyVariable} is set but empty; set it to a key (openssl rand -base64 32), ` +
              `or unset it to use the key file in the data directory`
          })
        }
        return yield* SecretBox.make(yield* keysFromEnvironment(fromEnvironment.value), SecretBox.keyVariable)
      }
      const file = path.resolve(options.dataDirectory ?? defaultDataDirectory, keyFileName)
      return yield* SecretBox.make(yield* keysFromFile(file), file)
    })
  )
