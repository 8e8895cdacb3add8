/**
 * A CanaryRoll server as someone runs it against a real Cloudflare account, for the process
 * tests of the first hour: `canaryroll sim --seed` (the Cloudflare simulator as a process: an
 * account, its token, the Workers `storefront` and `checkout-api` with traffic) and `canaryroll
 * serve` with no sandbox, pointed at the simulator by `CLOUDFLARE_API_BASE_URL`, on a test
 * database. Nothing is seeded in CanaryRoll: no person, no team.
 */
import { type ChildProcess, spawn } from "node:child_process"
import { randomBytes } from "node:crypto"
import * as fs from "node:fs/promises"
import * as os from "node:os"
import * as path from "node:path"
import { createInterface } from "node:readline"
import { cliMain } from "./SandboxServer.ts"

export interface Simulated {
  readonly baseUrl: string
  readonly controlUrl: string
  readonly accountId: string
  readonly apiToken: string
  readonly scripts: ReadonlyArray<{ readonly name: string; readonly activeVersionId: string }>
}

export interface LocalServer {
  readonly url: string
  readonly simulator: Simulated
  /** A call to the simulator's control API (`/__sim`). */
  readonly control: (method: string, route: string, body?: unknown) => Promise<any>
  readonly output: () => string
  readonly stop: () => Promise<void>
}

/** Spawns `canaryroll <args>` from the checkout, resolving with the first line `ready` accepts. */
const spawnUntil = (args: ReadonlyArray<string>, env: NodeJS.ProcessEnv, ready: (line: string) => string | undefined) => {
  const child = spawn(process.execPath, [cliMain, ...args], { env, stdio: ["ignore", "pipe", "pipe"] })
  let output = ""
  const first = new Promise<string>((resolve, reject) => {
    const onLine = (line: string) => {
      output += `${line}\n`
      const found = ready(line)
      if (found !== undefined) resolve(found)
    }
    createInterface({ input: child.stdout! }).on("line", onLine)
    createInterface({ input: child.stderr! }).on("line", onLine)
    child.once("exit", (code) => reject(new Error(`canaryroll ${args.join(" ")} exited (${code}) before it was ready:\n${output}`)))
  })
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()))
  const stop = async (process: ChildProcess = child) => {
    if (process.exitCode === null && process.signalCode === null) process.kill("SIGTERM")
    await exited
  }
  return { child, first, output: () => output, stop }
}

export const start = async (databaseUrl: string): Promise<LocalServer> => {
  const dataDirectory = await fs.mkdtemp(path.join(os.tmpdir(), "canaryroll-local-"))
  // Analytics after 5 s (Cloudflare: about a minute), so that a first release takes a minute or two.
  const sim = spawnUntil(["sim", "--seed", "--analytics-delay", "5"], process.env, (line) => line.startsWith("{") ? line : undefined)
  let server: ReturnType<typeof spawnUntil> | undefined
  const stop = async () => {
    await server?.stop()
    await sim.stop()
    await fs.rm(dataDirectory, { recursive: true, force: true })
  }
  try {
    const simulator = JSON.parse(await sim.first) as Simulated
    server = spawnUntil(["serve"], {
      ...process.env,
      DATABASE_URL: databaseUrl,
      CANARYROLL_SECRET_KEY: randomBytes(32).toString("hex"),
      CANARYROLL_DATA_DIR: dataDirectory,
      CANARYROLL_SANDBOX: "false",
      CLOUDFLARE_API_BASE_URL: simulator.baseUrl,
      // The test's webhook receiver is on loopback.
      CANARYROLL_ALLOW_PRIVATE_WEBHOOKS: "true",
      PORT: "0",
      CANARYROLL_LOG_LEVEL: "info"
    }, (line) => /public URL (\S+)\)/.exec(line)?.[1])
    const url = await server.first
    const control = async (method: string, route: string, body?: unknown) => {
      const response = await fetch(`${simulator.controlUrl}${route}`, {
        method,
        headers: { "content-type": "application/json" },
        ...(body === undefined ? {} : { body: JSON.stringify(body) })
      })
      const answer = await response.json()
      if (!response.ok) throw new Error(`simulator ${method} ${route}: ${JSON.stringify(answer)}`)
      return answer
    }
    const running = server
    return { url, simulator, control, output: () => `${sim.output()}${running.output()}`, stop }
  } catch (error) {
    await stop()
    throw error
  }
}
