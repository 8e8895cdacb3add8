/**
 * Id: how every id CanaryRoll makes is made. One table names each kind of thing, its prefix and
 * how many random bytes follow it; an id is the prefix, `_`, and those bytes in lowercase hex
 * (`dep_1f0c…`, `wrk_9a3e51c07b2d44f8`). The prefix says what an id names wherever it shows up (a
 * log line, a URL, a support ticket), and the bytes come from WebCrypto's random source, which
 * Node, workerd and browsers all have, so every runtime and every storage adapter makes the same
 * ids.
 *
 * Ids name things; they are not secrets (access is checked on every request). Secrets such as
 * API tokens (`ApiToken`), session secrets and webhook signing secrets have their own formats
 * and modules. The core itself never makes an id: the release's id arrives in its command, like
 * the time; adapters and the application call `make` / `makeUnsafe` here.
 *
 * @since 0.2.0
 */
import { Effect } from "effect"

/** Each kind of id: its prefix and how many random bytes follow. Prefixes are a storage format: never change one. */
export const kinds = {
  /** A release (a "deployment" in the HTTP API). */
  release: { prefix: "dep", bytes: 16 },
  /** A Worker registered with a team; shorter, because people type it (`canaryroll release --worker …`). */
  worker: { prefix: "wrk", bytes: 8 },
  team: { prefix: "team", bytes: 16 },
  person: { prefix: "usr", bytes: 16 },
  session: { prefix: "ses", bytes: 16 },
  invitation: { prefix: "inv", bytes: 16 },
  /** A team's API token record (the token itself is `crt_…`, made by `ApiToken`). */
  teamToken: { prefix: "tok", bytes: 16 },
  /** A person's API token record (the token itself is `cru_…`). */
  userToken: { prefix: "utk", bytes: 16 },
  plan: { prefix: "plan", bytes: 16 },
  cloudflareAccount: { prefix: "cfa", bytes: 16 },
  /** One claim of an idempotency key by a request. */
  idempotencyClaim: { prefix: "idk", bytes: 16 },
  /** A settings change's audit entry. */
  settingsChange: { prefix: "set", bytes: 16 },
  notificationChannel: { prefix: "chn", bytes: 16 },
  /** One notification owed to one channel; sent as `X-CanaryRoll-Delivery`. */
  delivery: { prefix: "dlv", bytes: 16 }
} as const satisfies Record<string, { readonly prefix: string; readonly bytes: number }>

export type Kind = keyof typeof kinds

// WebCrypto's random source is a global of every runtime CanaryRoll runs on; the core compiles
// without the DOM or Node type libraries, so it declares the one function it uses.
declare const crypto: { getRandomValues<T extends Uint8Array>(array: T): T }

const hex = (bytes: Uint8Array): string => {
  let text = ""
  for (const byte of bytes) text += byte.toString(16).padStart(2, "0")
  return text
}

/** A new id of `kind`, at once: for code that is not an Effect (a SQL template's value, a memory store). */
export const makeUnsafe = (kind: Kind): string => {
  const { prefix, bytes } = kinds[kind]
  return `${prefix}_${hex(crypto.getRandomValues(new Uint8Array(bytes)))}`
}

/** A new id of `kind`. */
export const make = (kind: Kind): Effect.Effect<string> => Effect.sync(() => makeUnsafe(kind))

/** Whether `id` has the shape of an id of `kind` (its prefix and length); says nothing of whether it exists. */
export const isOf = (kind: Kind, id: string): boolean => {
  const { prefix, bytes } = kinds[kind]
  return id.length === prefix.length + 1 + bytes * 2 && id.startsWith(`${prefix}_`) &&
    /^[0-9a-f]+$/.test(id.slice(prefix.length + 1))
}
