/**
 * Which Cloudflare API token (and API base URL) to use for an account. The server resolves it
 * from the team's encrypted credentials; tests and the sandbox give one token for everything.
 *
 * @since 0.1.0
 */
import { Context, Effect, Layer, Redacted, Schema } from "effect"

export const defaultBaseUrl = "https://api.cloudflare.com/client/v4"

export interface Credentials {
  readonly apiToken: Redacted.Redacted<string>
  /** `https://api.cloudflare.com/client/v4`, or a simulator's. */
  readonly baseUrl: string
}

export class CredentialsMissing extends Schema.TaggedError<CredentialsMissing>()("CredentialsMissing", {
  accountId: Schema.String,
  message: Schema.String
}) {}

export class CloudflareCredentials extends Context.Service<CloudflareCredentials, {
  readonly forAccount: (accountId: string) => Effect.Effect<Credentials, CredentialsMissing>
}>()("@canaryroll/cloudflare/CloudflareCredentials") {}

/** One token for the given accounts (all accounts when `accountIds` is omitted). */
export const layerStatic = (options: {
  readonly apiToken: string
  readonly baseUrl?: string | undefined
  readonly accountIds?: ReadonlyArray<string> | undefined
}) =>
  Layer.succeed(
    CloudflareCredentials,
    CloudflareCredentials.of({
      forAccount: (accountId) =>
        options.accountIds === undefined || options.accountIds.includes(accountId)
          ? Effect.succeed({ apiToken: Redacted.make(options.apiToken), baseUrl: options.baseUrl ?? defaultBaseUrl })
          : Effect.fail(
            new CredentialsMissing({ accountId, message: `no Cloudflare credentials for account ${accountId}` })
          )
    })
  )
