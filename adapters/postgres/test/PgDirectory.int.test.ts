/**
 * The directory's contract suites (`@canaryroll/app/testing`) on PostgreSQL, exactly as they run
 * on memory: Cloudflare accounts, Workers and plans (with `PgTransactions`), the log-in throttle
 * and idempotency keys. Every test gets a new, migrated schema of this file's database; a team
 * the suites ask for is a row of `teams`.
 */
import { CloudflareAccountsContract, IdempotencyKeysContract, LoginThrottleContract, NewTeam, PlansContract, WorkersContract } from "@canaryroll/app/testing"
import { Effect, Layer } from "effect"
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

CloudflareAccountsContract.suite("postgres", directory)
WorkersContract.suite("postgres", directory)
PlansContract.suite("postgres", directory)

LoginThrottleContract.suite("postgres", (options) =>
  PgLoginThrottle.layer(options).pipe(Layer.provide(Migrations.layer), Layer.provide(database.freshSchema())))

IdempotencyKeysContract.suite("postgres", () =>
  PgIdempotencyKeys.layer().pipe(Layer.provide(Migrations.layer), Layer.provide(database.freshSchema())))
