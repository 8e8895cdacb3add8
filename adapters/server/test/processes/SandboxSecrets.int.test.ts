/**
 * `pnpm start`'s sandbox as a process (issue 13, item 8): what it prints holds neither the admin
 * password nor the deploy token, and `sandbox.json`, which holds both, is 0600 even though an
 * earlier run left the file readable by everyone.
 */
import * as TestDatabase from "@canaryroll/postgres/test-database"
import { assert, describe, it } from "@effect/vitest"
import { Redacted } from "effect"
import { randomBytes } from "node:crypto"
import * as fs from "node:fs/promises"
import * as os from "node:os"
import * as path from "node:path"
import { spawnServer } from "./ServerProcess.ts"

const database = TestDatabase.forFile()

describe("the sandbox process", () => {
  it("prints no secret, and keeps them in a 0600 sandbox.json", async () => {
    const dataDirectory = await fs.mkdtemp(path.join(os.tmpdir(), "canaryroll-sandbox-secrets-"))
    const file = path.join(dataDirectory, "sandbox.json")
    await fs.writeFile(file, "{}\n")
    await fs.chmod(file, 0o644)
    const server = spawnServer({
      DATABASE_URL: Redacted.value(database.url()),
      CANARYROLL_SECRET_KEY: randomBytes(32).toString("hex"),
      CANARYROLL_DATA_DIR: dataDirectory,
      CANARYROLL_SANDBOX: "true",
      PORT: "0",
      CANARYROLL_LOG_LEVEL: "info"
    })
    try {
      assert.notStrictEqual(await server.listening, "", `the server did not start:\n${server.output()}`)
      await server.said("These details are in")
      assert.strictEqual(((await fs.stat(file)).mode & 0o777).toString(8), "600")
      const details = JSON.parse(await fs.readFile(file, "utf8"))
      for (const field of ["adminPassword", "teamToken"]) {
        assert.isString(details[field], field)
        assert.isAtLeast(details[field].length, 12, field)
        assert.notInclude(server.output(), details[field], `${field} was printed`)
      }
      assert.include(server.output(), `(password: "adminPassword" in `)
    } finally {
      await server.stop()
      await fs.rm(dataDirectory, { recursive: true, force: true })
    }
  })
})
