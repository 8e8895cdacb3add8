/**
 * `@canaryroll/app` runs in workerd: bundled as a Worker is (esbuild, platform `neutral`, the
 * `workerd`/`worker`/`browser` conditions), nothing it imports may be a Node built-in (`node:*`,
 * or a bare built-in name such as `crypto` or `zlib`). Password hashing or sealing over
 * node:crypto, a checksum from zlib, or a key file read with node:fs fails this. Both entries are
 * bundled: the ports and security primitives (`index.ts`), and the application itself
 * (`Application.ts`: every handler group, the middlewares, the pages), so a handler importing the
 * notifier's runtime or `node:crypto` fails it too.
 */
import { assert, describe, it } from "@effect/vitest"
import * as esbuild from "esbuild"

const root = decodeURIComponent(new URL("..", import.meta.url).pathname)
const entry = `${root}src/index.ts`
const application = `${root}src/Application.ts`

/**
 * Node's list of built-in modules. This project has no Node types on purpose (a Node global in
 * `src` must not typecheck), so the test, which runs on Node, imports it untyped and states the
 * one field it reads.
 */
const builtins = async (): Promise<ReadonlySet<string>> => {
  const nodeModule: { readonly builtinModules: ReadonlyArray<string> } = await import("node:module" as string)
  return new Set(nodeModule.builtinModules)
}

/** Bundles `contents` (an entry module's source) for workerd; answers the Node built-ins it imports, and who imports them. */
const nodeImports = async (contents: string) => {
  const known = await builtins()
  const isNodeBuiltin = (specifier: string) =>
    specifier.startsWith("node:") || known.has(specifier) || known.has(specifier.split("/")[0]!)
  const found: Array<string> = []
  const result = await esbuild.build({
    stdin: { contents, resolveDir: root, sourcefile: "worker.ts", loader: "ts" },
    bundle: true,
    write: false,
    format: "esm",
    platform: "neutral",
    conditions: ["workerd", "worker", "browser"],
    mainFields: ["module", "main"],
    logLevel: "silent",
    plugins: [{
      name: "node-builtins",
      setup(build) {
        build.onResolve({ filter: /.*/ }, (args) => {
          if (!isNodeBuiltin(args.path)) return undefined
          found.push(`${args.path} (imported by ${args.importer.replace(root, "")})`)
          // Left out of the bundle, so every such import is listed, not only the first.
          return { path: args.path, external: true }
        })
      }
    }]
  })
  return { found, output: result.outputFiles }
}

describe("@canaryroll/app in workerd", () => {
  it("bundles for workerd without any Node built-in", async () => {
    const { found, output } = await nodeImports(`export * from ${JSON.stringify(entry)}`)
    assert.deepStrictEqual(found, [])
    // The security modules are in it, not shaken out: the check covered them.
    const bundle = new TextDecoder().decode(output[0]!.contents)
    for (const marker of ["MalformedPasswordHash", "AES-GCM", "crt_", "CANARYROLL_SECRET_KEY_PREVIOUS"]) assert.include(bundle, marker)
  }, 60_000)

  it("bundles the application (every handler group) for workerd without any Node built-in", async () => {
    const { found, output } = await nodeImports(`export * from ${JSON.stringify(application)}`)
    assert.deepStrictEqual(found, [])
    // The handlers are in it, not shaken out: an endpoint's handler, the idempotency middleware,
    // the notifications port, the readiness checks and the release page's assets.
    const bundle = new TextDecoder().decode(output[0]!.contents)
    for (
      const marker of [
        "sendTestMessage",
        "with this Idempotency-Key is still being carried out",
        "@canaryroll/app/NotificationChannels",
        "the migrations are current",
        "/assets/"
      ]
    ) assert.include(bundle, marker)
  }, 60_000)

  it("would not with node:crypto, or with a bare built-in name", async () => {
    for (const module of ["node:crypto", "zlib", "fs/promises"]) {
      const { found } = await nodeImports(`import * as m from "${module}"\nexport { m }\nexport * from ${JSON.stringify(entry)}`)
      assert.deepStrictEqual(found, [`${module} (imported by worker.ts)`])
    }
  }, 60_000)
})
