/**
 * The `canaryroll` command itself and the flags every subcommand shares: where the server is
 * (`--api-url`), who calls (`--token`), which team (`--team`), each with an environment variable
 * to fall back on, then the session `canaryroll login` saved, and `--json`. Subcommands read them
 * with `yield* root`; `connect` turns them into an API client, or a usage error naming the
 * missing setting.
 *
 * @since 0.1.0
 */
import { Config, Effect, Option, Redacted } from "effect"
import { Command, Flag } from "effect/cli"
import { FetchHttpClient } from "effect/http"
import * as CanaryRollApi from "./CanaryRollApi.ts"
import { CommandFailed, ExitCode } from "./ExitCode.ts"
import * as SavedSession from "./SavedSession.ts"

export const root = Command.make("canaryroll").pipe(
  Command.withSharedFlags({
    apiUrl: Flag.String("api-url").pipe(
      Flag.withDescription("The CanaryRoll server's URL, with or without /api (env CANARYROLL_API_URL)"),
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

const missing = (flag: string, variable: string, hint: string) =>
  new CommandFailed({ exitCode: ExitCode.usage, message: `Missing ${flag} (or ${variable}): ${hint}` })

/**
 * Who calls which server: the flags, else the environment, else the session `canaryroll login`
 * saved (SavedSession), which is used only for the server it was made on: a token is never sent
 * to a server it does not belong to.
 */
/** The server: the flag or the environment, else the saved session's. */
const serverUrl = (flags: Option.Option<string>, saved: Option.Option<SavedSession.SavedSession>) =>
  Option.isSome(flags)
    ? Effect.succeed(flags.value)
    : Option.isSome(saved)
    ? Effect.succeed(saved.value.apiUrl)
    : Effect.fail(missing("--api-url", "CANARYROLL_API_URL", "the URL of your CanaryRoll server, e.g. http://localhost:8787"))

export const credentials = Effect.gen(function*() {
  const flags = yield* root
  const saved = yield* SavedSession.read
  const apiUrl = yield* serverUrl(flags.apiUrl, saved)
  const session = Option.filter(saved, (saved) => CanaryRollApi.baseUrlOf(saved.apiUrl) === CanaryRollApi.baseUrlOf(apiUrl))
  if (Option.isSome(flags.token) && Redacted.value(flags.token.value).trim() === "") {
    return yield* new CommandFailed({ exitCode: ExitCode.usage, message: "The token is empty: set --token or CANARYROLL_TOKEN" })
  }
  return {
    apiUrl,
    token: Option.getOrUndefined(flags.token),
    session: Option.isSome(flags.token) ? undefined : Option.getOrUndefined(Option.map(session, (saved) => saved.session)),
    team: Option.orElse(flags.team, () => Option.flatMap(session, (saved) => Option.fromNullishOr(saved.team))),
    saved: session
  }
})

/** A client over `fetch` for a connection. */
export const client = (connection: CanaryRollApi.Connection) => CanaryRollApi.make(connection).pipe(Effect.provide(FetchHttpClient.layer))

/** An API client for the caller's own account (no team needed): a token or a saved session. */
export const connectAccount = Effect.gen(function*() {
  const { apiUrl, session, token } = yield* credentials
  if (token === undefined && session === undefined) {
    return yield* missing(
      "--token",
      "CANARYROLL_TOKEN",
      "log in with `canaryroll login --api-url <url> --email <you>`, or pass an API token (crt_… or cru_…)"
    )
  }
  return yield* client({ apiUrl, token, session, team: "" })
})

/** The API client for the shared flags; fails with a usage error when a setting is missing. */
export const connect = Effect.gen(function*() {
  const { apiUrl, session, team, token } = yield* credentials
  if (token === undefined && session === undefined) {
    return yield* missing(
      "--token",
      "CANARYROLL_TOKEN",
      "a team token (crt_…) from the team's settings (`canaryroll serve` prints one in sandbox mode), or log in with `canaryroll login`"
    )
  }
  if (Option.isNone(team)) {
    return yield* missing("--team", "CANARYROLL_TEAM", "the team's slug or id (`canaryroll team use <slug>` keeps one for your session)")
  }
  return yield* client({ apiUrl, token, session, team: team.value })
})

/** A client with no credentials at all: signing up and logging in. */
export const connectAnonymous = Effect.gen(function*() {
  const flags = yield* root
  return yield* client({ apiUrl: yield* serverUrl(flags.apiUrl, yield* SavedSession.read), team: "" })
})

/** Whether to print JSON. */
export const wantsJson = Effect.map(root, (flags) => flags.json)
