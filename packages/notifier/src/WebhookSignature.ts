/**
 * Webhook signatures: HMAC-SHA256, keyed with the channel's signing secret (the whole
 * `whsec_…` string, as UTF-8), over `${timestamp}.${body}` where `timestamp` is the
 * `X-CanaryRoll-Timestamp` header (Unix seconds) and `body` the raw request body. The
 * `X-CanaryRoll-Signature` header is `v1=<hex digest>`, or a comma-separated list of those: for a
 * day after a channel's secret is replaced, each request is signed with the new and the old one
 * (`v1=<new>,v1=<old>`), and a receiver accepts a request if any signature matches.
 *
 * Signing the timestamp with the body lets a receiver refuse replays: `verify` refuses a
 * timestamp more than `toleranceSeconds` (default 5 minutes) away from its clock. Comparison is
 * constant-time. Each attempt of a delivery is signed afresh, with the time it is sent; the
 * `X-CanaryRoll-Delivery` id stays the same across attempts, for deduplication. The HMAC is
 * `@noble/hashes`' (pure JavaScript) and the random source WebCrypto's, so the webhook channel
 * kind signs alike in Node, workerd and a browser.
 *
 * @since 0.1.0
 */
import { hmac } from "@noble/hashes/hmac.js"
import { sha256 } from "@noble/hashes/sha2.js"
import { bytesToHex, hexToBytes, utf8ToBytes } from "@noble/hashes/utils.js"
import { Base64Url } from "effect/encoding"

// WebCrypto's random source: a global of Node, workerd and browsers (the DOM library types it).

export const signatureHeader = "X-CanaryRoll-Signature"
export const timestampHeader = "X-CanaryRoll-Timestamp"
export const deliveryHeader = "X-CanaryRoll-Delivery"

export const scheme = "v1"
export const defaultToleranceSeconds = 300

/** A new signing secret: `whsec_` and 32 random bytes in base64url. */
export const generateSecret = (): string => `whsec_${Base64Url.encode(crypto.getRandomValues(new Uint8Array(32)))}`

/** The hex HMAC-SHA256 of `${timestamp}.${body}` under `secret`. */
export const digest = (secret: string, timestamp: number, body: string): string =>
  bytesToHex(hmac(sha256, utf8ToBytes(secret), utf8ToBytes(`${timestamp}.${body}`)))

/** Whether two byte strings are equal, in time that does not depend on where they differ. */
const constantTimeEqual = (left: Uint8Array, right: Uint8Array): boolean => {
  if (left.length !== right.length) return false
  let difference = 0
  for (let index = 0; index < left.length; index++) difference |= left[index]! ^ right[index]!
  return difference === 0
}

/** The value of `X-CanaryRoll-Signature`. */
export const sign = (secret: string, timestamp: number, body: string): string => `${scheme}=${digest(secret, timestamp, body)}`

/**
 * The three headers of one attempt; `timestamp` in Unix seconds. Several secrets (the current
 * one, then one being rotated out) give one signature each, comma-separated, current first.
 */
export const headers = (options: {
  readonly secret: string | ReadonlyArray<string>
  readonly timestamp: number
  readonly body: string
  readonly deliveryId: string
}): Record<string, string> => ({
  [signatureHeader]: (typeof options.secret === "string" ? [options.secret] : options.secret)
    .map((secret) => sign(secret, options.timestamp, options.body))
    .join(","),
  [timestampHeader]: String(options.timestamp),
  [deliveryHeader]: options.deliveryId
})

export type Verification =
  | { readonly valid: true }
  | { readonly valid: false; readonly reason: "malformed" | "stale" | "mismatch" }

/**
 * Whether a request was signed with `secret`: the headers' values as received, the raw body as
 * received (not re-serialised JSON), and the receiver's clock in Unix seconds.
 */
export const verify = (options: {
  readonly secret: string
  readonly body: string
  readonly signature: string | null | undefined
  readonly timestamp: string | null | undefined
  readonly nowSeconds: number
  readonly toleranceSeconds?: number | undefined
}): Verification => {
  if (options.signature == null || options.timestamp == null || !/^\d{1,12}$/.test(options.timestamp)) {
    return { valid: false, reason: "malformed" }
  }
  const timestamp = Number(options.timestamp)
  if (Math.abs(options.nowSeconds - timestamp) > (options.toleranceSeconds ?? defaultToleranceSeconds)) {
    return { valid: false, reason: "stale" }
  }
  const expected = hexToBytes(digest(options.secret, timestamp, options.body))
  const candidates = options.signature.split(",").map((part) => part.trim()).filter((part) => part.startsWith(`${scheme}=`))
  if (candidates.length === 0) return { valid: false, reason: "malformed" }
  const matches = candidates.some((candidate) => {
    const hex = candidate.slice(scheme.length + 1)
    if (!/^[0-9a-f]{64}$/i.test(hex)) return false
    return constantTimeEqual(hexToBytes(hex), expected)
  })
  return matches ? { valid: true } : { valid: false, reason: "mismatch" }
}
