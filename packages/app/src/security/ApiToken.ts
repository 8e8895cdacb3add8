/**
 * ApiToken: the bearer tokens of the API. A team token acts for one team with a role; a user
 * token acts as a person. Both look like GitHub's tokens, so a leaked one is easy to spot:
 *
 *     crt_ + 30 random base62 characters + 6 base62 characters of checksum     (team)
 *     cru_ + …                                                                 (user)
 *
 * e.g. `crt_thgwWNiWl3S4XqgS60NfmQyL2XNEGw2aFPaU`, 40 characters in all. Secret scanners can
 * match them with
 *
 *     \bcr[tu]_[0-9A-Za-z]{36}\b
 *
 * and confirm a match offline: the last 6 characters are the CRC32 of everything before them
 * (prefix and random part, as bytes of ASCII), written in base62 (`0-9A-Z a-z`, most
 * significant digit first, left-padded with `0`). `isWellFormed` does exactly that check, so
 * the server rejects garbage and typos without touching the database.
 *
 * - The 30 random characters come from `crypto.getRandomValues` (WebCrypto) by rejection
 *   sampling (no modulo bias): about 178 bits, far beyond guessing.
 * - Only `hash` (SHA-256, hex) is stored. A salt or a slow hash would add nothing for a random
 *   178-bit secret, and a plain digest lets the server find a token by an index on its hash.
 *   The digest is `@noble/hashes`' SHA-256 (pure JavaScript) rather than WebCrypto's, which is
 *   asynchronous only: `hash` stays a plain function, as lookups and tests call it.
 *
 * Web APIs and pure JavaScript only, so tokens are minted and checked alike on every runtime;
 * tokens issued by the node:crypto version still check and hash the same
 * (`test/fixtures/tokens.json`).
 * - The token is shown once, at creation. Listings show `display` (`crt_thgw…FPaU` for the
 *   example: prefix, first 4 and last 4 characters), computed then and stored beside the hash.
 *
 * @since 0.1.0
 */
import { sha256 } from "@noble/hashes/sha2.js"
import { Effect, Option, Redacted } from "effect"
import { Hex } from "effect/encoding"

/** Whom a token acts for: a team (with the token's role) or a user (as that person). */
export type TokenKind = "team" | "user"

export const prefixes = { team: "crt_", user: "cru_" } as const satisfies Record<TokenKind, string>

/** Random base62 characters after the prefix. */
export const randomLength = 30
/** Base62 characters of checksum at the end (62^6 > 2^32, so any CRC32 fits). */
export const checksumLength = 6
/** Every token's length: prefix (4) + random (30) + checksum (6). */
export const tokenLength = 4 + randomLength + checksumLength

/**
 * For secret scanners: a token anywhere in a text; confirm each match with `isWellFormed`. No
 * `g` flag (a global RegExp keeps state between `test` calls); to find them all, use
 * `text.matchAll(new RegExp(ApiToken.pattern, "g"))`.
 */
export const pattern = /\bcr[tu]_[0-9A-Za-z]{36}\b/

const alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
const wholeToken = /^cr[tu]_[0-9A-Za-z]{36}$/

/** A freshly issued token: give `token` to the person once; store `hash`, `display` and `kind`. */
export interface Issued {
  readonly kind: TokenKind
  readonly token: Redacted.Redacted<string>
  readonly hash: string
  readonly display: string
}

const reveal = (token: string | Redacted.Redacted<string>): string =>
  typeof token === "string" ? token : Redacted.value(token)

/** The table of the standard CRC-32 (reflected polynomial 0xEDB88320), one entry per byte value. */
const crcTable = Array.from({ length: 256 }, (_, byte) => {
  let crc = byte
  for (let bit = 0; bit < 8; bit++) crc = crc & 1 ? 0xedb88320 ^ (crc >>> 1) : crc >>> 1
  return crc >>> 0
})

/**
 * The standard CRC-32 (zip, PNG, zlib's `crc32`) of `bytes`, unsigned. Written out here because
 * zlib is Node's; it is the same function (`crc32("123456789")` is 0xcbf43926).
 */
const crc32 = (bytes: Uint8Array): number => {
  let crc = 0xffffffff
  for (const byte of bytes) crc = crcTable[(crc ^ byte) & 0xff]! ^ (crc >>> 8)
  return (crc ^ 0xffffffff) >>> 0
}

/** CRC32 of `body` (ASCII, which its UTF-8 is) in base62, 6 characters. */
const checksumOf = (body: string): string => {
  let rest = crc32(new TextEncoder().encode(body))
  let digits = ""
  for (let i = 0; i < checksumLength; i++) {
    digits = alphabet[rest % 62] + digits
    rest = Math.floor(rest / 62)
  }
  return digits
}

/**
 * `length` uniformly random base62 characters. Bytes of 248 or more are dropped, since
 * 248 = 4 × 62: keeping them would make the first 8 characters of the alphabet likelier.
 */
const randomBase62 = (length: number): string => {
  let out = ""
  while (out.length < length) {
    for (const byte of crypto.getRandomValues(new Uint8Array(length))) {
      if (byte < 248 && out.length < length) out += alphabet[byte % 62]
    }
  }
  return out
}

/** SHA-256 of the token, in hex: what the database stores and looks tokens up by. */
export const hash = (token: string | Redacted.Redacted<string>): string =>
  Hex.encode(sha256(new TextEncoder().encode(reveal(token))))

/** What listings show: enough to tell tokens apart, too little to use one. */
export const display = (token: string | Redacted.Redacted<string>): string => {
  const text = reveal(token)
  const body = text.slice(4)
  return `${text.slice(0, 4)}${body.slice(0, 4)}…${body.slice(-4)}`
}

/** The kind a well-formed token is for; `None` for anything else (wrong prefix, length, checksum). */
export const kindOf = (candidate: string | Redacted.Redacted<string>): Option.Option<TokenKind> => {
  const text = reveal(candidate)
  if (!wholeToken.test(text)) return Option.none()
  const body = text.slice(0, -checksumLength)
  if (checksumOf(body) !== text.slice(-checksumLength)) return Option.none()
  return Option.some(text.startsWith(prefixes.team) ? "team" : "user")
}

/**
 * Whether `candidate` is a CanaryRoll token by its shape alone: prefix, length, alphabet and
 * checksum. A well-formed token may still be unknown or revoked; only the database says that.
 */
export const isWellFormed = (candidate: string | Redacted.Redacted<string>): boolean =>
  Option.isSome(kindOf(candidate))

/** Issues a new token of `kind`. */
export const issue = (kind: TokenKind): Effect.Effect<Issued> =>
  Effect.sync(() => {
    const body = prefixes[kind] + randomBase62(randomLength)
    const token = body + checksumOf(body)
    return { kind, token: Redacted.make(token), hash: hash(token), display: display(token) }
  })
