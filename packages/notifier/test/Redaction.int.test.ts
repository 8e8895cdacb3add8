/**
 * A delivery's error never gives a channel's secrets back, whoever repeats them: a receiver that
 * answers 500 with the URL it was called on (whole, in pieces, percent-decoded, with the Basic
 * credentials it was sent), a receiver quoting the signing secret, a transport error naming the
 * URL, an SMTP server that repeats the password it refused. A marker planted in every secret
 * (user info, path, query, signing secret, SMTP password) must be in no recorded error.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import * as crypto from "node:crypto"
import { Channels, NotificationStore } from "../src/index.ts"
import * as Pipeline from "./support/Pipeline.ts"
import * as Receiver from "./support/Receiver.ts"
import * as Releases from "./support/Releases.ts"
import * as SmtpServer from "./support/SmtpServer.ts"

const marker = `mk${crypto.randomBytes(8).toString("hex")}`

/** Everything a careless receiver could say about the request it got. */
const echo = (origin: string) => (request: Receiver.Received): Receiver.Reply => ({
  status: 500,
  body: [
    `no hook at ${origin}${request.path}`,
    `path ${request.path}`,
    `decoded ${decodeURIComponent(request.path)}`,
    `query ${request.path.split("?")[1] ?? ""}`,
    `credentials ${request.headers.authorization ?? ""}`,
    `decoded credentials ${Buffer.from((request.headers.authorization ?? "").replace(/^Basic /, ""), "base64").toString("utf8")}`,
    JSON.stringify({ url: `${origin}${request.path}`, escaped: `${origin}${request.path}`.replaceAll("/", "\\/") })
  ].join("\n")
})

const channels = Channels.Channels

describe("errors keep no secret", () => {
  it.effect("a receiver echoing the URL, the query and the Basic credentials", () =>
    Effect.gen(function*() {
      const service = yield* channels
      const hooks: Array<{ readonly id: string; readonly receiver: Receiver.Receiver }> = []
      for (const [kind, path] of [
        ["slack", `/services/T000/B000/${marker}slack`],
        ["discord", `/api/webhooks/123/${marker}discord`],
        ["google_chat", `/v1/spaces/X/messages?key=${marker}key&token=${marker}token`],
        ["webhook", `/hooks/${marker}path?token=${marker}query&plain=1`]
      ] as const) {
        let origin = ""
        const receiver = yield* Receiver.make((request) => echo(origin)(request))
        origin = receiver.origin
        const url = kind === "webhook"
          ? `http://ops:${marker}pass@${receiver.origin.slice("http://".length)}${path}`
          : `${receiver.origin}${path}`
        const saved = yield* service.create("team-a", {
          name: kind,
          events: ["release.completed"],
          config: kind === "webhook" ? { kind, url, secret: `${marker}-signing-secret` } : { kind, url }
        })
        hooks.push({ id: saved.channel.id, receiver })
      }
      for (const { id, receiver } of hooks) {
        const delivery = yield* service.sendTest("team-a", id)
        assert.strictEqual(delivery.status, "failed")
        assert.strictEqual(delivery.lastStatusCode, 500)
        // One attempt: a temporary failure is given up at once.
        assert.match(delivery.lastError ?? "", /^gave up after 1 attempts: HTTP 500: no hook at http:\/\/127\.0\.0\.1:\d+\/…\n/)
        assert.notInclude(delivery.lastError ?? "", marker)
        assert.strictEqual(receiver.received.length, 1)
      }
      // The webhook's user info was sent, as HTTP Basic authentication.
      const webhook = hooks[3]!.receiver.received[0]!
      assert.strictEqual(webhook.headers.authorization, `Basic ${Buffer.from(`ops:${marker}pass`).toString("base64")}`)
    }).pipe(Effect.provide(Pipeline.layer())))

  it.effect("a receiver quoting the signing secret, and one that cannot be reached", () =>
    Effect.gen(function*() {
      const service = yield* channels
      const quoting = yield* Receiver.make(() => ({ status: 401, body: `expected a signature made with ${marker}-signing-secret` }))
      const quoted = yield* service.create("team-a", {
        name: "quoting",
        events: ["release.completed"],
        config: { kind: "webhook", url: `${quoting.origin}/hook`, secret: `${marker}-signing-secret` }
      })
      const unreachable = yield* service.create("team-a", {
        name: "unreachable",
        events: ["release.completed"],
        config: { kind: "webhook", url: `http://ops:${marker}pass@127.0.0.1:1/hooks/${marker}path?token=${marker}query` }
      })
      const refused = yield* service.sendTest("team-a", quoted.channel.id)
      assert.strictEqual(refused.lastError, "HTTP 401: expected a signature made with …")
      const failed = yield* service.sendTest("team-a", unreachable.channel.id)
      assert.strictEqual(failed.status, "failed")
      assert.match(failed.lastError ?? "", /^gave up after 1 attempts: request failed: connect ECONNREFUSED 127\.0\.0\.1:1/)
      assert.notInclude(failed.lastError ?? "", marker)
    }).pipe(Effect.provide(Pipeline.layer())))

  it.effect("an SMTP server repeating the password it refused, through the worker's retries too", () =>
    Effect.gen(function*() {
      const smtp = yield* SmtpServer.make({ echoCredentials: true })
      const service = yield* channels
      yield* service.create("team-a", {
        name: "on-call",
        events: ["release.completed"],
        config: {
          kind: "email",
          host: "127.0.0.1",
          port: smtp.port,
          security: "none",
          from: "canaryroll@example.com",
          to: ["oncall@example.com"],
          username: "mailer",
          password: `${marker}-smtp-password`
        }
      })
      yield* Pipeline.append("release-1", Releases.completed("release-1", "team-a"))
      yield* (yield* Pipeline.recorder()).runOnce
      assert.strictEqual(yield* (yield* Pipeline.worker()).runDue, 1)
      const store = yield* NotificationStore.NotificationStore
      const [delivery] = yield* store.listDeliveries("team-a", { limit: 10 })
      assert.strictEqual(delivery!.status, "failed")
      assert.strictEqual(delivery!.lastStatusCode, 535)
      assert.match(delivery!.lastError ?? "", /Invalid username or password: mailer \/ … \(AUTH PLAIN …\)/)
      assert.notInclude(delivery!.lastError ?? "", marker)
      assert.isAtLeast(smtp.connections(), 1, "the server was reached and answered")
    }).pipe(Effect.provide(Pipeline.layer())))
})
