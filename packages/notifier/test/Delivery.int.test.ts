/**
 * Delivery over real HTTP: retries and their timing (under TestClock: no test waits for a
 * backoff to pass), giving up, permanent failures, deduplication, a dead channel beside live
 * ones (on the real clock), and the test message.
 */
import { assert, describe, it } from "@effect/vitest"
import { Clock, Duration, Effect, Fiber, Option, Redacted, Schedule } from "effect"
import { TestClock } from "effect/testing"
import { Channels, NotificationStore, RetryPolicy, WebhookSignature } from "../src/index.ts"
import * as Pipeline from "./support/Pipeline.ts"
import * as Receiver from "./support/Receiver.ts"
import * as Releases from "./support/Releases.ts"

const webhook = (receiver: Receiver.Receiver, events: Parameters<Channels.Channels["Service"]["create"]>[1]["events"] = ["release.completed"]) =>
  Effect.flatMap(Channels.Channels, (channels) =>
    channels.create("team-a", { name: "hook", events, config: { kind: "webhook", url: `${receiver.origin}/hook` } }))

const deliveries = Effect.flatMap(NotificationStore.NotificationStore, (store) => store.listDeliveries("team-a", { limit: 100 }))

/** Records the outbox's events as deliveries, then sends what is due. */
const step = Effect.gen(function*() {
  const recorder = yield* Pipeline.recorder()
  const worker = yield* Pipeline.worker()
  yield* recorder.runOnce
  return yield* worker.runDue
})

describe("delivery", () => {
  it.effect("a channel failing with 500 then recovering gets the message exactly once more", () =>
    Effect.gen(function*() {
      const hook = yield* Receiver.make((_, index) => index === 0 ? { status: 500, body: "upstream down" } : { status: 200 })
      yield* webhook(hook)
      yield* Pipeline.append("release-1", Releases.completed("release-1", "team-a"))

      assert.strictEqual(yield* step, 1)
      const [failed] = yield* deliveries
      assert.deepStrictEqual([failed!.status, failed!.attempts, failed!.lastError, failed!.lastStatusCode], [
        "pending",
        1,
        "HTTP 500: upstream down",
        500
      ])
      const now = yield* Clock.currentTimeMillis
      assert.isAtLeast(failed!.nextAttemptAt!, now + 1_000)
      assert.isAtMost(failed!.nextAttemptAt!, now + RetryPolicy.defaultPolicy.baseDelayMs)

      // not due yet: nothing is sent
      assert.strictEqual(yield* step, 0)
      yield* TestClock.adjust(RetryPolicy.defaultPolicy.baseDelayMs)
      assert.strictEqual(yield* step, 1)
      const [delivered] = yield* deliveries
      assert.deepStrictEqual([delivered!.status, delivered!.attempts, delivered!.lastError], ["delivered", 2, null])

      // later, and with the outbox handed out again from the start: nothing more
      yield* TestClock.adjust("1 day")
      assert.strictEqual(yield* step, 0)
      const replay = yield* Pipeline.recorder({ consumer: "notifier-replayed" })
      assert.strictEqual(yield* replay.runOnce, 9)
      assert.strictEqual(yield* (yield* Pipeline.worker()).runDue, 0)
      assert.strictEqual((yield* deliveries).length, 1)

      assert.strictEqual(hook.received.length, 2)
      assert.strictEqual(hook.received[0]!.body, hook.received[1]!.body)
      assert.strictEqual(hook.received[0]!.headers["x-canaryroll-delivery"], hook.received[1]!.headers["x-canaryroll-delivery"])
    }).pipe(Effect.provide(Pipeline.layer())))

  it.effect("a 429's retry-after is honoured: nothing is sent before it", () =>
    Effect.gen(function*() {
      const hook = yield* Receiver.make((_, index) =>
        index === 0 ? { status: 429, headers: { "retry-after": "120" }, body: "slow down" } : { status: 204 }
      )
      yield* webhook(hook)
      yield* Pipeline.append("release-1", Releases.completed("release-1", "team-a"))
      assert.strictEqual(yield* step, 1)
      const start = yield* Clock.currentTimeMillis
      const [waiting] = yield* deliveries
      assert.isAtLeast(waiting!.nextAttemptAt!, start + 120_000)
      assert.isAtMost(waiting!.nextAttemptAt!, start + 132_000)

      yield* TestClock.adjust("119 seconds")
      assert.strictEqual(yield* step, 0)
      yield* TestClock.setTime(waiting!.nextAttemptAt!)
      assert.strictEqual(yield* step, 1)
      assert.strictEqual((yield* deliveries)[0]!.status, "delivered")
      assert.strictEqual(hook.received.length, 2)
    }).pipe(Effect.provide(Pipeline.layer())))

  it.effect("after the last attempt a delivery fails with its last error; a 404 fails at once", () =>
    Effect.gen(function*() {
      const down = yield* Receiver.make(() => ({ status: 503, body: "maintenance" }))
      const gone = yield* Receiver.make(() => ({ status: 404, body: "no_such_hook" }))
      yield* webhook(down)
      yield* webhook(gone)
      yield* Pipeline.append("release-1", Releases.completed("release-1", "team-a"))
      const worker = yield* Pipeline.worker({ policy: { maxAttempts: 3 } })
      yield* (yield* Pipeline.recorder()).runOnce
      for (let i = 0; i < 3; i++) {
        yield* worker.runDue
        yield* TestClock.adjust(RetryPolicy.defaultPolicy.maxDelayMs)
      }
      assert.strictEqual(yield* worker.runDue, 0)
      const byUrl = yield* deliveries
      const [hopeless, removed] = [...byUrl].sort((a, b) => b.attempts - a.attempts)
      assert.deepStrictEqual([hopeless!.status, hopeless!.attempts, hopeless!.lastError], [
        "failed",
        3,
        "gave up after 3 attempts: HTTP 503: maintenance"
      ])
      assert.deepStrictEqual([removed!.status, removed!.attempts, removed!.lastError, removed!.lastStatusCode], [
        "failed",
        1,
        "HTTP 404: no_such_hook",
        404
      ])
      assert.deepStrictEqual([down.received.length, gone.received.length], [3, 1])
    }).pipe(Effect.provide(Pipeline.layer())))

  it.effect("a throw while rendering is a failed attempt: recorded, counted, given up, and the channel goes on", () =>
    Effect.gen(function*() {
      const hook = yield* Receiver.make()
      const { channel } = yield* webhook(hook)
      yield* Pipeline.append("release-1", Releases.completed("release-1", "team-a"))
      yield* (yield* Pipeline.recorder()).runOnce
      const [good] = yield* deliveries
      // A stored notification that no longer renders (its time is unreadable), first in its channel's order.
      const store = yield* NotificationStore.NotificationStore
      yield* store.enqueue([{
        id: "dlv_broken",
        teamId: "team-a",
        channelId: channel.id,
        eventId: "release-0:9",
        releaseId: "release-0",
        eventName: "release.completed",
        sequence: 0,
        notification: { ...good!.notification, at: undefined as unknown as number },
        createdAt: yield* Clock.currentTimeMillis
      }])
      const worker = yield* Pipeline.worker({ policy: { maxAttempts: 3 } })
      // the broken one is attempted and recorded, then the good one goes out
      assert.strictEqual(yield* worker.runDue, 2)
      const broken = () => store.getDelivery("team-a", "dlv_broken").pipe(Effect.map((d) => d.pipe(Option.getOrThrow)))
      const first = yield* broken()
      assert.deepStrictEqual([first.status, first.attempts, first.leaseUntil], ["pending", 1, null])
      assert.match(first.lastError ?? "", /^the attempt failed unexpectedly: RangeError: Invalid time value/)
      assert.strictEqual((yield* store.getDelivery("team-a", good!.id)).pipe(Option.getOrThrow).status, "delivered")
      for (let i = 0; i < 3; i++) {
        yield* TestClock.adjust(RetryPolicy.defaultPolicy.maxDelayMs)
        yield* worker.runDue
      }
      const last = yield* broken()
      assert.deepStrictEqual([last.status, last.attempts], ["failed", 3])
      assert.match(last.lastError ?? "", /^gave up after 3 attempts: the attempt failed unexpectedly: RangeError/)
      assert.strictEqual(hook.received.length, 1)
    }).pipe(Effect.provide(Pipeline.layer())))

  it.effect("a delivery claimed more often than the policy allows (its senders died) is failed, not sent", () =>
    Effect.gen(function*() {
      const hook = yield* Receiver.make()
      yield* webhook(hook)
      yield* Pipeline.append("release-1", Releases.completed("release-1", "team-a"))
      yield* (yield* Pipeline.recorder()).runOnce
      const store = yield* NotificationStore.NotificationStore
      const lease = 60_000
      // three senders claim it and die before recording anything
      for (let i = 0; i < 3; i++) {
        assert.strictEqual((yield* store.claimDue({ now: yield* Clock.currentTimeMillis, limit: 10, leaseMs: lease })).length, 1)
        yield* TestClock.adjust(lease)
      }
      assert.strictEqual(yield* (yield* Pipeline.worker({ lease, policy: { maxAttempts: 3 } })).runDue, 1)
      const [given] = yield* deliveries
      assert.deepStrictEqual([given!.status, given!.attempts, given!.lastError], [
        "failed",
        4,
        "gave up after 3 attempts (the last never finished)"
      ])
      assert.strictEqual(hook.received.length, 0)
    }).pipe(Effect.provide(Pipeline.layer())))

  it.effect("after a secret rotation, queued deliveries are signed with the new and the old secret for a day", () =>
    Effect.gen(function*() {
      const hook = yield* Receiver.make((_, index) => index === 0 ? { status: 503 } : { status: 204 })
      const channels = yield* Channels.Channels
      const { channel, signingSecret } = yield* webhook(hook)
      const old = Redacted.value(signingSecret!)
      yield* Pipeline.append("release-1", Releases.completed("release-1", "team-a"))
      assert.strictEqual(yield* step, 1)
      const rotated = Redacted.value((yield* channels.update("team-a", channel.id, { rotateSigningSecret: true })).signingSecret!)
      const verifies = (request: Receiver.Received, secret: string) =>
        Effect.map(Clock.currentTimeMillis, (now) =>
          WebhookSignature.verify({
            secret,
            body: request.body,
            signature: request.headers["x-canaryroll-signature"] as string,
            timestamp: request.headers["x-canaryroll-timestamp"] as string,
            nowSeconds: Math.floor(now / 1000)
          }).valid)

      // the retry, queued before the rotation: a receiver on either secret accepts it
      yield* TestClock.adjust(RetryPolicy.defaultPolicy.baseDelayMs)
      assert.strictEqual(yield* step, 1)
      const retry = hook.received[1]!
      assert.strictEqual((retry.headers["x-canaryroll-signature"] as string).split(",").length, 2)
      assert.deepStrictEqual([yield* verifies(retry, rotated), yield* verifies(retry, old)], [true, true])

      // a day later the old secret no longer signs
      yield* TestClock.adjust("24 hours")
      yield* Pipeline.append("release-2", Releases.completed("release-2", "team-a"))
      assert.strictEqual(yield* step, 1)
      const later = hook.received[2]!
      assert.notInclude(later.headers["x-canaryroll-signature"] as string, ",")
      assert.deepStrictEqual([yield* verifies(later, rotated), yield* verifies(later, old)], [true, false])
    }).pipe(Effect.provide(Pipeline.layer())))

  it.effect("a disabled channel gets nothing new; one disabled after recording fails its deliveries", () =>
    Effect.gen(function*() {
      const hook = yield* Receiver.make()
      const channels = yield* Channels.Channels
      const { channel } = yield* webhook(hook)
      yield* Pipeline.append("release-1", Releases.completed("release-1", "team-a"))
      yield* (yield* Pipeline.recorder()).runOnce
      yield* channels.update("team-a", channel.id, { enabled: false })
      yield* (yield* Pipeline.worker()).runDue
      assert.deepStrictEqual((yield* deliveries).map((d) => [d.status, d.lastError]), [["failed", "the channel is disabled"]])
      yield* Pipeline.append("release-2", Releases.completed("release-2", "team-a"))
      yield* step
      assert.strictEqual((yield* deliveries).length, 1)
      assert.strictEqual(hook.received.length, 0)
    }).pipe(Effect.provide(Pipeline.layer())))

  it.effect("a test message is sent at once and listed among the deliveries", () =>
    Effect.gen(function*() {
      const hook = yield* Receiver.make()
      const broken = yield* Receiver.make(() => ({ status: 403, body: "invalid_token" }))
      const channels = yield* Channels.Channels
      const { channel } = yield* webhook(hook)
      const { channel: other } = yield* webhook(broken)
      const sent = yield* channels.sendTest("team-a", channel.id)
      assert.deepStrictEqual([sent.status, sent.attempts, sent.event, sent.lastStatusCode], ["delivered", 1, "test", 200])
      const body = JSON.parse(hook.received[0]!.body)
      assert.strictEqual(body.test, true)
      assert.strictEqual(body.event.name, "test")
      const refused = yield* channels.sendTest("team-a", other.id)
      assert.deepStrictEqual([refused.status, refused.lastError], ["failed", "HTTP 403: invalid_token"])
      // nothing left for the worker: a test message is sent once
      assert.strictEqual(yield* (yield* Pipeline.worker()).runDue, 0)
      assert.deepStrictEqual(
        (yield* channels.deliveries("team-a", { channelId: channel.id })).map((d) => d.id),
        [sent.id]
      )
      assert.strictEqual((yield* channels.sendTest("team-b", channel.id).pipe(Effect.flip))._tag, "ChannelNotFound")
    }).pipe(Effect.provide(Pipeline.layer())))

  it.effect("a test message whose caller goes away is recorded failed at once, and its claim is short", () =>
    Effect.gen(function*() {
      const hook = yield* Receiver.make(() => "hang")
      const channels = yield* Channels.Channels
      const store = yield* NotificationStore.NotificationStore
      const { channel } = yield* webhook(hook)
      const start = yield* Clock.currentTimeMillis
      const fiber = yield* Effect.forkChild(channels.sendTest("team-a", channel.id))
      yield* hook.next
      const [sending] = yield* deliveries
      // the sender's timeout (5 s here) and a margin, not minutes
      assert.strictEqual(sending!.leaseUntil, start + 5_000 + Channels.testLeaseMarginMs)
      // the HTTP client closed its connection
      yield* Fiber.interrupt(fiber)
      const [interrupted] = yield* deliveries
      assert.deepStrictEqual([interrupted!.status, interrupted!.leaseUntil, interrupted!.lastError], [
        "failed",
        null,
        "interrupted: the request for the test message was cancelled"
      ])
      // nobody sends it again, and the channel is free for its real messages
      yield* Pipeline.append("release-1", Releases.completed("release-1", "team-a"))
      yield* TestClock.adjust("1 hour")
      assert.strictEqual(yield* (yield* Pipeline.recorder()).runOnce, 9)
      const claimed = yield* store.claimDue({ now: yield* Clock.currentTimeMillis, limit: 10, leaseMs: 60_000 })
      assert.deepStrictEqual(claimed.map((d) => d.eventName), ["release.completed"])
    }).pipe(Effect.provide(Pipeline.layer())))

  it.live("a channel that never answers does not slow the others, nor the recording of events", () =>
    Effect.gen(function*() {
      const timeout = Duration.seconds(10)
      const dead = yield* Receiver.make(() => "hang")
      const live = yield* Receiver.make()
      const email = yield* Receiver.make()
      yield* webhook(dead, ["release.started", "release.step_advanced", "release.completed"])
      yield* webhook(live, ["release.started", "release.step_advanced", "release.completed"])
      yield* webhook(email, ["release.completed"])
      const worker = yield* Pipeline.worker({ pollInterval: "20 millis" })
      yield* Effect.forkChild(worker.run)

      const start = yield* Clock.currentTimeMillis
      yield* Pipeline.append("release-1", Releases.completed("release-1", "team-a"))
      yield* (yield* Pipeline.recorder()).runOnce
      const recorded = (yield* Clock.currentTimeMillis) - start

      // the live channels get every message while the dead one's first attempt is still hanging
      for (let i = 0; i < 4; i++) yield* live.next
      yield* email.next
      yield* dead.next
      const elapsed = (yield* Clock.currentTimeMillis) - start
      assert.isBelow(recorded, 500)
      assert.isBelow(elapsed, Duration.toMillis(timeout) / 2)
      assert.strictEqual(dead.received.length, 1)
      // the last answer is received a moment before it is recorded: wait for the record itself
      const store = yield* NotificationStore.NotificationStore
      const statuses = yield* store.listDeliveries("team-a", { limit: 100 }).pipe(
        Effect.map((all) => all.map((d) => d.status)),
        Effect.repeat({
          until: (statuses) => statuses.filter((s) => s === "delivered").length === 5,
          schedule: Schedule.spaced("5 millis")
        }),
        Effect.timeout("1 second")
      )
      assert.strictEqual(statuses.filter((s) => s === "pending").length, 4)
    }).pipe(Effect.provide(Pipeline.layer({ timeout: "10 seconds" }))))

  it.live("a timed-out attempt is recorded as temporary and retried", () =>
    Effect.gen(function*() {
      const hook = yield* Receiver.make((_, index) => index === 0 ? "hang" : { status: 200 })
      const { channel } = yield* webhook(hook)
      yield* Pipeline.append("release-1", Releases.completed("release-1", "team-a"))
      yield* (yield* Pipeline.recorder()).runOnce
      const worker = yield* Pipeline.worker()
      assert.strictEqual(yield* worker.runDue, 1)
      const store = yield* NotificationStore.NotificationStore
      const [timedOut] = yield* store.listDeliveries("team-a", { limit: 10, channelId: channel.id })
      assert.deepStrictEqual([timedOut!.status, timedOut!.lastError], ["pending", "no answer within 200ms"])
    }).pipe(Effect.provide(Pipeline.layer({ timeout: "200 millis" }))))
})
