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

  it("has canaryroll/action@v1's defaults, so a workflow switches by its uses: line alone", async () => {
    const manifest = await fs.readFile(fileURLToPath(new URL("../action.yml", import.meta.url)), "utf8")
    // Each input's `required` and `default`, as written (plain or double-quoted scalars).
    const inputs: Record<string, Record<string, string>> = {}
    let current: Record<string, string> | undefined
    for (const line of manifest.slice(manifest.indexOf("\ninputs:\n"), manifest.indexOf("\noutputs:\n")).split("\n")) {
      const input = /^ {2}([a-z-]+):$/.exec(line)
      if (input !== null) inputs[input[1]!] = current = {}
      const field = /^ {4}([a-z]+): (.*)$/.exec(line)
      if (field !== null && current !== undefined) current[field[1]!] = field[2]!.replace(/^"(.*)"$/, "$1")
      // A plain scalar with ": " or " #" in it is not the text it looks like (or not YAML at all):
      // the runner would refuse the action.
      if (field !== null && !/^["'>|]/.test(field[2]!)) assert.notMatch(field[2]!, /: | #/, line)
    }
    const v1 = {
      "api-url": { required: "false", default: "https://canaryroll.com" },
      "api-token": { required: "true" },
      "team-id": { required: "true" },
      "worker-id": { required: "true" },
      plan: { required: "false" },
      "auto-advance": { required: "false", default: "true" },
      "auto-start": { required: "false", default: "false" },
      wait: { required: "false", default: "false" },
      "wait-timeout": { required: "false", default: "1800" },
      "poll-interval": { required: "false", default: "15" }
    }
    for (const [name, expected] of Object.entries(v1)) {
      const { required, default: fallback } = inputs[name]!
      assert.deepStrictEqual<Record<string, string | undefined>>({ required, ...(fallback === undefined ? {} : { default: fallback }) }, expected, name)
    }
    assert.notInclude(inputs["auto-advance"]!.description ?? "", "plan's default")
  })
})
