/**
 * The server's side of the `CloudflareAccounts` port (`@canaryroll/app`): sealing. An account's
 * API token is verified against Cloudflare before it is saved, and stored sealed with the
 * SecretBox (AES-256-GCM, bound to its row by associated data, so a sealed token copied to another
 * row does not decrypt); the port only ever holds the sealed text. `layerCredentials` is the
 * `CloudflareCredentials` the orchestrator's Cloudflare calls use: the account's token, opened on
 * demand and kept for a few seconds.
 *
 * The storage, and the rules it keeps (one team per account, saves of one account one after the
 * other, no removal while Workers use it), are the port's; this module holds no SQL.
 *
 * @since 0.1.0
 */
import { CloudflareAccounts } from "../../index.ts"
import { Credentials } from "@canaryroll/cloudflare"
import { Clock, Effect, Layer, Option, Redacted } from "effect"
import { Conflict } from "@canaryroll/api/ApiError"
import type * as S from "@canaryroll/api/Schemas"
import { SecretBox } from "../../security/SecretBox.ts"

// The ports and their failure, so that modules using these functions can name them in their types.
export type { CloudflareAccounts as Port, Storage } from "../../index.ts"

export const toView = (account: CloudflareAccounts.CloudflareAccount): S.CloudflareAccount => ({
  accountId: account.accountId,
  tokenDisplay: account.tokenDisplay,
  verifiedAt: new Date(account.verifiedAt).toISOString(),
  updatedAt: new Date(account.updatedAt).toISOString()
})

/** What binds a sealed API token to its row: a sealed token copied to another row does not open there. */
export const associatedData = (rowId: string) => `cloudflare_credentials:${rowId}`

/** `abcd…wxyz`: enough to tell tokens apart. */
export const displayToken = (token: Redacted.Redacted<string>) => {
  const text = Redacted.value(token)
  return text.length <= 12 ? "…" : `${text.slice(0, 4)}…${text.slice(-4)}`
}

/** The API's answer to a second team connecting an account. */
export const taken = (accountId: string) =>
  new Conflict({
    error: "cloudflare_account_taken",
    message: `accountId: account ${accountId} is connected to another CanaryRoll team; ` +
      "a Cloudflare account belongs to one team (ask that team to add you)"
  })

/** The API's answer to removing an account Workers are registered in. */
export const inUse = (scriptNames: ReadonlyArray<string>) =>
  new Conflict({
    error: "account_in_use",
    message: `accountId: Workers are registered in this account (${scriptNames.join(", ")}); remove them first`
  })

/** Saves (or replaces) the team's token for an account, sealed. Verify it with Cloudflare first. */
export const save = Effect.fnUntraced(function*(input: {
  readonly teamId: string
  readonly accountId: string
  readonly apiToken: Redacted.Redacted<string>
  readonly baseUrl: string
  readonly sandbox?: boolean
  readonly now: Date
}) {
  const accounts = yield* CloudflareAccounts.CloudflareAccounts
  const box = yield* SecretBox
  const saved = yield* accounts.save({
    teamId: input.teamId,
    accountId: input.accountId,
    seal: (id) => box.encrypt(input.apiToken, associatedData(id)),
    tokenDisplay: displayToken(input.apiToken),
    baseUrl: input.baseUrl,
    sandbox: input.sandbox ?? false,
    now: input.now.getTime()
  }).pipe(Effect.catchTag("CloudflareAccountTaken", () => Effect.fail(taken(input.accountId))))
  return toView(saved)
})

export const list = (teamId: string) =>
  CloudflareAccounts.CloudflareAccounts.use((accounts) => Effect.map(accounts.list(teamId), (all) => all.map(toView)))

/** Removes the team's account; `false` when the team has none by that id, 409 while Workers use it. */
export const remove = (teamId: string, accountId: string) =>
  CloudflareAccounts.CloudflareAccounts.use((accounts) =>
    accounts.remove(teamId, accountId).pipe(
      Effect.as(true),
      Effect.catchTags({
        CloudflareAccountNotFound: () => Effect.succeed(false),
        CloudflareAccountInUse: (error) => Effect.fail(inUse(error.scriptNames))
      })
    )
  )

/** The team the account is connected to, if any. */
export const connectedTeam = (accountId: string) =>
  CloudflareAccounts.CloudflareAccounts.use((accounts) =>
    Effect.map(accounts.forAccount(accountId), Option.map((account) => account.teamId))
  )

/** Whether any team saved real (not sandbox) credentials: with none, `pnpm start` runs the sandbox. */
export const anyReal = CloudflareAccounts.CloudflareAccounts.use((accounts) => accounts.anyReal)

const open = (box: SecretBox["Service"], account: CloudflareAccounts.CloudflareAccount) =>
  Effect.map(
    box.decrypt(account.sealedApiToken, associatedData(account.id)),
    (apiToken): Credentials.Credentials => ({ apiToken, baseUrl: account.baseUrl })
  )

/** The team's credentials for one account, opened. */
export const forTeamAccount = Effect.fnUntraced(function*(teamId: string, accountId: string) {
  const accounts = yield* CloudflareAccounts.CloudflareAccounts
  const box = yield* SecretBox
  const found = yield* accounts.find(teamId, accountId)
  if (Option.isNone(found)) return Option.none<Credentials.Credentials>()
  return Option.some(yield* open(box, found.value))
})

/** How long an opened token is reused by the orchestrator's calls. */
export const credentialsCacheMs = 10_000

/** `CloudflareCredentials` from the port: the token of whichever team connected the account. */
export const layerCredentials = Layer.effect(
  Credentials.CloudflareCredentials,
  Effect.gen(function*() {
    const accounts = yield* CloudflareAccounts.CloudflareAccounts
    const box = yield* SecretBox
    const cache = new Map<string, { readonly credentials: Credentials.Credentials; readonly until: number }>()
    const missing = (accountId: string, why: string) =>
      new Credentials.CredentialsMissing({ accountId, message: `no usable Cloudflare credentials for account ${accountId}: ${why}` })
    return Credentials.CloudflareCredentials.of({
      forAccount: (accountId) =>
        Effect.gen(function*() {
          const now = yield* Clock.currentTimeMillis
          const cached = cache.get(accountId)
          if (cached !== undefined && cached.until > now) return cached.credentials
          const found = yield* accounts.forAccount(accountId).pipe(
            Effect.mapError((error) => missing(accountId, `the database is unavailable (${error.message})`))
          )
          if (Option.isNone(found)) return yield* missing(accountId, "no team saved a token for it")
          const credentials = yield* open(box, found.value).pipe(Effect.mapError((error) => missing(accountId, error.message)))
          cache.set(accountId, { credentials, until: now + credentialsCacheMs })
          return credentials
        })
    })
  })
)
