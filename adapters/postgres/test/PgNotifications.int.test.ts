/**
 * PgNotifications: the NotificationStore contract on Postgres, and what only a database shows:
 * a restarted delivery process (a new pool on the same schema) sends nothing it already
 * delivered and retries only what was still owed; a process that died mid-attempt loses its
 * delivery to the next claim after the lease.
 */
import {
  Channel,
  Channels,
  ChannelSender,
  DeliveryRecorder,
  DeliveryWorker,
  Mailer,
  NotificationStore,
  RetryPolicy,
  WebhookSignature
} from "@canaryroll/notifier"
import { AesGcmSealer, NotificationStoreContract, Receiver, Releases } from "@canaryroll/notifier/testing"
import { EventStore } from "@canaryroll/core"
import { assert, describe, it } from "@effect/vitest"
import { Clock, Effect, Layer, Option, Redacted } from "effect"
import { FetchHttpClient } from "effect/http"
import { SqlClient } from "effect/sql"
import { TestClock } from "effect/testing"
import * as crypto from "node:crypto"
import { layerPorts, Migrations, PgNotifications } from "../src/index.ts"
import * as TestDatabase from "./database/TestDatabase.ts"

const database = TestDatabase.forFile()

/** The teams the contract suite uses (channels reference `teams`). */
const teams = Layer.effectDiscard(
  SqlClient.SqlClient.use((sql) =>
    sql`INSERT INTO teams (id, slug, name) VALUES ('team-a', 'team-a', 'Team A'), ('team-b', 'team-b', 'Team B')
        ON CONFLICT DO NOTHING`
  )
).pipe(Layer.provide(Migrations.layer))

const store = (client: ReturnType<typeof database.freshSchema>) =>
  PgNotifications.layer.pipe(Layer.provide(teams), Layer.provide(client))

NotificationStoreContract.suite("postgres", () => store(database.freshSchema()))

/** One key for every "process" of a test: they share the database and must open its secrets. */
const key = crypto.randomBytes(32)

/** What a server process builds on `schema`: its own pool, the ports, the store, a sender. */
const startProcess = (schema: string) => {
  const client = database.schema(schema)
  const storage = Layer.mergeAll(layerPorts(), PgNotifications.layer.pipe(Layer.provide(teams))).pipe(Layer.provide(client))
  const sender = ChannelSender.layer({ timeout: "5 seconds", allowPrivateAddresses: true }).pipe(
    Layer.provide([FetchHttpClient.layer, Mailer.layerSmtp])
  )
  return Channels.layer({ baseUrl: "https://canaryroll.example" }).pipe(
    Layer.provideMerge(sender),
    Layer.provideMerge(AesGcmSealer.layer(key)),
    Layer.provideMerge(storage)
  )
}

const appendAll = (releaseId: string, events: Parameters<EventStore.EventStore["Service"]["append"]>[2]) =>
  Effect.flatMap(EventStore.EventStore, (store) => store.append(releaseId, 0, events))

describe("PgNotifications", () => {
  it.effect("a restarted delivery process resends nothing delivered and retries only what was owed", () =>
    Effect.gen(function*() {
      // the release's start is accepted; the completion first meets a 500
      const hook = yield* Receiver.make((_, index) => index === 1 ? { status: 500, body: "down" } : { status: 200 })

      yield* Effect.gen(function*() {
        const channels = yield* Channels.Channels
        yield* channels.create("team-a", {
          name: "ops",
          events: ["release.started", "release.completed"],
          config: { kind: "webhook", url: `${hook.origin}/hook` }
        })
        yield* appendAll("release-1", Releases.completed("release-1", "team-a"))
        const recorder = yield* DeliveryRecorder.make({ baseUrl: "https://canaryroll.example" })
        const worker = yield* DeliveryWorker.make()
        assert.strictEqual(yield* recorder.runOnce, 9)
        assert.strictEqual(yield* worker.runDue, 2)
        const statuses = (yield* channels.deliveries("team-a")).map((d) => [d.title, d.status])
        assert.deepStrictEqual(statuses, [
          ["checkout-api released: version v-canary serves 100%", "pending"],
          ["Release of checkout-api started", "delivered"]
        ])
      }).pipe(Effect.provide(startProcess("restart"), { local: true }))

      // the restart: a new pool, recorder and worker on the same database
      yield* Effect.gen(function*() {
        const recorder = yield* DeliveryRecorder.make({ baseUrl: "https://canaryroll.example" })
        const worker = yield* DeliveryWorker.make()
        assert.strictEqual(yield* recorder.runOnce, 0)
        assert.strictEqual(yield* worker.runDue, 0)
        // even the whole log handed out again records nothing new
        const replay = yield* DeliveryRecorder.make({ baseUrl: "https://canaryroll.example", consumer: "notifier-2" })
        assert.strictEqual(yield* replay.runOnce, 9)
        yield* TestClock.adjust(RetryPolicy.defaultPolicy.baseDelayMs)
        assert.strictEqual(yield* worker.runDue, 1)
        yield* TestClock.adjust("1 day")
        assert.strictEqual(yield* worker.runDue, 0)
        const channels = yield* Channels.Channels
        const deliveries = yield* channels.deliveries("team-a")
        assert.deepStrictEqual(deliveries.map((d) => [d.status, d.attempts]), [["delivered", 2], ["delivered", 1]])
      }).pipe(Effect.provide(startProcess("restart"), { local: true }))

      const events = hook.received.map((request) => JSON.parse(request.body).event.name)
      assert.deepStrictEqual(events, ["release.started", "release.completed", "release.completed"])
    }))

  it.effect("a delivery claimed by a process that died is claimed again once the lease ends", () =>
    Effect.gen(function*() {
      const hook = yield* Receiver.make()
      const lease = 60_000
      yield* Effect.gen(function*() {
        const channels = yield* Channels.Channels
        yield* channels.create("team-a", {
          name: "ops",
          events: ["release.completed"],
          config: { kind: "webhook", url: `${hook.origin}/hook` }
        })
        yield* appendAll("release-1", Releases.completed("release-1", "team-a"))
        yield* (yield* DeliveryRecorder.make({ baseUrl: "https://canaryroll.example" })).runOnce
        // claimed, then the process is gone before it sent anything
        const store = yield* NotificationStore.NotificationStore
        const claimed = yield* store.claimDue({ now: yield* Clock.currentTimeMillis, limit: 10, leaseMs: lease })
        assert.strictEqual(claimed.length, 1)
      }).pipe(Effect.provide(startProcess("killed"), { local: true }))

      yield* Effect.gen(function*() {
        const worker = yield* DeliveryWorker.make({ lease: lease })
        assert.strictEqual(yield* worker.runDue, 0)
        yield* TestClock.adjust(lease)
        assert.strictEqual(yield* worker.runDue, 1)
        const [delivery] = yield* (yield* Channels.Channels).deliveries("team-a")
        assert.deepStrictEqual([delivery!.status, delivery!.attempts], ["delivered", 2])
      }).pipe(Effect.provide(startProcess("killed"), { local: true }))
      assert.strictEqual(hook.received.length, 1)
    }))

  it.effect("a rotated-out signing secret is stored sealed beside the new one and still signs", () =>
    Effect.gen(function*() {
      const hook = yield* Receiver.make()
      const channels = yield* Channels.Channels
      const created = yield* channels.create("team-a", {
        name: "ops",
        events: ["release.completed"],
        config: { kind: "webhook", url: `${hook.origin}/hook` }
      })
      const rotated = yield* channels.update("team-a", created.channel.id, { rotateSigningSecret: true })
      const [old, current] = [created, rotated].map((saved) => Redacted.value(saved.signingSecret!))
      const record = Option.getOrThrow(yield* (yield* NotificationStore.NotificationStore).getChannel("team-a", created.channel.id))
      assert.deepStrictEqual(Object.keys(record.secrets).sort(), [Channel.previousSecretName, "secret", "url"])
      assert.notInclude(JSON.stringify(record), old!)

      const sent = yield* channels.sendTest("team-a", created.channel.id)
      assert.strictEqual(sent.status, "delivered")
      const [request] = hook.received
      const nowSeconds = Math.floor((yield* Clock.currentTimeMillis) / 1000)
      for (const secret of [current!, old!]) {
        const verification = WebhookSignature.verify({
          secret,
          body: request!.body,
          signature: request!.headers["x-canaryroll-signature"] as string,
          timestamp: request!.headers["x-canaryroll-timestamp"] as string,
          nowSeconds
        })
        assert.isTrue(verification.valid)
      }
    }).pipe(Effect.provide(startProcess("rotation"), { local: true })))
})
