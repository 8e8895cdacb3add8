/**
 * The NotificationStore contract, run against every adapter: channels are per team (another
 * team's channel is not found, not updated, not deleted); subscribers are the team's enabled
 * channels that chose the event; a delivery is recorded once per (event id, channel id); claims
 * hand out due deliveries, earliest first, at most one per channel and none of a channel with
 * one leased, lease them and count the attempt; an outcome ends the lease; deleting a channel
 * deletes its deliveries.
 *
 * `makeLayer` is called once per test and must give an empty store in which the teams `team-a`
 * and `team-b` exist (adapters with a teams table create them).
 *
 * @since 0.1.0
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer, Option } from "effect"
import { Notification, NotificationStore } from "../../src/index.ts"
import * as Releases from "../support/Releases.ts"

export const teams = ["team-a", "team-b"] as const

const t = 1_800_000_000_000

export const channel = (
  id: string,
  overrides: Partial<NotificationStore.ChannelRecord> = {}
): NotificationStore.ChannelRecord => ({
  id,
  teamId: "team-a",
  name: `channel ${id}`,
  kind: "webhook",
  events: ["release.rolled_back", "release.completed"],
  enabled: true,
  settings: { url: "https://example.com/…" },
  secrets: { url: "sealed-url", secret: "sealed-secret" },
  createdAt: t,
  updatedAt: t,
  ...overrides
})

const facts = Notification.foldFacts(Releases.rolledBack("release-1", "team-a"))!
const sample = Notification.fromEvent(
  { baseUrl: "https://canaryroll.example" },
  facts,
  "release-1:10",
  Releases.rolledBack("release-1", "team-a")[9]!
)!

export const delivery = (
  id: string,
  channelId: string,
  overrides: Partial<NotificationStore.NewDelivery> = {}
): NotificationStore.NewDelivery => ({
  id,
  teamId: "team-a",
  channelId,
  eventId: `release-1:${id}`,
  releaseId: "release-1",
  eventName: "release.rolled_back",
  sequence: 1,
  notification: sample,
  createdAt: t,
  ...overrides
})

export const suite = (name: string, makeLayer: () => Layer.Layer<NotificationStore.NotificationStore, unknown>) => {
  const test = <A, E>(title: string, body: () => Effect.Effect<A, E, NotificationStore.NotificationStore>) =>
    it.effect(title, () => body().pipe(Effect.provide(makeLayer(), { local: true })))
  const store = NotificationStore.NotificationStore
  const ids = (records: ReadonlyArray<{ readonly id: string }>) => records.map((record) => record.id)

  describe(`NotificationStore contract (${name})`, () => {
    test("a channel is read back as written, by its own team only", () =>
      Effect.gen(function*() {
        const s = yield* store
        const record = channel("c1", { kind: "email", settings: { host: "smtp.example.com", port: 587, to: ["a@example.com"] } })
        yield* s.insertChannel(record)
        assert.deepStrictEqual(yield* s.getChannel("team-a", "c1"), Option.some(record))
        assert.deepStrictEqual(yield* s.getChannel("team-b", "c1"), Option.none())
        assert.deepStrictEqual(yield* s.getChannel("team-a", "missing"), Option.none())
      }))

    test("a channel of any kind is kept as it is: kinds are the registry's business, not the store's", () =>
      Effect.gen(function*() {
        const s = yield* store
        // A kind no registry of CanaryRoll's holds: a runtime may register its own (ChannelKinds.make).
        const record = channel("c1", { kind: "pager_duty_v3", settings: { service: "checkout" }, secrets: { routingKey: "sealed" } })
        yield* s.insertChannel(record)
        assert.deepStrictEqual(yield* s.getChannel("team-a", "c1"), Option.some(record))
        assert.isTrue(yield* s.updateChannel({ ...record, kind: "another_kind", updatedAt: t + 1 }))
        assert.strictEqual(Option.getOrThrow(yield* s.getChannel("team-a", "c1")).kind, "another_kind")
      }))

    test("list is per team, oldest first", () =>
      Effect.gen(function*() {
        const s = yield* store
        yield* s.insertChannel(channel("c2", { createdAt: t + 2 }))
        yield* s.insertChannel(channel("c1", { createdAt: t + 1 }))
        yield* s.insertChannel(channel("c3", { teamId: "team-b" }))
        assert.deepStrictEqual(ids(yield* s.listChannels("team-a")), ["c1", "c2"])
        assert.deepStrictEqual(ids(yield* s.listChannels("team-b")), ["c3"])
      }))

    test("update replaces the team's channel; another team's is untouched", () =>
      Effect.gen(function*() {
        const s = yield* store
        yield* s.insertChannel(channel("c1"))
        const renamed = channel("c1", { name: "renamed", enabled: false, events: ["release.failed"], updatedAt: t + 5 })
        assert.isTrue(yield* s.updateChannel(renamed))
        assert.deepStrictEqual(yield* s.getChannel("team-a", "c1"), Option.some(renamed))
        assert.isFalse(yield* s.updateChannel({ ...renamed, teamId: "team-b", name: "stolen" }))
        assert.isFalse(yield* s.updateChannel(channel("missing")))
        assert.strictEqual(Option.getOrThrow(yield* s.getChannel("team-a", "c1")).name, "renamed")
      }))

    test("delete removes the team's channel and its deliveries; another team cannot", () =>
      Effect.gen(function*() {
        const s = yield* store
        yield* s.insertChannel(channel("c1"))
        yield* s.insertChannel(channel("c2"))
        yield* s.enqueue([delivery("d1", "c1"), delivery("d2", "c2")])
        assert.isFalse(yield* s.deleteChannel("team-b", "c1"))
        assert.isTrue(yield* s.deleteChannel("team-a", "c1"))
        assert.isFalse(yield* s.deleteChannel("team-a", "c1"))
        assert.deepStrictEqual(yield* s.getChannel("team-a", "c1"), Option.none())
        assert.deepStrictEqual(ids(yield* s.listDeliveries("team-a", { limit: 10 })), ["d2"])
      }))

    test("subscribers are the team's enabled channels that chose the event", () =>
      Effect.gen(function*() {
        const s = yield* store
        yield* s.insertChannel(channel("c1", { events: ["release.rolled_back"] }))
        yield* s.insertChannel(channel("c2", { events: ["release.completed"], createdAt: t + 1 }))
        yield* s.insertChannel(channel("c3", { events: ["release.rolled_back"], enabled: false }))
        yield* s.insertChannel(channel("c4", { events: ["release.rolled_back"], teamId: "team-b" }))
        yield* s.insertChannel(channel("c5", { events: ["release.paused", "release.rolled_back"], createdAt: t + 2 }))
        assert.deepStrictEqual(ids(yield* s.subscribers("team-a", "release.rolled_back")), ["c1", "c5"])
        assert.deepStrictEqual(ids(yield* s.subscribers("team-a", "release.completed")), ["c2"])
        assert.deepStrictEqual(ids(yield* s.subscribers("team-b", "release.rolled_back")), ["c4"])
        assert.deepStrictEqual(ids(yield* s.subscribers("team-a", "release.failed")), [])
      }))

    test("a delivery is recorded once per event and channel", () =>
      Effect.gen(function*() {
        const s = yield* store
        yield* s.insertChannel(channel("c1"))
        yield* s.insertChannel(channel("c2"))
        assert.strictEqual(yield* s.enqueue([delivery("d1", "c1", { eventId: "release-1:10" })]), 1)
        assert.strictEqual(
          yield* s.enqueue([
            delivery("d2", "c1", { eventId: "release-1:10" }),
            delivery("d3", "c2", { eventId: "release-1:10" })
          ]),
          1
        )
        assert.deepStrictEqual(ids(yield* s.listDeliveries("team-a", { limit: 10 })).sort(), ["d1", "d3"])
      }))

    test("a recorded delivery is pending, due at once, with the notification as given", () =>
      Effect.gen(function*() {
        const s = yield* store
        yield* s.insertChannel(channel("c1"))
        yield* s.enqueue([delivery("d1", "c1")])
        const recorded = Option.getOrThrow(yield* s.getDelivery("team-a", "d1"))
        assert.deepStrictEqual(recorded, {
          ...delivery("d1", "c1"),
          status: "pending",
          attempts: 0,
          nextAttemptAt: t,
          leaseUntil: null,
          lastError: null,
          lastStatusCode: null,
          completedAt: null
        })
        assert.deepStrictEqual(yield* s.getDelivery("team-b", "d1"), Option.none())
      }))

    test("claims take due deliveries, earliest first, lease them and count the attempt", () =>
      Effect.gen(function*() {
        const s = yield* store
        yield* s.insertChannel(channel("c1"))
        yield* s.insertChannel(channel("c2"))
        yield* s.insertChannel(channel("c3"))
        yield* s.enqueue([
          delivery("d1", "c1", { createdAt: t + 20 }),
          delivery("d2", "c2", { createdAt: t + 10 }),
          delivery("d3", "c3", { createdAt: t + 1_000 })
        ])
        assert.deepStrictEqual(yield* s.claimDue({ now: t, limit: 10, leaseMs: 60_000 }), [])
        const claimed = yield* s.claimDue({ now: t + 100, limit: 10, leaseMs: 60_000 })
        assert.deepStrictEqual(ids(claimed), ["d2", "d1"])
        assert.deepStrictEqual(claimed.map((d) => [d.attempts, d.leaseUntil]), [[1, t + 60_100], [1, t + 60_100]])
        assert.deepStrictEqual(yield* s.claimDue({ now: t + 200, limit: 10, leaseMs: 60_000 }), [])
        assert.deepStrictEqual(ids(yield* s.claimDue({ now: t + 2_000, limit: 10, leaseMs: 60_000 })), ["d3"])
      }))

    test("deliveries due at the same time are claimed in log order", () =>
      Effect.gen(function*() {
        const s = yield* store
        yield* s.insertChannel(channel("c1"))
        yield* s.enqueue([
          delivery("d1", "c1", { sequence: 30 }),
          delivery("d2", "c1", { sequence: 10 }),
          delivery("d3", "c1", { sequence: 20 })
        ])
        const order: Array<string> = []
        for (let i = 0; i < 3; i++) {
          const [claimed] = yield* s.claimDue({ now: t, limit: 10, leaseMs: 1_000 })
          order.push(claimed!.id)
          yield* s.complete(claimed!.id, { _tag: "Delivered", at: t, statusCode: 200 })
        }
        assert.deepStrictEqual(order, ["d2", "d3", "d1"])
      }))

    test("claims respect the limit", () =>
      Effect.gen(function*() {
        const s = yield* store
        yield* s.insertChannel(channel("c1"))
        yield* s.insertChannel(channel("c2"))
        yield* s.enqueue([delivery("d1", "c1"), delivery("d2", "c2", { createdAt: t + 1 })])
        assert.deepStrictEqual(ids(yield* s.claimDue({ now: t + 10, limit: 1, leaseMs: 1_000 })), ["d1"])
        assert.deepStrictEqual(ids(yield* s.claimDue({ now: t + 10, limit: 1, leaseMs: 1_000 })), ["d2"])
      }))

    test("one delivery per channel at a time: a leased one holds back the channel's others", () =>
      Effect.gen(function*() {
        const s = yield* store
        yield* s.insertChannel(channel("c1"))
        yield* s.enqueue([delivery("d1", "c1"), delivery("d2", "c1", { createdAt: t + 1 })])
        assert.deepStrictEqual(ids(yield* s.claimDue({ now: t + 10, limit: 10, leaseMs: 1_000 })), ["d1"])
        assert.deepStrictEqual(yield* s.claimDue({ now: t + 20, limit: 10, leaseMs: 1_000 }), [])
        yield* s.complete("d1", { _tag: "Delivered", at: t + 30, statusCode: 200 })
        assert.deepStrictEqual(ids(yield* s.claimDue({ now: t + 40, limit: 10, leaseMs: 1_000 })), ["d2"])
      }))

    test("an expired lease is claimed again, as another attempt", () =>
      Effect.gen(function*() {
        const s = yield* store
        yield* s.insertChannel(channel("c1"))
        yield* s.enqueue([delivery("d1", "c1")])
        yield* s.claimDue({ now: t, limit: 10, leaseMs: 1_000 })
        assert.deepStrictEqual(yield* s.claimDue({ now: t + 999, limit: 10, leaseMs: 1_000 }), [])
        const again = yield* s.claimDue({ now: t + 1_000, limit: 10, leaseMs: 1_000 })
        assert.deepStrictEqual(again.map((d) => [d.id, d.attempts, d.leaseUntil]), [["d1", 2, t + 2_000]])
      }))

    test("outcomes: delivered and failed are final, a retry is due later", () =>
      Effect.gen(function*() {
        const s = yield* store
        yield* s.insertChannel(channel("c1"))
        yield* s.insertChannel(channel("c2"))
        yield* s.insertChannel(channel("c3"))
        yield* s.enqueue([delivery("d1", "c1"), delivery("d2", "c2"), delivery("d3", "c3")])
        yield* s.claimDue({ now: t, limit: 10, leaseMs: 60_000 })
        yield* s.complete("d1", { _tag: "Delivered", at: t + 5, statusCode: 204 })
        yield* s.complete("d2", { _tag: "Retry", at: t + 5, nextAttemptAt: t + 30_000, error: "HTTP 503", statusCode: 503 })
        yield* s.complete("d3", { _tag: "Failed", at: t + 5, error: "HTTP 404: no such hook", statusCode: 404 })
        const get = (id: string) => s.getDelivery("team-a", id).pipe(Effect.map(Option.getOrThrow))
        const d1 = yield* get("d1")
        assert.deepStrictEqual(
          [d1.status, d1.attempts, d1.nextAttemptAt, d1.leaseUntil, d1.lastError, d1.lastStatusCode, d1.completedAt],
          ["delivered", 1, null, null, null, 204, t + 5]
        )
        const d2 = yield* get("d2")
        assert.deepStrictEqual(
          [d2.status, d2.attempts, d2.nextAttemptAt, d2.leaseUntil, d2.lastError, d2.lastStatusCode, d2.completedAt],
          ["pending", 1, t + 30_000, null, "HTTP 503", 503, null]
        )
        const d3 = yield* get("d3")
        assert.deepStrictEqual(
          [d3.status, d3.attempts, d3.nextAttemptAt, d3.leaseUntil, d3.lastError, d3.lastStatusCode, d3.completedAt],
          ["failed", 1, null, null, "HTTP 404: no such hook", 404, t + 5]
        )
        assert.deepStrictEqual(yield* s.claimDue({ now: t + 29_999, limit: 10, leaseMs: 60_000 }), [])
        const retried = yield* s.claimDue({ now: t + 30_000, limit: 10, leaseMs: 60_000 })
        assert.deepStrictEqual(retried.map((d) => [d.id, d.attempts]), [["d2", 2]])
      }))

    test("a delivery recorded as claimed is not handed out until its lease ends", () =>
      Effect.gen(function*() {
        const s = yield* store
        yield* s.insertChannel(channel("c1"))
        yield* s.enqueue([delivery("d1", "c1", { claimedUntil: t + 1_000 })])
        const recorded = Option.getOrThrow(yield* s.getDelivery("team-a", "d1"))
        assert.deepStrictEqual([recorded.attempts, recorded.leaseUntil], [1, t + 1_000])
        assert.deepStrictEqual(yield* s.claimDue({ now: t + 10, limit: 10, leaseMs: 1_000 }), [])
        yield* s.complete("d1", { _tag: "Delivered", at: t + 20, statusCode: 200 })
        assert.strictEqual(Option.getOrThrow(yield* s.getDelivery("team-a", "d1")).status, "delivered")
      }))

    test("deliveries are listed newest first, by team, channel and status, up to the limit", () =>
      Effect.gen(function*() {
        const s = yield* store
        yield* s.insertChannel(channel("c1"))
        yield* s.insertChannel(channel("c2"))
        yield* s.insertChannel(channel("c3", { teamId: "team-b" }))
        yield* s.enqueue([
          delivery("d1", "c1", { createdAt: t + 1 }),
          delivery("d2", "c2", { createdAt: t + 2 }),
          delivery("d3", "c1", { createdAt: t + 3 }),
          delivery("d4", "c3", { createdAt: t + 4, teamId: "team-b" })
        ])
        yield* s.claimDue({ now: t + 10, limit: 10, leaseMs: 1_000 })
        yield* s.complete("d1", { _tag: "Delivered", at: t + 20, statusCode: 200 })
        assert.deepStrictEqual(ids(yield* s.listDeliveries("team-a", { limit: 10 })), ["d3", "d2", "d1"])
        assert.deepStrictEqual(ids(yield* s.listDeliveries("team-a", { limit: 2 })), ["d3", "d2"])
        assert.deepStrictEqual(ids(yield* s.listDeliveries("team-a", { limit: 10, channelId: "c1" })), ["d3", "d1"])
        assert.deepStrictEqual(ids(yield* s.listDeliveries("team-a", { limit: 10, status: "delivered" })), ["d1"])
        assert.deepStrictEqual(ids(yield* s.listDeliveries("team-b", { limit: 10 })), ["d4"])
        assert.deepStrictEqual(ids(yield* s.listDeliveries("team-b", { limit: 10, channelId: "c1" })), [])
      }))
  })
}
