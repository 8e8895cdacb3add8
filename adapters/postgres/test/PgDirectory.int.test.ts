/**
 * The directory's contract suites (`@canaryroll/app/testing`) on PostgreSQL, exactly as they run
 * on memory: Cloudflare accounts, Workers and plans (with `PgTransactions`), the log-in throttle
 * and idempotency keys. Every test gets a new, migrated schema of this file's database; a team
 * the suites ask for is a row of `teams`.
 */
import { Plans, Workers } from "@canaryroll/app"
import {
  CloudflareAccountsContract,
  DirectoryFixtures,
  IdempotencyKeysContract,
  LoginThrottleContract,
  NewTeam,
  PlansContract,
  WorkersContract
} from "@canaryroll/app/testing"
import { Plan } from "@canaryroll/core"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit, Layer, Option, Schema } from "effect"
import { TestClock } from "effect/testing"
import { SqlClient } from "effect/sql"
import * as Migrations from "../src/Migrations.ts"
import * as PgCloudflareAccounts from "../src/directory/PgCloudflareAccounts.ts"
import * as PgIdempotencyKeys from "../src/directory/PgIdempotencyKeys.ts"
import * as PgLoginThrottle from "../src/directory/PgLoginThrottle.ts"
import * as PgPlans from "../src/directory/PgPlans.ts"
import * as PgTransactions from "../src/directory/PgTransactions.ts"
import * as PgWorkers from "../src/directory/PgWorkers.ts"
import * as TestDatabase from "./database/TestDatabase.ts"

const database = TestDatabase.forFile()

const newTeam = Layer.effect(
  NewTeam.NewTeam,
  Effect.map(SqlClient.SqlClient, (sql) =>
    NewTeam.NewTeam.of({
      make: Effect.gen(function*() {
        const id = `team_${crypto.randomUUID().replaceAll("-", "").slice(0, 12)}`
        yield* sql`INSERT INTO teams (id, slug, name) VALUES (${id}, ${id}, ${"Team " + id})`
        return id
      })
    }))
)

const directory = () =>
  Layer.mergeAll(PgCloudflareAccounts.layer, PgWorkers.layer, PgPlans.layer, PgTransactions.layer, newTeam).pipe(
    Layer.provide(Migrations.layer),
    Layer.provide(database.freshSchema())
  )

/** The directory and the client under it, for tests that write rows the ports cannot. */
const directoryAndClient = () =>
  Layer.mergeAll(PgCloudflareAccounts.layer, PgWorkers.layer, PgPlans.layer, PgTransactions.layer, newTeam).pipe(
    Layer.provide(Migrations.layer),
    Layer.provideMerge(database.freshSchema())
  )

CloudflareAccountsContract.suite("postgres", directory)
WorkersContract.suite("postgres", directory)
PlansContract.suite("postgres", directory)

LoginThrottleContract.suite("postgres", (options) =>
  PgLoginThrottle.layer(options).pipe(Layer.provide(Migrations.layer), Layer.provide(database.freshSchema())))

IdempotencyKeysContract.suite("postgres", () =>
  PgIdempotencyKeys.layer().pipe(Layer.provide(Migrations.layer), Layer.provide(database.freshSchema())))

describe("rows written before the exact checks (PgPlans, PgWorkers)", () => {
  // A plan and a Worker's policy saved by an older version, with a percentage of more than two
  // decimals and a threshold of more than four: people can no longer send these, but the rows
  // must still read back (and be shown), as old events do.
  const legacyDefinition = {
    steps: [{ percentage: 12.345, waitSeconds: 60 }, { percentage: 100, waitSeconds: 60 }],
    health: { maxErrorRate: 0.012345 }
  }
  const legacyPolicy = { intervalSeconds: 60, maxErrorRate: 0.000005 }

  // The clock first: a database client built at the TestClock's epoch waits on timers that never fire.
  it.effect("read back under Plan.Stored and Plan.StoredHealthPolicy", () =>
    Effect.andThen(TestClock.setTime(DirectoryFixtures.t0), Effect.gen(function*() {
      assert.isTrue(Exit.isFailure(Schema.decodeUnknownExit(Plan.Plan)(legacyDefinition)), "the strict schema refuses it")
      assert.isTrue(Exit.isFailure(Schema.decodeUnknownExit(Plan.HealthPolicy)(legacyPolicy)), "the strict schema refuses it")

      const sql = yield* SqlClient.SqlClient
      const { planId, teamId } = yield* DirectoryFixtures.teamWithAccount("acc_legacy")
      const worker = yield* DirectoryFixtures.register(teamId, "acc_legacy", "storefront", planId)
      yield* sql`UPDATE plans SET definition = ${JSON.stringify(legacyDefinition)}::jsonb WHERE id = ${planId}`
      yield* sql`UPDATE workers SET health_policy = ${JSON.stringify(legacyPolicy)}::jsonb WHERE id = ${worker.id}`

      const plan = Option.getOrThrow(yield* Plans.Plans.use((plans) => plans.find(teamId, planId)))
      assert.deepStrictEqual(plan.plan.steps.map((step) => step.percentage), [12.345, 100])
      assert.strictEqual(plan.plan.health.maxErrorRate, 0.012345)
      assert.strictEqual((yield* Plans.Plans.use((plans) => plans.list(teamId))).length, 1)

      const stored = Option.getOrThrow(yield* Workers.Workers.use((workers) => workers.find(teamId, worker.id)))
      assert.strictEqual(stored.healthPolicy?.maxErrorRate, 0.000005)
    }).pipe(Effect.provide(directoryAndClient(), { local: true }))))
})
