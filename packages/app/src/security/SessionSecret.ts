/**
 * SessionSecret: the secret a signed-in browser holds in its session cookie. It is 32 random
 * bytes (256 bits) written in base64url (43 characters), given to the browser once and never
 * stored: the Sessions port keeps only `hash`, so a copy of the database opens no session.
 *
 * The hash is the one API tokens use (`ApiToken.hash`, SHA-256 in hex): a random 256-bit secret
 * needs no salt or slow hash, and a plain digest lets a store find the session by an index.
 * Sessions started before the move to this module keep working: the format and the hash are
 * those of the server's `createSession` (`test/fixtures/tokens.json`).
 *
 * @since 0.2.0
 */
import { Effect, Redacted } from "effect"
import { Base64Url } from "effect/encoding"
import * as ApiToken from "./ApiToken.ts"

/** Random bytes in a secret. */
export const secretBytes = 32

/** A new session's secret: `secret` goes in the cookie, `hash` to the Sessions port. */
export interface Issued {
  readonly secret: Redacted.Redacted<string>
  readonly hash: string
}

/** What a store finds a session by: SHA-256 of the cookie's secret, in hex. */
export const hash = (secret: Redacted.Redacted<string>): string => ApiToken.hash(secret)

/** A fresh secret from WebCrypto's random source, with its hash. */
export const issue: Effect.Effect<Issued> = Effect.sync(() => {
  const secret = Redacted.make(Base64Url.encode(crypto.getRandomValues(new Uint8Array(secretBytes))))
  return { secret, hash: hash(secret) }
})
