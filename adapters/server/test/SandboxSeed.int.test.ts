/**
 * The sandbox's demo team, seeded through the directory ports (`Sandbox.seed`): the simulated
 * Cloudflare account saved sealed (and not counted as a real one), the demo plan, one Worker per
 * simulated script; seeding again (a restarted sandbox) finds them instead of adding more, and
 * the deploy token it hands out reads the Workers' versions with the account's sealed token.
 */
import { CloudflareAccounts, Plans, Workers } from "@canaryroll/app"
import * as TestDatabase from "@canaryroll/postgres/test-database"
import { assert, describe, it } from "@effect/vitest"
import { Context, Effect, Option } from "effect"
import * as Sandbox from "../src/Sandbox.ts"
import { CurrentServerConfig } from "../src/ServerConfig.ts"
import * as TestServer from "./support/TestServer.ts"

const database = TestDatabase.forFile()

describe("sandbox seed", () => {
  it.effect("seeds the demo team's account, plan and Workers once, through the ports", () =>
    Effect.gen(function*() {
      const server = yield* TestServer.start(database)
      const config = Context.get(server.context, CurrentServerConfig)
      const seed = Sandbox.seed(config, { simulator: server.simulator, seeded: server.seeded }).pipe(
        Effect.provideContext(server.context)
      )
      const first = yield* seed
      const second = yield* seed
      assert.deepStrictEqual(second.workers.map((worker) => worker.workerId), first.workers.map((worker) => worker.workerId))
      assert.strictEqual(first.workers.length, server.seeded.scripts.length)
      assert.strictEqual(second.teamId, first.teamId)

      const accounts = Context.get(server.context, CloudflareAccounts.CloudflareAccounts)
      assert.isFalse(yield* accounts.anyReal, "the simulated account is not a real one")
      const sandbox = yield* accounts.latestSandbox
      assert.isTrue(Option.isSome(sandbox) && sandbox.value.accountId === server.seeded.accountId)
      assert.isTrue(Option.isSome(sandbox) && !sandbox.value.sealedApiToken.includes(server.seeded.apiToken), "stored sealed")

      const plans = Context.get(server.context, Plans.Plans)
      assert.deepStrictEqual((yield* plans.list(first.teamId)).map((plan) => plan.slug).sort(), ["demo", "standard"])
      const workers = Context.get(server.context, Workers.Workers)
      const registered = yield* workers.list(first.teamId)
      assert.deepStrictEqual(registered.map((worker) => worker.defaultPlanId), first.workers.map((worker) => worker.planId))

      const versions = yield* server.client.request(
        "GET",
        `/api/teams/${first.teamSlug}/workers/${first.workers[0]!.workerId}/versions`,
        { token: first.teamToken }
      )
      assert.strictEqual(versions.status, 200)
      assert.isTrue(
        (versions.body as ReadonlyArray<{ readonly id: string }>).some((version) => version.id === first.workers[0]!.goodVersionId)
      )
    }).pipe(Effect.scoped))
})
