/**
 * Channels cannot be used to reach inside the network: a URL whose host is (or resolves to) a
 * private, loopback, link-local or reserved address is refused before anything is sent, and
 * redirects are not followed. A test server allows private addresses explicitly; here the
 * sender does not.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { Channels } from "../src/index.ts"
import * as PublicAddress from "../src/PublicAddress.ts"
import * as Pipeline from "./support/Pipeline.ts"
import * as Receiver from "./support/Receiver.ts"

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
})
