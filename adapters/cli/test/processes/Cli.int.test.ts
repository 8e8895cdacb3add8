/**
 * The `canaryroll` command as a process against a sandbox server (`canaryroll serve`) on the real
 * clock: human and `--json` output, and the exit codes docs/cli.md promises (0 completed,
 * 2 usage, 3 rolled back, 5 cancelled, 6 timeout, 7 auth, 1 other refusals). The release that runs
 * to completion (about a minute) and the one steered by hand use the sandbox's two Workers at
 * the same time.
 */
import * as TestDatabase from "@canaryroll/postgres/test-database"
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { Redacted } from "effect"
import * as http from "node:http"
import type { AddressInfo } from "node:net"
import { ExitCode } from "../../src/ExitCode.ts"
import * as SandboxServer from "../support/SandboxServer.ts"

const database = TestDatabase.forFile()
let server: SandboxServer.SandboxServer
let env: Record<string, string>

beforeAll(async () => {
  server = await SandboxServer.start(Redacted.value(database.url()))
  env = { CANARYROLL_API_URL: server.details.url, CANARYROLL_TOKEN: server.details.teamToken, CANARYROLL_TEAM: "demo" }
})
afterAll(async () => {
  await server?.stop()
})

const cli = (...args: ReadonlyArray<string>) => SandboxServer.runCli(args, env)
const json = (text: string) => JSON.parse(text) as any

describe("settings and usage", () => {
  it("asks for a missing setting (exit 2) and names the variable", async () => {
    const ran = await SandboxServer.runCli(["workers"], {})
    assert.strictEqual(ran.code, ExitCode.usage)
    assert.include(ran.stderr, "Missing --api-url (or CANARYROLL_API_URL)")
  })

  it("refuses an unknown flag (exit 2) and prints help for --help (exit 0)", async () => {
    const [bad, help] = await Promise.all([cli("release", "status", "x", "--bogus"), cli("release", "--help")])
    assert.strictEqual(bad.code, ExitCode.usage)
    assert.include(bad.stdout + bad.stderr, "--bogus")
    assert.strictEqual(help.code, 0)
    assert.include(help.stdout, "wait")
  })

  it("wait refuses an interval under a second (exit 2), naming the flag", async () => {
    for (const interval of ["0", "0s", "0.5s"]) {
      const ran = await cli("release", "wait", "dep_x", "--interval", interval)
      assert.strictEqual(ran.code, ExitCode.usage, interval)
      assert.include(ran.stdout + ran.stderr, "--interval", interval)
    }
  })

  it("flags win over the environment", async () => {
    const ran = await cli("workers", "--json", "--team", "no-such-team")
    // The flag's team, which does not exist: the server's 404 (exit 1, docs/cli.md), not the
    // environment's team.
    assert.strictEqual(ran.code, ExitCode.error, ran.stderr)
    assert.include(ran.stderr, "404")
  })
})

describe("credentials", () => {
  it("a bad token: exit 7, and how to get one", async () => {
    const ran = await cli("workers", "--token", "crt_not-a-token")
    assert.strictEqual(ran.code, ExitCode.auth)
    assert.include(ran.stderr, "401")
    assert.include(ran.stderr, "canaryroll tokens create")
  })

  it("too small a role: exit 7, naming the role needed", async () => {
    const ran = await cli("tokens")
    assert.strictEqual(ran.code, ExitCode.auth)
    assert.include(ran.stderr, "admin role")
  })
})

describe("the team", () => {
  it("workers and plans, as text and as the server's JSON", async () => {
    const [workers, workersText, plans] = await Promise.all([cli("workers", "--json"), cli("workers"), cli("plans", "--json")])
    assert.strictEqual(workers.code, 0, workers.stderr)
    const ids = json(workers.stdout).map((worker: any) => worker.id).sort()
    assert.deepStrictEqual(ids, server.details.workers.map((worker) => worker.workerId).sort())
    for (const worker of server.details.workers) assert.include(workersText.stdout, worker.scriptName)
    const demo = json(plans.stdout).find((plan: any) => plan.slug === "demo")
    assert.deepStrictEqual(demo.steps.map((step: any) => step.percentage), [10, 50, 100])
  })

  it("an unknown release: exit 1 and what to check", async () => {
    const ran = await cli("release", "status", "dep_nope")
    assert.strictEqual(ran.code, ExitCode.error)
    assert.include(ran.stderr, "404")
    assert.include(ran.stderr, "--team")
  })
})

/** A stand-in for a CanaryRoll server that restarts: the release's answers in order, the last from then on. */
const restartingServer = async (answers: ReadonlyArray<{ status: number; body: unknown }>) => {
  let next = 0
  const server = http.createServer((request, response) => {
    const answer = request.url?.endsWith("/events")
      ? { status: 200, body: [] }
      // A server without `progress` (the wait reads progress from the events then).
      : request.url?.endsWith("/progress")
      ? { status: 404, body: { error: "not_found", message: "no such route" } }
      : answers[Math.min(next++, answers.length - 1)]!
    response.writeHead(answer.status, { "content-type": "application/json" }).end(JSON.stringify(answer.body))
  })
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  return {
    env: { CANARYROLL_API_URL: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, CANARYROLL_TOKEN: "crt_test", CANARYROLL_TEAM: "demo" },
    close: () => new Promise<void>((resolve) => server.close(() => resolve()))
  }
}

const fakeRelease = (status: string) => ({
  id: "dep_1", workerId: "wrk_1", teamId: "team_1", planId: "plan_1", cfVersionId: "v2", cfPreviousVersionId: "v1",
  status, currentStep: 1, autoAdvance: true, name: null, ticketUrl: null,
  stepsSnapshot: [{ percentage: 10, waitSeconds: 20 }, { percentage: 100, waitSeconds: 20 }],
  startedAt: "2026-11-26T10:00:00.000Z", completedAt: null, createdAt: "2026-11-26T10:00:00.000Z"
})
const restarting = { status: 503, body: { error: "unavailable", message: "The server is shutting down" } }

describe("wait while the server restarts", () => {
  it("a 503 is waited out: exit 0 when the release completes, said once on stderr", async () => {
    const server = await restartingServer([restarting, restarting, { status: 200, body: fakeRelease("completed") }])
    try {
      const ran = await SandboxServer.runCli(["release", "wait", "dep_1", "--interval", "1s", "--timeout", "60s", "--json"], server.env)
      assert.strictEqual(ran.code, ExitCode.success, ran.stderr)
      assert.strictEqual(json(ran.stdout).status, "completed")
      assert.strictEqual(ran.stderr.split("not answering").length - 1, 1, ran.stderr)
      assert.include(ran.stderr, "shutting down")
    } finally {
      await server.close()
    }
  })

  it("a server that stays away: exit 6 at the timeout, not exit 1", async () => {
    const server = await restartingServer([{ status: 200, body: fakeRelease("in_progress") }, restarting])
    try {
      const ran = await SandboxServer.runCli(["release", "wait", "dep_1", "--interval", "1s", "--timeout", "2s"], server.env)
      assert.strictEqual(ran.code, ExitCode.timeout, ran.stderr)
      assert.include(ran.stderr, "still in progress")
      assert.include(ran.stderr, "not answering")
    } finally {
      await server.close()
    }
  })
})

describe("releases", () => {
  it.concurrent("wait exits 0 when the release completes, showing progress without a TTY", async () => {
    const worker = server.details.workers[1]!
    const created = await cli(
      "release", "create", "--worker", worker.workerId, "--version", worker.goodVersionId, "--name", "cli-complete", "--start", "--json"
    )
    assert.strictEqual(created.code, 0, created.stderr)
    const release = json(created.stdout)
    assert.strictEqual(release.status, "in_progress")
    const waited = await cli("release", "wait", release.id, "--interval", "2s", "--timeout", "150s", "--json")
    assert.strictEqual(waited.code, ExitCode.success, waited.stderr)
    assert.strictEqual(json(waited.stdout).status, "completed")
    // One line per change on stderr: the steps went by, with their percentages and health verdicts.
    for (const line of ["step 1/3 at 10%", "step 2/3 at 50%", "step 3/3 at 100%", "last check healthy", "completed"]) {
      assert.include(waited.stderr, line)
    }
    assert.notInclude(waited.stderr, "\r", "no terminal control without a TTY")
  })

  it.concurrent("create, status, cancel, list, timeout, rollback and audit, with their exit codes", async () => {
    const worker = server.details.workers[0]!
    // Pending, then cancelled: wait reports it with exit 5.
    const created = await cli("release", "create", "--worker", worker.workerId, "--version", worker.goodVersionId, "--json")
    assert.strictEqual(created.code, 0, created.stderr)
    const pending = json(created.stdout)
    for (const field of ["id", "workerId", "teamId", "planId", "cfVersionId", "status", "currentStep", "stepsSnapshot", "createdAt"]) {
      assert.property(pending, field)
    }
    assert.strictEqual(pending.status, "pending")
    assert.strictEqual(pending.cfVersionId, worker.goodVersionId)
    const status = await cli("release", "status", pending.id)
    assert.include(status.stdout, "pending")
    assert.include(status.stdout, `${server.details.url}/teams/demo/deployments/${pending.id}`)
    // advance names the step it moves on from: the one it reads (0 here; a pending release cannot
    // advance), or --from-step; a step it is not at is refused (409), never a missing field (400).
    const advancePending = await cli("release", "advance", pending.id)
    assert.strictEqual(advancePending.code, ExitCode.error)
    assert.include(advancePending.stderr, "(409 invalid_state)")
    const advanceStale = await cli("release", "advance", pending.id, "--from-step", "2")
    assert.strictEqual(advanceStale.code, ExitCode.error)
    assert.include(advanceStale.stderr, "fromStep 2 is not the deployment's current step")
    assert.include(advanceStale.stderr, "(409 invalid_state)")
    const cancelled = await cli("release", "cancel", pending.id, "--reason", "changed my mind", "--json")
    assert.strictEqual(json(cancelled.stdout).status, "cancelled")
    const waitCancelled = await cli("release", "wait", pending.id)
    assert.strictEqual(waitCancelled.code, ExitCode.cancelled)
    // Starting a finished release is refused (409): exit 1, and where to look.
    const restart = await cli("release", "start", pending.id)
    assert.strictEqual(restart.code, ExitCode.error)
    assert.include(restart.stderr, "409")

    // A running release: wait gives up (exit 6) and says it carries on; a manual rollback ends it (exit 3).
    const startedRun = await cli(
      "release", "create", "--worker", worker.workerId, "--version", worker.goodVersionId, "--start", "--json"
    )
    const running = json(startedRun.stdout)
    assert.strictEqual(running.status, "in_progress")
    const timedOut = await cli("release", "wait", running.id, "--timeout", "1s", "--interval", "1s")
    assert.strictEqual(timedOut.code, ExitCode.timeout)
    assert.include(timedOut.stderr, "carries on")
    const rollback = await cli("release", "rollback", running.id, "--reason", "testing")
    assert.strictEqual(rollback.code, 0, rollback.stderr)
    const waitRolledBack = await cli("release", "wait", running.id, "--interval", "1s", "--timeout", "60s", "--json")
    assert.strictEqual(waitRolledBack.code, ExitCode.rolledBack, waitRolledBack.stderr)
    assert.strictEqual(json(waitRolledBack.stdout).status, "rolled_back")

    const list = await cli("release", "list", "--worker", worker.workerId, "--json")
    const listed = json(list.stdout).deployments.map((release: any) => release.id)
    assert.includeMembers(listed, [pending.id, running.id])
    const audit = await cli("audit", "--release", running.id, "--json")
    const types = json(audit.stdout).entries.map((entry: any) => entry.type)
    assert.includeMembers(types, ["ReleaseCreated", "ReleaseStarted", "RollbackStarted"])
  })
})
