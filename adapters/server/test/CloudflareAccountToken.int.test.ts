/**
 * An account-owned Cloudflare API token (an "Account API token", the kind Cloudflare recommends)
 * works end to end: the server verifies it where Cloudflare verifies account tokens
 * (`/accounts/{account_id}/tokens/verify`; `/user/tokens/verify` refuses it, as Cloudflare's
 * does), saves it, and a release runs to completion with it. Real HTTP, real Postgres, the
 * Cloudflare simulator; time is Effect's TestClock.
 */
import { assert, describe, it } from "@effect/vitest"
import * as TestDatabase from "@canaryroll/postgres/test-database"
import { Effect } from "effect"
import { TestClock } from "effect/testing"
import * as TestServer from "./support/TestServer.ts"
import * as TestTeam from "./support/TestTeam.ts"

const database = TestDatabase.forFile()

const terminal = new Set(["completed", "rolled_back", "failed", "cancelled"])

describe("an account-owned Cloudflare API token", () => {
  it.effect("connects the account and runs a release to completion; one of another account is refused", () =>
    Effect.gen(function*() {
      const server = yield* TestServer.start(database)
      const { client, simulator } = server
      const account = simulator.createAccount({ name: "Account-token Co" })
      const accountToken = simulator.createToken({ accountIds: [account.id], owner: "account" })
      const stable = simulator.createScript({ accountId: account.id, scriptName: "checkout", requestsPerMinute: 600 })
      const candidate = simulator.createVersion({ accountId: account.id, scriptName: "checkout", errorRate: 0.001, message: "candidate" })

      const { cookie } = yield* TestTeam.signUp(server, "admin@account-token.example")
      TestTeam.expectStatus(yield* client.request("POST", "/api/teams", { cookie, body: { name: "Account token", slug: "acct" } }), 201, "team")
      const base = "/api/teams/acct"

      // Another account's token is active, but not this account's: refused, nothing saved.
      const elsewhere = simulator.createAccount({ name: "Elsewhere" })
      const foreign = simulator.createToken({ accountIds: [elsewhere.id], owner: "account" })
      const refused = yield* client.request("PUT", `${base}/cloudflare/accounts/${account.id}`, { cookie, body: { apiToken: foreign.value } })
      TestTeam.expectStatus(refused, 400, "a token of another account")
      assert.match(refused.body.message, /^apiToken: /)
      assert.notInclude(JSON.stringify(refused.body), foreign.value)
      const none = yield* client.request("GET", `${base}/cloudflare/accounts`, { cookie })
      assert.deepStrictEqual(none.body, [])

      const saved = yield* client.request("PUT", `${base}/cloudflare/accounts/${account.id}`, { cookie, body: { apiToken: accountToken.value } })
      TestTeam.expectStatus(saved, 200, "save the account token")
      const calls = simulator.counters().tokens[accountToken.value]?.rest ?? {}
      assert.strictEqual(calls["GET /user/tokens/verify"], 1, "asked as a user token first, and refused")
      assert.strictEqual(calls["GET /accounts/:account_id/tokens/verify"], 1, "verified as this account's token")

      TestTeam.expectStatus(yield* client.request("POST", `${base}/plans`, { cookie, body: TestTeam.fastPlan }), 201, "plan")
      const worker = yield* client.request("POST", `${base}/workers`, {
        cookie,
        body: { accountId: account.id, scriptName: "checkout", defaultPlanId: "fast" }
      })
      TestTeam.expectStatus(worker, 201, "register the Worker")
      const created = yield* client.request("POST", `${base}/deployments/workers/${worker.body.id}/deployments`, {
        cookie,
        body: { versionId: candidate.id }
      })
      TestTeam.expectStatus(created, 201, "create the release")
      const started = yield* client.request("POST", `${base}/deployments/${created.body.id}/start`, { cookie })
      TestTeam.expectStatus(started, 200, "start")

      let release = started.body
      for (let poll = 0; poll < 200 && !terminal.has(release.status); poll++) {
        yield* TestServer.runDue(server)
        yield* TestClock.adjust("5 seconds")
        release = (yield* client.request("GET", `${base}/deployments/${created.body.id}`, { cookie })).body
      }
      assert.strictEqual(release.status, "completed", JSON.stringify(release))
      assert.strictEqual(release.cfPreviousVersionId, stable.versionId)

      // Cloudflare now serves the candidate to everyone, through deployments the account token made.
      const live = simulator.state().accounts.find((a) => a.id === account.id)!.scripts.find((s) => s.name === "checkout")!
      assert.deepStrictEqual(live.deployments[0]?.versions.map((v) => [v.version_id, v.percentage]), [[candidate.id, 100]])
      const tokenCalls = simulator.counters().tokens[accountToken.value]!
      assert.isAbove(tokenCalls.rest["POST /accounts/:account_id/workers/scripts/:script_name/deployments"] ?? 0, 1)
      assert.isAbove(tokenCalls.graphql, 0, "analytics read with the account token")
    }).pipe(Effect.scoped), 120_000)
})
