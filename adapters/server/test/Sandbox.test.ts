/**
 * What the sandbox tells a person (issue 13, item 8): the banner `pnpm start` prints names the
 * admin and the deploy token's file but holds neither the password nor the token, and the file
 * is 0600 even when an earlier run left it readable by others. The command the banner gives
 * reads the token from the file.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { execFileSync } from "node:child_process"
import * as fs from "node:fs/promises"
import * as os from "node:os"
import * as path from "node:path"
import * as Sandbox from "../src/Sandbox.ts"

const details: Sandbox.SandboxDetails = {
  url: "http://localhost:8787",
  teamId: "team_0123",
  teamSlug: "demo",
  adminEmail: "admin@canaryroll.dev",
  adminPassword: "Xy9-password-never-printed",
  teamToken: "crt_tokenNeverPrinted0123456789abcdefABCD",
  accountId: "account-1",
  cloudflareApiBaseUrl: "http://127.0.0.1:9999/client/v4",
  workers: [{
    workerId: "wkr_1",
    scriptName: "checkout",
    liveVersionId: "v-live",
    goodVersionId: "v-good",
    badVersionId: "v-bad",
    planId: "pln_1"
  }]
}

const withDirectory = <A, E, R>(use: (directory: string) => Effect.Effect<A, E, R>) =>
  Effect.acquireUseRelease(
    Effect.promise(() => fs.mkdtemp(path.join(os.tmpdir(), "canaryroll-sandbox-file-"))),
    use,
    (directory) => Effect.promise(() => fs.rm(directory, { recursive: true, force: true }))
  )

const modeOf = (file: string) => Effect.promise(async () => (await fs.stat(file)).mode & 0o777)

describe("the sandbox's details", () => {
  it("the banner names the file, never the admin password or the token", () => {
    const banner = Sandbox.describe(details, ".canaryroll/sandbox.json")
    assert.notInclude(banner, details.adminPassword)
    assert.notInclude(banner, details.teamToken)
    assert.include(banner, `${details.adminEmail} (password: "adminPassword" in .canaryroll/sandbox.json)`)
    assert.include(banner, `"teamToken" in .canaryroll/sandbox.json`)
    assert.include(banner, "These details are in .canaryroll/sandbox.json", "what the CLI's sandbox fixture waits for")
  })

  it.effect("are written 0600, and an existing file's wider mode is narrowed", () =>
    withDirectory((directory) =>
      Effect.gen(function*() {
        const created = path.join(directory, "new", "sandbox.json")
        yield* Sandbox.writeDetails(created, details)
        assert.strictEqual((yield* modeOf(created)).toString(8), "600", "a new file")

        const left = path.join(directory, "sandbox.json")
        yield* Effect.promise(async () => {
          await fs.writeFile(left, "{}\n", { mode: 0o644 })
          await fs.chmod(left, 0o644)
        })
        assert.strictEqual((yield* modeOf(left)).toString(8), "644", "left by an earlier run")
        yield* Sandbox.writeDetails(left, details)
        assert.strictEqual((yield* modeOf(left)).toString(8), "600", "narrowed")
        const written = JSON.parse(yield* Effect.promise(() => fs.readFile(left, "utf8")))
        assert.deepStrictEqual(written, details)
      })
    ))

  it.effect("the banner's command reads the token from the file", () =>
    withDirectory((directory) =>
      Effect.gen(function*() {
        const file = path.join(directory, "with space", "sandbox.json")
        yield* Sandbox.writeDetails(file, details)
        const line = Sandbox.describe(details, file).split("\n").find((line) => line.trim().startsWith("TOKEN=$("))
        assert.isDefined(line)
        const command = line!.trim().slice("TOKEN=$(".length, -1)
        const printed = execFileSync("sh", ["-c", command], { encoding: "utf8", env: { PATH: `${path.dirname(process.execPath)}:${process.env.PATH ?? ""}` } })
        assert.strictEqual(printed.trim(), details.teamToken)
      })
    ))
})
