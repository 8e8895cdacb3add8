/**
 * The dashboard as a Node runtime sees it: where its built files are, which paths are its client
 * routes, and `ensureBuilt`, which builds it when the build is missing or older than its sources.
 * A fresh clone needs no build command: `pnpm start` (through the server) and the dashboard's
 * tests call `ensureBuilt`, and a build needs nothing from the network.
 *
 * @since 0.2.0
 */
import { spawn } from "node:child_process"
import * as fs from "node:fs/promises"
import { createRequire } from "node:module"
import * as path from "node:path"
import { fileURLToPath } from "node:url"

export { clientPathPrefixes, clientPaths, isClientPath } from "../src/routing/ClientPaths.ts"

/** The package's folder. */
export const packageDirectory = fileURLToPath(new URL("..", import.meta.url))

/** Where `vite build` writes: `index.html` and hashed files under `static/`. */
export const distDirectory = path.join(packageDirectory, "dist")

/** The inputs of a build: a newer one than the built `index.html` makes the build stale. */
const sources = ["src", "index.html", "vite.config.ts", "package.json"]

const newestChange = async (entry: string): Promise<number> => {
  const stat = await fs.stat(entry).catch(() => undefined)
  if (stat === undefined) return 0
  if (!stat.isDirectory()) return stat.mtimeMs
  const children = await fs.readdir(entry)
  const times = await Promise.all(children.map((child) => newestChange(path.join(entry, child))))
  return Math.max(stat.mtimeMs, ...times)
}

/** Whether `dist/` is missing or older than the sources. */
export const isStale = async (): Promise<boolean> => {
  const built = await fs.stat(path.join(distDirectory, "index.html")).catch(() => undefined)
  if (built === undefined) return true
  const changed = Math.max(...await Promise.all(sources.map((source) => newestChange(path.join(packageDirectory, source)))))
  return changed > built.mtimeMs
}

const run = (command: string, args: ReadonlyArray<string>, cwd: string) =>
  new Promise<void>((resolve, reject) => {
    // A production build whatever the caller's NODE_ENV (vitest sets `test`, which would make
    // Vite bundle React's development build, three times the size).
    const child = spawn(command, args, { cwd, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, NODE_ENV: "production" } })
    let output = ""
    child.stdout.on("data", (chunk) => (output += chunk))
    child.stderr.on("data", (chunk) => (output += chunk))
    child.once("error", reject)
    child.once("exit", (code) => code === 0 ? resolve() : reject(new Error(`vite build failed (${code}):\n${output}`)))
  })

/**
 * Builds the dashboard into `dist/` when it is missing or stale; returns whether it built.
 * Several processes may start at once (tests, a cluster): each builds into a folder of its own
 * and moves it into place, so none serves a half-written build.
 */
export const ensureBuilt = async (): Promise<boolean> => {
  if (!(await isStale())) return false
  const vite = path.join(path.dirname(createRequire(path.join(packageDirectory, "package.json")).resolve("vite/package.json")), "bin", "vite.js")
  const outDir = path.join(packageDirectory, `.build-${process.pid}-${Date.now()}`)
  try {
    await run(process.execPath, [vite, "build", "--mode", "production", "--logLevel", "warn", "--outDir", outDir], packageDirectory)
    // Another process may have moved a build of the same sources into place meanwhile: keep it.
    if (!(await isStale())) return true
    await fs.rm(distDirectory, { recursive: true, force: true })
    await fs.rename(outDir, distDirectory).catch(async (error: unknown) => {
      // Another process moved its build into place first: that one is as good.
      if (await isStale()) throw error
    })
    return true
  } finally {
    await fs.rm(outDir, { recursive: true, force: true })
  }
}
