/**
 * Annotations on versions and deployments (`workers/message`, `workers/tag`,
 * `workers/triggered_by`). Cloudflare truncates messages to 1000 bytes rather than refusing
 * them (SDK 7.3.0 and OAS26 descriptions) and caps tags at 100 bytes; `triggered_by` is set by
 * the platform: "upload" for versions, "deployment" for deployments.
 */
import { Rejection } from "./ErrorCatalogue.ts"

export const messageMaxBytes = 1000
export const tagMaxBytes = 100

/** Cut `text` to at most `maxBytes` of UTF-8 without splitting a character. */
export const truncateUtf8 = (text: string, maxBytes: number): string => {
  const bytes = Buffer.from(text, "utf8")
  if (bytes.length <= maxBytes) return text
  let end = maxBytes
  // Continuation bytes look like 10xxxxxx: back up to the start of the character they belong to.
  while (end > 0 && (bytes[end]! & 0xc0) === 0x80) end--
  return bytes.subarray(0, end).toString("utf8")
}

export interface Annotations {
  readonly message?: string
  readonly tag?: string
}

/** Read the client-settable annotations; `triggered_by` is read-only and silently ignored. */
export const read = (raw: unknown, rejection: "invalidDeployment" | "invalidUpload"): Annotations => {
  if (raw === undefined || raw === null) return {}
  if (typeof raw !== "object" || Array.isArray(raw)) throw new Rejection(rejection, "annotations must be an object")
  const record = raw as Record<string, unknown>
  const message = record["workers/message"]
  const tag = record["workers/tag"]
  if (message !== undefined && typeof message !== "string") {
    throw new Rejection(rejection, "annotations.workers/message must be a string")
  }
  if (tag !== undefined && typeof tag !== "string") {
    throw new Rejection(rejection, "annotations.workers/tag must be a string")
  }
  if (tag !== undefined && Buffer.byteLength(tag, "utf8") > tagMaxBytes) {
    throw new Rejection(rejection, `annotations.workers/tag must be at most ${tagMaxBytes} bytes`)
  }
  return {
    ...(message === undefined ? {} : { message: truncateUtf8(message, messageMaxBytes) }),
    ...(tag === undefined ? {} : { tag })
  }
}
