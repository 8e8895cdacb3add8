/**
 * Outbound calls go only where they may (issue 13, item 5), as `pnpm start` runs: a server that
 * is not a sandbox refuses an email channel whose SMTP host is loopback (as an address or a
 * name), without connecting, and says why in the delivery; the sandbox allows private addresses,
 * says so in its log ("private addresses allowed for notifications (sandbox)"), and delivers to a
 * real SMTP server on loopback. Two processes on one database: the sandbox, and a server that is
 * not one.
 */
import * as SmtpServer from "@canaryroll/notifier/test-smtp-server"
import * as TestDatabase from "@canaryroll/postgres/test-database"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Redacted } from "effect"
import { randomBytes } from "node:crypto"
import * as fs from "node:fs/promises"
import * as os from "node:os"
import * as path from "node:path"
import { type ServerProcess, spawnServer } from "./ServerProcess.ts"

const database = TestDatabase.forFile()

const allowedLine = "private addresses allowed for notifications (sandbox)"

const call = (url: string, method: string, route: string, headers: Record<string, string>, body?: unknown) =>
  Effect.promise(async () => {
    const response = await fetch(`${url}${route}`, {
      method,
      headers: { ...headers, ...(body === undefined ? {} : { "content-type": "application/json" }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) })
    })
    return { status: response.status, body: await response.json() as any, headers: response.headers }
  })

const expectStatus = (response: { status: number; body: unknown }, status: number, what: string) =>
  assert.strictEqual(response.status, status, `${what}: ${response.status} ${JSON.stringify(response.body)}`)

const spawned = (environment: Record<string, string>) =>
  Effect.acquireRelease(
    Effect.sync(() => spawnServer(environment)),
    (server) => Effect.promise(() => server.stop())
  )

const listening = (server: ServerProcess) =>
  Effect.promise(() => server.listening).pipe(
    Effect.tap((url) => Effect.sync(() => assert.notStrictEqual(url, "", `the server did not start:\n${server.output()}`)))
  )

describe("private addresses, as pnpm start runs", () => {
  it.live("refused outside the sandbox; allowed, and said so, in the sandbox", () =>
    Effect.gen(function*() {
      const dataDirectory = yield* Effect.acquireRelease(
        Effect.promise(() => fs.mkdtemp(path.join(os.tmpdir(), "canaryroll-private-"))),
        (directory) => Effect.promise(() => fs.rm(directory, { recursive: true, force: true }))
      )
      const environment = {
        DATABASE_URL: Redacted.value(database.url()),
        CANARYROLL_SECRET_KEY: randomBytes(32).toString("hex"),
        CANARYROLL_DATA_DIR: dataDirectory,
        PORT: "0",
        CANARYROLL_LOG_LEVEL: "info"
      }
      const sandbox = yield* spawned({ ...environment, CANARYROLL_SANDBOX: "true" })
      const sandboxUrl = yield* listening(sandbox)
      yield* Effect.promise(() => sandbox.said(allowedLine))
      yield* Effect.promise(() => sandbox.said("These details are in"))
      const production = yield* spawned({ ...environment, CANARYROLL_SANDBOX: "false" })
      const productionUrl = yield* listening(production)

      // An admin token for the sandbox's team, made by its admin.
      const details = JSON.parse(yield* Effect.promise(() => fs.readFile(path.join(dataDirectory, "sandbox.json"), "utf8")))
      const login = yield* call(productionUrl, "POST", "/api/auth/login", {}, { email: details.adminEmail, password: details.adminPassword })
      expectStatus(login, 200, "log in")
      const cookie = login.headers.get("set-cookie")!.split(";")[0]!
      const issued = yield* call(productionUrl, "POST", `/api/teams/${details.teamSlug}/tokens`, { cookie }, { name: "private", role: "admin" })
      expectStatus(issued, 201, "an admin token")
      const admin = { authorization: `Bearer ${issued.body.token}` }
      const channels = `/api/teams/${details.teamSlug}/notifications/channels`

      const smtp = yield* SmtpServer.make()
      const channelOn = (host: string) =>
        Effect.map(
          call(productionUrl, "POST", channels, admin, {
            name: `mail via ${host}`,
            events: ["release.failed"],
            config: { kind: "email", host, port: smtp.port, security: "none", from: "canaryroll@example.com", to: ["oncall@example.com"] }
          }),
          (created) => {
            expectStatus(created, 201, `an email channel on ${host}`)
            return created.body.id as string
          }
        )
      const sendTest = (url: string, channelId: string) =>
        Effect.map(call(url, "POST", `${channels}/${channelId}/test`, admin), (sent) => {
          expectStatus(sent, 200, "a test message")
          return sent.body
        })

      // Not a sandbox: refused for good before connecting, with the reason.
      for (const host of ["127.0.0.1", "localhost", "2130706433", "::ffff:127.0.0.1"]) {
        const refused = yield* sendTest(productionUrl, yield* channelOn(host))
        assert.strictEqual(refused.status, "failed", host)
        assert.strictEqual(refused.attempts, 1, host)
        assert.match(refused.lastError, /a loopback address; CanaryRoll sends only to public addresses$/, host)
      }
      assert.strictEqual(smtp.connections(), 0, "no connection was made")
      assert.notInclude(production.output(), "private addresses allowed", `the production server:\n${production.output()}`)

      // The sandbox: the same kind of channel is delivered to the SMTP server on loopback.
      const delivered = yield* sendTest(sandboxUrl, yield* channelOn("127.0.0.1"))
      assert.strictEqual(delivered.status, "delivered", delivered.lastError)
      assert.deepStrictEqual((yield* smtp.next).to, ["oncall@example.com"])
    }).pipe(Effect.scoped), { timeout: 120_000 })
})
