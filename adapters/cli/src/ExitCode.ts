/**
 * The `canaryroll` command's exit codes (docs/cli.md lists them), so a script can tell a release
 * that was rolled back from one that failed, timed out, or never ran because of bad usage or
 * credentials. A release's final status maps to a code; so does every error, and the message a
 * person sees says what to do next.
 *
 * @since 0.1.0
 */
import { Data } from "effect"
import type { Schemas } from "@canaryroll/api"
import type * as CanaryRollApi from "./CanaryRollApi.ts"

export const ExitCode = {
  /** Done: the command did what it was asked; a waited-for release completed. */
  success: 0,
  /** The server refused the request, or could not be reached. */
  error: 1,
  /** Wrong arguments, or a required setting (URL, token, team) is missing. */
  usage: 2,
  /** The release was rolled back. */
  rolledBack: 3,
  /** The release failed (Cloudflare refused a traffic change it cannot recover from). */
  failed: 4,
  /** The release was cancelled. */
  cancelled: 5,
  /** `wait` gave up before the release finished (it carries on). */
  timeout: 6,
  /** The token is missing, invalid, or its role is too small (401/403). */
  auth: 7,
  /** `wait`: the release is paused (by a person, a failed check or a drift) and waits for someone. */
  paused: 8
} as const
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode]

/** The code for a release that finished (or is still running: success, nothing went wrong yet). */
export const ofStatus = (status: Schemas.Status): ExitCode => {
  switch (status) {
    case "rolled_back":
      return ExitCode.rolledBack
    case "failed":
      return ExitCode.failed
    case "cancelled":
      return ExitCode.cancelled
    case "pending":
    case "in_progress":
    case "paused":
    case "completed":
      return ExitCode.success
  }
}

export const ofApiError = (error: CanaryRollApi.ApiError): ExitCode =>
  error._tag === "ApiRefused" && (error.status === 401 || error.status === 403) ? ExitCode.auth : ExitCode.error

/** The server's message, and what to do about it. */
export const explain = (error: CanaryRollApi.ApiError): string => {
  if (error._tag === "ServerUnreachable") {
    return `Could not reach the CanaryRoll server at ${error.url}: ${error.message}\n` +
      `Check --api-url (or CANARYROLL_API_URL) and that the server is running (\`canaryroll serve\`).`
  }
  const said = `${error.message} (${error.status} ${error.code})`
  switch (error.status) {
    case 401:
      return `${said}\nThe token was not accepted. Create a team token (crt_…) in the team's settings, ` +
        `or with \`canaryroll tokens create\` as an admin, and pass it with --token or CANARYROLL_TOKEN.`
    case 403:
      // The server's message names the role the endpoint needs.
      return `${said}\nAsk a team admin for that role, or use a token that has it.`
    case 404:
      return `${said}\nCheck the id and --team (or CANARYROLL_TEAM): ids belong to one team.`
    case 409:
      return `${said}\nSee the release's state with \`canaryroll release status <id>\`.`
    case 502:
    case 503:
      return `${said}\nCloudflare or the database is not available right now; try again shortly.`
    default:
      return said
  }
}

/** A command ended with a non-zero code; `message` (if any) goes to stderr. */
export class CommandFailed extends Data.TaggedError("CommandFailed")<{
  readonly exitCode: ExitCode
  readonly message: string
}> {}
