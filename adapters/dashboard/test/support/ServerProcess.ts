/**
 * The server as `pnpm start` runs it (its `main.ts` as a process), in sandbox mode on a test
 * database: the Cloudflare simulator in-process and the demo team (an admin, a deploy token, two
 * Workers with a good and a bad version each). It serves the dashboard's build. Ready once it
 * has written `sandbox.json`; `stop` ends it (SIGTERM) and removes its data directory.
 *
 * The server's entry is found by its path in the workspace, not imported: the server depends on
 * this package (it serves its build), so this package cannot depend on the server.
 */
import { type ChildProcess, spawn } from "node:child_process"
import { randomBytes } from "node:crypto"
import * as fs from "node:fs/promises"
import * as os from "node:os"
import * as path from "node:path"
import { createInterface } from "node:readline"
import { fileURLToPath } from "node:url"

export const serverMain = fileURLToPath(new URL("../../../server/src/main.ts", import.meta.url))

/** What the sandbox writes to `sandbox.json` (the server's `Sandbox.SandboxDetails`). */
export interface SandboxDetails {
  readonly url: string
  readonly teamId: string
  readonly teamSlug: string
  readonly adminEmail: string
  readonly adminPassword: string
  readonly teamToken: string
  readonly accountId: string
  readonly workers: ReadonlyArray<{
    readonly workerId: string
    readonly scriptName: string
    readonly liveVersionId: string
    readonly goodVersionId: string
    readonly badVersionId: string
    readonly planId: string
  }>
}

export interface ServerProcess {
  readonly details: SandboxDetails
  readonly child: ChildProcess
  /** Where the process itself listens (`http://127.0.0.1:…`); `details.url` is its public URL. */
  readonly address: string
  readonly output: () => string
  readonly stop: () => Promise<void>
}

/** Another server process on the same database, not a sandbox: no demo team, ready once listening. */
export type OtherServerProcess = Omit<ServerProcess, "details">

/**
 * The sandbox server (see above). Two processes sharing a database must share
 * `CANARYROLL_SECRET_KEY` too (pass it in `env`): the stored secrets are sealed with it.
 */
export const start = async (databaseUrl: string, env: Readonly<Record<string, string>> = {}): Promise<ServerProcess> => {
  const { dataDirectory, ...server } = await spawnServer(databaseUrl, { CANARYROLL_SANDBOX: "true", ...env }, "These details are in")
  const details = JSON.parse(await fs.readFile(path.join(dataDirectory, "sandbox.json"), "utf8")) as SandboxDetails
  return { details, ...server }
}

/** A second server process on the sandbox's database (as a second `pnpm start` behind a load balancer). */
export const startAnother = async (databaseUrl: string, env: Readonly<Record<string, string>>): Promise<OtherServerProcess> => {
  const { dataDirectory: _, ...server } = await spawnServer(databaseUrl, { CANARYROLL_SANDBOX: "false", ...env }, "CanaryRoll is listening on")
  return server
}

const spawnServer = async (databaseUrl: string, env: Readonly<Record<string, string>>, readyLine: string) => {
  const dataDirectory = await fs.mkdtemp(path.join(os.tmpdir(), "canaryroll-dashboard-"))
  const child = spawn(process.execPath, [serverMain], {
    env: {
      ...process.env,
      DATABASE_URL: databaseUrl,
      CANARYROLL_SECRET_KEY: randomBytes(32).toString("hex"),
      CANARYROLL_DATA_DIR: dataDirectory,
      PORT: "0",
      CANARYROLL_LOG_LEVEL: "info",
      ...env
    },
    stdio: ["ignore", "pipe", "pipe"]
  })
  let output = ""
  let address = ""
  const ready = new Promise<void>((resolve, reject) => {
    const onLine = (line: string) => {
      output += `${line}\n`
      address ||= /is listening on (\S+)/.exec(line)?.[1] ?? ""
      if (line.includes(readyLine)) resolve()
    }
    createInterface({ input: child.stdout! }).on("line", onLine)
    createInterface({ input: child.stderr! }).on("line", onLine)
    child.once("exit", (code) => reject(new Error(`the server exited (${code}) before it was ready:\n${output}`)))
  })
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()))
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM")
    await exited
    await fs.rm(dataDirectory, { recursive: true, force: true })
  }
  try {
    await ready
  } catch (error) {
    await stop()
    throw error
  }
  return { dataDirectory, child, address, output: () => output, stop }
}
