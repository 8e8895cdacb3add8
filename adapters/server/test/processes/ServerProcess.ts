/**
 * A server process as `pnpm start` runs it (`src/main.ts`), spawned with its settings in the
 * environment. It says when it listens (and where), and when its scheduler stopped (how many
 * release steps it claimed); the output is kept for failure messages. Another command (the
 * container image's, on the bundle) can be given instead of `src/main.ts`.
 */
import { type ChildProcess, spawn } from "node:child_process"
import { createInterface } from "node:readline"
import { fileURLToPath } from "node:url"

const mainScript = fileURLToPath(new URL("../../src/main.ts", import.meta.url))

export interface ServerProcess {
  readonly child: ChildProcess
  /** The base URL, once the server listens. */
  readonly listening: Promise<string>
  /** Resolves once the output contains `text`. */
  readonly said: (text: string) => Promise<void>
  readonly exited: Promise<{ readonly code: number | null; readonly signal: NodeJS.Signals | null; readonly claimed?: number }>
  readonly output: () => string
  /** Standard output alone, line by line (JSON logs go there). */
  readonly stdoutLines: () => ReadonlyArray<string>
  readonly stop: () => Promise<{ readonly code: number | null; readonly claimed?: number }>
}

export const spawnServer = (
  environment: Readonly<Record<string, string>>,
  command: { readonly args: ReadonlyArray<string>; readonly cwd?: string } = { args: [mainScript] }
): ServerProcess => {
  const child = spawn(process.execPath, [...command.args], {
    env: { ...process.env, ...environment },
    stdio: ["ignore", "pipe", "pipe"],
    ...(command.cwd === undefined ? {} : { cwd: command.cwd })
  })
  let output = ""
  const stdoutLines: Array<string> = []
  let claimed: number | undefined
  const waiters: Array<{ readonly text: string; readonly resolve: () => void }> = []
  let markListening: (url: string) => void = () => {}
  const listening = new Promise<string>((resolve) => (markListening = resolve))
  const onLine = (line: string) => {
    output += `${line}\n`
    const listen = /is listening on (\S+)/.exec(line)
    if (listen !== null) markListening(listen[1]!)
    const stopped = /stopped after claiming (\d+) release steps/.exec(line)
    if (stopped !== null) claimed = Number(stopped[1])
    for (const waiter of [...waiters]) {
      if (output.includes(waiter.text)) {
        waiters.splice(waiters.indexOf(waiter), 1)
        waiter.resolve()
      }
    }
  }
  createInterface({ input: child.stdout! }).on("line", (line) => {
    stdoutLines.push(line)
    onLine(line)
  })
  createInterface({ input: child.stderr! }).on("line", onLine)
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; claimed?: number }>((resolve) =>
    child.on("exit", (code, signal) => resolve({ code, signal, ...(claimed === undefined ? {} : { claimed }) }))
  )
  exited.then(() => markListening(""))
  return {
    child,
    listening,
    said: (text) =>
      output.includes(text) ? Promise.resolve() : new Promise<void>((resolve) => waiters.push({ text, resolve })),
    exited,
    output: () => output,
    stdoutLines: () => stdoutLines,
    stop: async () => {
      if (child.exitCode === null) child.kill("SIGTERM")
      return exited
    }
  }
}
