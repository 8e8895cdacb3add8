/**
 * The first hour as processes: `canaryroll` against a server with no team and the Cloudflare
 * simulator as the account (LocalServer). Signing up and logging in with secrets on standard
 * input, the session file under `$XDG_CONFIG_HOME`, logging out ending the session on the
 * server; teams, members, invitations, Cloudflare, Workers by name, plans from files, channels,
 * tokens; and releases followed by name: failed checks counted (`failures 2/3`) up to a rollback
 * (exit 3), a pause and a drift ending `wait` (exit 8), `status --json` with its progress.
 */
import * as TestDatabase from "@canaryroll/postgres/test-database"
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { Redacted } from "effect"
import { spawn } from "node:child_process"
import * as fs from "node:fs"
import * as http from "node:http"
import type { AddressInfo } from "node:net"
import * as os from "node:os"
import * as path from "node:path"
import { ExitCode } from "../../src/ExitCode.ts"
import * as LocalServer from "../support/LocalServer.ts"
import { cliMain } from "../support/SandboxServer.ts"

const database = TestDatabase.forFile()
let server: LocalServer.LocalServer
let config: string
let files: string
const password = "a long enough password"

beforeAll(async () => {
  server = await LocalServer.start(Redacted.value(database.url()))
  config = fs.mkdtempSync(path.join(os.tmpdir(), "canaryroll-xdg-"))
  files = fs.mkdtempSync(path.join(os.tmpdir(), "canaryroll-files-"))
})
afterAll(async () => {
  await server?.stop()
  for (const directory of [config, files]) if (directory !== undefined) fs.rmSync(directory, { recursive: true, force: true })
})

interface Ran {
  readonly code: number
  readonly stdout: string
  readonly stderr: string
}

/** `canaryroll <args>` with `input` on standard input, the session kept under the test's XDG_CONFIG_HOME. */
const cli = (args: ReadonlyArray<string>, options: { readonly input?: string; readonly env?: Record<string, string> } = {}) =>
  new Promise<Ran>((resolve) => {
    const child = spawn(process.execPath, [cliMain, ...args], {
      env: { PATH: process.env.PATH ?? "", HOME: files, XDG_CONFIG_HOME: config, ...options.env },
      stdio: ["pipe", "pipe", "pipe"]
    })
    let stdout = ""
    let stderr = ""
    child.stdout.on("data", (chunk) => (stdout += chunk))
    child.stderr.on("data", (chunk) => (stderr += chunk))
    child.stdin.end(options.input ?? "")
    child.on("close", (code) => resolve({ code: code ?? 1, stdout, stderr }))
  })

const ok = async (args: ReadonlyArray<string>, options?: Parameters<typeof cli>[1]) => {
  const ran = await cli(args, options)
  assert.strictEqual(ran.code, 0, `canaryroll ${args.join(" ")}: ${ran.stdout}${ran.stderr}`)
  return ran
}

const sessionFile = () => path.join(config, "canaryroll", "session.json")
const writeFile = (name: string, content: unknown) => {
  const file = path.join(files, name)
  fs.writeFileSync(file, typeof content === "string" ? content : JSON.stringify(content))
  return file
}

describe("accounts and the team", () => {
  it("signs up with the password on standard input, keeps the session under XDG_CONFIG_HOME, sets a team up", async () => {
    const signup = await ok(["signup", "--api-url", `${server.url}/api/`, "--email", "ada@example.com", "--name", "Ada"], {
      input: `${password}\n`
    })
    assert.include(signup.stdout, "Signed up as ada@example.com")
    const stat = fs.statSync(sessionFile())
    assert.strictEqual(stat.mode & 0o777, 0o600)
    const saved = JSON.parse(fs.readFileSync(sessionFile(), "utf8"))
    // The URL as given, with its /api dropped; no password anywhere.
    assert.strictEqual(saved.apiUrl, server.url)
    assert.notInclude(fs.readFileSync(sessionFile(), "utf8"), password)

    await ok(["team", "create", "--slug", "shop", "--name", "Shop"])
    const teams = await ok(["team", "list"])
    assert.match(teams.stdout, /shop\s+Shop\s+admin\s+\(in use\)/)
    const members = await ok(["members", "--json"])
    assert.deepStrictEqual(JSON.parse(members.stdout).map((member: any) => [member.email, member.role]), [["ada@example.com", "admin"]])
  })

  it("invites, naming the allowed roles when one is wrong", async () => {
    const bad = await cli(["invite", "--email", "bo@example.com", "--role", "owner"])
    assert.strictEqual(bad.code, ExitCode.usage)
    for (const role of ["read_only", "deploy", "admin"]) assert.include(bad.stdout + bad.stderr, role)
    const invited = await ok(["invite", "--email", "bo@example.com", "--role", "deploy"])
    assert.match(invited.stdout, /Invited bo@example.com as deploy/)
    // This server has no outgoing mail: the CLI says so and why, so the admin knows to pass the link on.
    assert.include(invited.stdout, "It was not emailed: this server sends no email (no CANARYROLL_SMTP_URL is set)")
    const link = /https?:\/\/\S+/.exec(invited.stdout)?.[0]
    assert.isDefined(link)
    // Bo signs up from a terminal of their own with the invitation (a secret: from the environment).
    const bo = fs.mkdtempSync(path.join(os.tmpdir(), "canaryroll-xdg-bo-"))
    try {
      const token = new URL(link!).searchParams.get("token")!
      const joined = await ok(["signup", "--api-url", server.url, "--email", "bo@example.com"], {
        input: `${password}\n`,
        env: { XDG_CONFIG_HOME: bo, CANARYROLL_INVITATION_TOKEN: token }
      })
      assert.include(joined.stdout, "You joined the team Shop (shop)")
      const members = await ok(["members", "--json"], { env: { XDG_CONFIG_HOME: bo } })
      assert.deepInclude(JSON.parse(members.stdout).map((member: any) => [member.email, member.role]), ["bo@example.com", "deploy"])
    } finally {
      fs.rmSync(bo, { recursive: true, force: true })
    }
  })

  it("logs out (the session ends on the server) and in again", async () => {
    const copy = fs.readFileSync(sessionFile(), "utf8")
    await ok(["logout"])
    assert.isFalse(fs.existsSync(sessionFile()))
    // The old session, put back, is refused: it ended on the server, not just here.
    fs.writeFileSync(sessionFile(), copy, { mode: 0o600 })
    const stale = await cli(["members"])
    assert.strictEqual(stale.code, ExitCode.auth, stale.stderr)
    const wrong = await cli(["login", "--email", "ada@example.com"], { input: "not the password\n" })
    assert.strictEqual(wrong.code, ExitCode.auth, wrong.stderr)
    // Without a password at all: a usage error that says where it comes from, never an argument.
    const none = await cli(["login", "--email", "ada@example.com"])
    assert.strictEqual(none.code, ExitCode.usage)
    assert.include(none.stderr, "CANARYROLL_PASSWORD")
    const login = await ok(["login", "--email", "ada@example.com"], { env: { CANARYROLL_PASSWORD: password } })
    assert.include(login.stdout, "Team: Shop (shop)")
    await ok(["team", "use", "shop"])
  })
})

describe("Cloudflare, Workers, plans, channels, tokens", () => {
  it("connect refuses a token Cloudflare refuses, and accepts one from standard input, listing the Workers", async () => {
    const refused = await cli(["cloudflare", "connect", "--account", server.simulator.accountId], { input: "not-a-real-token\n" })
    assert.strictEqual(refused.code, ExitCode.error)
    assert.include(refused.stderr, "apiToken")
    const connected = await ok(["cloudflare", "connect", "--account", server.simulator.accountId], { input: `${server.simulator.apiToken}\n` })
    for (const check of ["workers_read", "analytics_read", "deployments_edit"]) assert.match(connected.stdout, new RegExp(`ok\\s+${check}`))
    assert.include(connected.stdout, "storefront")
    assert.include(connected.stdout, "checkout-api")
    assert.notInclude(connected.stdout + connected.stderr, server.simulator.apiToken)
    // Cloudflare failing the deployment probe: that check fails, named, and the command exits 1.
    await server.control("POST", "/faults", { kind: "status", status: 503, match: { method: "POST", path: "/deployments" } })
    const failing = await cli(["cloudflare", "check", "--account", server.simulator.accountId])
    assert.strictEqual(failing.code, ExitCode.error)
    assert.match(failing.stdout, /FAIL\s+deployments_edit\s+Cloudflare refused a deployment request \(503/)
    assert.match(failing.stdout, /ok\s+analytics_read/)
  })

  it("workers add refuses a script Cloudflare does not have, and lists Workers by name", async () => {
    const missing = await cli(["workers", "add", "--account", server.simulator.accountId, "--script", "storefrnt"])
    assert.strictEqual(missing.code, ExitCode.error)
    assert.include(missing.stderr, "scriptName")
    assert.include(missing.stderr, "storefront")
    for (const script of ["storefront", "checkout-api"]) {
      await ok(["workers", "add", "--account", server.simulator.accountId, "--script", script])
    }
    const listed = await ok(["workers"])
    assert.match(listed.stdout, /^storefront\s+wrk_/m)
    assert.match(listed.stdout, /^checkout-api\s+wrk_/m)
  })

  it("plans from a file: a wrong field named before anything is sent, create, edit, show", async () => {
    const bad = await cli(["plans", "create", "--file", writeFile("bad.json", { slug: "quick", name: "Quick", steps: [{ percentage: 50, waitSeconds: 20 }] })])
    assert.strictEqual(bad.code, ExitCode.usage)
    assert.include(bad.stderr, "steps")
    const notJson = await cli(["plans", "create", "--file", writeFile("broken.json", "{ nope")])
    assert.strictEqual(notJson.code, ExitCode.usage)
    const plan = {
      slug: "quick",
      name: "Quick",
      steps: [{ percentage: 50, waitSeconds: 20 }, { percentage: 100, waitSeconds: 20 }],
      health: { intervalSeconds: 10, maxErrorRate: 0.05, minRequests: 10, analyticsDelaySeconds: 10 }
    }
    await ok(["plans", "create", "--file", writeFile("quick.json", plan)])
    const edited = await ok(["plans", "edit", "quick", "--file", writeFile("quick2.json", { ...plan, name: "Quick two" })])
    assert.include(edited.stdout, "Quick two")
    const shown = JSON.parse((await ok(["plans", "show", "quick"])).stdout)
    assert.deepStrictEqual(shown.steps, plan.steps)
    assert.strictEqual(shown.name, "Quick two")
  })

  it("channels add from a file and test: the message arrives", async () => {
    const received: Array<string> = []
    const receiver = http.createServer((request, response) => {
      let body = ""
      request.on("data", (chunk) => (body += chunk))
      request.on("end", () => {
        received.push(body)
        response.writeHead(200).end("ok")
      })
    })
    await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve))
    try {
      const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`
      const added = await ok(["channels", "add", "--file", writeFile("hook.json", { name: "ops", events: ["release.rolled_back"], config: { kind: "webhook", url } })])
      const id = /\((nch_[^)]+|[a-z]+_[A-Za-z0-9]+)\)/.exec(added.stdout)?.[1]
      assert.isDefined(id, added.stdout)
      assert.include(added.stdout, "signing secret")
      const tested = await ok(["channels", "test", id!])
      assert.include(tested.stdout, "Delivered")
      assert.strictEqual(received.length, 1)
    } finally {
      await new Promise<void>((resolve) => receiver.close(() => resolve()))
    }
  })

  it("tokens create and revoke; the revoked token is refused", async () => {
    const created = await ok(["tokens", "create", "--name", "ci", "--role", "deploy", "--json"])
    const issued = JSON.parse(created.stdout)
    const asCi = { CANARYROLL_TOKEN: issued.token, CANARYROLL_TEAM: "shop", CANARYROLL_API_URL: server.url }
    await ok(["workers"], { env: asCi })
    await ok(["tokens", "revoke", issued.id])
    const refused = await cli(["workers"], { env: asCi })
    assert.strictEqual(refused.code, ExitCode.auth)
  })
})

describe("releases by name, followed", () => {
  it("a bad version: wait counts the failed checks (failures 2/3) and exits 3 on the rollback", async () => {
    const storefront = (server.simulator as any).scripts.find((script: any) => script.name === "storefront")
    const bad = storefront.versions.find((version: any) => version.errorRate >= 0.1)
    const ran = await cli(["release", "create", "--worker", "storefront", "--version", bad.id, "--plan", "quick", "--start", "--wait", "--interval", "1s"])
    assert.strictEqual(ran.code, ExitCode.rolledBack, ran.stderr)
    assert.include(ran.stderr, "last check unhealthy")
    assert.include(ran.stderr, "failures 1/3")
    assert.include(ran.stderr, "failures 2/3")
    assert.include(ran.stderr, "next check in")
    assert.include(ran.stdout, "storefront (wrk_")
  }, 240_000)

  it("a pause and a drift end wait with exit 8 and the reason; status --json carries the progress", async () => {
    const checkout = (server.simulator as any).scripts.find((script: any) => script.name === "checkout-api")
    const candidate = await server.control("POST", "/versions", {
      accountId: server.simulator.accountId,
      scriptName: "checkout-api",
      tag: "rc-1",
      errorRate: 0.001
    })
    const created = JSON.parse((await ok(["release", "create", "--worker", "checkout-api", "--version", "rc-1", "--plan", "quick", "--start", "--json"])).stdout)
    assert.strictEqual(created.cfVersionId, candidate.id)
    const id = created.id as string

    const status = JSON.parse((await ok(["release", "status", id, "--json", "--api-url", `${server.url}/api`])).stdout)
    assert.strictEqual(status.id, id)
    assert.strictEqual(status.progress.step, 1)
    assert.isDefined(status.progress.soak?.endsAt)
    assert.strictEqual(Date.parse(status.progress.soak.endsAt) - Date.parse(status.progress.soak.startedAt), 20_000)
    assert.isDefined(status.progress.nextCheckAt)

    await ok(["release", "pause", id, "--reason", "checking the logs"])
    const paused = await cli(["release", "wait", id])
    assert.strictEqual(paused.code, ExitCode.paused, paused.stderr)
    assert.include(paused.stderr, "checking the logs")
    await ok(["release", "resume", id])

    // Someone deploys by hand: the release pauses before its next traffic change, as a drift.
    await server.control("POST", "/deployments", {
      accountId: server.simulator.accountId,
      scriptName: "checkout-api",
      versions: [{ version_id: checkout.activeVersionId, percentage: 100 }]
    })
    const drift = await cli(["release", "wait", id, "--interval", "1s", "--timeout", "3m"])
    assert.strictEqual(drift.code, ExitCode.paused, drift.stderr)
    assert.include(drift.stderr, "paused by drift")
    const listed = await ok(["release", "list", "--worker", "checkout-api"])
    assert.match(listed.stdout, new RegExp(`${id}\\s+paused\\s+checkout-api`))
    await ok(["release", "rollback", id])
  }, 240_000)
})

describe("a script name in two Cloudflare accounts", () => {
  it("is ambiguous: refused with the ids to choose from, and the id still works", async () => {
    const other = await server.control("POST", "/accounts", { name: "second" })
    const token = await server.control("POST", "/tokens", { accountIds: [other.id] })
    await server.control("POST", "/scripts", { accountId: other.id, scriptName: "storefront", requestsPerMinute: 60 })
    await ok(["cloudflare", "connect", "--account", other.id], { input: `${token.value}\n` })
    await ok(["workers", "add", "--account", other.id, "--script", "storefront"])
    const ambiguous = await cli(["release", "create", "--worker", "storefront", "--version", "anything"])
    assert.strictEqual(ambiguous.code, ExitCode.error)
    assert.include(ambiguous.stderr, "ambiguous_worker")
    const ids = [...ambiguous.stderr.matchAll(/wrk_[0-9a-f]+/g)].map((match) => match[0])
    assert.lengthOf(new Set(ids), 2)
    const byId = await cli(["release", "list", "--worker", ids[0]!])
    assert.strictEqual(byId.code, 0, byId.stderr)
  })
})

