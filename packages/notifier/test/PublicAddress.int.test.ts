/**
 * Channels cannot be used to reach inside the network, by HTTP or by SMTP: a host that is (or
 * resolves to) a private, loopback, link-local or reserved address is refused before anything is
 * sent, redirects are not followed, and the address checked is the address connected to: a
 * resolver that answers a public address first and loopback afterwards (DNS rebinding) leads to
 * no loopback connection, because it is asked once. A test server allows private addresses
 * explicitly; here the sender does not, unless a test says so.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { Channels, NotificationStore } from "../src/index.ts"
import * as PublicAddress from "../src/PublicAddress.ts"
import * as Pipeline from "./support/Pipeline.ts"
import * as Receiver from "./support/Receiver.ts"
import * as Releases from "./support/Releases.ts"
import * as SmtpServer from "./support/SmtpServer.ts"

/** A resolver that is down: every lookup fails as getaddrinfo does when it cannot ask. */
const resolverDown: PublicAddress.Lookup = (host) =>
  Promise.reject(Object.assign(new Error(`getaddrinfo EAI_AGAIN ${host}`), { code: "EAI_AGAIN" }))

/** TEST-NET-1: public as far as the check goes (no network has it inside), and nothing answers there. */
const publicButSilent = "192.0.2.1"

/** A resolver that knows the names of `table` only, and counts what it is asked. */
const resolver = (table: Record<string, ReadonlyArray<string> | ((asked: number) => ReadonlyArray<string>)>) => {
  const asked: Array<string> = []
  const lookup: PublicAddress.Lookup = (host) => {
    asked.push(host)
    const entry = table[host]
    if (entry === undefined) return Promise.reject(Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: "ENOTFOUND" }))
    return Promise.resolve(typeof entry === "function" ? entry(asked.filter((name) => name === host).length) : entry)
  }
  return { lookup, asked }
}

/** A resolver that answers a public address the first time and loopback every time after. */
const rebinding = (host: string) => resolver({ [host]: (asked) => asked === 1 ? [publicButSilent] : ["127.0.0.1"] })

/** Names only the tests know, on loopback. */
const names = resolver({ "hooks.canaryroll.test": ["127.0.0.1"], "mail.canaryroll.test": ["127.0.0.1"] })

const emailChannel = (host: string, port: number) =>
  Effect.flatMap(Channels.Channels, (channels) =>
    channels.create("team-a", {
      name: "on-call",
      events: ["release.completed"],
      config: { kind: "email", host, port, security: "none", from: "canaryroll@example.com", to: ["oncall@example.com"] }
    }))

const webhookChannel = (url: string) =>
  Effect.flatMap(Channels.Channels, (channels) =>
    channels.create("team-a", { name: "hook", events: ["release.completed"], config: { kind: "webhook", url } }))

const sendTest = (channelId: string) => Effect.flatMap(Channels.Channels, (channels) => channels.sendTest("team-a", channelId))

describe("webhooks: public addresses only", () => {
  it.effect("a webhook on loopback is refused for good, and nothing reaches it", () =>
    Effect.gen(function*() {
      const hook = yield* Receiver.make()
      const port = new URL(hook.origin).port
      for (const host of ["127.0.0.1", "2130706433", "0x7f.1", "[::ffff:127.0.0.1]", "[::ffff:7f00:1]"]) {
        const saved = yield* webhookChannel(`http://${host}:${port}/hook`)
        const delivery = yield* sendTest(saved.channel.id)
        assert.strictEqual(delivery.status, "failed", host)
        assert.match(delivery.lastError ?? "", /a loopback address; CanaryRoll sends only to public addresses$/, host)
      }
      assert.strictEqual(hook.received.length, 0)
    }).pipe(Effect.provide(Pipeline.layer({ allowPrivateAddresses: false }))))

  it.effect("a name that resolves to loopback is refused", () =>
    Effect.gen(function*() {
      const hook = yield* Receiver.make()
      const saved = yield* webhookChannel(`http://localhost:${new URL(hook.origin).port}/hook`)
      const delivery = yield* sendTest(saved.channel.id)
      assert.strictEqual(delivery.status, "failed")
      assert.match(delivery.lastError ?? "", /^localhost resolves to (127\.0\.0\.1|::1), a loopback address/)
      assert.strictEqual(hook.received.length, 0)
    }).pipe(Effect.provide(Pipeline.layer({ allowPrivateAddresses: false }))))

  it.effect("a redirect is not followed", () =>
    Effect.gen(function*() {
      const target = yield* Receiver.make()
      const redirecting = yield* Receiver.make(() => ({ status: 307, headers: { location: `${target.origin}/inside` } }))
      const saved = yield* webhookChannel(`${redirecting.origin}/hook`)
      const delivery = yield* sendTest(saved.channel.id)
      assert.notStrictEqual(delivery.status, "delivered")
      assert.strictEqual(target.received.length, 0, "the redirect's target got nothing")
    }).pipe(Effect.provide(Pipeline.layer())))

  it.effect("tells a failed lookup from a private address", () =>
    Effect.gen(function*() {
      const check = PublicAddress.check
      const url = "https://hooks.example.com/canaryroll"
      assert.deepStrictEqual(yield* check(url, { lookup: resolverDown }), {
        _tag: "Unresolved",
        reason: "hooks.example.com could not be resolved: EAI_AGAIN"
      })
      assert.deepStrictEqual(yield* check(url, { lookup: () => Promise.resolve([]) }), {
        _tag: "Unresolved",
        reason: "hooks.example.com resolved to no address"
      })
      assert.strictEqual((yield* check(url, { lookup: () => Promise.resolve(["93.184.215.14", "10.0.0.7"]) }))._tag, "Refused")
      assert.deepStrictEqual(yield* check(url, { lookup: () => Promise.resolve(["93.184.215.14"]) }), {
        _tag: "Allowed",
        addresses: ["93.184.215.14"]
      })
      assert.strictEqual((yield* check("http://127.0.0.1:1/x", { lookup: resolverDown }))._tag, "Refused")
    }))

  it.effect("a lookup that fails is a temporary failure, tried again, not a refusal", () =>
    Effect.gen(function*() {
      yield* webhookChannel("https://hooks.canaryroll.invalid/hook")
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

describe("the address checked is the address connected to", () => {
  it.effect("a webhook goes to the address the resolver answered, under its own name", () =>
    Effect.gen(function*() {
      const hook = yield* Receiver.make()
      const port = new URL(hook.origin).port
      // Only the test's resolver knows this name: delivered means the connection used its answer.
      const saved = yield* webhookChannel(`http://hooks.canaryroll.test:${port}/hook`)
      const delivery = yield* sendTest(saved.channel.id)
      assert.strictEqual(delivery.status, "delivered", delivery.lastError ?? "")
      const request = yield* hook.next
      assert.strictEqual(request.headers.host, `hooks.canaryroll.test:${port}`)
      assert.strictEqual(request.path, "/hook")
    }).pipe(Effect.provide(Pipeline.layer({ allowPrivateAddresses: true, lookup: names.lookup }))))

  // Live clock: the attempt at the silent public address ends by its timeout.
  it.live("a webhook whose name answers public, then loopback, never reaches loopback", () =>
    Effect.gen(function*() {
      const hook = yield* Receiver.make()
      const rebinder = rebinding("rebind.canaryroll.test")
      yield* Effect.gen(function*() {
        const saved = yield* webhookChannel(`http://rebind.canaryroll.test:${new URL(hook.origin).port}/hook`)
        const delivery = yield* sendTest(saved.channel.id)
        assert.notStrictEqual(delivery.status, "delivered")
      }).pipe(Effect.provide(Pipeline.layer({ allowPrivateAddresses: false, lookup: rebinder.lookup, timeout: "1 second" })))
      assert.strictEqual(hook.received.length, 0, "nothing reached loopback")
      assert.deepStrictEqual(rebinder.asked, ["rebind.canaryroll.test"], "resolved once, for the check and the connection")
    }))
})

describe("email: public addresses only", () => {
  it.effect("an SMTP host on loopback, in any notation or by a name, is refused for good, and nothing connects", () =>
    Effect.gen(function*() {
      const smtp = yield* SmtpServer.make()
      for (const host of ["127.0.0.1", "2130706433", "0x7f.1", "::ffff:127.0.0.1", "[::ffff:7f00:1]", "localhost", "mail.canaryroll.test"]) {
        const saved = yield* emailChannel(host, smtp.port)
        const delivery = yield* sendTest(saved.channel.id)
        assert.strictEqual(delivery.status, "failed", host)
        assert.strictEqual(delivery.attempts, 1, host)
        assert.match(delivery.lastError ?? "", /a loopback address; CanaryRoll sends only to public addresses$/, host)
      }
      assert.strictEqual(smtp.connections(), 0, "no connection was made")
    }).pipe(Effect.provide(Pipeline.layer({
      allowPrivateAddresses: false,
      lookup: (host) => host === "mail.canaryroll.test" ? Promise.resolve(["127.0.0.1"]) : PublicAddress.systemLookup(host)
    }))))

  it.effect("refused by the worker too: a failed delivery with the reason, never retried", () =>
    Effect.gen(function*() {
      const smtp = yield* SmtpServer.make()
      yield* emailChannel("127.0.0.1", smtp.port)
      yield* Pipeline.append("release-1", Releases.completed("release-1", "team-a"))
      yield* (yield* Pipeline.recorder()).runOnce
      assert.strictEqual(yield* (yield* Pipeline.worker()).runDue, 1)
      const [delivery] = yield* Effect.flatMap(NotificationStore.NotificationStore, (store) => store.listDeliveries("team-a", { limit: 10 }))
      assert.deepStrictEqual([delivery!.status, delivery!.attempts, delivery!.lastError], [
        "failed",
        1,
        "127.0.0.1 is a loopback address; CanaryRoll sends only to public addresses"
      ])
      assert.strictEqual(smtp.connections(), 0)
    }).pipe(Effect.provide(Pipeline.layer({ allowPrivateAddresses: false }))))

  it.effect("delivered to an SMTP server on loopback when private addresses are allowed, at the address resolved", () =>
    Effect.gen(function*() {
      const smtp = yield* SmtpServer.make()
      // Only the test's resolver knows this name: delivered means the connection used its answer.
      const saved = yield* emailChannel("mail.canaryroll.test", smtp.port)
      const delivery = yield* sendTest(saved.channel.id)
      assert.strictEqual(delivery.status, "delivered", delivery.lastError ?? "")
      assert.deepStrictEqual((yield* smtp.next).to, ["oncall@example.com"])
      assert.deepStrictEqual(names.asked.filter((name) => name === "mail.canaryroll.test").length, 1)
    }).pipe(Effect.provide(Pipeline.layer({ allowPrivateAddresses: true, lookup: names.lookup }))))

  it.live("an SMTP host whose name answers public, then loopback, never reaches loopback", () =>
    Effect.gen(function*() {
      const smtp = yield* SmtpServer.make()
      const rebinder = rebinding("smtp.rebind.canaryroll.test")
      yield* Effect.gen(function*() {
        const saved = yield* emailChannel("smtp.rebind.canaryroll.test", smtp.port)
        const delivery = yield* sendTest(saved.channel.id)
        assert.notStrictEqual(delivery.status, "delivered")
      }).pipe(Effect.provide(Pipeline.layer({ allowPrivateAddresses: false, lookup: rebinder.lookup, timeout: "1 second" })))
      assert.strictEqual(smtp.connections(), 0, "nothing connected to loopback")
      assert.deepStrictEqual(rebinder.asked, ["smtp.rebind.canaryroll.test"])
    }))
})
