/**
 * The example workflow stays in step with the action: every `with:` key of the CanaryRoll step is
 * an input of adapters/github-action/action.yml, every output it reads is declared, and the
 * wrangler credentials are in the step's environment when it uploads.
 */
import { assert, describe, it } from "@effect/vitest"
import * as fs from "node:fs"
import { fileURLToPath } from "node:url"

const workflow = fs.readFileSync(fileURLToPath(new URL("../.github/workflows/deploy.yml", import.meta.url)), "utf8")
const manifest = fs.readFileSync(
  fileURLToPath(new URL(import.meta.resolve("@canaryroll/github-action/action.yml"))),
  "utf8"
)

/** The keys two spaces under a top-level section of action.yml. */
const declared = (section: string) => {
  const rest = manifest.slice(manifest.indexOf(`\n${section}:\n`) + section.length + 3)
  return new Set([...rest.slice(0, rest.search(/\n[a-z]/)).matchAll(/^ {2}([a-z-]+):$/gm)].map((match) => match[1]!))
}

describe("examples/github-workflow", () => {
  const step = workflow.slice(workflow.indexOf("uses: canaryroll/"), workflow.indexOf("- name: Report"))
  const withBlock = step.slice(step.indexOf("with:\n"), step.indexOf("env:\n"))

  it("passes only inputs the action declares, and every required one", () => {
    const inputs = declared("inputs")
    const used = [...withBlock.matchAll(/^ {10}([a-z-]+):/gm)].map((match) => match[1]!)
    assert.isAbove(used.length, 5)
    for (const name of used) assert.isTrue(inputs.has(name), `${name} is not an input of the action`)
    const required = [...manifest.matchAll(/^ {2}([a-z-]+):\n(?: {4}.*\n)*? {4}required: true$/gm)].map((match) => match[1]!)
    assert.deepStrictEqual(required, ["api-token", "team-id", "worker-id"])
    for (const name of required) assert.include(used, name)
    // Not required (canaryroll/action@v1's hosted server by default), but this workflow's own server.
    assert.include(used, "api-url")
  })

  it("reads only outputs the action declares", () => {
    const outputs = declared("outputs")
    const read = [...workflow.matchAll(/steps\.release\.outputs\.([a-z-]+)/g)].map((match) => match[1]!)
    assert.isAbove(read.length, 0)
    for (const name of read) assert.isTrue(outputs.has(name), `${name} is not an output of the action`)
  })

  it("gives wrangler its credentials when the action uploads", () => {
    assert.include(withBlock, "upload: true")
    assert.include(step, "CLOUDFLARE_API_TOKEN: ${{ secrets.CLOUDFLARE_API_TOKEN }}")
    assert.include(step, "CLOUDFLARE_ACCOUNT_ID:")
  })
})
