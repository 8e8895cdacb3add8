/**
 * The core's port contracts on PostgreSQL, exactly as they run on memory: every test gets a new,
 * migrated schema in this file's database. Then the rule ActiveReleases exists for, through the
 * whole orchestrator: of 32 pending releases of one Worker started at once, exactly one starts.
 */
import { Actor, HealthSource, Orchestrator, Plan, Scheduler, TrafficRouter } from "@canaryroll/core"
import { ActiveReleasesContract, EventStoreContract, OutboxContract, ScheduleRaceContract } from "@canaryroll/core/testing"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { layerPorts } from "../src/index.ts"
import * as PgScheduler from "../src/PgScheduler.ts"
import * as TestDatabase from "./database/TestDatabase.ts"

const database = TestDatabase.forFile()
const storage = () => layerPorts().pipe(Layer.provide(database.freshSchema()))

EventStoreContract.suite("postgres", storage)

OutboxContract.suite("postgres", storage)

ActiveReleasesContract.suite("postgres", storage)

ScheduleRaceContract.suite("postgres", () => {
  const schema = database.freshSchema()
  return Layer.mergeAll(layerPorts(), PgScheduler.layer({ clock: "effect" })).pipe(Layer.provide(schema))
})

describe("One release per Worker on Postgres", () => {
  it.effect("32 pending releases of one Worker started at once: exactly one starts, the others are WorkerBusy", () =>
    Effect.gen(function*() {
      const target = { accountId: "acc", scriptName: "api" }
      const person = Actor.user("usr_1", "Ada")
      const plan = Plan.make({ steps: [{ percentage: 10, waitSeconds: 60 }, { percentage: 100, waitSeconds: 60 }] })
      const ids = Array.from({ length: 32 }, (_, i) => `rel_${i.toString().padStart(2, "0")}`)
      const outcomes = yield* Effect.gen(function*() {
        yield* Effect.forEach(ids, (releaseId) =>
          Orchestrator.create({
            releaseId,
            teamId: "team",
            workerId: "wkr_api",
            accountId: target.accountId,
            scriptName: target.scriptName,
            canaryVersionId: "v2",
            planId: null,
            plan,
            autoAdvance: true,
            name: null,
            ticketUrl: null,
            actor: person
          }))
        return yield* Effect.forEach(
          ids,
          (releaseId) => Effect.result(Orchestrator.execute(releaseId, { _tag: "Start", actor: person })),
          { concurrency: "unbounded" }
        )
      }).pipe(
        Effect.provide(Layer.mergeAll(
          storage(),
          Scheduler.layerMemory,
          TrafficRouter.layerMemory([{ ...target, liveVersionId: "v1" }]),
          HealthSource.layerMemory(new Map())
        ))
      )
      const started = outcomes.filter((outcome) => outcome._tag === "Success")
      assert.strictEqual(started.length, 1)
      for (const outcome of outcomes) {
        if (outcome._tag === "Failure") assert.strictEqual(outcome.failure._tag, "WorkerBusy", String(outcome.failure))
      }
    }), 60_000)
})
