/**
 * The `canaryroll` command itself and the flags every subcommand shares: where the server is
 * (`--api-url`), who calls (`--token`), which team (`--team`), each with an environment variable
 * to fall back on, and `--json`. Subcommands read them with `yield* root`; `connect` turns them
 * into an API client, or a usage error naming the missing setting.
 *
 * @since 0.1.0
 */
import { Config, Effect, Option, Redacted } from "effect"
import { Command, Flag } from "effect/cli"
import { FetchHttpClient } from "effect/http"
import * as CanaryRollApi from "./CanaryRollApi.ts"
import { CommandFailed, ExitCode } from "./ExitCode.ts"

export const root = Command.make("canaryroll").pipe(
  Command.withSharedFlags({
    apiUrl: Flag.String("api-url").pipe(
      Flag.withDescription("The CanaryRoll server's URL (env CANARYROLL_API_URL)"),
      Flag.withFallbackConfig(Config.String("CANARYROLL_API_URL")),
      Flag.optional
    ),
    token: Flag.Redacted("token").pipe(
      Flag.withDescription("An API token: a team token crt_… or a user token cru_… (env CANARYROLL_TOKEN)"),
      Flag.withFallbackConfig(Config.Redacted("CANARYROLL_TOKEN")),
      Flag.optional
    ),
    team: Flag.String("team").pipe(
      Flag.withDescription("The team's id or slug (env CANARYROLL_TEAM)"),
      Flag.withFallbackConfig(Config.String("CANARYROLL_TEAM")),
      Flag.optional
    ),
    json: Flag.Boolean("json").pipe(
      Flag.withDescription("Print the server's JSON instead of text (for scripts)"),
      Flag.withDefault(false)
    )
  }),
  Command.withDescription("Safe, automatic gradual deployments for Cloudflare Workers")
)

const required = <A>(value: Option.Option<A>, flag: string, variable: string, hint: string) =>
  Option.match(value, {
    onSome: Effect.succeed,
    onNone: () =>
      Effect.fail(new CommandFailed({ exitCode: ExitCode.usage, message: `Missing ${flag} (or ${variable}): ${hint}` }))
  })

/** The API client for the shared flags; fails with a usage error when a setting is missing. */
export const connect = Effect.gen(function*() {
  const flags = yield* root
  const apiUrl = yield* required(flags.apiUrl, "--api-url", "CANARYROLL_API_URL", "the URL of your CanaryRoll server, e.g. http://localhost:8787")
  const token = yield* required(
    flags.token,
    "--token",
    "CANARYROLL_TOKEN",
    "a team token (crt_…) from the team's settings; `canaryroll serve` prints one in sandbox mode"
  )
  const team = yield* required(flags.team, "--team", "CANARYROLL_TEAM", "the team's slug or id")
  if (Redacted.value(token).trim() === "") {
    return yield* new CommandFailed({ exitCode: ExitCode.usage, message: "The token is empty: set --token or CANARYROLL_TOKEN" })
  }
  return yield* CanaryRollApi.make({ apiUrl, token, team }).pipe(Effect.provide(FetchHttpClient.layer))
})

/** Whether to print JSON. */
export const wantsJson = Effect.map(root, (flags) => flags.json)
