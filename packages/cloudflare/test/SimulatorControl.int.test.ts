/**
 * The control API under `/__sim`, used over HTTP only, as a sandbox or a demo in another process
 * would: build an account, a token and a Worker, move the clock, deploy by hand, arm a fault and
 * read the counters.
 */
import { afterEach, assert, beforeEach, describe, it } from "@effect/vitest"
import Cloudflare from "cloudflare"
import { type Simulator, start } from "../src/simulator/index.ts"

let sim: Simulator
beforeEach(async () => {
  sim = await start()
})
afterEach(async () => {
  await sim.close()
})

const control = async (method: string, path: string, body?: unknown) => {
  const response = await fetch(`${sim.controlUrl}${path}`, {
    method,
    ...(body === undefined ? {} : { headers: { "content-type": "application/json" }, body: JSON.stringify(body) })
  })
  return { status: response.status, body: await response.json() as any }
}

describe("control API", () => {
  it("builds a platform the SDK can use, and reports on it", async () => {
    const account = (await control("POST", "/accounts", { name: "Acme" })).body
    const token = (await control("POST", "/tokens", { accountIds: [account.id] })).body
    assert.match(token.value, /^[A-Za-z0-9_-]{40}$/)
    await control("POST", "/clock", { set: "2026-11-26T10:00:00Z" })
    const script = (await control("POST", "/scripts", { accountId: account.id, scriptName: "api", requestsPerMinute: 60 })).body
    const canary = (await control("POST", "/versions", { accountId: account.id, scriptName: "api", errorRate: 0.1 })).body
    assert.strictEqual(canary.number, 2)

    const clock = (await control("POST", "/clock", { advanceMs: 90_000 })).body
    assert.deepStrictEqual(clock, { now: "2026-11-26T10:01:30.000Z", epochMs: Date.parse("2026-11-26T10:01:30Z"), pinned: true })

    const manual = (await control("POST", "/deployments", {
      accountId: account.id,
      scriptName: "api",
      versions: [{ version_id: canary.id, percentage: 30 }, { version_id: script.versionId, percentage: 70 }],
      message: "by hand"
    })).body
    assert.strictEqual(manual.source, "wrangler")
    assert.strictEqual(manual.created_on, "2026-11-26T10:01:30.000000Z")

    await control("POST", "/faults", { kind: "status", status: 500, match: { path: "/versions" } })
    assert.strictEqual((await control("GET", "/faults")).body.length, 1)
    const client = new Cloudflare({ apiToken: token.value, baseURL: sim.baseUrl, maxRetries: 0 })
    const failed = await client.workers.scripts.versions.list("api", { account_id: account.id }).then(() => 200, (error) => error.status)
    assert.strictEqual(failed, 500)
    const deployments = await client.get(`/accounts/${account.id}/workers/scripts/api/deployments`) as any
    assert.strictEqual(deployments.result.deployments[0].id, manual.id)

    const counters = (await control("GET", "/counters")).body
    assert.deepStrictEqual(counters.tokens[token.value].rest, {
      "GET /accounts/:account_id/workers/scripts/:script_name/versions": 1,
      "GET /accounts/:account_id/workers/scripts/:script_name/deployments": 1
    })
    assert.deepStrictEqual(counters.deploymentsCreated, {})

    const state = (await control("GET", "/state")).body
    assert.strictEqual(state.now, "2026-11-26T10:01:30.000Z")
    assert.deepStrictEqual(state.accounts[0].scripts[0].versions.map((version: any) => version.errorRate), [0.1, 0])
    assert.strictEqual(state.accounts[0].scripts[0].deployments.length, 2)

    await control("POST", "/error-rate", { accountId: account.id, scriptName: "api", versionId: canary.id, errorRate: 0 })
    await control("POST", "/request-rate", { accountId: account.id, scriptName: "api", requestsPerMinute: 120 })
    const after = (await control("GET", "/state")).body.accounts[0].scripts[0]
    assert.strictEqual(after.requestsPerMinute, 120)
    assert.strictEqual(after.versions[0].errorRate, 0)
    assert.strictEqual((await control("DELETE", "/clock")).body.pinned, false)
  })

  it("takes fixed version ids: lowercase UUIDs, each used once", async () => {
    const account = (await control("POST", "/accounts", {})).body
    const stable = "5ab1e000-0000-4000-8000-000000000001"
    const canary = "ca4a7000-0000-4000-8000-000000000002"
    const script = (await control("POST", "/scripts", { accountId: account.id, scriptName: "api", versionId: stable })).body
    assert.strictEqual(script.versionId, stable)
    const uploaded = (await control("POST", "/versions", { accountId: account.id, scriptName: "api", id: canary })).body
    assert.deepStrictEqual(uploaded, { id: canary, number: 2 })

    const again = await control("POST", "/scripts", { accountId: account.id, scriptName: "web", versionId: canary })
    assert.deepStrictEqual(again, { status: 400, body: { error: `version ${canary} exists` } })
    const notUuid = await control("POST", "/versions", { accountId: account.id, scriptName: "api", id: "v2" })
    assert.deepStrictEqual(notUuid, { status: 400, body: { error: "a version id is a lowercase UUID, got v2" } })
    const state = (await control("GET", "/state")).body
    assert.deepStrictEqual(state.accounts[0].scripts.map((s: any) => s.versions.map((v: any) => v.id)), [[canary, stable]])
  })

  it("answers 400 with the reason for a refused operation, 404 for an unknown one", async () => {
    const refused = await control("POST", "/scripts", { accountId: "0".repeat(32), scriptName: "api" })
    assert.deepStrictEqual(refused, { status: 400, body: { error: `no account ${"0".repeat(32)}` } })
    const badRate = await control("POST", "/accounts", {}).then(async ({ body: account }) => {
      await control("POST", "/scripts", { accountId: account.id, scriptName: "api" })
      return control("POST", "/versions", { accountId: account.id, scriptName: "api", errorRate: 2 })
    })
    assert.strictEqual(badRate.status, 400)
    assert.match(badRate.body.error, /fraction in \[0, 1\]/)
    const badFault = await control("POST", "/faults", { kind: "status", status: 404 })
    assert.deepStrictEqual(badFault.body, { error: "a status fault needs a 5xx status" })
    assert.strictEqual((await control("GET", "/nothing")).status, 404)
  })
})
