/**
 * The tables the directory's memory layers share (Cloudflare accounts, Workers, plans), as their
 * Postgres layers share one database: a rule of one port sees another's rows (a plan a Worker
 * uses is not deleted, an account with Workers is not removed, a Worker is registered only in an
 * account its team connected). Provide one `layer` under the memory layers that must agree.
 *
 * @since 0.2.0
 */
import { Context, Layer } from "effect"
import type { CloudflareAccount } from "./CloudflareAccounts.ts"
import type { StoredPlan } from "./Plans.ts"
import type { Worker } from "./Workers.ts"

export class MemoryDirectory extends Context.Service<MemoryDirectory, {
  /** By Cloudflare account id: an account belongs to one team at most. */
  readonly accounts: Map<string, CloudflareAccount>
  /** By Worker id. */
  readonly workers: Map<string, Worker>
  /** By plan id. */
  readonly plans: Map<string, StoredPlan>
}>()("@canaryroll/app/MemoryDirectory") {}

/** Empty tables. */
export const layer: Layer.Layer<MemoryDirectory> = Layer.sync(
  MemoryDirectory,
  () => MemoryDirectory.of({ accounts: new Map(), workers: new Map(), plans: new Map() })
)
