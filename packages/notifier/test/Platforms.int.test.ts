/**
 * Each platform's message, as its endpoint receives it: the whole path from release events in
 * the outbox to a real HTTP server on loopback, checked against the platform's documented
 * structure and limits (see support/PlatformShapes.ts), and webhook signatures verified with the
 * secret the channel was created with.
 */
import { assert, describe, it } from "@effect/vitest"
import { Clock, Effect, Redacted } from "effect"
import { Channels, NotificationEvent, WebhookSignature } from "../src/index.ts"
import * as PlatformShapes from "./support/PlatformShapes.ts"
import * as Pipeline from "./support/Pipeline.ts"
import * as Receiver from "./support/Receiver.ts"
import * as Releases from "./support/Releases.ts"


const allEvents = NotificationEvent.names

/** A rollback with a reason far beyond every limit, markup and emoji included. */
const noisyRollback = (releaseId: string) =>
  Releases.rolledBack(releaseId, "team-a").map((event) =>
    event._tag === "RollbackStarted"
      ? { ...event, reason: `<!channel> @everyone *${"error rate 5.17% > maxErrorRate (1.00%) 🚨 ".repeat(1500)}*` }
      : event
  )

const sendAll = Effect.gen(function*() {
  const recorder = yield* Pipeline.recorder()
  const worker = yield* Pipeline.worker()
  yield* recorder.runOnce
  return yield* worker.runDue
})

const bodies = (receiver: Receiver.Receiver) => receiver.received.map((request) => JSON.parse(request.body))

describe("platform messages over HTTP", () => {
  it.effect("Slack, Discord and Google Chat receive messages their APIs accept, one per event, in order", () =>
    Effect.gen(function*() {
      const slack = yield* Receiver.make()
      const discord = yield* Receiver.make()
      const chat = yield* Receiver.make()
      const channels = yield* Channels.Channels
      for (const [kind, receiver] of [["slack", slack], ["discord", discord], ["google_chat", chat]] as const) {
        yield* channels.create("team-a", {
          name: kind,
          events: allEvents,
          config: { kind, url: `${receiver.origin}/hooks/${kind}/T000/B000/XXXX` }
        })
      }
      yield* Pipeline.append("release-1", noisyRollback("release-1"))
      yield* Pipeline.append("release-2", Releases.completed("release-2", "team-a"))
      yield* sendAll

      // rollback: created, started, 3 failed checks, rollback started, rolled back; completed: created, started, 2 steps, completed
      for (const receiver of [slack, discord, chat]) {
        assert.strictEqual(receiver.received.length, 12)
        assert.isTrue(receiver.received.every((request) => request.method === "POST"))
        assert.isTrue(receiver.received.every((request) => request.headers["content-type"] === "application/json"))
      }
      assert.match(slack.received[0]!.path, /^\/hooks\/slack\/T000\/B000\/XXXX$/)

      for (const body of bodies(slack)) assert.deepStrictEqual(PlatformShapes.slackProblems(body), [])
      for (const body of bodies(discord)) assert.deepStrictEqual(PlatformShapes.discordProblems(body), [])
      for (const request of chat.received) assert.deepStrictEqual(PlatformShapes.googleChatProblems(request.body), [])

      const slackTitles = bodies(slack).map((body) => body.blocks[0].text.text)
      assert.deepStrictEqual(slackTitles.slice(0, 7), [
        "Release of checkout-api created",
        "Release of checkout-api started",
        "checkout-api failed a health check at 10%",
        "checkout-api failed a health check at 10%",
        "checkout-api failed a health check at 10%",
        "Rolling back checkout-api",
        "checkout-api rolled back"
      ])
      const rollback = JSON.stringify(bodies(slack)[5])
      assert.include(rollback, "error rate 5.17% over 1200 requests (limit 1.00%)")
      assert.include(rollback, "&lt;!channel&gt;")
      assert.include(rollback, "https://canaryroll.example/teams/team-a/deployments/release-1")

      const embeds = bodies(discord).map((body) => body.embeds[0])
      assert.deepStrictEqual(embeds.slice(5, 7).map((embed) => embed.color), [0xf59e0b, 0xef4444])
      assert.strictEqual(embeds[11].color, 0x22c55e)
      assert.deepStrictEqual(bodies(discord)[5].allowed_mentions, { parse: [] })
    }).pipe(Effect.provide(Pipeline.layer())))

  it.effect("a webhook gets { event, release }, signed with the channel's secret; a tampered body does not verify", () =>
    Effect.gen(function*() {
      const hook = yield* Receiver.make()
      const channels = yield* Channels.Channels
      const { signingSecret } = yield* channels.create("team-a", {
        name: "ops",
        events: ["release.rolled_back", "release.health_check_failed"],
        config: { kind: "webhook", url: `${hook.origin}/canaryroll?token=abc` }
      })
      assert.isNotNull(signingSecret)
      const secret = Redacted.value(signingSecret!)
      yield* Pipeline.append("release-1", Releases.rolledBack("release-1", "team-a"))
      yield* sendAll
      assert.strictEqual(hook.received.length, 5)
      const nowSeconds = Math.floor((yield* Clock.currentTimeMillis) / 1000)
      for (const request of hook.received) {
        const headers = {
          signature: request.headers["x-canaryroll-signature"] as string,
          timestamp: request.headers["x-canaryroll-timestamp"] as string
        }
        assert.deepStrictEqual(WebhookSignature.verify({ secret, body: request.body, nowSeconds, ...headers }), { valid: true })
        assert.deepStrictEqual(
          WebhookSignature.verify({ secret, body: request.body.replace("checkout-api", "checkout-apx"), nowSeconds, ...headers }),
          { valid: false, reason: "mismatch" }
        )
        assert.match(request.headers["x-canaryroll-delivery"] as string, /^dlv_/)
      }
      assert.strictEqual(new Set(hook.received.map((r) => r.headers["x-canaryroll-delivery"])).size, 5)
      const body = JSON.parse(hook.received[3]!.body)
      assert.strictEqual(body.event.id, "release-1:9")
      assert.strictEqual(body.event.name, "release.rolled_back")
      assert.strictEqual(body.event.type, "RollbackStarted")
      assert.deepStrictEqual(body.event.measurement, { requests: 1200, errorRate: 62 / 1200, maxErrorRate: 0.01 })
      assert.strictEqual(body.release.id, "release-1")
      assert.strictEqual(body.release.teamId, "team-a")
      assert.strictEqual(body.release.cfPreviousVersionId, "v-stable")
      assert.strictEqual(body.release.scriptName, "checkout-api")
      assert.deepStrictEqual(
        hook.received.map((request) => JSON.parse(request.body).event.name),
        ["release.health_check_failed", "release.health_check_failed", "release.health_check_failed", "release.rolled_back", "release.rolled_back"]
      )
    }).pipe(Effect.provide(Pipeline.layer())))
})
