/**
 * ApiTokens port: the API's bearer tokens. A team token (`crt_…`) acts for one team with a role;
 * a user token (`cru_…`) acts as its person. The port keeps a token's hash (how a request finds
 * it), its display (`crt_thgw…FPaU`, shown in lists), its last use and its revocation; the token
 * itself is shown once by whoever issued it (`ApiToken.issue`) and never stored.
 *
 * Contract (the `ApiTokensContract` suite, `@canaryroll/app/testing`, run on every layer):
 * - `…ByHash` finds an unrevoked token and stamps its last use, at most once per
 *   `lastUsedResolutionMs` (a CI job polling every few seconds must not turn each read into a
 *   write); a revoked token is never found.
 * - Revoking is for the token's own team (or person): anyone else's id is `None`. Revoking again
 *   keeps the first revocation's time.
 * - Lists hold revoked tokens too, the oldest first.
 *
 * Times are inputs (epoch milliseconds from the caller's `Clock`). Storage failing is the one
 * failure every port shares, `Storage.StorageUnavailable`.
 *
 * Layers: `layerMemory` here (its writes are undone when a `Storage.Transactions` transaction
 * fails), and `PgApiTokens.layer` in `@canaryroll/postgres` (tables `team_tokens`, `user_tokens`).
 *
 * @since 0.2.0
 */
import { Id } from "@canaryroll/core"
import { Context, Effect, Layer, Option } from "effect"
import { recordUndo, type StorageUnavailable } from "../Storage.ts"
import type { Role } from "./Teams.ts"

export interface TeamToken {
  readonly id: string
  readonly teamId: string
  readonly name: string
  readonly role: Role
  readonly display: string
  /** Who created it, as the audit log names them. */
  readonly createdBy: string
  readonly createdAt: number
  readonly lastUsedAt: number | null
  readonly revokedAt: number | null
}

export interface UserToken {
  readonly id: string
  readonly userId: string
  readonly name: string
  readonly display: string
  readonly createdAt: number
  readonly lastUsedAt: number | null
  readonly revokedAt: number | null
}

/** What an issued token leaves to store: its hash and its display. */
export interface Stored {
  readonly hash: string
  readonly display: string
}

/** A token's last use is stamped at most once a minute. */
export const lastUsedResolutionMs = 60_000

export class ApiTokens extends Context.Service<ApiTokens, {
  readonly createTeamToken: (input: Stored & {
    readonly teamId: string
    readonly name: string
    readonly role: Role
    readonly createdBy: string
    readonly now: number
  }) => Effect.Effect<TeamToken, StorageUnavailable>
  readonly teamTokens: (teamId: string) => Effect.Effect<ReadonlyArray<TeamToken>, StorageUnavailable>
  readonly revokeTeamToken: (
    teamId: string,
    tokenId: string,
    now: number
  ) => Effect.Effect<Option.Option<TeamToken>, StorageUnavailable>
  /** The unrevoked team token with this hash, its last use stamped. */
  readonly teamTokenByHash: (hash: string, now: number) => Effect.Effect<Option.Option<TeamToken>, StorageUnavailable>
  readonly createUserToken: (input: Stored & {
    readonly userId: string
    readonly name: string
    readonly now: number
  }) => Effect.Effect<UserToken, StorageUnavailable>
  readonly userTokens: (userId: string) => Effect.Effect<ReadonlyArray<UserToken>, StorageUnavailable>
  readonly revokeUserToken: (
    userId: string,
    tokenId: string,
    now: number
  ) => Effect.Effect<Option.Option<UserToken>, StorageUnavailable>
  /** The unrevoked user token with this hash, its last use stamped. */
  readonly userTokenByHash: (hash: string, now: number) => Effect.Effect<Option.Option<UserToken>, StorageUnavailable>
}>()("@canaryroll/app/ApiTokens") {}

/** Whether a token last used at `lastUsedAt` gets a new stamp at `now`. */
export const stampDue = (lastUsedAt: number | null, now: number) =>
  lastUsedAt === null || lastUsedAt < now - lastUsedResolutionMs

type Hashed<T> = T & { readonly hash: string }

const oldestFirst = <T extends { readonly id: string; readonly createdAt: number }>(a: T, b: T) =>
  a.createdAt - b.createdAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)

// `Omit<T & { hash }, "hash">` is T, which TypeScript cannot see for a generic T.
const withoutHash = <T>({ hash: _, ...token }: Hashed<T>): T => token as T

/** One kind of token in memory: owned by a team or by a person (`ownerOf`). */
const makeTable = <T extends { readonly id: string; readonly createdAt: number; readonly lastUsedAt: number | null; readonly revokedAt: number | null }>(
  ownerOf: (token: T) => string
) => {
  const byId = new Map<string, Hashed<T>>()
  const write = (token: Hashed<T>) => {
    const before = byId.get(token.id)
    byId.set(token.id, token)
    return recordUndo(() => before === undefined ? byId.delete(token.id) : byId.set(token.id, before))
  }
  return {
    create: (token: Hashed<T>) => Effect.suspend(() => Effect.as(write(token), withoutHash<T>(token))),
    list: (owner: string) =>
      Effect.sync(() => [...byId.values()].filter((token) => ownerOf(token) === owner).sort(oldestFirst).map(withoutHash<T>)),
    revoke: (owner: string, tokenId: string, now: number) =>
      Effect.suspend(() => {
        const token = byId.get(tokenId)
        if (token === undefined || ownerOf(token) !== owner) return Effect.succeed(Option.none<T>())
        const revoked = { ...token, revokedAt: token.revokedAt ?? now }
        return Effect.as(write(revoked), Option.some(withoutHash<T>(revoked)))
      }),
    byHash: (hash: string, now: number) =>
      Effect.sync(() => {
        const token = [...byId.values()].find((token) => token.hash === hash && token.revokedAt === null)
        if (token === undefined) return Option.none<T>()
        if (!stampDue(token.lastUsedAt, now)) return Option.some(withoutHash<T>(token))
        // A stamp is not undone with a failed transaction: the token was used.
        const stamped = { ...token, lastUsedAt: now }
        byId.set(token.id, stamped)
        return Option.some(withoutHash<T>(stamped))
      })
  }
}

export const makeMemory = Effect.sync(() => {
  const teamTokens = makeTable<TeamToken>((token) => token.teamId)
  const userTokens = makeTable<UserToken>((token) => token.userId)
  return ApiTokens.of({
    createTeamToken: ({ createdBy, display, hash, name, now, role, teamId }) =>
      teamTokens.create({
        id: Id.makeUnsafe("teamToken"),
        teamId,
        name: name.trim(),
        role,
        display,
        hash,
        createdBy,
        createdAt: now,
        lastUsedAt: null,
        revokedAt: null
      }),
    teamTokens: teamTokens.list,
    revokeTeamToken: teamTokens.revoke,
    teamTokenByHash: teamTokens.byHash,
    createUserToken: ({ display, hash, name, now, userId }) =>
      userTokens.create({
        id: Id.makeUnsafe("userToken"),
        userId,
        name: name.trim(),
        display,
        hash,
        createdAt: now,
        lastUsedAt: null,
        revokedAt: null
      }),
    userTokens: userTokens.list,
    revokeUserToken: userTokens.revoke,
    userTokenByHash: userTokens.byHash
  })
})

export const layerMemory: Layer.Layer<ApiTokens> = Layer.effect(ApiTokens, makeMemory)
