/**
 * The routes `wrangler versions upload` calls besides the upload itself: the Worker as a service
 * (its tag, read first) and its settings (existing bindings). The answers are what wrangler 4
 * reads from them; an unknown Worker gets the usual 404 10007. The GitHub Action's tests run a
 * real wrangler against the simulator end to end.
 */
import { afterEach, assert, beforeEach, describe, it } from "@effect/vitest"
import * as OpenApiSchemas from "./support/OpenApiSchemas.ts"
import { call, type Fixture, setup } from "./support/SimulatorFixture.ts"

let fixture: Fixture
beforeEach(async () => {
  fixture = await setup()
})
afterEach(async () => {
  await fixture.sim.close()
  // Every answer matched Cloudflare's schemas where one describes the route (support/OpenApiSchemas.ts).
  assert.deepStrictEqual(OpenApiSchemas.nonConforming(fixture.answers), [])
})

describe("what wrangler versions upload reads", () => {
  it("answers the Worker as a service with a stable 32-hex tag", async () => {
    const path = `/accounts/${fixture.accountId}/workers/services/${fixture.scriptName}`
    const first = await call(fixture.sim, path, { token: fixture.apiToken })
    assert.strictEqual(first.status, 200)
    assert.isTrue(first.body.success)
    const service = first.body.result
    assert.strictEqual(service.id, fixture.scriptName)
    assert.strictEqual(service.default_environment.environment, "production")
    const script = service.default_environment.script
    assert.match(script.tag, /^[0-9a-f]{32}$/)
    // Not "dash": wrangler would then download and compare the dashboard's configuration.
    assert.strictEqual(script.last_deployed_from, "wrangler")
    const again = await call(fixture.sim, path, { token: fixture.apiToken })
    assert.strictEqual(again.body.result.default_environment.script.tag, script.tag)
  })

  it("answers the settings of the newest version", async () => {
    const settings = await call(fixture.sim, `/accounts/${fixture.accountId}/workers/scripts/${fixture.scriptName}/settings`, {
      token: fixture.apiToken
    })
    assert.strictEqual(settings.status, 200)
    assert.deepStrictEqual(settings.body.result.bindings, [])
    assert.strictEqual(settings.body.result.usage_model, "standard")
    assert.isFalse(settings.body.result.logpush)
  })

  it("refuses an unknown Worker (404 10007) and another account's token (403)", async () => {
    const unknown = await call(fixture.sim, `/accounts/${fixture.accountId}/workers/services/nope`, { token: fixture.apiToken })
    assert.strictEqual(unknown.status, 404)
    assert.strictEqual(unknown.body.errors[0].code, 10007)
    const other = fixture.sim.createAccount({ name: "Other" })
    const stranger = fixture.sim.createToken({ accountIds: [other.id] })
    const refused = await call(fixture.sim, `/accounts/${fixture.accountId}/workers/scripts/${fixture.scriptName}/settings`, {
      token: stranger.value
    })
    assert.strictEqual(refused.status, 403)
  })

  it("counts the calls under their route templates", async () => {
    await call(fixture.sim, `/accounts/${fixture.accountId}/workers/services/${fixture.scriptName}`, { token: fixture.apiToken })
    await call(fixture.sim, `/accounts/${fixture.accountId}/workers/scripts/${fixture.scriptName}/settings`, { token: fixture.apiToken })
    const rest = fixture.sim.counters().tokens[fixture.apiToken]!.rest
    assert.strictEqual(rest["GET /accounts/:account_id/workers/services/:script_name"], 1)
    assert.strictEqual(rest["GET /accounts/:account_id/workers/scripts/:script_name/settings"], 1)
  })
})
