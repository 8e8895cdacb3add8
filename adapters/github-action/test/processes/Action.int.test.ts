/**
 * The bundled action (dist/index.js), run as the runner runs it — a process with `INPUT_*`
 * variables, a `GITHUB_OUTPUT` and a `GITHUB_STEP_SUMMARY` file — against one sandbox server
 * (`canaryroll serve`) on the real clock: a pending release whose version a real wrangler uploads
 * to the sandbox's Cloudflare simulator, a release waited for until it completes, one until it is
 * rolled back (the step fails), and a wait that times out. The completed and the rolled-back
 * releases run at the same time, on the sandbox's two Workers.
 */
import * as SandboxServer from "@canaryroll/cli/test-sandbox"
import * as TestDatabase from "@canaryroll/postgres/test-database"
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { Redacted } from "effect"
import { execFile } from "node:child_process"
import * as fs from "node:fs/promises"
import * as http from "node:http"
import type { AddressInfo } from "node:net"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import * as WorkflowFiles from "../../src/WorkflowFiles.ts"

const bundle = fileURLToPath(new URL("../../dist/index.js", import.meta.url))
/** Where the pinned wrangler devDependency is: the action finds it on PATH, as on a runner with wrangler installed. */
const binaries = fileURLToPath(new URL("../../node_modules/.bin", import.meta.url))

const database = TestDatabase.forFile()
let server: SandboxServer.SandboxServer
let scratch: string

beforeAll(async () => {
  server = await SandboxServer.start(Redacted.value(database.url()))
  scratch = await fs.mkdtemp(path.join(os.tmpdir(), "canaryroll-action-"))
})
afterAll(async () => {
  await server?.stop()
  if (scratch !== undefined) await fs.rm(scratch, { recursive: true, force: true })
})

interface StepResult {
  readonly code: number
  readonly log: string
  readonly outputs: Record<string, string>
  readonly summary: string
}

let steps = 0

/** One step: the action's process with these inputs (and extra environment), then its files read back. */
const runStep = async (inputs: Record<string, string>, extraEnv: Record<string, string> = {}): Promise<StepResult> => {
  const directory = path.join(scratch, `step-${++steps}`)
  await fs.mkdir(directory)
  const outputFile = path.join(directory, "output")
  const summaryFile = path.join(directory, "summary")
  await Promise.all([fs.writeFile(outputFile, ""), fs.writeFile(summaryFile, "")])
  const env: Record<string, string> = {
    PATH: `${binaries}${path.delimiter}${process.env.PATH ?? ""}`,
    HOME: process.env.HOME ?? scratch,
    GITHUB_OUTPUT: outputFile,
    GITHUB_STEP_SUMMARY: summaryFile,
    ...extraEnv
  }
  for (const [name, value] of Object.entries(inputs)) env[`INPUT_${name.toUpperCase()}`] = value
  const ran = await new Promise<{ code: number; log: string }>((resolve) =>
    execFile(process.execPath, [bundle], { env, cwd: directory }, (error, stdout, stderr) =>
      resolve({ code: error === null ? 0 : typeof error.code === "number" ? error.code : 1, log: stdout + stderr }))
  )
  return {
    ...ran,
    outputs: WorkflowFiles.parseOutputs(await fs.readFile(outputFile, "utf8")),
    summary: await fs.readFile(summaryFile, "utf8")
  }
}

const common = () => ({
  "api-url": server.details.url,
  "api-token": server.details.teamToken,
  "team-id": server.details.teamSlug
})

const api = async (route: string) => {
  const response = await fetch(`${server.details.url}/api/teams/demo${route}`, {
    headers: { authorization: `Bearer ${server.details.teamToken}` }
  })
  return response.json() as Promise<any>
}

describe("the action", () => {
  it("fails on bad input before creating anything", async () => {
    const step = await runStep({ ...common(), "worker-id": server.details.workers[0]!.workerId })
    assert.strictEqual(step.code, 1)
    assert.include(step.log, "::error::Input required and not supplied: version-id")
    assert.deepStrictEqual(step.outputs, {})
  })

  it("uploads the version with wrangler and leaves the release pending (auto-start false)", async () => {
    const worker = server.details.workers[0]!
    // The Worker's source and wrangler configuration, as in a repository.
    const project = path.join(scratch, "worker")
    await fs.mkdir(path.join(project, "src"), { recursive: true })
    await fs.writeFile(
      path.join(project, "wrangler.toml"),
      `name = "${worker.scriptName}"\nmain = "src/index.js"\ncompatibility_date = "2026-11-01"\n`
    )
    await fs.writeFile(path.join(project, "src", "index.js"), `export default { fetch() { return new Response("v2") } }\n`)
    // A Cloudflare token for the sandbox's simulated account, from the simulator's control API.
    const controlUrl = server.details.cloudflareApiBaseUrl.replace(/\/client\/v4$/, "/__sim")
    const token = await (await fetch(`${controlUrl}/tokens`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ accountIds: [server.details.accountId] })
    })).json() as { value: string }

    const step = await runStep(
      { ...common(), "worker-id": worker.workerId, upload: "true", "working-directory": project, message: "from CI", tag: "ci-42", name: "abc123" },
      {
        CLOUDFLARE_API_BASE_URL: server.details.cloudflareApiBaseUrl,
        CLOUDFLARE_ACCOUNT_ID: server.details.accountId,
        CLOUDFLARE_API_TOKEN: token.value,
        WRANGLER_SEND_METRICS: "false",
        CI: "true"
      }
    )
    assert.strictEqual(step.code, 0, step.log)
    const versionId = step.outputs["version-id"]!
    assert.match(versionId, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/)
    assert.notInclude([worker.goodVersionId, worker.badVersionId, worker.liveVersionId], versionId)
    assert.strictEqual(step.outputs.status, "pending")
    const releaseId = step.outputs["release-id"]!
    assert.strictEqual(step.outputs["release-url"], `${server.details.url}/teams/demo/deployments/${releaseId}`)

    const release = await api(`/deployments/${releaseId}`)
    assert.strictEqual(release.cfVersionId, versionId)
    assert.strictEqual(release.status, "pending")
    assert.strictEqual(release.name, "abc123")
    // The simulator has the version wrangler uploaded, with its message and tag.
    const versions: Array<any> = await api(`/workers/${worker.workerId}/versions`)
    const uploaded = versions.find((version) => version.id === versionId)
    assert.deepStrictEqual({ message: uploaded?.message, tag: uploaded?.tag }, { message: "from CI", tag: "ci-42" })
    assert.include(step.summary, `[Open release ${releaseId}]`)
    assert.include(step.summary, "(uploaded by this step)")
    assert.include(step.summary, "pending")
  })
})

describe("wrangler's environment", () => {
  it("holds no INPUT_* variable, and the secrets are masked before anything else is printed", async () => {
    const worker = server.details.workers[0]!
    // A wrangler that records what it was given and reports an upload, first on PATH. Node
    // itself, not a shell script: a shell drops variables whose names have a dash (INPUT_API-TOKEN).
    const fake = path.join(scratch, "fake-wrangler")
    await fs.mkdir(fake)
    const dump = path.join(fake, "environment.json")
    await fs.writeFile(
      path.join(fake, "wrangler"),
      [
        `#!${process.execPath}`,
        `const fs = require("node:fs")`,
        `fs.writeFileSync(${JSON.stringify(dump)}, JSON.stringify({ argv: process.argv.slice(2), env: process.env }))`,
        `const upload = { type: "version-upload", version_id: ${JSON.stringify(worker.goodVersionId)} }`,
        `fs.writeFileSync(process.env.WRANGLER_OUTPUT_FILE_PATH, JSON.stringify(upload) + "\\n")`,
        ``
      ].join("\n"),
      { mode: 0o755 }
    )
    const project = path.join(scratch, "fake-project")
    await fs.mkdir(project)

    const step = await runStep(
      {
        ...common(),
        "worker-id": worker.workerId,
        upload: "true",
        "working-directory": project,
        message: "fake",
        "cf-access-client-id": "access-id.access",
        "cf-access-client-secret": "access-secret-value"
      },
      {
        PATH: `${fake}${path.delimiter}${process.env.PATH ?? ""}`,
        CLOUDFLARE_API_TOKEN: "cloudflare-token-value",
        CLOUDFLARE_ACCOUNT_ID: server.details.accountId,
        WRANGLER_SEND_METRICS: "false"
      }
    )
    assert.strictEqual(step.code, 0, step.log)
    assert.strictEqual(step.outputs["version-id"], worker.goodVersionId)
    assert.isTrue(
      step.log.startsWith(`::add-mask::${server.details.teamToken}\n::add-mask::access-secret-value\n`),
      step.log.slice(0, 300)
    )

    const seen = JSON.parse(await fs.readFile(dump, "utf8")) as { argv: Array<string>; env: Record<string, string> }
    assert.deepStrictEqual(seen.argv, ["versions", "upload", "--message", "fake"])
    assert.deepStrictEqual(Object.keys(seen.env).filter((name) => /^INPUT_/i.test(name)), [])
    const serialized = JSON.stringify(seen.env)
    assert.notInclude(serialized, server.details.teamToken)
    assert.notInclude(serialized, "access-secret-value")
    // What wrangler needs is still there.
    assert.strictEqual(seen.env.CLOUDFLARE_API_TOKEN, "cloudflare-token-value")
    assert.strictEqual(seen.env.CLOUDFLARE_ACCOUNT_ID, server.details.accountId)
    assert.strictEqual(seen.env.WRANGLER_SEND_METRICS, "false")
    assert.include(seen.env.PATH, fake)
    assert.isString(seen.env.HOME)
    assert.isString(seen.env.WRANGLER_OUTPUT_FILE_PATH)
  })
})

describe("the action waiting for releases", () => {
  it.concurrent("auto-start and wait until completed", async () => {
    const worker = server.details.workers[0]!
    const step = await runStep({
      ...common(),
      "worker-id": worker.workerId,
      "version-id": worker.goodVersionId,
      plan: "demo",
      "auto-advance": "true",
      "ticket-url": "https://tickets.example.com/42",
      "auto-start": "true",
      wait: "true",
      "wait-timeout": "150",
      "poll-interval": "2",
      // The server ignores Cloudflare Access headers; sending them must not get in the way.
      "cf-access-client-id": "access-id.access",
      "cf-access-client-secret": "access-secret"
    })
    assert.strictEqual(step.code, 0, step.log)
    assert.strictEqual(step.outputs.status, "completed")
    assert.strictEqual(step.outputs["version-id"], worker.goodVersionId)
    assert.include(step.log, "preflight ✓")
    for (const line of ["step 1/3 at 10%", "step 2/3 at 50%", "step 3/3 at 100%", "completed"]) assert.include(step.log, line)
    assert.include(step.summary, "✅ completed")
    assert.include(step.summary, "| 3 | 100% | 20s | done |")
  })

  it.concurrent("wait until rolled back fails the step; a wait that times out fails it too", async () => {
    const worker = server.details.workers[1]!
    const rolledBack = await runStep({
      ...common(),
      "worker-id": worker.workerId,
      "version-id": worker.badVersionId,
      "auto-start": "true",
      wait: "true",
      "wait-timeout": "150",
      "poll-interval": "2"
    })
    assert.strictEqual(rolledBack.code, 1, rolledBack.log)
    assert.strictEqual(rolledBack.outputs.status, "rolled_back")
    assert.include(rolledBack.log, "::error::The release was rolled back")
    assert.include(rolledBack.log, "last check unhealthy")
    assert.include(rolledBack.summary, "↩️ rolled back")

    const timedOut = await runStep({
      ...common(),
      "worker-id": worker.workerId,
      "version-id": worker.goodVersionId,
      "auto-start": "true",
      wait: "true",
      "wait-timeout": "2",
      "poll-interval": "1"
    })
    assert.strictEqual(timedOut.code, 1, timedOut.log)
    assert.strictEqual(timedOut.outputs.status, "in_progress")
    assert.include(timedOut.log, "::error::The release did not finish within wait-timeout (2s)")
    // It carries on without the action: still in progress on the server.
    const release = await api(`/deployments/${timedOut.outputs["release-id"]}`)
    assert.strictEqual(release.status, "in_progress")
  })
})

describe("the action waiting while the server restarts", () => {
  it("waits out 503s and a dropped connection, with one warning per outage, and passes when the release completes", async () => {
    // A stand-in for a CanaryRoll server: creates, preflights and starts, then restarts while the
    // action waits (the release carries on meanwhile).
    const release = (status: string) => ({
      id: "dep_1", workerId: "wrk_1", teamId: "team_1", planId: "plan_1", cfVersionId: "v2", cfPreviousVersionId: "v1",
      status, currentStep: 0, autoAdvance: true, name: null, ticketUrl: null,
      stepsSnapshot: [{ percentage: 10, waitSeconds: 20 }, { percentage: 100, waitSeconds: 20 }],
      startedAt: null, completedAt: null, createdAt: "2026-11-26T10:00:00.000Z"
    })
    const waits = ["503", "drop", "503", "completed"]
    const server = http.createServer((request, response) => {
      const json = (status: number, body: unknown) =>
        response.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body))
      const url = request.url ?? ""
      if (request.method === "POST" && url.endsWith("/deployments/workers/wrk_1/deployments")) return json(201, release("pending"))
      if (url.endsWith("/preflight")) return json(200, { passed: true, checks: [{ name: "version exists", passed: true }] })
      if (url.endsWith("/start")) return json(200, release("in_progress"))
      if (url.endsWith("/events")) return json(200, [])
      const next = waits.length > 1 ? waits.shift()! : waits[0]!
      if (next === "drop") return request.socket.destroy()
      if (next === "503") return json(503, { error: "unavailable", message: "The server is shutting down" })
      return json(200, release(next))
    })
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
    try {
      const step = await runStep({
        "api-url": `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
        "api-token": "crt_test",
        "team-id": "demo",
        "worker-id": "wrk_1",
        "version-id": "v2",
        "auto-start": "true",
        wait: "true",
        "wait-timeout": "60",
        "poll-interval": "1"
      })
      assert.strictEqual(step.code, 0, step.log)
      assert.strictEqual(step.outputs.status, "completed")
      // One outage (503, no answer, 503) until the release was read again: one warning.
      assert.strictEqual(step.log.split("::warning::CanaryRoll is not answering").length - 1, 1, step.log)
      assert.include(step.log, "shutting down")
    } finally {
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    }
  })
})
