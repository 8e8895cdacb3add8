/**
 * CloudflareAccounts port: the Cloudflare accounts a team connected, each with its API token
 * sealed. The port stores and gives back the sealed token as it was handed in: sealing and
 * opening stay with whoever holds the key (the server's SecretBox), so no layer ever sees a
 * token. A sealed token is bound to its row's `id`, which `save` hands to `seal` before storing.
 *
 * Contract (the `CloudflareAccountsContract` suite, `@canaryroll/app/testing`, run on every layer):
 * - An account is connected to one team at most: another team's `save` is `CloudflareAccountTaken`
 *   (the orchestrator finds a release's token by its account alone). Saving again replaces the
 *   token and keeps the row (its `id`, its creation time).
 * - Saves of one account happen one after the other, across processes.
 * - `remove` refuses an account the team's Workers are registered in (`CloudflareAccountInUse`,
 *   naming them), checked in the same step as the delete.
 * - `forAccount` is the credentials lookup of the orchestrator: whichever team connected it.
 * - `anyReal`: whether any team connected an account that is not the sandbox's simulated one;
 *   `latestSandbox`: the simulated one saved last.
 *
 * Layers: `layerMemory` (over `MemoryDirectory`'s tables) and `PgCloudflareAccounts.layer` in
 * `@canaryroll/postgres`.
 *
 * @since 0.2.0
 */
import { Id } from "@canaryroll/core"
import { Context, Effect, Layer, Option, Schema, Semaphore } from "effect"
import { recordUndo, type StorageUnavailable } from "../Storage.ts"
import * as MemoryDirectory from "./MemoryDirectory.ts"
import { byCreation } from "./Plans.ts"

export interface CloudflareAccount {
  /** The row's id: what the sealed token is bound to. */
  readonly id: string
  readonly teamId: string
  /** Cloudflare's account id. */
  readonly accountId: string
  readonly sealedApiToken: string
  /** Enough of the token to tell tokens apart (`abcd…wxyz`). */
  readonly tokenDisplay: string
  /** Cloudflare's API, or the simulator's. */
  readonly baseUrl: string
  /** The sandbox's simulated account. */
  readonly sandbox: boolean
  readonly verifiedAt: number
  readonly createdAt: number
  readonly updatedAt: number
}

export interface Save<E> {
  readonly teamId: string
  readonly accountId: string
  /** Seals the token for the row with this id (a new one, or the row being replaced). */
  readonly seal: (id: string) => Effect.Effect<string, E>
  readonly tokenDisplay: string
  readonly baseUrl: string
  readonly sandbox: boolean
  /** When Cloudflare verified the token: the save's time. */
  readonly now: number
}

/** Another team connected this account. */
export class CloudflareAccountTaken extends Schema.TaggedError<CloudflareAccountTaken>()("CloudflareAccountTaken", {
  accountId: Schema.String
}) {}

/** The team has not connected this account. */
export class CloudflareAccountNotFound extends Schema.TaggedError<CloudflareAccountNotFound>()("CloudflareAccountNotFound", {
  teamId: Schema.String,
  accountId: Schema.String
}) {}

/** Workers of the team are registered in the account (their script names). */
export class CloudflareAccountInUse extends Schema.TaggedError<CloudflareAccountInUse>()("CloudflareAccountInUse", {
  accountId: Schema.String,
  scriptNames: Schema.Array(Schema.String)
}) {}

export class CloudflareAccounts extends Context.Service<CloudflareAccounts, {
  /** Connects the account to the team, or replaces the team's token for it. */
  readonly save: <E>(save: Save<E>) => Effect.Effect<CloudflareAccount, E | CloudflareAccountTaken | StorageUnavailable>
  /** The team's accounts, oldest first. */
  readonly list: (teamId: string) => Effect.Effect<ReadonlyArray<CloudflareAccount>, StorageUnavailable>
  readonly find: (teamId: string, accountId: string) => Effect.Effect<Option.Option<CloudflareAccount>, StorageUnavailable>
  /** The account, whichever team connected it (the orchestrator's credentials). */
  readonly forAccount: (accountId: string) => Effect.Effect<Option.Option<CloudflareAccount>, StorageUnavailable>
  /** Disconnects an account no Worker of the team uses; gives what it removed. */
  readonly remove: (
    teamId: string,
    accountId: string
  ) => Effect.Effect<CloudflareAccount, CloudflareAccountNotFound | CloudflareAccountInUse | StorageUnavailable>
  /** Whether any team connected a real (not sandbox) account. */
  readonly anyReal: Effect.Effect<boolean, StorageUnavailable>
  /** The sandbox's simulated account saved last, if any (a restarted sandbox keeps its account id). */
  readonly latestSandbox: Effect.Effect<Option.Option<CloudflareAccount>, StorageUnavailable>
}>()("@canaryroll/app/CloudflareAccounts") {}

/** Over the directory's memory tables (`MemoryDirectory`): the Workers it checks are there. */
export const makeMemory = Effect.gen(function*() {
  const { accounts, workers } = yield* MemoryDirectory.MemoryDirectory
  // Saves one after the other: sealing runs between the read and the write.
  const saving = yield* Semaphore.make(1)
  const ofTeam = (teamId: string, accountId: string) =>
    Option.filter(Option.fromNullishOr(accounts.get(accountId)), (account) => account.teamId === teamId)
  return CloudflareAccounts.of({
    save: (input) =>
      saving.withPermits(1)(Effect.gen(function*() {
        const existing = accounts.get(input.accountId)
        if (existing !== undefined && existing.teamId !== input.teamId) {
          return yield* new CloudflareAccountTaken({ accountId: input.accountId })
        }
        const id = existing?.id ?? Id.makeUnsafe("cloudflareAccount")
        const sealedApiToken = yield* input.seal(id)
        const before = existing
        const saved: CloudflareAccount = {
          id,
          teamId: input.teamId,
          accountId: input.accountId,
          sealedApiToken,
          tokenDisplay: input.tokenDisplay,
          baseUrl: input.baseUrl,
          sandbox: input.sandbox,
          verifiedAt: input.now,
          createdAt: before?.createdAt ?? input.now,
          updatedAt: input.now
        }
        accounts.set(input.accountId, saved)
        yield* recordUndo(() =>
          before === undefined ? accounts.delete(input.accountId) : accounts.set(input.accountId, before)
        )
        return saved
      })),
    list: (teamId) =>
      Effect.sync(() => [...accounts.values()].filter((account) => account.teamId === teamId).sort(byCreation)),
    find: (teamId, accountId) => Effect.sync(() => ofTeam(teamId, accountId)),
    forAccount: (accountId) => Effect.sync(() => Option.fromNullishOr(accounts.get(accountId))),
    remove: (teamId, accountId) =>
      Effect.gen(function*() {
        const used = [...workers.values()]
          .filter((worker) => worker.teamId === teamId && worker.accountId === accountId)
          .sort(byCreation)
        if (used.length > 0) {
          return yield* new CloudflareAccountInUse({ accountId, scriptNames: used.map((worker) => worker.scriptName) })
        }
        const current = ofTeam(teamId, accountId)
        if (Option.isNone(current)) return yield* new CloudflareAccountNotFound({ teamId, accountId })
        accounts.delete(accountId)
        yield* recordUndo(() => accounts.set(accountId, current.value))
        return current.value
      }),
    anyReal: Effect.sync(() => [...accounts.values()].some((account) => !account.sandbox)),
    latestSandbox: Effect.sync(() =>
      Option.fromNullishOr(
        [...accounts.values()].filter((account) => account.sandbox).sort((left, right) => right.updatedAt - left.updatedAt)[0]
      )
    )
  })
})

export const layerMemory: Layer.Layer<CloudflareAccounts, never, MemoryDirectory.MemoryDirectory> = Layer.effect(
  CloudflareAccounts,
  makeMemory
)
