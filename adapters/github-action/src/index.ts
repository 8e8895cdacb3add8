/**
 * `@canaryroll/github-action`: the GitHub Action's program, for tests and embedding; the runner
 * executes the bundle in dist/index.js (built from ./main.ts by scripts/build.ts).
 *
 * @since 0.1.0
 */
export * as Action from "./Action.ts"
export * as ActionInputs from "./ActionInputs.ts"
export * as JobSummary from "./JobSummary.ts"
export * as WorkflowFiles from "./WorkflowFiles.ts"
export * as WranglerUpload from "./WranglerUpload.ts"
