/**
 * `upload: true`: runs `wrangler versions upload` in the working directory and reads the version
 * id from wrangler's machine-readable output (the ND-JSON file named by
 * `WRANGLER_OUTPUT_FILE_PATH`, its `version-upload` entry), never from the text it prints. The
 * step's environment goes through, so `CLOUDFLARE_API_TOKEN`, `CLOUDFLARE_ACCOUNT_ID` (and
 * `CLOUDFLARE_API_BASE_URL`, `WRANGLER_*`, `PATH`, `HOME`) work as they do for wrangler itself,
 * except the action's own inputs (`INPUT_*`, see `childEnvironment`).
 *
 * wrangler is the project's own when it has one (`node_modules/.bin/wrangler` in the working
 * directory or above), else the one on PATH, else `npx --yes wrangler`.
 *
 * @since 0.1.0
 */
import { Data, Effect } from "effect"
import { spawn } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"

export class UploadFailed extends Data.TaggedError("UploadFailed")<{ readonly message: string }> {}

export interface Uploaded {
  readonly versionId: string
  readonly workerName: string | undefined
  readonly previewUrl: string | undefined
}

export interface Options {
  readonly workingDirectory: string
  readonly message: string | undefined
  readonly tag: string | undefined
  readonly env: Readonly<Record<string, string | undefined>>
}

const isExecutable = (file: string) => {
  try {
    fs.accessSync(file, fs.constants.X_OK)
    return true
  } catch {
    return false
  }
}

/** The command that runs wrangler, first arguments included. */
export const locate = (workingDirectory: string, env: Readonly<Record<string, string | undefined>>): ReadonlyArray<string> => {
  for (let directory = path.resolve(workingDirectory);; directory = path.dirname(directory)) {
    const local = path.join(directory, "node_modules", ".bin", "wrangler")
    if (isExecutable(local)) return [local]
    if (path.dirname(directory) === directory) break
  }
  for (const directory of (env.PATH ?? "").split(path.delimiter)) {
    if (directory !== "" && isExecutable(path.join(directory, "wrangler"))) return [path.join(directory, "wrangler")]
  }
  return ["npx", "--yes", "wrangler"]
}

/**
 * wrangler's environment: the step's without any `INPUT_*` variable. The runner hands every input
 * to the action as one, `INPUT_API-TOKEN` (the CanaryRoll token) and `INPUT_CF-ACCESS-CLIENT-SECRET`
 * among them, and wrangler runs the project's build command, its bundler plugins and maybe npx
 * packages: none of them has any business with those. wrangler itself reads none of them.
 */
export const childEnvironment = (
  env: Readonly<Record<string, string | undefined>>,
  outputFile: string
): Record<string, string> => {
  const kept: Record<string, string> = {}
  for (const [name, value] of Object.entries(env)) {
    // Case-insensitive: Windows runners' variable names are.
    if (value !== undefined && !/^INPUT_/i.test(name)) kept[name] = value
  }
  // WRANGLER_OUTPUT_FILE_PATH wins over WRANGLER_OUTPUT_FILE_DIRECTORY in wrangler.
  return { ...kept, WRANGLER_OUTPUT_FILE_PATH: outputFile }
}

/** The `version-upload` entry of wrangler's ND-JSON output. */
export const readVersionUpload = (ndjson: string): Uploaded | undefined => {
  for (const line of ndjson.split("\n").reverse()) {
    if (line.trim() === "") continue
    let entry: unknown
    try {
      entry = JSON.parse(line)
    } catch {
      continue
    }
    if (typeof entry !== "object" || entry === null) continue
    const fields = entry as Record<string, unknown>
    if (fields.type === "version-upload" && typeof fields.version_id === "string" && fields.version_id !== "") {
      return {
        versionId: fields.version_id,
        workerName: typeof fields.worker_name === "string" ? fields.worker_name : undefined,
        previewUrl: typeof fields.preview_url === "string" ? fields.preview_url : undefined
      }
    }
  }
  return undefined
}

/** wrangler's own failure message, from its `command-failed` entry, if it wrote one. */
const commandFailure = (ndjson: string) =>
  ndjson.split("\n").flatMap((line) => {
    try {
      const entry = JSON.parse(line) as Record<string, unknown>
      return entry.type === "command-failed" && typeof entry.message === "string" ? [entry.message] : []
    } catch {
      return []
    }
  }).at(-1)

export const upload = (options: Options) =>
  Effect.gen(function*() {
    const directory = path.resolve(options.workingDirectory)
    if (!fs.existsSync(directory)) {
      return yield* new UploadFailed({ message: `working-directory ${options.workingDirectory} does not exist` })
    }
    const outputDirectory = yield* Effect.acquireRelease(
      Effect.sync(() => fs.mkdtempSync(path.join(os.tmpdir(), "canaryroll-wrangler-"))),
      (created) => Effect.sync(() => fs.rmSync(created, { recursive: true, force: true }))
    )
    const outputFile = path.join(outputDirectory, "output.ndjson")
    const [command, ...prefix] = locate(directory, options.env)
    const args = [
      ...prefix,
      "versions",
      "upload",
      ...(options.message === undefined ? [] : ["--message", options.message]),
      ...(options.tag === undefined ? [] : ["--tag", options.tag])
    ]
    process.stdout.write(`::group::wrangler ${args.slice(prefix.length).join(" ")}\n`)
    const exitCode = yield* Effect.callback<number, UploadFailed>((resume) => {
      const child = spawn(command!, args, {
        cwd: directory,
        // wrangler's own output goes to the step's log as it comes.
        stdio: ["ignore", "inherit", "inherit"],
        env: childEnvironment(options.env, outputFile)
      })
      child.once("error", (error) => resume(Effect.fail(new UploadFailed({ message: `could not run wrangler: ${error.message}` }))))
      child.once("exit", (code, signal) => resume(Effect.succeed(code ?? (signal === null ? 1 : 128))))
      return Effect.sync(() => child.kill("SIGTERM"))
    }).pipe(Effect.ensuring(Effect.sync(() => process.stdout.write("::endgroup::\n"))))
    const output = fs.existsSync(outputFile) ? fs.readFileSync(outputFile, "utf8") : ""
    if (exitCode !== 0) {
      const reason = commandFailure(output)
      return yield* new UploadFailed({
        message: `wrangler versions upload exited with ${exitCode}${reason === undefined ? "" : `: ${reason}`}`
      })
    }
    const uploaded = readVersionUpload(output)
    if (uploaded === undefined) {
      return yield* new UploadFailed({
        message: "wrangler versions upload succeeded but wrote no version-upload entry to its output file (wrangler 3.80 or newer is needed)"
      })
    }
    return uploaded
  }).pipe(Effect.scoped)
