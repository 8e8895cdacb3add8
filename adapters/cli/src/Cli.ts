/**
 * The whole `canaryroll` command tree, run over an argument list to an exit code (ExitCode):
 * parse errors are usage errors; the server's refusals are explained (what went wrong, what to do
 * next) on stderr and mapped to their code.
 *
 * @since 0.1.0
 */
import { Effect } from "effect"
import { type CliError, Command } from "effect/cli"
import * as AccountCommands from "./AccountCommands.ts"
import * as CanaryRollApi from "./CanaryRollApi.ts"
import { ExitCode } from "./ExitCode.ts"
import * as ExitCodes from "./ExitCode.ts"
import * as LocalCommands from "./LocalCommands.ts"
import * as Output from "./Output.ts"
import * as ReleaseCommands from "./ReleaseCommands.ts"
import { root } from "./RootCommand.ts"
import * as SetupCommands from "./SetupCommands.ts"
import * as TeamCommands from "./TeamCommands.ts"

export const version = "0.1.0"

export const command = root.pipe(
  Command.withSubcommands([
    AccountCommands.signup,
    AccountCommands.login,
    AccountCommands.logout,
    AccountCommands.team,
    AccountCommands.members,
    AccountCommands.invite,
    SetupCommands.cloudflare,
    ReleaseCommands.release,
    TeamCommands.plans,
    TeamCommands.workers,
    SetupCommands.channels,
    TeamCommands.tokens,
    TeamCommands.audit,
    LocalCommands.serve,
    LocalCommands.migrate,
    LocalCommands.admin,
    LocalCommands.sim
  ])
)

/** Runs `canaryroll <args>`; never fails: every outcome is an exit code. */
export const run = (args: ReadonlyArray<string>) =>
  Command.runWith(command, { version })(args).pipe(
    Effect.as<ExitCode>(ExitCode.success),
    Effect.catchTags({
      CommandFailed: (failure: ExitCodes.CommandFailed) => Effect.as(failure.message === "" ? Effect.void : Output.note(failure.message), failure.exitCode),
      ApiRefused: (error: CanaryRollApi.ApiRefused) => Effect.as(Output.note(ExitCodes.explain(error)), ExitCodes.ofApiError(error)),
      ServerUnreachable: (error: CanaryRollApi.ServerUnreachable) =>
        Effect.as(Output.note(ExitCodes.explain(error)), ExitCodes.ofApiError(error))
    }),
    // What is left are the parser's errors, already shown with the help text; asking for help
    // (a ShowHelp without errors) is not one.
    Effect.catch((error: CliError.CliError) =>
      Effect.succeed<ExitCode>(error._tag === "ShowHelp" && error.errors.length === 0 ? ExitCode.success : ExitCode.usage)
    )
  )
