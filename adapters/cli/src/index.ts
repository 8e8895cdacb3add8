/**
 * `@canaryroll/cli`: the `canaryroll` command, and the pieces the GitHub Action shares with it —
 * the API client, release progress and the wait loop.
 *
 * @since 0.1.0
 */
export * as ApiShapes from "./ApiShapes.ts"
export * as CanaryRollApi from "./CanaryRollApi.ts"
export * as Cli from "./Cli.ts"
export * as ExitCode from "./ExitCode.ts"
export * as ReleaseProgress from "./ReleaseProgress.ts"
export * as ReleaseWatch from "./ReleaseWatch.ts"
