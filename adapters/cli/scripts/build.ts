/**
 * Builds the installable `canaryroll` command: one bundled JavaScript file for Node 20 or newer
 * (no TypeScript at run time, no dependencies to install) and the package that ships it:
 * `node scripts/build.ts [outdir]` writes `outdir/` (default `dist/package/`) with
 * `package.json` (no dependencies; `engines` node >= 20), `README.md` and `canaryroll.js`; `npm pack outdir`
 * makes the tarball (`npm publish outdir` publishes it).
 *
 * The command is a client: the server, the Postgres adapter and the database they bring are not
 * in the bundle. `serve`, `migrate` and `admin create` load `@canaryroll/server` and
 * `@canaryroll/postgres` when they run, from wherever Node finds them (a global install next to
 * this one, or a checkout), and say how to get them otherwise (ServerPackage).
 */
import * as esbuild from "esbuild"
import * as fs from "node:fs/promises"
import * as path from "node:path"
import { fileURLToPath } from "node:url"

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)))

/** What the bundle leaves out: loaded at run time by the commands that run a server (ServerPackage). */
export const serverPackages = ["@canaryroll/server", "@canaryroll/postgres"]

/** The oldest Node the installed command runs on (`engines`), and the bundle's syntax target. */
export const minimumNode = "20"

export const build = async (outdir: string) => {
  const manifest = JSON.parse(await fs.readFile(path.join(root, "package.json"), "utf8")) as {
    readonly version: string
    readonly description: string
    readonly license: string
  }
  await fs.rm(outdir, { recursive: true, force: true })
  await fs.mkdir(outdir, { recursive: true })
  const result = await esbuild.build({
    absWorkingDir: root,
    entryPoints: [path.join(root, "src", "main.ts")],
    outfile: path.join(outdir, "canaryroll.js"),
    bundle: true,
    platform: "node",
    target: `node${minimumNode}`,
    format: "esm",
    external: serverPackages.flatMap((name) => [name, `${name}/*`]),
    // Some bundled CommonJS modules call require(): give the ES module one. (The entry point's
    // `#!/usr/bin/env node` line is kept first by esbuild.)
    banner: {
      js: [
        "// The canaryroll command, bundled by adapters/cli/scripts/build.ts.",
        "import { createRequire as __canaryrollRequire } from \"node:module\"",
        "const require = __canaryrollRequire(import.meta.url)"
      ].join("\n")
    },
    legalComments: "none",
    minify: true,
    sourcemap: false,
    metafile: true,
    logLevel: "warning"
  })
  await fs.chmod(path.join(outdir, "canaryroll.js"), 0o755)
  const pkg = {
    name: "@canaryroll/cli",
    version: manifest.version,
    description: manifest.description,
    license: manifest.license,
    type: "module",
    bin: { canaryroll: "./canaryroll.js" },
    files: ["canaryroll.js", "README.md"],
    engines: { node: `>=${minimumNode}` }
  }
  await fs.writeFile(path.join(outdir, "package.json"), `${JSON.stringify(pkg, null, 2)}\n`)
  await fs.copyFile(path.join(root, "README.md"), path.join(outdir, "README.md"))
  return { outdir, inputs: Object.keys(result.metafile.inputs) }
}

if (import.meta.main) {
  const { inputs, outdir } = await build(path.resolve(process.argv[2] ?? path.join(root, "dist", "package")))
  console.log(`Built ${outdir} (${inputs.length} modules bundled)`)
}
