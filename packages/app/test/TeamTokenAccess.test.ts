/**
 * The TeamTokenAccess contract on the memory layers: the lookup made of the memory `ApiTokens`,
 * `Teams` and `ReleaseSummaries` (the summaries folded from a memory `EventStore`).
 */
import { EventStore } from "@canaryroll/core"
import { Layer } from "effect"
import { ApiTokens, People, ReleaseSummaries, TeamTokenAccess, Teams } from "../src/index.ts"
import { TeamTokenAccessContract } from "./contracts/index.ts"

TeamTokenAccessContract.suite("memory", () =>
  TeamTokenAccess.layerMemory.pipe(
    Layer.provideMerge(Layer.mergeAll(Teams.layerMemory, ApiTokens.layerMemory, ReleaseSummaries.layerMemory)),
    Layer.provideMerge(Layer.mergeAll(People.layerMemory, EventStore.layerMemory))
  ))
