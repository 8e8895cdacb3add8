/**
 * Sessions port: the signed-in browser sessions of people. A session is found by the hash of the
 * secret its cookie holds (the store never sees the secret, so a copy of it lets nobody in), and
 * shown to its person by a public id that opens nothing.
 *
 * Contract (the `SessionsContract` suite in `@canaryroll/app/testing`):
 * - A session is live from `create` until `expiresAt`, or until it is ended; an expired session
 *   is never found, listed or counted, and `create` drops the person's expired ones.
 * - `touch` finds a live session and stamps its last use, at most once per `lastSeenResolutionMs`
 *   (a request does not write a row every time).
 * - `endAll` ends every session of a person but the one `except` names by id (the caller's own,
 *   when they change their password), and says how many live ones it ended; nobody else's
 *   sessions are touched.
 *
 * Times are inputs (epoch milliseconds from the caller's `Clock`), so `TestClock` drives every
 * adapter alike and none reads a clock of its own. Storage failing is the one failure every
 * port shares, `Storage.StorageUnavailable`.
 *
 * Layers: `layerMemory` here (its writes are undone when a `Storage.Transactions` transaction
 * fails), and `PgSessions.layer` in `@canaryroll/postgres` (the `sessions` table).
 *
 * @since 0.1.0
 */
import { Context, Effect, Layer, Option } from "effect"
import { recordUndo, type StorageUnavailable } from "../Storage.ts"

export interface Session {
  /** Public: shown on the account page and in the audit log; opens nothing. */
  readonly id: string
  readonly userId: string
  readonly createdAt: number
  readonly lastSeenAt: number
  readonly expiresAt: number
  /** The browser's `User-Agent` when the session started, if it sent one. */
  readonly userAgent: string | null
}

export interface NewSession {
  readonly id: string
  /** The hash of the cookie's secret (the server's SHA-256 hex): how the session is found. */
  readonly secretHash: string
  readonly userId: string
  readonly expiresAt: number
  readonly userAgent: string | null
}

/** A session's last use is stamped at most once a minute. */
export const lastSeenResolutionMs = 60_000

export class Sessions extends Context.Service<Sessions, {
  /** Starts a session at `now` (created and last seen then); drops the person's expired sessions. */
  readonly create: (session: NewSession, now: number) => Effect.Effect<Session, StorageUnavailable>
  /** The live session with this secret hash at `now`, its last use stamped (see `lastSeenResolutionMs`). */
  readonly touch: (secretHash: string, now: number) => Effect.Effect<Option.Option<Session>, StorageUnavailable>
  /** Ends the session with this secret hash; `false` if there was none. */
  readonly end: (secretHash: string) => Effect.Effect<boolean, StorageUnavailable>
  /** Ends every session of the person but the one whose id is `except`; returns how many were live at `now`. */
  readonly endAll: (
    userId: string,
    options: { readonly now: number; readonly except?: string | undefined }
  ) => Effect.Effect<number, StorageUnavailable>
  /** The person's live sessions at `now`, the most recently started first. */
  readonly list: (userId: string, now: number) => Effect.Effect<ReadonlyArray<Session>, StorageUnavailable>
}>()("@canaryroll/app/Sessions") {}

/** The most recently started first, then by id: the order every adapter lists sessions in. */
export const newestFirst = (a: Session, b: Session) => b.createdAt - a.createdAt || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0)

export const makeMemory = Effect.sync(() => {
  const byHash = new Map<string, Session>()
  const live = (session: Session, now: number) => session.expiresAt > now
  /**
   * Writes (or, for undefined, deletes) the sessions given; a failed transaction puts back what
   * they replaced, and only that.
   */
  const write = (changes: ReadonlyArray<readonly [hash: string, session: Session | undefined]>) => {
    const before = changes.map(([hash]) => [hash, byHash.get(hash)] as const)
    for (const [hash, session] of changes) {
      if (session === undefined) byHash.delete(hash)
      else byHash.set(hash, session)
    }
    return recordUndo(() => {
      for (const [hash, session] of before.reverse()) {
        if (session === undefined) byHash.delete(hash)
        else byHash.set(hash, session)
      }
    })
  }
  return Sessions.of({
    create: (session, now) =>
      Effect.suspend(() => {
        const expired = [...byHash].filter(([, existing]) => existing.userId === session.userId && !live(existing, now))
        const created: Session = {
          id: session.id,
          userId: session.userId,
          createdAt: now,
          lastSeenAt: now,
          expiresAt: session.expiresAt,
          userAgent: session.userAgent
        }
        return Effect.as(write([...expired.map(([hash]) => [hash, undefined] as const), [session.secretHash, created]]), created)
      }),
    touch: (secretHash, now) =>
      Effect.sync(() => {
        const found = byHash.get(secretHash)
        if (found === undefined || !live(found, now)) return Option.none()
        if (found.lastSeenAt > now - lastSeenResolutionMs) return Option.some(found)
        // A stamp is not undone with a failed transaction: the session was used.
        const seen = { ...found, lastSeenAt: now }
        byHash.set(secretHash, seen)
        return Option.some(seen)
      }),
    end: (secretHash) =>
      Effect.suspend(() => {
        const existed = byHash.has(secretHash)
        return Effect.as(write([[secretHash, undefined]]), existed)
      }),
    endAll: (userId, { except, now }) =>
      Effect.suspend(() => {
        const ending = [...byHash].filter(([, session]) => session.userId === userId && session.id !== except)
        const ended = ending.filter(([, session]) => live(session, now)).length
        return Effect.as(write(ending.map(([hash]) => [hash, undefined] as const)), ended)
      }),
    list: (userId, now) =>
      Effect.sync(() => [...byHash.values()].filter((session) => session.userId === userId && live(session, now)).sort(newestFirst))
  })
})

export const layerMemory: Layer.Layer<Sessions> = Layer.effect(Sessions, makeMemory)
