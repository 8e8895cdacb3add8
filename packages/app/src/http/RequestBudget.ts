/**
 * The share of Cloudflare's rate limits that people's requests may use (listing versions, the
 * live deployment, preflight checks), kept apart from the orchestrator's: someone polling
 * preflight or a dashboard left open must never spend the budget a rollback needs. Each has its
 * own ledger per token; together they stay within the process's share.
 *
 * @since 0.1.0
 */
import { ApiBudget } from "@canaryroll/cloudflare"
import { Context, Layer } from "effect"

/** The part of the process's share that requests get; the orchestrator keeps the rest. */
export const requestFraction = 0.2

export class RequestBudget extends Context.Service<RequestBudget, typeof ApiBudget.ApiBudget.Service>()(
  "@canaryroll/server/RequestBudget"
) {}

export const layer = (limits: ApiBudget.Limits) => Layer.effect(RequestBudget, ApiBudget.make(limits))
