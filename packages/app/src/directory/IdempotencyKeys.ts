/**
 * IdempotencyKeys port: what the server remembers of the requests sent with an `Idempotency-Key`
 * header, so that a client retrying a request whose answer it lost (a timeout, a dropped
 * connection, a restarted proxy) gets the first answer again instead of acting twice.
 *
 * Contract (the `IdempotencyKeysContract` suite, `@canaryroll/app/testing`, run on every layer):
 * - A key belongs to a team: the same key of another team is another key.
 * - `claim` is the first thing a request with a key does. A key nobody used (or one whose
 *   `retentionMs` since its first use ran out) is `Acquired` by the caller, with a `claimId`;
 *   the caller then runs the request and `complete`s the key with its response, or `release`s it
 *   when the outcome is not worth remembering (a retry should run the request again).
 * - Claiming a completed key with the same request fingerprint (method, path, canonical body)
 *   gives its response to `Replay`; with another fingerprint, `Mismatch` (whether it completed
 *   or not). A key held by a request still running is `InFlight` for the same fingerprint, until
 *   the holder's `leaseMs` runs out: then the holder is taken for dead and the next claim
 *   acquires the key (the old holder's `complete` and `release` then do nothing).
 * - `complete` and `release` only act for the claim that holds the key.
 *
 * Times are inputs (epoch milliseconds from the caller's `Clock`), so `TestClock` drives every
 * layer alike and none reads a clock of its own.
 *
 * Layers: `layerMemory` here, and `PgIdempotencyKeys.layer` in `@canaryroll/postgres` (the
 * `idempotency_keys` table, so a retry that reaches another server process still finds the key).
 *
 * @since 0.2.0
 */
import { Id } from "@canaryroll/core"
import { Context, Effect, Layer } from "effect"
import type { StorageUnavailable } from "../Storage.ts"

/** A request's claim on a key. */
export interface KeyRequest {
  readonly teamId: string
  readonly key: string
  /** What identifies the request: the same fingerprint is the same request (a retry). */
  readonly fingerprint: string
}

/** The claim that holds a key, to complete or release it. */
export interface Holder {
  readonly teamId: string
  readonly key: string
  readonly claimId: string
}

/** The response to give again: its status and its body as sent (JSON text, or empty). */
export interface StoredResponse {
  readonly status: number
  readonly body: string
}

export type Claimed =
  | { readonly _tag: "Acquired"; readonly claimId: string }
  | { readonly _tag: "Replay"; readonly response: StoredResponse }
  | { readonly _tag: "InFlight" }
  | { readonly _tag: "Mismatch" }

/** A key is kept for a day after its first use. */
export const retentionMs = 24 * 60 * 60 * 1000

/**
 * A request holding a key for longer than this is taken for dead (its process crashed): a
 * retry may run it again. Requests that act on releases take seconds at most.
 */
export const leaseMs = 60 * 1000

export interface Options {
  readonly retentionMs?: number | undefined
  readonly leaseMs?: number | undefined
}

/** The storage failure is the one every port shares: `Storage.StorageUnavailable`. */
export class IdempotencyKeys extends Context.Service<IdempotencyKeys, {
  /** Takes the key for this request at `now`, or says why not (see the module doc). */
  readonly claim: (request: KeyRequest, now: number) => Effect.Effect<Claimed, StorageUnavailable>
  /** Records the response of the request that holds the key; replays get it from now on. */
  readonly complete: (holder: Holder, response: StoredResponse) => Effect.Effect<void, StorageUnavailable>
  /** Forgets the key if this claim still holds it: the next request with it runs afresh. */
  readonly release: (holder: Holder) => Effect.Effect<void, StorageUnavailable>
}>()("@canaryroll/app/IdempotencyKeys") {}

interface Entry {
  readonly fingerprint: string
  readonly claimId: string
  readonly expiresAt: number
  /** While the request runs: when its lease ends. */
  readonly lockedUntil: number | null
  readonly response: StoredResponse | null
}

export const makeMemory = (options: Options = {}) =>
  Effect.sync(() => {
    const retention = options.retentionMs ?? retentionMs
    const lease = options.leaseMs ?? leaseMs
    const entries = new Map<string, Entry>()
    const id = (ref: { readonly teamId: string; readonly key: string }) => JSON.stringify([ref.teamId, ref.key])
    return IdempotencyKeys.of({
      claim: (request, now) =>
        Effect.sync((): Claimed => {
          for (const [entryId, entry] of entries) if (entry.expiresAt <= now) entries.delete(entryId)
          const existing = entries.get(id(request))
          const abandoned = existing !== undefined && existing.response === null && existing.lockedUntil !== null &&
            existing.lockedUntil <= now && existing.fingerprint === request.fingerprint
          if (existing === undefined || abandoned) {
            const claimId = Id.makeUnsafe("idempotencyClaim")
            entries.set(id(request), {
              fingerprint: request.fingerprint,
              claimId,
              expiresAt: now + retention,
              lockedUntil: now + lease,
              response: null
            })
            return { _tag: "Acquired", claimId }
          }
          if (existing.fingerprint !== request.fingerprint) return { _tag: "Mismatch" }
          return existing.response === null ? { _tag: "InFlight" } : { _tag: "Replay", response: existing.response }
        }),
      complete: (holder, response) =>
        Effect.sync(() => {
          const entry = entries.get(id(holder))
          if (entry?.claimId !== holder.claimId || entry.response !== null) return
          entries.set(id(holder), { ...entry, lockedUntil: null, response })
        }),
      release: (holder) =>
        Effect.sync(() => {
          const entry = entries.get(id(holder))
          if (entry?.claimId === holder.claimId && entry.response === null) entries.delete(id(holder))
        })
    })
  })

export const layerMemory = (options: Options = {}): Layer.Layer<IdempotencyKeys> =>
  Layer.effect(IdempotencyKeys, makeMemory(options))
