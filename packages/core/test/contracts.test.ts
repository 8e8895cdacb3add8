/**
 * Every port contract against the in-memory layers: the reference adapters the orchestrator's
 * own tests and the demo run on.
 */
import { Layer } from "effect"
import { ActiveReleases, EventStore, HealthSource, Outbox, Scheduler, TrafficRouter } from "../src/index.ts"
import {
  ActiveReleasesContract,
  EventStoreContract,
  HealthSourceContract,
  OutboxContract,
  ScheduleRaceContract,
  SchedulerContract,
  TrafficRouterContract
} from "./contracts/index.ts"

EventStoreContract.suite("memory", () => EventStore.layerMemory)

SchedulerContract.suite("memory", () => Scheduler.layerMemory)

ActiveReleasesContract.suite("memory", () => ActiveReleases.layerMemory)

ScheduleRaceContract.suite(
  "memory",
  () => Layer.mergeAll(EventStore.layerMemory, Scheduler.layerMemory, ActiveReleases.layerMemory)
)

const target = { accountId: "account-1", scriptName: "checkout" }

TrafficRouterContract.suite(
  "memory",
  () => TrafficRouter.layerMemory([{ ...target, liveVersionId: "version-stable" }]),
  { target, liveVersionId: "version-stable", versionIds: ["version-canary", "version-next"], refusesFinePercentages: true }
)

const traffic = [
  { versionId: "version-canary", requests: 1_204, errors: 3 },
  { versionId: "version-stable", requests: 118_977, errors: 201 }
]

HealthSourceContract.suite(
  "memory",
  () => HealthSource.layerMemory(new Map(traffic.map(({ versionId, ...sample }) => [versionId, sample]))),
  { target, window: { start: 1_767_225_600_000, end: 1_767_225_660_000 }, traffic, idleVersionId: "version-idle" }
)

OutboxContract.suite("memory", () => Outbox.layerMemory.pipe(Layer.provideMerge(EventStore.layerMemory)))
