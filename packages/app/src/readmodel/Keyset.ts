/**
 * Keyset pages, as every read model hands them out: a page holds at most `maxLimit` items
 * (`defaultLimit` when the caller does not say), and its `nextCursor` names the last item handed
 * out, so the next page starts strictly after it however deep the walk goes and whatever is
 * written meanwhile. Cursors are opaque to clients (they only hand them back) and carry a version
 * prefix in case an order ever changes; every adapter of a port makes the same cursors, so a
 * cursor never says which storage answered.
 *
 * `InvalidQuery` is how a read-model port refuses a query it cannot answer as asked (a limit out
 * of range, a cursor it never handed out, an unknown status or type), naming the field.
 *
 * @since 0.2.0
 */
import { Effect, Schema } from "effect"

/** A query the read model cannot answer as asked; `field` names the offending input. */
export class InvalidQuery extends Schema.TaggedError<InvalidQuery>()("InvalidQuery", {
  field: Schema.String,
  message: Schema.String
}) {}

export const defaultLimit = 50
export const maxLimit = 200

/** The page size asked for, checked: an integer from 1 to `maxLimit`, `defaultLimit` when absent. */
export const limit = (limit: number | undefined): Effect.Effect<number, InvalidQuery> => {
  const value = limit ?? defaultLimit
  return Number.isInteger(value) && value >= 1 && value <= maxLimit
    ? Effect.succeed(value)
    : Effect.fail(new InvalidQuery({ field: "limit", message: `must be an integer from 1 to ${maxLimit}, got ${value}` }))
}

/** Base64url of the text's UTF-8 bytes, without padding (btoa: the same in Node, workerd and browsers). */
export const encodeCursor = (text: string): string => {
  let binary = ""
  for (const byte of new TextEncoder().encode(text)) binary += String.fromCharCode(byte)
  return btoa(binary).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "")
}

/** The text a cursor of `encodeCursor` holds; `undefined` when it is not one. */
export const decodeCursor = (cursor: string): string | undefined => {
  if (!/^[A-Za-z0-9_-]*$/.test(cursor)) return undefined
  try {
    const binary = atob(cursor.replaceAll("-", "+").replaceAll("_", "/"))
    return new TextDecoder("utf-8", { fatal: true }).decode(Uint8Array.from(binary, (char) => char.charCodeAt(0)))
  } catch {
    // Not base64 (a length no encoder makes) or not UTF-8: not a cursor we made.
    return undefined
  }
}
