/**
 * What a step hands back to its workflow: outputs appended to the `GITHUB_OUTPUT` file and the job
 * summary appended to `GITHUB_STEP_SUMMARY`, in the runner's file formats (multi-line-safe
 * `name<<delimiter` blocks, as @actions/core writes them), plus workflow commands on stdout for
 * errors and log groups. Without the files (run by hand) outputs are printed instead.
 *
 * @since 0.1.0
 */
import { Effect } from "effect"
import { randomUUID } from "node:crypto"
import * as fs from "node:fs"

export const setOutput = (env: Readonly<Record<string, string | undefined>>, name: string, value: string) =>
  Effect.sync(() => {
    const file = env.GITHUB_OUTPUT
    if (file === undefined || file === "") {
      process.stdout.write(`${name}=${value}\n`)
      return
    }
    const delimiter = `ghadelimiter_${randomUUID()}`
    fs.appendFileSync(file, `${name}<<${delimiter}\n${value}\n${delimiter}\n`)
  })

/** Reads an outputs file back (for tests, and to check our own writing). */
export const parseOutputs = (text: string): Record<string, string> => {
  const outputs: Record<string, string> = {}
  const lines = text.split("\n")
  for (let index = 0; index < lines.length; index++) {
    const line = lines[index]!
    const block = /^([^<=]+)<<(.+)$/.exec(line)
    if (block !== null) {
      const end = lines.indexOf(block[2]!, index + 1)
      outputs[block[1]!] = lines.slice(index + 1, end).join("\n")
      index = end
    } else if (line.includes("=")) {
      outputs[line.slice(0, line.indexOf("="))] = line.slice(line.indexOf("=") + 1)
    }
  }
  return outputs
}

export const appendSummary = (env: Readonly<Record<string, string | undefined>>, markdown: string) =>
  Effect.sync(() => {
    const file = env.GITHUB_STEP_SUMMARY
    if (file !== undefined && file !== "") fs.appendFileSync(file, `${markdown}\n`)
  })

/** `%`, CR and LF escaped as the runner's workflow commands need. */
const escape = (text: string) => text.replace(/%/g, "%25").replace(/\r/g, "%0D").replace(/\n/g, "%0A")

/**
 * Asks the runner to hide a value in the log from here on (`core.setSecret`). The runner masks
 * `secrets.*` it passes in, but not a value that reached the step by another way (a variable, a
 * previous step's output, a transformed secret), so the public action masks its token and the
 * Cloudflare Access secret itself, and so do we.
 */
export const mask = (value: string) => Effect.sync(() => process.stdout.write(`::add-mask::${escape(value)}\n`))

/** A warning annotation on the run; the step carries on. */
export const warning = (message: string) => Effect.sync(() => process.stdout.write(`::warning::${escape(message)}\n`))

/** An error annotation on the run; the step fails by its exit code. */
export const error = (message: string) => Effect.sync(() => process.stdout.write(`::error::${escape(message)}\n`))

export const log = (message: string) => Effect.sync(() => process.stdout.write(`${message}\n`))
