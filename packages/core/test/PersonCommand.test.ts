/**
 * The table of person commands against the orchestrator and the decider it runs: every command,
 * asked of a release in every status people meet, does something exactly in the statuses the
 * table says it applies to (what the release page offers as buttons), and is refused or already
 * done in the others. A row whose `from` drifted from the decider fails here.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer, Result } from "effect"
import { TestClock } from "effect/testing"
import {
  ActiveReleases,
  Actor,
  EventStore,
  HealthSource,
  Orchestrator,
  PersonCommand,
  Plan,
  Scheduler,
  TrafficRouter
} from "../src/index.ts"

const target = { accountId: "acc", scriptName: "api" }
const person = Actor.user("usr_1", "Ada")
const plan = Plan.make({
  steps: [{ percentage: 10, waitSeconds: 60 }, { percentage: 100, waitSeconds: 60 }],
  health: { intervalSeconds: 60, analyticsDelaySeconds: 0, minRequests: 1 }
})

const ports = () =>
  Layer.mergeAll(
    EventStore.layerMemory,
    Scheduler.layerMemory,
    ActiveReleases.layerMemory,
    Layer.succeed(TrafficRouter.TrafficRouter, TrafficRouter.makeMemory([{ ...target, liveVersionId: "v1" }]).router),
    HealthSource.layerMemory(new Map([["v2", { requests: 100, errors: 0 }], ["v1", { requests: 900, errors: 0 }]]))
  )

const ask = (releaseId: string, name: PersonCommand.Name) =>
  Orchestrator.execute(releaseId, PersonCommand.request(name, { actor: person, reason: "testing", fromStep: 0 }))

/** A release brought to `status` by the person commands themselves. */
const releaseIn = (status: "pending" | "in_progress" | "paused" | "cancelled") =>
  Effect.gen(function*() {
    const releaseId = `rel_${status}`
    yield* Orchestrator.create({
      releaseId,
      teamId: "team",
      workerId: `wkr_${status}`,
      accountId: target.accountId,
      scriptName: target.scriptName,
      canaryVersionId: "v2",
      planId: null,
      plan,
      autoAdvance: false,
      name: null,
      ticketUrl: null,
      actor: person
    })
    // Started, its first step's traffic shifted (a tick), and a healthy check a minute later (a
    // tick): in progress at step 0, soaking, and a person may advance it.
    const started = Effect.andThen(ask(releaseId, "start"), Orchestrator.tick(releaseId)).pipe(
      Effect.andThen(TestClock.adjust("61 seconds")),
      Effect.andThen(Orchestrator.tick(releaseId))
    )
    const path = {
      pending: Effect.void,
      in_progress: started,
      paused: Effect.andThen(started, ask(releaseId, "pause")),
      cancelled: ask(releaseId, "cancel")
    }
    yield* Effect.asVoid(path[status])
    const { state } = yield* Orchestrator.load(releaseId)
    assert.strictEqual(state.status, status)
    return releaseId
  })

const eventsOf = (releaseId: string) => Effect.flatMap(EventStore.EventStore, (store) => store.readStream(releaseId))

describe("PersonCommand", () => {
  it("request: the command's request, with what it takes and nothing else", () => {
    const input = { actor: person, reason: "why", fromStep: 2 }
    assert.deepStrictEqual(PersonCommand.request("start", input), { _tag: "Start", actor: person })
    assert.deepStrictEqual(PersonCommand.request("advance", input), { _tag: "Advance", actor: person, fromStep: 2 })
    assert.deepStrictEqual(PersonCommand.request("rollback", input), { _tag: "Rollback", actor: person, reason: "why" })
    assert.deepStrictEqual(PersonCommand.simple, PersonCommand.names.filter((name) => name !== "advance"))
  })

  for (const status of ["pending", "in_progress", "paused", "cancelled"] as const) {
    for (const name of PersonCommand.names) {
      const applies = PersonCommand.appliesTo(name, status)
      it.effect(`${name} on a ${status} release ${applies ? "does something" : "is refused or already done"}`, () =>
        Effect.gen(function*() {
          const releaseId = yield* releaseIn(status)
          const before = (yield* eventsOf(releaseId)).length
          // Advance names the step the release is at: 0 in every one of these.
          const outcome = yield* Orchestrator.execute(
            releaseId,
            PersonCommand.request(name, { actor: person, reason: "testing", fromStep: 0 })
          ).pipe(Effect.result)
          const after = (yield* eventsOf(releaseId)).length
          if (applies) {
            assert.isTrue(Result.isSuccess(outcome), `${name} refused on ${status}: ${Result.isFailure(outcome) ? JSON.stringify(outcome.failure) : ""}`)
            assert.isAbove(after, before, `${name} on ${status} recorded nothing`)
          } else {
            assert.isTrue(Result.isFailure(outcome) || after === before, `${name} did something on ${status}`)
          }
        }).pipe(Effect.provide(ports())))
    }
  }
})
