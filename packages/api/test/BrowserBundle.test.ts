/**
 * `@canaryroll/api` runs in a browser and in workerd: bundled for the browser, nothing it imports
 * may be a Node built-in (`node:*`, or a bare built-in name such as `fs`). Importing the notifier
 * runtime (nodemailer, `node:dns`) instead of its channel-config schemas fails this.
 */
import { assert, describe, it } from "@effect/vitest"
import * as esbuild from "esbuild"
import { builtinModules } from "node:module"
import * as path from "node:path"
import { fileURLToPath } from "node:url"

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)))
const builtins: ReadonlySet<string> = new Set(builtinModules)

const isNodeBuiltin = (specifier: string) =>
  specifier.startsWith("node:") || builtins.has(specifier) || builtins.has(specifier.split("/")[0]!)

/** Bundles `entry` for the browser; answers the Node built-ins it imports, and who imports them. */
const nodeImports = async (entry: string) => {
  const found: Array<string> = []
  const result = await esbuild.build({
    entryPoints: [entry],
    bundle: true,
    write: false,
    format: "esm",
    platform: "browser",
    logLevel: "silent",
    plugins: [{
      name: "node-builtins",
      setup(build) {
        build.onResolve({ filter: /.*/ }, (args) => {
          if (!isNodeBuiltin(args.path)) return undefined
          found.push(`${args.path} (imported by ${path.relative(root, args.importer)})`)
          // Left out of the bundle, so every such import is listed, not only the first.
          return { path: args.path, external: true }
        })
      }
    }]
  })
  return { found, output: result.outputFiles }
}

describe("@canaryroll/api in a browser", () => {
  it("bundles for the browser without any Node built-in", async () => {
    const { found, output } = await nodeImports(path.join(root, "src", "index.ts"))
    assert.deepStrictEqual(found, [])
    assert.isAbove(output[0]!.contents.length, 0)
  }, 60_000)

  it("would not: the notifier runtime imports Node built-ins", async () => {
    const { found } = await nodeImports(path.join(root, "..", "notifier", "src", "index.ts"))
    assert.isNotEmpty(found, "the check must see the notifier runtime's Node imports")
  }, 60_000)
})
