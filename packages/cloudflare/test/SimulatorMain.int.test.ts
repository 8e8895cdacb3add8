/**
 * `pnpm sim --port 0 --seed` as a process: it prints one JSON line describing the demo account,
 * serves the SDK, and exits cleanly on SIGTERM.
 */
import { assert, describe, it } from "@effect/vitest"
import Cloudflare from "cloudflare"
import { spawn } from "node:child_process"
import { once } from "node:events"
import { join } from "node:path"
import { createInterface } from "node:readline"

const main = join(import.meta.dirname, "../src/simulator/main.ts")

describe("pnpm sim", () => {
  it("prints the seeded account on one JSON line and serves it until SIGTERM", async () => {
    const child = spawn(process.execPath, [main, "--port", "0", "--seed"], { stdio: ["ignore", "pipe", "pipe"] })
    const exited = once(child, "exit")
    try {
      const [line] = await once(createInterface({ input: child.stdout }), "line") as [string]
      const started = JSON.parse(line)
      assert.deepStrictEqual(Object.keys(started), ["baseUrl", "controlUrl", "accountId", "apiToken", "scripts"])
      assert.match(started.baseUrl, /^http:\/\/127\.0\.0\.1:\d+\/client\/v4$/)
      assert.match(started.accountId, /^[0-9a-f]{32}$/)
      assert.deepStrictEqual(started.scripts.map((script: any) => script.name), ["storefront", "checkout-api"])
      const storefront = started.scripts[0]
      assert.deepStrictEqual(storefront.versions.map((version: any) => version.errorRate), [0.002, 0.003, 0.2])

      const client = new Cloudflare({ apiToken: started.apiToken, baseURL: started.baseUrl, maxRetries: 0 })
      const versions = await client.workers.scripts.versions.list("storefront", { account_id: started.accountId })
      assert.deepStrictEqual(
        versions.result.items?.map((version) => version.id),
        [...storefront.versions].reverse().map((version: any) => version.id)
      )
      const deployments = await client.get(`/accounts/${started.accountId}/workers/scripts/storefront/deployments`) as any
      assert.deepStrictEqual(deployments.result.deployments[0].versions, [
        { version_id: storefront.activeVersionId, percentage: 100 }
      ])
      // Two hours of history: the last 10 minutes of analytics are there.
      const now = Date.now()
      const analytics = await client.post("/graphql", {
        body: {
          query: `query($a: string!, $s: Time!, $e: Time!) { viewer { accounts(filter: { accountTag: $a }) {
            workersInvocationsAdaptive(limit: 10, filter: { scriptName: "storefront", datetime_geq: $s, datetime_leq: $e }) {
              sum { requests }
            } } } }`,
          variables: { a: started.accountId, s: new Date(now - 12 * 60_000).toISOString(), e: new Date(now - 2 * 60_000).toISOString() }
        }
      }) as any
      const requests = analytics.data.viewer.accounts[0].workersInvocationsAdaptive[0].sum.requests
      assert.approximately(requests, 12_000, 200)
    } finally {
      child.kill("SIGTERM")
    }
    const [code] = await exited
    assert.strictEqual(code, 0)
  })

  it("issues an account-owned token with --account-token: verified under the account, refused as a user's", async () => {
    const child = spawn(process.execPath, [main, "--port", "0", "--account-token"], { stdio: ["ignore", "pipe", "pipe"] })
    const exited = once(child, "exit")
    try {
      const [line] = await once(createInterface({ input: child.stdout }), "line") as [string]
      const started = JSON.parse(line)
      const client = new Cloudflare({ apiToken: started.apiToken, baseURL: started.baseUrl, maxRetries: 0 })
      const verified = await client.accounts.tokens.verify({ account_id: started.accountId })
      assert.strictEqual(verified.status, "active")
      const refused = await client.user.tokens.verify().then(() => undefined, (error: unknown) => error)
      assert.instanceOf(refused, Cloudflare.AuthenticationError)
    } finally {
      child.kill("SIGTERM")
    }
    await exited
  })
})
