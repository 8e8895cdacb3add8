/**
 * The read-model contracts against the memory layers: the summaries and the audit log folded from
 * the core's memory EventStore, settings entries kept in memory under memory Transactions.
 */
import { EventStore } from "@canaryroll/core"
import { Layer } from "effect"
import { AuditLog, ReleaseSummaries, Storage } from "../src/index.ts"
import { AuditLogContract, ReleaseSummariesContract } from "./contracts/index.ts"

ReleaseSummariesContract.suite("memory", () => ReleaseSummaries.layerMemory.pipe(Layer.provideMerge(EventStore.layerMemory)))

AuditLogContract.suite(
  "memory",
  () => Layer.mergeAll(AuditLog.layerMemory, Storage.layerMemory).pipe(Layer.provideMerge(EventStore.layerMemory))
)
