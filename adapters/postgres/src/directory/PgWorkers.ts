/**
 * PgWorkers: the application's Workers port on the table `workers` (migration `0006_teams`).
 *
 * Registering runs in one transaction: it takes the account's lock (the advisory lock
 * `canaryroll/cloudflare-account/<id>`, the one `PgCloudflareAccounts` takes to save or remove
 * the account, and the server took before this port existed), checks that the team connected the
 * account, locks the default plan `FOR SHARE` (a plan being deleted waits, see `PgPlans`), and
 * inserts. A change of the default plan locks the new plan likewise. Each change is its own
 * transaction, or a savepoint of the caller's (`Storage.Transactions`). `hold` takes the Worker's
 * advisory lock `canaryroll/worker/<id>` (the one the server took before this port had `hold`)
 * for the caller's transaction.
 *
 * @since 0.2.0
 */
import { Workers } from "@canaryroll/app"
import { Id, Plan } from "@canaryroll/core"
import { Effect, Layer, Option, Schema } from "effect"
import { SqlClient } from "effect/sql"
import { accountLock } from "./PgCloudflareAccounts.ts"
import { orUnavailable } from "./PgStorageErrors.ts"

interface WorkerRow {
  readonly id: string
  readonly team_id: string
  readonly account_id: string
  readonly script_name: string
  readonly default_plan_id: string
  readonly health_policy: unknown
  readonly created_at: Date
}

// Read under the stored rules: a policy saved before thresholds kept four decimals still reads back.
const decodePolicy = Schema.decodeUnknownSync(Plan.StoredHealthPolicy)
const encodePolicy = Schema.encodeSync(Plan.HealthPolicy)

const toWorker = (row: WorkerRow): Workers.Worker => ({
  id: row.id,
  teamId: row.team_id,
  accountId: row.account_id,
  scriptName: row.script_name,
  defaultPlanId: row.default_plan_id,
  healthPolicy: row.health_policy === null ? null : decodePolicy(row.health_policy),
  createdAt: row.created_at.getTime()
})

const policyJson = (policy: Plan.HealthPolicy | null) => policy === null ? null : JSON.stringify(encodePolicy(policy))

export const make: Effect.Effect<Workers.Workers["Service"], never, SqlClient.SqlClient> = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient

  /** The team's plan, locked against deletion until the transaction ends. */
  const lockPlan = (teamId: string, planId: string) =>
    Effect.flatMap(
      sql<{ readonly id: string }>`SELECT id FROM plans WHERE team_id = ${teamId} AND id = ${planId} FOR SHARE`,
      (rows) => rows.length === 0 ? Effect.fail(new Workers.PlanNotFound({ teamId, planId })) : Effect.void
    )

  const list = (teamId: string) =>
    orUnavailable(Effect.map(
      sql<WorkerRow>`SELECT * FROM workers WHERE team_id = ${teamId} ORDER BY created_at, id`,
      (rows) => rows.map(toWorker)
    ))

  return Workers.Workers.of({
    register: (input) =>
      orUnavailable(Effect.gen(function*() {
        yield* accountLock(sql, input.accountId)
        const connected = yield* sql<{ readonly id: string }>`
          SELECT id FROM cloudflare_credentials WHERE team_id = ${input.teamId} AND account_id = ${input.accountId}`
        if (connected.length === 0) {
          return yield* new Workers.CloudflareAccountNotConnected({ teamId: input.teamId, accountId: input.accountId })
        }
        yield* lockPlan(input.teamId, input.defaultPlanId)
        const rows = yield* sql<WorkerRow>`
          INSERT INTO workers (id, team_id, account_id, script_name, default_plan_id, health_policy, created_at)
          VALUES (${Id.makeUnsafe("worker")}, ${input.teamId}, ${input.accountId}, ${input.scriptName}, ${input.defaultPlanId},
            ${policyJson(input.healthPolicy)}::jsonb, ${new Date(input.now)})
          ON CONFLICT (team_id, account_id, script_name) DO NOTHING RETURNING *`
        const row = rows[0]
        if (row === undefined) {
          return yield* new Workers.WorkerExists({ accountId: input.accountId, scriptName: input.scriptName })
        }
        return toWorker(row)
      }).pipe(sql.withTransaction)),
    list,
    find: (teamId, workerId) =>
      orUnavailable(Effect.map(
        sql<WorkerRow>`SELECT * FROM workers WHERE team_id = ${teamId} AND id = ${workerId}`,
        (rows) => Option.map(Option.fromNullishOr(rows[0]), toWorker)
      )),
    hold: (teamId, workerId) =>
      orUnavailable(Effect.gen(function*() {
        yield* sql`SELECT pg_advisory_xact_lock(hashtext(${`canaryroll/worker/${workerId}`}))`
        const rows = yield* sql<WorkerRow>`SELECT * FROM workers WHERE team_id = ${teamId} AND id = ${workerId}`
        return Option.map(Option.fromNullishOr(rows[0]), toWorker)
      })),
    inAccount: (teamId, accountId) =>
      orUnavailable(Effect.map(
        sql<WorkerRow>`
          SELECT * FROM workers WHERE team_id = ${teamId} AND account_id = ${accountId} ORDER BY created_at, id`,
        (rows) => rows.map(toWorker)
      )),
    update: (change) =>
      orUnavailable(Effect.gen(function*() {
        const current = yield* sql<{ readonly id: string }>`
          SELECT id FROM workers WHERE team_id = ${change.teamId} AND id = ${change.workerId} FOR UPDATE`
        if (current.length === 0) return yield* new Workers.WorkerNotFound({ teamId: change.teamId, workerId: change.workerId })
        yield* lockPlan(change.teamId, change.defaultPlanId)
        const rows = yield* sql<WorkerRow>`
          UPDATE workers SET default_plan_id = ${change.defaultPlanId}, health_policy = ${policyJson(change.healthPolicy)}::jsonb
          WHERE id = ${change.workerId} RETURNING *`
        return toWorker(rows[0]!)
      }).pipe(sql.withTransaction)),
    remove: (teamId, workerId) =>
      orUnavailable(Effect.gen(function*() {
        const rows = yield* sql<WorkerRow>`DELETE FROM workers WHERE team_id = ${teamId} AND id = ${workerId} RETURNING *`
        const row = rows[0]
        if (row === undefined) return yield* new Workers.WorkerNotFound({ teamId, workerId })
        return toWorker(row)
      }))
  })
})

export const layer: Layer.Layer<Workers.Workers, never, SqlClient.SqlClient> = Layer.effect(Workers.Workers, make)
