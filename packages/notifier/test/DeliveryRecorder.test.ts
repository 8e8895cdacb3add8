/**
 * The recorder, on memory stores under TestClock: a defect while recording one event does not
 * stop the outbox for every team (the event is retried a few times, then skipped), a passing one
 * loses nothing, and a channel hears about events recorded just after its creation even when the
 * store's clock is behind the notifier's.
 */
import { EventStore, Outbox } from "@canaryroll/core"
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { TestClock } from "effect/testing"
import { Channels, DeliveryRecorder, NotificationStore } from "../src/index.ts"
import * as Pipeline from "./support/Pipeline.ts"
import * as Releases from "./support/Releases.ts"

const webhook = (name: string) =>
  Effect.flatMap(Channels.Channels, (channels) =>
    channels.create("team-a", {
      name,
      events: ["release.created", "release.completed"],
      config: { kind: "webhook", url: "https://hooks.example.com/canaryroll" }
    }))

const recorded = Effect.flatMap(NotificationStore.NotificationStore, (store) => store.listDeliveries("team-a", { limit: 100 }))

/** A recorder whose reads of `broken`'s stream die `times` times (an event that no longer decodes), then work. */
const recorderWithBrokenStream = (broken: string, times: number) =>
  Effect.gen(function*() {
    const events = yield* EventStore.EventStore
    let failures = 0
    const faulty = EventStore.EventStore.of({
      ...events,
      readStream: (streamId) =>
        streamId === broken && failures++ < times
          ? Effect.die(new Error(`event ${streamId}:1 does not decode`))
          : events.readStream(streamId)
    })
    return yield* Pipeline.recorder({ pollInterval: "1 second" }).pipe(Effect.provideService(EventStore.EventStore, faulty))
  })

/** Lets the recorder's loop run for `seconds` seconds of TestClock, a poll at a time. */
const runFor = (recorder: DeliveryRecorder.DeliveryRecorder, seconds: number) =>
  Effect.gen(function*() {
    yield* Effect.forkChild(recorder.run)
    for (let i = 0; i < seconds; i++) yield* TestClock.adjust("1 second")
  })

describe("DeliveryRecorder", () => {
  it.effect("an event that keeps failing with a defect is skipped after a few tries; the others are recorded", () =>
    Effect.gen(function*() {
      yield* webhook("ops")
      yield* Pipeline.append("release-bad", Releases.completed("release-bad", "team-a"))
      yield* Pipeline.append("release-good", Releases.completed("release-good", "team-a"))
      yield* runFor(yield* recorderWithBrokenStream("release-bad", Number.POSITIVE_INFINITY), 60)
      assert.deepStrictEqual(
        (yield* recorded).map((d) => [d.releaseId, d.eventName]).sort(),
        [["release-good", "release.completed"], ["release-good", "release.created"]]
      )
      // acknowledged past the broken events: nothing is handed out again
      assert.deepStrictEqual(yield* Effect.flatMap(Outbox.Outbox, (outbox) => outbox.pending("notifier", 100)), [])
    }).pipe(Effect.provide(Pipeline.layer())))

  it.effect("a defect that passes loses nothing", () =>
    Effect.gen(function*() {
      yield* webhook("ops")
      yield* Pipeline.append("release-1", Releases.completed("release-1", "team-a"))
      yield* runFor(yield* recorderWithBrokenStream("release-1", 3), 20)
      assert.deepStrictEqual((yield* recorded).map((d) => d.eventName).sort(), ["release.completed", "release.created"])
    }).pipe(Effect.provide(Pipeline.layer())))

  it.effect("a channel hears about events recorded just before its creation by a clock behind the notifier's", () =>
    Effect.gen(function*() {
      // recorded at 0 by the event store's clock; the channels' clock says 30 s and 2 min later
      yield* Pipeline.append("release-1", Releases.completed("release-1", "team-a"))
      yield* TestClock.adjust("30 seconds")
      const { channel: soon } = yield* webhook("created just after")
      yield* TestClock.adjust("90 seconds")
      const { channel: late } = yield* webhook("created later")
      yield* (yield* Pipeline.recorder()).runOnce
      const byChannel = (yield* recorded).map((d) => d.channelId)
      assert.strictEqual(byChannel.filter((id) => id === soon.id).length, 2)
      assert.strictEqual(byChannel.filter((id) => id === late.id).length, 0)
    }).pipe(Effect.provide(Pipeline.layer())))
})
