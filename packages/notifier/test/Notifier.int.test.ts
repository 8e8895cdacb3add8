/**
 * `Notifier.layerWith` as a server process runs it: the recorder and the worker in the
 * background for the layer's lifetime, on the real clock, delivering as events are appended.
 */
import { EventStore, Outbox } from "@canaryroll/core"
import { assert, describe, it } from "@effect/vitest"
import { Clock, Effect, Layer, Redacted } from "effect"
import { Channels, Mailer, NotificationStore, Notifier, WebhookSignature } from "../src/index.ts"
import * as AesGcmSealer from "./support/AesGcmSealer.ts"
import * as Pipeline from "./support/Pipeline.ts"
import * as Receiver from "./support/Receiver.ts"
import * as Releases from "./support/Releases.ts"

const process = Notifier.layerWith({
  baseUrl: Pipeline.baseUrl,
  recorder: { pollInterval: "20 millis" },
  worker: { pollInterval: "20 millis" },
  sender: { allowPrivateAddresses: true }
}).pipe(
  Layer.provideMerge(Layer.mergeAll(
    Outbox.layerMemory.pipe(Layer.provideMerge(EventStore.layerMemory)),
    NotificationStore.layerMemory,
    AesGcmSealer.layer(),
    Mailer.layerSmtp
  ))
)

describe("Notifier", () => {
  it.live("delivers in the background as release events are appended", () =>
    Effect.gen(function*() {
      const hook = yield* Receiver.make()
      const channels = yield* Channels.Channels
      const { signingSecret } = yield* channels.create("team-a", {
        name: "ops",
        events: ["release.rolled_back"],
        config: { kind: "webhook", url: `${hook.origin}/hook` }
      })
      yield* Pipeline.append("release-1", Releases.rolledBack("release-1", "team-a"))
      const first = yield* hook.next
      const second = yield* hook.next
      assert.deepStrictEqual(
        [first, second].map((request) => JSON.parse(request.body).event.type),
        ["RollbackStarted", "RolledBack"]
      )
      const nowSeconds = Math.floor((yield* Clock.currentTimeMillis) / 1000)
      assert.isTrue(
        WebhookSignature.verify({
          secret: Redacted.value(signingSecret!),
          body: second.body,
          signature: second.headers["x-canaryroll-signature"] as string,
          timestamp: second.headers["x-canaryroll-timestamp"] as string,
          nowSeconds
        }).valid
      )
    }).pipe(Effect.provide(process)))
})
