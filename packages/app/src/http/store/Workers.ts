/**
 * What remains of the server's Worker store: the API's view of a registered Worker, over the
 * `Workers` port (`@canaryroll/app`), for the callers that have not moved to the port yet (a
 * Cloudflare account's removal lists the Workers in it). No SQL.
 *
 * @since 0.1.0
 */
import { Workers } from "../../index.ts"
import { Effect } from "effect"
import type * as S from "@canaryroll/api/Schemas"

// The ports and their failure, so that modules using these functions can name them in their types.
export type { Storage, Workers as Port } from "../../index.ts"

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
