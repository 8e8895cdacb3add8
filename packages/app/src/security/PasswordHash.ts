/**
 * PasswordHash: how account passwords are stored and checked. A password is hashed with scrypt
 * (memory-hard, so a stolen table is expensive to attack with GPUs) under a random 16-byte salt,
 * and stored as one self-describing string:
 *
 *     scrypt$32768$8$1$<salt>$<hash>        (N, r, p in decimal; salt and hash in base64url)
 *
 * Because the parameters travel with each hash, they can be raised later without a migration:
 * `verify` uses the stored ones, and `needsRehash` says when a successful log-in should store a
 * fresh hash under the `current` parameters.
 *
 * - Passwords are Unicode-normalised (NFKC) before hashing, so the same password typed on two
 *   keyboards matches (NIST SP 800-63B). This is part of the storage format: never change it.
 * - scrypt is `@noble/hashes`' (audited, pure JavaScript), because WebCrypto has none and this
 *   module runs on every runtime (Node, workerd). Its async form hands control back to the event
 *   loop every 10 ms, so a log-in (about 200 ms of work in Node 24 at `current`) does not stall
 *   the other requests. It derives exactly the bytes node:crypto's scrypt did: hashes stored
 *   before the move verify unchanged (`test/fixtures/password-hashes.json`).
 * - `checkPolicy` is the rule a new password must meet (12 to 1,024 characters, not only
 *   whitespace); its rejection names the request field, as every validation error does.
 * - When no account matches a log-in, call `verifyWithoutAccount` so that the answer takes as
 *   long as a wrong password would: otherwise response times tell which emails have accounts.
 *
 * @since 0.1.0
 */
import { ValidationError } from "@canaryroll/core"
import { scryptAsync } from "@noble/hashes/scrypt.js"
import { Effect, Option, Redacted, Result, Schema } from "effect"
import { Base64Url } from "effect/encoding"

/** scrypt's parameters (N, r and p in RFC 7914). */
export interface Parameters {
  /** N: CPU and memory cost, a power of two. */
  readonly cost: number
  /** r: block size. */
  readonly blockSize: number
  /** p: parallelization. */
  readonly parallelization: number
}

/**
 * What new hashes use: N = 2^15, r = 8, p = 1 (32 MiB, OWASP's recommended minimum for scrypt).
 * Raise them here when hardware gets faster; stored hashes then report `needsRehash`.
 */
export const current: Parameters = { cost: 2 ** 15, blockSize: 8, parallelization: 1 }

/**
 * Cheap parameters for tests only (N = 2^10, 1 MiB, about a millisecond). Hashes made with them
 * verify normally and always report `needsRehash` against `current`.
 */
export const testParameters: Parameters = { cost: 2 ** 10, blockSize: 8, parallelization: 1 }

/** Bytes of random salt in a new hash. */
export const saltLength = 16
/** Bytes of derived key in a new hash. */
export const hashLength = 32

/**
 * The most memory a stored hash may ask for (256 MiB, e.g. N = 2^18, r = 8). A corrupted or
 * planted row must not make a log-in allocate gigabytes, or run for minutes (`maximumWork`).
 */
const maximumMemory = 256 * 1024 * 1024

/**
 * The most CPU a stored hash may ask for, as N × r × p: 8 times `current`. Memory alone does
 * not bound it (p multiplies the time, not the memory).
 */
const maximumWork = 2 ** 18 * 8

const workOf = ({ blockSize, cost, parallelization }: Parameters): number => cost * blockSize * parallelization

/**
 * The memory scrypt needs for these parameters, as OpenSSL counted it when it ran our hashes (a
 * little above what `@noble/hashes` allocates, so its `maxmem` check never refuses a hash that
 * `checkDecoded` let through).
 */
const memoryNeeded = ({ blockSize, cost, parallelization }: Parameters): number =>
  128 * blockSize * (cost + parallelization + 2)

/** A stored hash that cannot be read: the row is damaged or was not written by this module. */
export class MalformedPasswordHash extends Schema.TaggedError<MalformedPasswordHash>()("MalformedPasswordHash", {
  message: Schema.String
}) {}

/** A new password that does not meet `checkPolicy`; `issues` name the field. */
export class PasswordRejected extends Schema.TaggedError<PasswordRejected>()("PasswordRejected", {
  message: Schema.String,
  issues: Schema.Array(ValidationError.FieldIssue)
}) {}

/** A stored hash, read back. */
export interface Decoded {
  readonly parameters: Parameters
  readonly salt: Uint8Array
  readonly hash: Uint8Array
}

export const minimumLength = 12
/**
 * Long enough for any passphrase or password manager; the bound keeps a request from making
 * the server normalise and hash megabytes.
 */
export const maximumLength = 1024

/**
 * Checks a new password (sign-up, change, reset) against the policy. Lengths count Unicode code
 * points of the normalised password, as a person counts characters. `field` is the request
 * field the password came in, named in the message (`newPassword: must be at least 12
 * characters`).
 */
export const checkPolicy = (
  password: Redacted.Redacted<string>,
  field = "password"
): Result.Result<Redacted.Redacted<string>, PasswordRejected> => {
  const text = Redacted.value(password).normalize("NFKC")
  const length = [...text].length
  const problem = length < minimumLength
    ? `must be at least ${minimumLength} characters (got ${length})`
    : length > maximumLength
    ? `must be at most ${maximumLength} characters (got ${length})`
    : text.trim() === ""
    ? "must not be only whitespace"
    : undefined
  if (problem === undefined) return Result.succeed(password)
  const issues = [{ field, message: problem }]
  return Result.fail(new PasswordRejected({ message: ValidationError.describe("password", issues), issues }))
}

const toBytes = (password: Redacted.Redacted<string>): Uint8Array =>
  new TextEncoder().encode(Redacted.value(password).normalize("NFKC"))

const derive = (password: Redacted.Redacted<string>, salt: Uint8Array, length: number, parameters: Parameters) =>
  // Effect.promise: decoded and current parameters are checked before they get here, so a
  // scrypt failure (it throws for impossible parameters) is a bug, not an outcome.
  Effect.promise(() =>
    scryptAsync(toBytes(password), salt, {
      N: parameters.cost,
      r: parameters.blockSize,
      p: parameters.parallelization,
      dkLen: length,
      maxmem: memoryNeeded(parameters)
    })
  )

/**
 * Whether two byte strings are equal, in a time that depends on their length only (as
 * node:crypto's `timingSafeEqual`): where the first difference lies must not show.
 */
const sameBytes = (a: Uint8Array, b: Uint8Array): boolean => {
  if (a.length !== b.length) return false
  let difference = 0
  for (let i = 0; i < a.length; i++) difference |= a[i]! ^ b[i]!
  return difference === 0
}

const base64url = /^[A-Za-z0-9_-]+$/

/** Strict base64url: the alphabet only, and canonical (decoding then encoding gives it back). */
const decodeBase64url = (text: string): Option.Option<Uint8Array> => {
  if (!base64url.test(text)) return Option.none()
  const bytes = Base64Url.decode(text)
  return Result.isSuccess(bytes) && Base64Url.encode(bytes.success) === text
    ? Option.some(bytes.success)
    : Option.none()
}

/** A positive integer written canonically in decimal (no sign, no leading zero, no exponent). */
const decodeInteger = (text: string): Option.Option<number> =>
  /^[1-9][0-9]{0,9}$/.test(text) ? Option.some(Number(text)) : Option.none()

const isPowerOfTwo = (n: number): boolean => n >= 2 && (n & (n - 1)) === 0

/**
 * The limits a readable hash must respect. Salt and hash may be longer than today's (a later
 * version may lengthen them) but never shorter; parameters may be anything scrypt accepts,
 * within `maximumMemory` and `maximumWork`.
 */
const checkDecoded = (decoded: Decoded): Option.Option<string> => {
  const { parameters, salt, hash } = decoded
  if (memoryNeeded(parameters) > maximumMemory) {
    return Option.some(`parameters need ${memoryNeeded(parameters)} bytes, more than the ${maximumMemory} allowed`)
  }
  if (!isPowerOfTwo(parameters.cost)) return Option.some(`N must be a power of two (got ${parameters.cost})`)
  // OpenSSL's limits, which hashes were made under until the move to pure JavaScript: a stored
  // hash beyond them was not written by us, and scrypt never throws on one that passes.
  if (parameters.cost >= 2 ** (16 * parameters.blockSize)) {
    return Option.some(`N must be below 2^(16 r) (got N = ${parameters.cost}, r = ${parameters.blockSize})`)
  }
  if (workOf(parameters) > maximumWork) {
    return Option.some(`N × r × p is ${workOf(parameters)}, more than the ${maximumWork} allowed`)
  }
  if (salt.length < saltLength || salt.length > 64) {
    return Option.some(`the salt must be ${saltLength} to 64 bytes (got ${salt.length})`)
  }
  if (hash.length < hashLength || hash.length > 64) {
    return Option.some(`the hash must be ${hashLength} to 64 bytes (got ${hash.length})`)
  }
  return Option.none()
}

/** Reads a stored hash; the failure says what is wrong with it, never its content. */
export const decode = (encoded: string): Result.Result<Decoded, MalformedPasswordHash> => {
  const malformed = (reason: string) =>
    Result.fail(new MalformedPasswordHash({ message: `Stored password hash is malformed: ${reason}` }))
  const parts = encoded.split("$")
  if (parts.length !== 6) return malformed(`expected 6 fields separated by "$" (got ${parts.length})`)
  const [scheme, n, r, p, salt, hash] = parts as [string, string, string, string, string, string]
  if (scheme !== "scrypt") return malformed(`unknown scheme (expected "scrypt")`)
  const cost = decodeInteger(n)
  const blockSize = decodeInteger(r)
  const parallelization = decodeInteger(p)
  if (Option.isNone(cost) || Option.isNone(blockSize) || Option.isNone(parallelization)) {
    return malformed("N, r and p must be positive decimal integers")
  }
  const saltBytes = decodeBase64url(salt)
  const hashBytes = decodeBase64url(hash)
  if (Option.isNone(saltBytes) || Option.isNone(hashBytes)) return malformed("salt and hash must be base64url")
  const decoded: Decoded = {
    parameters: { cost: cost.value, blockSize: blockSize.value, parallelization: parallelization.value },
    salt: saltBytes.value,
    hash: hashBytes.value
  }
  const problem = checkDecoded(decoded)
  return Option.isSome(problem) ? malformed(problem.value) : Result.succeed(decoded)
}

/** Writes a hash in the storage format. */
export const encode = ({ hash, parameters, salt }: Decoded): string =>
  [
    "scrypt",
    parameters.cost,
    parameters.blockSize,
    parameters.parallelization,
    Base64Url.encode(salt),
    Base64Url.encode(hash)
  ].join("$")

/**
 * Hashes a password under a fresh salt, for storing. `parameters` defaults to `current`; pass
 * `testParameters` in tests. Check the password with `checkPolicy` first.
 */
export const hash = Effect.fnUntraced(function*(
  password: Redacted.Redacted<string>,
  parameters: Parameters = current
) {
  const problem = checkDecoded({ parameters, salt: new Uint8Array(saltLength), hash: new Uint8Array(hashLength) })
  if (Option.isSome(problem)) return yield* Effect.die(new Error(`PasswordHash.hash: ${problem.value}`))
  const salt = yield* Effect.sync(() => crypto.getRandomValues(new Uint8Array(saltLength)))
  const derived = yield* derive(password, salt, hashLength, parameters)
  return encode({ parameters, salt, hash: derived })
})

/**
 * Whether `password` is the one `encoded` was made from. The comparison takes the same time
 * wherever the bytes differ (`sameBytes`). Fails only when the stored hash is unreadable.
 */
export const verify = Effect.fnUntraced(function*(password: Redacted.Redacted<string>, encoded: string) {
  const decoded = decode(encoded)
  if (Result.isFailure(decoded)) return yield* decoded.failure
  const { hash: expected, parameters, salt } = decoded.success
  const derived = yield* derive(password, salt, expected.length, parameters)
  return sameBytes(derived, expected)
})

/**
 * Spends the time of a `verify` under `current` parameters and answers `false`: for a log-in
 * with an email no account has, so that it looks like a wrong password from outside.
 */
export const verifyWithoutAccount = (password: Redacted.Redacted<string>): Effect.Effect<false> =>
  derive(password, new Uint8Array(saltLength), hashLength, current).pipe(Effect.as(false as const))

/**
 * Whether a stored hash was made with weaker parameters than `target` (default `current`). Call
 * it after a successful `verify`, when the password is at hand, and store a new `hash` if so.
 * An unreadable hash also needs one. (Shorter salts or hashes than today's do not get this far:
 * `decode` refuses them.)
 */
export const needsRehash = (encoded: string, target: Parameters = current): boolean => {
  const decoded = decode(encoded)
  if (Result.isFailure(decoded)) return true
  const { parameters } = decoded.success
  return parameters.cost < target.cost ||
    parameters.blockSize < target.blockSize ||
    parameters.parallelization < target.parallelization
}
