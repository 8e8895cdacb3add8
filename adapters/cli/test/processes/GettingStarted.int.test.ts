/**
 * docs/getting-started.md, run: every `sh` block of the page, in order, in one directory and one
 * home, against a CanaryRoll server with no team and the Cloudflare simulator as the Cloudflare
 * account. The command is the installable one: this builds the package (scripts/build.ts),
 * packs it with npm and installs the tarball into a temporary prefix with the system's npm and
 * Node (20 here), so the blocks run `canaryroll` as a user who ran `npm install --global` has it.
 *
 * The one change made to the page's blocks: `npm install --global @canaryroll/cli` installs the
 * packed tarball (the package is not on a registry here). The wrangler upload, which needs a
 * Worker project, is marked in the page as not run; the test uploads the version it names (its
 * `--tag`) to the simulator instead.
 */
import * as TestDatabase from "@canaryroll/postgres/test-database"
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { Redacted } from "effect"
import { execFile } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { build } from "../../scripts/build.ts"
import * as LocalServer from "../support/LocalServer.ts"

const page = fileURLToPath(new URL("../../../../docs/getting-started.md", import.meta.url))
const notRun = "<!-- not run by the docs test"

interface Block {
  readonly code: string
  readonly run: boolean
}

/** The page's `sh` blocks, in order, each marked run or not by the comment right above it. */
export const shellBlocks = (markdown: string): ReadonlyArray<Block> =>
  [...markdown.matchAll(/(^.*\n)?```sh\n([\s\S]*?)```/gm)].map((match) => ({
    code: match[2]!,
    run: !(match[1] ?? "").startsWith(notRun)
  }))

/** The system's Node and npm (not the workspace's Node 24): what a user's machine has. */
const systemPath = "/usr/local/bin:/usr/bin:/bin"

const sh = (script: string, cwd: string, env: NodeJS.ProcessEnv) =>
  new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile("bash", ["-euo", "pipefail", "-c", script], { cwd, env, maxBuffer: 10 * 1024 * 1024 }, (error, stdout, stderr) =>
      resolve({ code: error === null ? 0 : typeof error.code === "number" ? error.code : 1, stdout, stderr }))
  })

const database = TestDatabase.forFile()
let server: LocalServer.LocalServer
let work: string

beforeAll(async () => {
  server = await LocalServer.start(Redacted.value(database.url()))
  work = fs.mkdtempSync(path.join(os.tmpdir(), "canaryroll-getting-started-"))
})
afterAll(async () => {
  await server?.stop()
  if (work !== undefined) fs.rmSync(work, { recursive: true, force: true })
})

describe("docs/getting-started.md", () => {
  it("runs as written: an installed command, an empty team, a first release completed", async () => {
    const blocks = shellBlocks(fs.readFileSync(page, "utf8"))
    assert.isAtLeast(blocks.filter((block) => block.run).length, 7)

    // The installable package, packed as it would be published.
    const built = await build(path.join(work, "package"))
    const home = path.join(work, "home")
    const project = path.join(work, "project")
    const prefix = path.join(work, "prefix")
    for (const directory of [home, project, prefix]) fs.mkdirSync(directory, { recursive: true })
    const packed = await sh(`npm pack --silent --pack-destination ${JSON.stringify(work)} ${JSON.stringify(built.outdir)}`, work, {
      PATH: systemPath,
      HOME: home
    })
    assert.strictEqual(packed.code, 0, packed.stderr)
    const tarball = path.join(work, packed.stdout.trim().split("\n").at(-1)!)

    // The wrangler upload the page shows, done on the simulator: a good version with the page's tag.
    const wrangler = blocks.find((block) => !block.run && block.code.includes("wrangler versions upload"))
    const tag = /--tag (\S+)/.exec(wrangler?.code ?? "")?.[1]
    assert.isDefined(tag)
    await server.control("POST", "/versions", {
      accountId: server.simulator.accountId,
      scriptName: "storefront",
      tag,
      errorRate: 0.001,
      message: "The version of the getting-started page"
    })

    const env: NodeJS.ProcessEnv = {
      PATH: `${path.join(prefix, "bin")}:${systemPath}`,
      HOME: home,
      npm_config_prefix: prefix,
      npm_config_offline: "true",
      npm_config_audit: "false",
      npm_config_fund: "false",
      npm_config_update_notifier: "false",
      CANARYROLL_API_URL: server.url,
      CANARYROLL_PASSWORD: "correct horse battery staple",
      CLOUDFLARE_ACCOUNT_ID: server.simulator.accountId,
      CLOUDFLARE_API_TOKEN: server.simulator.apiToken
    }
    const outputs: Array<string> = []
    for (const block of blocks.filter((block) => block.run)) {
      const code = block.code.replace("npm install --global @canaryroll/cli", `npm install --global ${JSON.stringify(tarball)}`)
      const ran = await sh(code, project, env)
      assert.strictEqual(ran.code, 0, `this block of the page failed (exit ${ran.code}):\n${block.code}\n${ran.stdout}\n${ran.stderr}`)
      outputs.push(ran.stdout + ran.stderr)
    }
    const all = outputs.join("\n")

    // The command that ran is the installed one, on the system's Node.
    const which = await sh("command -v canaryroll && node --version", project, env)
    assert.strictEqual(which.stdout.split("\n")[0], path.join(prefix, "bin", "canaryroll"))
    assert.match(which.stdout.split("\n")[1]!, /^v2\d\./)
    assert.include(all, "canaryroll v0.1.0")
    // The tarball is a client: one bundled file, no dependencies, no database.
    const installed = path.join(prefix, "lib", "node_modules", "@canaryroll", "cli")
    assert.deepStrictEqual(fs.readdirSync(installed).sort(), ["README.md", "canaryroll.js", "package.json"])
    assert.isUndefined(JSON.parse(fs.readFileSync(path.join(installed, "package.json"), "utf8")).dependencies)

    // The session: in ~/.config/canaryroll, the owner's only, without the password.
    const session = path.join(home, ".config", "canaryroll", "session.json")
    assert.strictEqual(fs.statSync(session).mode & 0o777, 0o600)
    assert.strictEqual(fs.statSync(path.dirname(session)).mode & 0o777, 0o700)
    assert.notInclude(fs.readFileSync(session, "utf8"), "correct horse")
    assert.notInclude(all, "correct horse")
    // Nor is the Cloudflare token printed.
    assert.notInclude(all, server.simulator.apiToken)

    assert.include(all, "deployments_edit")
    assert.include(all, "Added the Worker storefront")
    assert.include(all, "Created the plan First release (first)")
    // The release ran to the end (the block's exit code is 0 only when it completed).
    assert.include(all, "completed")
    assert.match(all, /crt_[A-Za-z0-9_]+/)
  }, 300_000)
})
