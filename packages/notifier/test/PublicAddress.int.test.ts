/**
 * Channels cannot be used to reach inside the network: a URL whose host is (or resolves to) a
 * private, loopback, link-local or reserved address is refused before anything is sent, and
 * redirects are not followed. A test server allows private addresses explicitly; here the
 * sender does not.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { Channels, NotificationStore } from "../src/index.ts"
import * as PublicAddress from "../src/PublicAddress.ts"
import * as Pipeline from "./support/Pipeline.ts"
import * as Receiver from "./support/Receiver.ts"
import * as Releases from "./support/Releases.ts"

/** A resolver that is down: every lookup fails as getaddrinfo does when it cannot ask. */
const resolverDown: PublicAddress.Lookup = (host) =>
  Promise.reject(Object.assign(new Error(`getaddrinfo EAI_AGAIN ${host}`), { code: "EAI_AGAIN" }))

describe("public addresses only", () => {
  it("tells public addresses from private and reserved ones", () => {
    for (const address of ["8.8.8.8", "1.1.1.1", "2606:4700:4700::1111", "104.16.0.1"]) {
      assert.isTrue(PublicAddress.isPublic(address), address)
    }
    for (
      const address of [
        "127.0.0.1",
        "10.1.2.3",
        "172.20.0.1",
        "192.168.1.1",
        "169.254.169.254",
        "100.64.0.1",
        "0.0.0.0",
        "::1",
        "::",
        "fd00::1",
        "fe80::1",
        "::ffff:127.0.0.1",
        "::ffff:10.0.0.1",
        "224.0.0.1",
        "not an address"
      ]
    ) assert.isFalse(PublicAddress.isPublic(address), address)
  })

  it.effect("a webhook on loopback is refused for good, and nothing reaches it", () =>
    Effect.gen(function*() {
      const hook = yield* Receiver.make()
      const channels = yield* Channels.Channels
      const saved = yield* channels.create("team-a", {
        name: "inside",
        events: ["release.completed"],
        config: { kind: "webhook", url: `${hook.origin}/hook` }
      })
      const delivery = yield* channels.sendTest("team-a", saved.channel.id)
      assert.strictEqual(delivery.status, "failed")
      assert.match(delivery.lastError ?? "", /resolves to 127\.0\.0\.1, a private or reserved address/)
      assert.strictEqual(hook.received.length, 0)
    }).pipe(Effect.provide(Pipeline.layer({ allowPrivateAddresses: false }))))

  it.effect("a redirect is not followed", () =>
    Effect.gen(function*() {
      const target = yield* Receiver.make()
      const redirecting = yield* Receiver.make(() => ({ status: 307, headers: { location: `${target.origin}/inside` } }))
      const channels = yield* Channels.Channels
      const saved = yield* channels.create("team-a", {
        name: "moved",
        events: ["release.completed"],
        config: { kind: "webhook", url: `${redirecting.origin}/hook` }
      })
      const delivery = yield* channels.sendTest("team-a", saved.channel.id)
      assert.notStrictEqual(delivery.status, "delivered")
      assert.strictEqual(target.received.length, 0, "the redirect's target got nothing")
    }).pipe(Effect.provide(Pipeline.layer())))

  it.effect("tells a failed lookup from a private address", () =>
    Effect.gen(function*() {
      const url = "https://hooks.example.com/canaryroll"
      assert.deepStrictEqual(yield* PublicAddress.check(url, { lookup: resolverDown }), {
        _tag: "Unresolved",
        reason: "hooks.example.com could not be resolved: EAI_AGAIN"
      })
      assert.deepStrictEqual(yield* PublicAddress.check(url, { lookup: () => Promise.resolve([]) }), {
        _tag: "Unresolved",
        reason: "hooks.example.com resolved to no address"
      })
      assert.strictEqual((yield* PublicAddress.check(url, { lookup: () => Promise.resolve(["93.184.215.14", "10.0.0.7"]) }))._tag, "Private")
      assert.deepStrictEqual(yield* PublicAddress.check(url, { lookup: () => Promise.resolve(["93.184.215.14"]) }), { _tag: "Public" })
      assert.strictEqual((yield* PublicAddress.check("http://127.0.0.1:1/x", { lookup: resolverDown }))._tag, "Private")
    }))

  it.effect("a lookup that fails is a temporary failure, tried again, not a refusal", () =>
    Effect.gen(function*() {
      const channels = yield* Channels.Channels
      yield* channels.create("team-a", {
        name: "resolver down",
        events: ["release.completed"],
        config: { kind: "webhook", url: "https://hooks.canaryroll.invalid/hook" }
      })
      yield* Pipeline.append("release-1", Releases.completed("release-1", "team-a"))
      yield* (yield* Pipeline.recorder()).runOnce
      assert.strictEqual(yield* (yield* Pipeline.worker()).runDue, 1)
      const [delivery] = yield* Effect.flatMap(NotificationStore.NotificationStore, (store) => store.listDeliveries("team-a", { limit: 10 }))
      assert.deepStrictEqual([delivery!.status, delivery!.attempts, delivery!.lastError], [
        "pending",
        1,
        "hooks.canaryroll.invalid could not be resolved: EAI_AGAIN"
      ])
    }).pipe(Effect.provide(Pipeline.layer({ allowPrivateAddresses: false, lookup: resolverDown }))))
})
