/**
 * The committed bundle is what the runner executes: rebuilding it into a temporary directory must
 * give the same bytes, or `pnpm test` (and so CI) fails until `pnpm --filter
 * @canaryroll/github-action build` is run and dist/ committed.
 */
import { assert, describe, it } from "@effect/vitest"
import * as fs from "node:fs/promises"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { build } from "../scripts/build.ts"

const committed = fileURLToPath(new URL("../dist/index.js", import.meta.url))

describe("dist/index.js", () => {
  it("is up to date with the sources", async () => {
    const outdir = await fs.mkdtemp(path.join(os.tmpdir(), "canaryroll-action-dist-"))
    try {
      await build(outdir)
      const [fresh, current] = await Promise.all([
        fs.readFile(path.join(outdir, "index.js"), "utf8"),
        fs.readFile(committed, "utf8").catch(() => "")
      ])
      assert.isTrue(
        fresh === current,
        "adapters/github-action/dist/index.js is stale: run `pnpm --filter @canaryroll/github-action build` and commit dist/"
      )
    } finally {
      await fs.rm(outdir, { recursive: true, force: true })
    }
  })

  it("is what action.yml runs, on node24, with the public action's inputs and outputs", async () => {
    const manifest = await fs.readFile(fileURLToPath(new URL("../action.yml", import.meta.url)), "utf8")
    assert.include(manifest, "using: node24")
    assert.include(manifest, "main: dist/index.js")
    const section = (name: string) => {
      const start = manifest.indexOf(`\n${name}:\n`)
      const rest = manifest.slice(start + name.length + 3)
      const end = rest.search(/\n[a-z]/)
      return [...rest.slice(0, end).matchAll(/^ {2}([a-z-]+):$/gm)].map((match) => match[1])
    }
    assert.deepStrictEqual(section("inputs"), [
      "api-url", "api-token", "team-id", "worker-id", "version-id", "plan", "auto-advance", "name", "ticket-url",
      "auto-start", "wait", "wait-timeout", "poll-interval", "cf-access-client-id", "cf-access-client-secret",
      "upload", "working-directory", "message", "tag"
    ])
    assert.deepStrictEqual(section("outputs"), ["release-id", "release-url", "status", "version-id"])
  })
})
