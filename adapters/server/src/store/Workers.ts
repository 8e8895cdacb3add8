/**
 * The Workers a team registered: a Cloudflare account and script name, a Worker tag (the
 * `workerId` clients use), a default plan and an optional health policy that replaces the plan's.
 *
 * @since 0.1.0
 */
import { Plan } from "@canaryroll/core"
import { Effect, Option, Schema } from "effect"
import { SqlClient } from "effect/sql"
import type * as S from "../api/Schemas.ts"
import { newId } from "./Accounts.ts"

interface WorkerRow {
  readonly id: string
  readonly team_id: string
  readonly account_id: string
  readonly script_name: string
  readonly default_plan_id: string
  readonly health_policy: unknown
  readonly created_at: Date
}

const decodePolicy = Schema.decodeUnknownSync(Plan.HealthPolicy)
const encodePolicy = Schema.encodeSync(Plan.HealthPolicy)

const toWorker = (row: WorkerRow): S.Worker => ({
  id: row.id,
  accountId: row.account_id,
  scriptName: row.script_name,
  defaultPlanId: row.default_plan_id,
  healthPolicy: row.health_policy === null ? null : decodePolicy(row.health_policy),
  createdAt: row.created_at.toISOString()
})

const policyJson = (policy: Plan.HealthPolicy | null) => policy === null ? null : JSON.stringify(encodePolicy(policy))

/** Registers a Worker; `None` when the team already registered this script in this account. */
export const registerWorker = Effect.fnUntraced(function*(input: {
  readonly teamId: string
  readonly accountId: string
  readonly scriptName: string
  readonly defaultPlanId: string
  readonly healthPolicy: Plan.HealthPolicy | null
  readonly now: Date
}) {
  const sql = yield* SqlClient.SqlClient
  // A short tag: it ends up in URLs, CI configuration and release pages.
  const id = `wrk_${crypto.randomUUID().replaceAll("-", "").slice(0, 16)}`
  const rows = yield* sql<WorkerRow>`
    INSERT INTO workers (id, team_id, account_id, script_name, default_plan_id, health_policy, created_at)
    VALUES (${id}, ${input.teamId}, ${input.accountId}, ${input.scriptName}, ${input.defaultPlanId},
      ${policyJson(input.healthPolicy)}::jsonb, ${input.now})
    ON CONFLICT (team_id, account_id, script_name) DO NOTHING RETURNING *`
  return Option.map(Option.fromNullishOr(rows[0]), toWorker)
})

export const listWorkers = Effect.fnUntraced(function*(teamId: string) {
  const sql = yield* SqlClient.SqlClient
  const rows = yield* sql<WorkerRow>`SELECT * FROM workers WHERE team_id = ${teamId} ORDER BY created_at, id`
  return rows.map(toWorker)
})

export const workerById = Effect.fnUntraced(function*(teamId: string, workerId: string) {
  const sql = yield* SqlClient.SqlClient
  const rows = yield* sql<WorkerRow>`SELECT * FROM workers WHERE team_id = ${teamId} AND id = ${workerId}`
  return Option.map(Option.fromNullishOr(rows[0]), toWorker)
})

export const workersInAccount = Effect.fnUntraced(function*(teamId: string, accountId: string) {
  const sql = yield* SqlClient.SqlClient
  const rows = yield* sql<WorkerRow>`SELECT * FROM workers WHERE team_id = ${teamId} AND account_id = ${accountId}`
  return rows.map(toWorker)
})

export const updateWorker = Effect.fnUntraced(function*(input: {
  readonly workerId: string
  readonly defaultPlanId: string
  readonly healthPolicy: Plan.HealthPolicy | null
}) {
  const sql = yield* SqlClient.SqlClient
  const rows = yield* sql<WorkerRow>`
    UPDATE workers SET default_plan_id = ${input.defaultPlanId}, health_policy = ${policyJson(input.healthPolicy)}::jsonb
    WHERE id = ${input.workerId} RETURNING *`
  return toWorker(rows[0]!)
})

export const removeWorker = Effect.fnUntraced(function*(workerId: string) {
  const sql = yield* SqlClient.SqlClient
  yield* sql`DELETE FROM workers WHERE id = ${workerId}`
})

/** Releases of the Worker that are not finished (pending, in progress or paused). */
export const unfinishedReleases = Effect.fnUntraced(function*(teamId: string, workerId: string) {
  const sql = yield* SqlClient.SqlClient
  return yield* sql<{ release_id: string; status: string }>`
    SELECT release_id, status FROM release_summaries
    WHERE team_id = ${teamId} AND worker_id = ${workerId} AND status IN ('pending', 'in_progress', 'paused')
    ORDER BY created_at`
})
