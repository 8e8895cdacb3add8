/**
 * A channel kind is one module, registered once. This file is the whole of a new kind, `pager`
 * (an endpoint URL in clear, a routing key sealed, a JSON event per notification), and shows it
 * working end to end with nothing else changed: its config is accepted by the input schema the
 * registry derives (as the HTTP API's is derived from the standard registry) and refused by the
 * standard one; the channel is stored in Postgres (no CHECK on the kind since migration 0014)
 * with its secret sealed; it is shown without the secret; and it is rendered and sent to a
 * loopback receiver, both as a test message and from the outbox by the delivery worker.
 *
 * A real kind is the same module under packages/notifier/src/kinds/, one line in
 * `ChannelKinds.standard`, and its section in docs/notifications.md: three files.
 */
import { EventStore } from "@canaryroll/core"
import {
  Channel,
  ChannelKind,
  ChannelKinds,
  Channels,
  ChannelSender,
  DeliveryRecorder,
  DeliveryWorker,
  Mailer,
  WebhookSignature
} from "@canaryroll/notifier"
import { AesGcmSealer, Receiver, Releases } from "@canaryroll/notifier/testing"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer, Redacted, Result, Schema } from "effect"
import { FetchHttpClient } from "effect/http"
import { SqlClient } from "effect/sql"
import * as crypto from "node:crypto"
import { layerPorts, Migrations, PgNotifications } from "../src/index.ts"
import * as TestDatabase from "./database/TestDatabase.ts"

// ---- the kind: everything a `pager` channel is --------------------------------------------------

const RoutingKey = Schema.String.check(
  ChannelKind.check((key: string) => /^[A-Za-z0-9]{16,64}$/.test(key), () => "must be 16 to 64 letters and digits")
)

const pager = ChannelKind.make({
  kind: "pager",
  label: "pager",
  config: { endpoint: ChannelKind.Url, routingKey: RoutingKey },
  view: { endpoint: Schema.String, routingKeySet: Schema.Literal(true) },
  seal: (config, { channelId }) =>
    Effect.map(ChannelKind.sealSecret(channelId, "routingKey", config.routingKey), (routingKey) => ({
      settings: { endpoint: config.endpoint },
      secrets: { routingKey },
      generatedSecret: null
    })),
  show: (channel) => ({ endpoint: String(channel.settings["endpoint"]), routingKeySet: true as const }),
  open: (channel) =>
    Effect.map(ChannelKind.openSecret(channel, "routingKey"), (routingKey) => ({
      endpoint: String(channel.settings["endpoint"]),
      routingKey
    })),
  secretsOf: (opened) => [Redacted.value(opened.routingKey)],
  send: (opened, notification, attempt, transport) =>
    transport.post({
      url: Redacted.make(opened.endpoint),
      body: JSON.stringify({
        routing_key: Redacted.value(opened.routingKey),
        event_action: "trigger",
        dedup_key: notification.eventId,
        payload: { summary: notification.title, severity: notification.outcome === "danger" ? "critical" : "info" }
      }),
      headers: { [WebhookSignature.deliveryHeader]: attempt.deliveryId }
    })
})

/** The standard kinds and `pager`: what a runtime with this kind registers. */
const registry = ChannelKinds.make([...ChannelKinds.standard.kinds, pager])

// ---- the runtime around it: Postgres, a sealer, a sender -----------------------------------------

const database = TestDatabase.forFile()

const teams = Layer.effectDiscard(
  SqlClient.SqlClient.use((sql) => sql`INSERT INTO teams (id, slug, name) VALUES ('team-a', 'team-a', 'Team A') ON CONFLICT DO NOTHING`)
).pipe(Layer.provide(Migrations.layer))

const services = () =>
  Layer.mergeAll(layerPorts(), PgNotifications.layer.pipe(Layer.provide(teams))).pipe(
    Layer.provideMerge(database.freshSchema()),
    Layer.provideMerge(
      ChannelSender.layer({ timeout: "5 seconds", allowPrivateAddresses: true, registry }).pipe(
        Layer.provide([FetchHttpClient.layer, Mailer.layerSmtp])
      )
    ),
    // Under the sender and the channels alike: both open the secrets it seals.
    Layer.provideMerge(AesGcmSealer.layer(crypto.randomBytes(32)))
  )

const routingKey = "R0uT1nGkEy0123456789"

describe("a channel kind registered by its own module", () => {
  it("is accepted by the input schema derived from its registry, and by no other", () => {
    const input = { name: "on-call", events: ["release.rolled_back"], config: { kind: "pager", endpoint: "https://pager.example/v2/enqueue", routingKey } }
    const accepted = Channel.decodeInput(input, registry)
    assert.isTrue(Result.isSuccess(accepted))
    assert.deepStrictEqual(registry.Kind.literals, ["slack", "discord", "google_chat", "email", "webhook", "pager"])

    // The standard registry (the API's schemas) does not know it.
    assert.isTrue(Result.isFailure(Channel.decodeInput(input)))
    // What an API declaring its endpoint with this registry's schema documents (JSON Schema, as in OpenAPI).
    const documented = JSON.stringify(Schema.toJsonSchemaDocument(registry.ChannelInput))
    assert.include(documented, `"pager"`)
    assert.include(documented, `"routingKey"`)
    assert.notInclude(JSON.stringify(Schema.toJsonSchemaDocument(ChannelKinds.ChannelInput)), `"pager"`)
    // Its own checks name the field.
    const refused = Channel.decodeInput({ ...input, config: { ...input.config, routingKey: "short" } }, registry)
    assert.isTrue(Result.isFailure(refused))
    if (Result.isFailure(refused)) {
      assert.deepStrictEqual(refused.failure.issues.map((issue) => issue.field), ["config.routingKey"])
      assert.include(refused.failure.message, "must be 16 to 64 letters and digits")
    }
  })

  it.effect("is stored sealed, shown without its secret, rendered and sent to a loopback receiver", () =>
    Effect.gen(function*() {
      const receiver = yield* Receiver.make(() => ({ status: 202, body: "queued" }))
      const channels = yield* Channels.make({ baseUrl: "https://canaryroll.example", registry })
      const input = yield* Effect.fromResult(Channel.decodeInput({
        name: "on-call",
        events: ["release.started"],
        config: { kind: "pager", endpoint: `${receiver.origin}/v2/enqueue`, routingKey }
      }, registry))

      const { channel } = yield* channels.create("team-a", input)
      assert.strictEqual(channel.kind, "pager")
      assert.deepStrictEqual(channel.config, { kind: "pager", endpoint: `${receiver.origin}/v2/enqueue`, routingKeySet: true })

      // Stored: the kind as its name, the routing key sealed, nowhere in clear.
      const sql = yield* SqlClient.SqlClient
      const rows = yield* sql<{ kind: string; settings: unknown; sealed_secrets: unknown }>`
        SELECT kind, settings, sealed_secrets FROM notification_channels WHERE id = ${channel.id}`
      assert.strictEqual(rows[0]?.kind, "pager")
      assert.notInclude(JSON.stringify(rows), routingKey)
      assert.deepStrictEqual(Object.keys(rows[0]?.sealed_secrets as object), ["routingKey"])

      // A test message, sent at once.
      const test = yield* channels.sendTest("team-a", channel.id)
      assert.strictEqual(test.status, "delivered")
      assert.strictEqual(test.lastStatusCode, 202)
      const first = yield* receiver.next
      assert.strictEqual(first.path, "/v2/enqueue")
      assert.strictEqual(first.headers["x-canaryroll-delivery"], test.id)
      const sent = JSON.parse(first.body)
      assert.strictEqual(sent.routing_key, routingKey)
      assert.strictEqual(sent.payload.severity, "info")

      // From the outbox: an event of the release, recorded and delivered by the worker.
      const events = yield* EventStore.EventStore
      yield* events.append("release-1", 0, Releases.completed("release-1", "team-a").slice(0, 2))
      const recorder = yield* DeliveryRecorder.make({ baseUrl: "https://canaryroll.example" })
      assert.isAbove(yield* recorder.runOnce, 0)
      const worker = yield* DeliveryWorker.make()
      assert.strictEqual(yield* worker.runDue, 1)
      const delivered = JSON.parse((yield* receiver.next).body)
      assert.strictEqual(delivered.routing_key, routingKey)
      assert.match(delivered.payload.summary, /started/)
      assert.match(delivered.dedup_key, /^release-1:\d+$/)

      const listed = yield* channels.deliveries("team-a")
      assert.deepStrictEqual(listed.map((delivery) => delivery.status), ["delivered", "delivered"])
    }).pipe(Effect.provide(services())))

  it.effect("an error that repeats the kind's secret is recorded without it", () =>
    Effect.gen(function*() {
      const receiver = yield* Receiver.make((request) => ({ status: 400, body: `bad routing key in ${request.body}` }))
      const channels = yield* Channels.make({ baseUrl: "https://canaryroll.example", registry })
      const { channel } = yield* channels.create("team-a", {
        name: "on-call",
        events: ["release.failed"],
        config: { kind: "pager", endpoint: `${receiver.origin}/v2/enqueue`, routingKey }
      })
      const test = yield* channels.sendTest("team-a", channel.id)
      assert.strictEqual(test.status, "failed")
      assert.strictEqual(test.lastStatusCode, 400)
      assert.include(test.lastError ?? "", "bad routing key")
      assert.notInclude(test.lastError ?? "", routingKey)
    }).pipe(Effect.provide(services())))
})
