/**
 * What handlers of team resources share: the current team and actor, the time, running a change
 * and its audit entry as one atomic change (the `Transactions` and `AuditLog` ports, so on any
 * storage), and Cloudflare calls with the team's own credentials.
 *
 * @since 0.1.0
 */
import { AuditLog, CloudflareAccounts as CloudflareAccountsPort, Storage as AppStorage } from "../index.ts"
import { type ApiBudget, Credentials, WorkersApi } from "@canaryroll/cloudflare"
import { Actor, type TrafficRouter } from "@canaryroll/core"
import { Clock, Effect, Option } from "effect"
import { CurrentTeam } from "@canaryroll/api/Access"
import { BadGateway, Unavailable } from "@canaryroll/api/ApiError"
import { SecretBox } from "../security/SecretBox.ts"
import * as CloudflareAccounts from "./store/CloudflareAccounts.ts"

export const now = Effect.map(Clock.currentTimeMillis, (ms) => new Date(ms))

/** Records a settings change of the current team, by the current actor; call it inside the change's transaction. */
export const audit = Effect.fnUntraced(function*(change: {
  readonly type: AuditLog.ChangeType
  readonly sentence: (actor: string) => string
  readonly details: Readonly<Record<string, unknown>>
  readonly workerId?: string | null
  readonly at: Date
}) {
  const { actor, team } = yield* CurrentTeam
  yield* AuditLog.record({
    teamId: team.id,
    type: change.type,
    actor,
    at: change.at.getTime(),
    workerId: change.workerId ?? null,
    sentence: change.sentence(Actor.describe(actor)),
    details: change.details
  })
})

/** Runs `effect` as one atomic change, on whichever storage the server runs (`Transactions`). */
export const transaction = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  AppStorage.Transactions.use((transactions) => transactions.atomically(effect))

/** A Cloudflare failure, as the API answers it. */
export const cloudflareError = (error: TrafficRouter.TrafficRouterError) => {
  switch (error.kind) {
    case "credentials":
      return new BadGateway({
        error: "cloudflare_credentials",
        message: `Cloudflare refused the team's API token: ${error.message}. Save a token with Workers Scripts access`
      })
    case "not_found":
    case "permanent":
      return new BadGateway({ error: "cloudflare_error", message: `Cloudflare answered: ${error.message}` })
    case "rate_limited":
    case "transient":
      return new Unavailable({ error: "cloudflare_unavailable", message: `Cloudflare is unavailable for now: ${error.message}` })
  }
}

/** The Cloudflare client with the team's own token for each account (never another team's). */
export const withTeamCloudflare = <A, E, R>(
  teamId: string,
  use: (api: typeof WorkersApi.WorkersApi.Service) => Effect.Effect<A, E, R>
): Effect.Effect<A, E, R | SecretBox | ApiBudget.ApiBudget | CloudflareAccountsPort.CloudflareAccounts> =>
  Effect.gen(function*() {
    const accounts = yield* CloudflareAccountsPort.CloudflareAccounts
    const box = yield* SecretBox
    const credentials = Credentials.CloudflareCredentials.of({
      forAccount: (accountId) =>
        CloudflareAccounts.forTeamAccount(teamId, accountId).pipe(
          Effect.provideService(CloudflareAccountsPort.CloudflareAccounts, accounts),
          Effect.provideService(SecretBox, box),
          Effect.mapError((error) =>
            new Credentials.CredentialsMissing({ accountId, message: `the team's credentials are unusable: ${error.message}` })
          ),
          Effect.flatMap(Option.match({
            onNone: () =>
              Effect.fail(
                new Credentials.CredentialsMissing({
                  accountId,
                  message: `the team has no Cloudflare credentials for account ${accountId}`
                })
              ),
            onSome: Effect.succeed
          }))
        )
    })
    const api = yield* WorkersApi.make().pipe(Effect.provideService(Credentials.CloudflareCredentials, credentials))
    return yield* use(api)
  })
