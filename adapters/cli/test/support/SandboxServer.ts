/**
 * A sandbox server for process tests, started as people start it: `canaryroll serve` (the CLI's
 * entry point, which runs the server's own program) with `CANARYROLL_SANDBOX=true` on a test
 * database. Ready once it has written `sandbox.json` (the demo team, its deploy token, two
 * Workers with good and bad versions); `stop` shuts it down and removes its data directory.
 * The GitHub Action's process tests share it (`@canaryroll/cli/test-sandbox`).
 */
import type { Sandbox } from "@canaryroll/server"
import { type ChildProcess, execFile, spawn } from "node:child_process"
import { randomBytes } from "node:crypto"
import * as fs from "node:fs/promises"
import * as os from "node:os"
import * as path from "node:path"
import { createInterface } from "node:readline"
import { fileURLToPath } from "node:url"

export const cliMain = fileURLToPath(new URL("../../src/main.ts", import.meta.url))

/** What the server's sandbox writes to `sandbox.json` (see `Sandbox.SandboxDetails`). */
export type SandboxDetails = Sandbox.SandboxDetails

export interface SandboxServer {
  readonly details: SandboxDetails
  readonly child: ChildProcess
  readonly output: () => string
  readonly stop: () => Promise<void>
}

export const start = async (databaseUrl: string): Promise<SandboxServer> => {
  const dataDirectory = await fs.mkdtemp(path.join(os.tmpdir(), "canaryroll-sandbox-"))
  const child = spawn(process.execPath, [cliMain, "serve"], {
    env: {
      ...process.env,
      DATABASE_URL: databaseUrl,
      CANARYROLL_SECRET_KEY: randomBytes(32).toString("hex"),
      CANARYROLL_DATA_DIR: dataDirectory,
      CANARYROLL_SANDBOX: "true",
      PORT: "0",
      CANARYROLL_LOG_LEVEL: "info"
    },
    stdio: ["ignore", "pipe", "pipe"]
  })
  let output = ""
  const ready = new Promise<void>((resolve, reject) => {
    const onLine = (line: string) => {
      output += `${line}\n`
      if (line.includes("These details are in")) resolve()
    }
    createInterface({ input: child.stdout! }).on("line", onLine)
    createInterface({ input: child.stderr! }).on("line", onLine)
    child.once("exit", (code) => reject(new Error(`canaryroll serve exited (${code}) before it was ready:\n${output}`)))
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
  const details = JSON.parse(await fs.readFile(path.join(dataDirectory, "sandbox.json"), "utf8")) as SandboxDetails
  return { details, child, output: () => output, stop }
}

export interface Ran {
  readonly code: number
  readonly stdout: string
  readonly stderr: string
}

/** `canaryroll <args>` as a process; never throws on a non-zero exit. */
export const runCli = (args: ReadonlyArray<string>, env: Readonly<Record<string, string>>): Promise<Ran> =>
  new Promise((resolve) => {
    execFile(process.execPath, [cliMain, ...args], { env: { PATH: process.env.PATH ?? "", ...env } }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === "number" ? error.code : 1
      resolve({ code, stdout, stderr })
    })
  })
