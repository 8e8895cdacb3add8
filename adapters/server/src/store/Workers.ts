/**
 * What remains of the server's Worker store: the API's view of a registered Worker, over the
 * `Workers` port (`@canaryroll/app`), for the callers that have not moved to the port yet (a
 * Cloudflare account's removal lists the Workers in it); and the unfinished releases of a Worker
 * (see `unfinishedReleases`).
 *
 * @since 0.1.0
 */
import { Workers } from "@canaryroll/app"
import { Effect } from "effect"
import { SqlClient } from "effect/sql"
import type * as S from "../api/Schemas.ts"

// The ports and their failure, so that modules using these functions can name them in their types.
export type { Storage, Workers as Port } from "@canaryroll/app"

export const toView = (worker: Workers.Worker): S.Worker => ({
  id: worker.id,
  accountId: worker.accountId,
  scriptName: worker.scriptName,
  defaultPlanId: worker.defaultPlanId,
  healthPolicy: worker.healthPolicy,
  createdAt: new Date(worker.createdAt).toISOString()
})

export const workersInAccount = (teamId: string, accountId: string) =>
  Workers.Workers.use((workers) => Effect.map(workers.inAccount(teamId, accountId), (all) => all.map(toView)))

/**
 * Releases of the Worker that are not finished (pending, in progress or paused), oldest first.
 * This read stays here with the per-Worker advisory lock it is checked under (one release per
 * Worker, see `handlers/Deployments.ts`) until that rule moves behind a port of its own.
 */
export const unfinishedReleases = Effect.fnUntraced(function*(teamId: string, workerId: string) {
  const sql = yield* SqlClient.SqlClient
  return yield* sql<{ release_id: string; status: string }>`
    SELECT release_id, status FROM release_summaries
    WHERE team_id = ${teamId} AND worker_id = ${workerId} AND status IN ('pending', 'in_progress', 'paused')
    ORDER BY created_at`
})
