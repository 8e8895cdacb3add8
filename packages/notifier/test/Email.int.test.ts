/**
 * Email through a real SMTP server on loopback (`smtp-server`), parsed with `mailparser`: both
 * parts say the same thing; credentials are used when set; a 5xx reply fails at once, a 4xx is
 * retried.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { Channels, NotificationStore } from "../src/index.ts"
import * as Pipeline from "./support/Pipeline.ts"
import * as Releases from "./support/Releases.ts"
import * as SmtpServer from "./support/SmtpServer.ts"

const smtpServer = SmtpServer.make

const emailChannel = (port: number, credentials: { username?: string; password?: string } = {}) =>
  Effect.flatMap(Channels.Channels, (channels) =>
    channels.create("team-a", {
      name: "on-call",
      events: ["release.rolled_back"],
      config: {
        kind: "email",
        host: "127.0.0.1",
        port,
        security: "none",
        from: "canaryroll@example.com",
        to: ["oncall@example.com", "lead@example.com"],
        ...credentials
      }
    }))

const deliver = Effect.gen(function*() {
  yield* (yield* Pipeline.recorder()).runOnce
  return yield* (yield* Pipeline.worker()).runDue
})

describe("email over SMTP", () => {
  it.effect("a rollback arrives as HTML and plain text that say the same thing, with credentials used", () =>
    Effect.gen(function*() {
      const smtp = yield* smtpServer()
      yield* emailChannel(smtp.port, { username: "mailer", password: "s3cret" })
      yield* Pipeline.append("release-1", Releases.rolledBack("release-1", "team-a"))
      assert.strictEqual(yield* deliver, 2)
      const started = yield* smtp.next
      const done = yield* smtp.next
      assert.strictEqual(started.user, "mailer")
      assert.strictEqual(started.from, "canaryroll@example.com")
      assert.deepStrictEqual(started.to, ["oncall@example.com", "lead@example.com"])
      assert.strictEqual(started.mail.subject, "[CanaryRoll] Rolling back checkout-api")
      assert.strictEqual(done.mail.subject, "[CanaryRoll] checkout-api rolled back")
      assert.match(started.mail.headers.get("x-canaryroll-delivery") as string, /^dlv_/)

      const text = started.mail.text ?? ""
      const html = started.mail.html === false ? "" : started.mail.html ?? ""
      for (const fact of [
        "checkout-api",
        "v-canary (canary) over v-stable (stable)",
        "1 of 3 at 10%",
        "error rate 5.17% over 1200 requests (limit 1.00%)",
        "3 consecutive failed health checks (failuresBeforeAction 3): error rate 5.17% &gt; maxErrorRate (1.00%)",
        "CanaryRoll",
        "https://canaryroll.example/teams/team-a/deployments/release-1"
      ]) {
        assert.include(html, fact)
        assert.include(text, fact.replace("&gt;", ">"))
      }
      assert.include(html, `href="https://canaryroll.example/teams/team-a/deployments/release-1"`)
      const store = yield* NotificationStore.NotificationStore
      const statuses = (yield* store.listDeliveries("team-a", { limit: 10 })).map((d) => [d.status, d.lastStatusCode])
      assert.deepStrictEqual(statuses, [["delivered", 250], ["delivered", 250]])
    }).pipe(Effect.provide(Pipeline.layer())))

  it.effect("a 5xx reply fails at once; a 4xx reply is retried; wrong credentials fail", () =>
    Effect.gen(function*() {
      const refusing = yield* smtpServer({ reject: { code: 554, message: "Message rejected as spam" } })
      const busy = yield* smtpServer({ reject: { code: 451, message: "Try again later" } })
      const strict = yield* smtpServer()
      yield* emailChannel(refusing.port)
      yield* emailChannel(busy.port)
      yield* emailChannel(strict.port, { username: "mailer", password: "wrong" })
      yield* Pipeline.append("release-1", Releases.rolledBack("release-1", "team-a").slice(0, 9))
      yield* deliver
      const store = yield* NotificationStore.NotificationStore
      const outcomes = (yield* store.listDeliveries("team-a", { limit: 10 }))
        .map((d) => [d.status, d.lastStatusCode, d.lastError] as const)
        .sort((a, b) => String(a[1]).localeCompare(String(b[1])))
      assert.deepStrictEqual(outcomes.map(([status, code]) => [status, code]), [["pending", 451], ["failed", 535], ["failed", 554]])
      assert.include(outcomes[0]![2], "451 Try again later")
      assert.include(outcomes[1]![2], "535 Invalid username or password")
      assert.include(outcomes[2]![2], "554 Message rejected as spam")
    }).pipe(Effect.provide(Pipeline.layer())))
})
