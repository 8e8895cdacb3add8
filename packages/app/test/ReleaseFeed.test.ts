/**
 * The ReleaseFeed contract on the memory layer (over the memory `EventStore`).
 */
import { EventStore } from "@canaryroll/core"
import { Layer } from "effect"
import { ReleaseFeed } from "../src/index.ts"
import { ReleaseFeedContract } from "./contracts/index.ts"

ReleaseFeedContract.suite("memory", () => ReleaseFeed.layerMemory().pipe(Layer.provideMerge(EventStore.layerMemory)))
