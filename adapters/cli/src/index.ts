/**
 * `@canaryroll/cli`: the pieces of the `canaryroll` command that the GitHub Action shares with it —
 * the API client, release progress, the wait loop and exit codes. The command tree itself is
 * `./Cli.ts` (run by the `canaryroll` bin); it is not exported here, so that importing this keeps
 * the server out.
 *
 * @since 0.1.0
 */
export * as CanaryRollApi from "./CanaryRollApi.ts"
export * as ExitCode from "./ExitCode.ts"
export * as ReleaseProgress from "./ReleaseProgress.ts"
export * as ReleaseWatch from "./ReleaseWatch.ts"
