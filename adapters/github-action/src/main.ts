/**
 * The action's entry point (bundled to dist/index.js): runs the action on the process's
 * environment and exits with its code.
 *
 * @since 0.1.0
 */
import { Effect } from "effect"
import * as Action from "./Action.ts"

Effect.runPromise(Action.run(process.env)).then(
  (code) => {
    process.exitCode = code
  },
  (defect: unknown) => {
    process.stdout.write(`::error::Unexpected failure: ${defect instanceof Error ? defect.stack ?? defect.message : String(defect)}\n`)
    process.exitCode = 1
  }
)
