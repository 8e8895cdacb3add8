/**
 * The Channels service: validation, secrets sealed at rest and never shown, per-team isolation,
 * and updates that keep what they do not change.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Option, Redacted, Result } from "effect"
import { Channel, Channels, NotificationStore, Redaction, SecretSealer } from "../src/index.ts"
import * as Pipeline from "./support/Pipeline.ts"

const slackUrl = "https://hooks.slack.com/services/T000/B000/secret-token-123"

const stored = (channelId: string) =>
  Effect.flatMap(NotificationStore.NotificationStore, (store) => store.getChannel("team-a", channelId)).pipe(
    Effect.map(Option.getOrThrow)
  )

describe("Channels", () => {
  it.effect("stores URLs sealed and shows them redacted", () =>
    Effect.gen(function*() {
      const channels = yield* Channels.Channels
      const { channel, signingSecret } = yield* channels.create("team-a", {
        name: "#deploys",
        events: ["release.completed", "release.rolled_back"],
        config: { kind: "slack", url: slackUrl }
      })
      assert.isNull(signingSecret)
      assert.deepStrictEqual(channel.config, { kind: "slack", url: "https://hooks.slack.com/…" })
      assert.isTrue(channel.enabled)
      const record = yield* stored(channel.id)
      assert.notInclude(JSON.stringify(record), "secret-token-123")
      // sealed for this channel and field: it opens there and nowhere else
      const sealer = yield* SecretSealer.SecretSealer
      const opened = yield* sealer.decrypt(record.secrets["url"]!, SecretSealer.associatedData(channel.id, "url"))
      assert.strictEqual(Redacted.value(opened), slackUrl)
      const elsewhere = yield* sealer.decrypt(record.secrets["url"]!, SecretSealer.associatedData("chn_other", "url")).pipe(
        Effect.result
      )
      assert.isTrue(Result.isFailure(elsewhere))
      assert.notInclude(JSON.stringify(yield* channels.list("team-a")), "secret-token-123")
    }).pipe(Effect.provide(Pipeline.layer())))

  it.effect("a webhook channel's signing secret is generated, shown once, kept on update, and rotated on request", () =>
    Effect.gen(function*() {
      const channels = yield* Channels.Channels
      const created = yield* channels.create("team-a", {
        name: "ops",
        events: ["release.failed"],
        config: { kind: "webhook", url: "https://ops.example.com/hooks/canaryroll?key=k1" }
      })
      const secret = Redacted.value(created.signingSecret!)
      assert.match(secret, /^whsec_/)
      assert.deepStrictEqual(created.channel.config, { kind: "webhook", url: "https://ops.example.com/…", signingSecretSet: true })
      const before = yield* stored(created.channel.id)
      assert.notInclude(JSON.stringify(before), secret)

      const renamed = yield* channels.update("team-a", created.channel.id, {
        name: "ops-2",
        config: { kind: "webhook", url: "https://ops.example.com/hooks/canaryroll?key=k2" }
      })
      assert.isNull(renamed.signingSecret)
      assert.strictEqual((yield* stored(created.channel.id)).secrets["secret"], before.secrets["secret"])
      assert.strictEqual(renamed.channel.name, "ops-2")

      const rotated = yield* channels.update("team-a", created.channel.id, { rotateSigningSecret: true })
      const next = Redacted.value(rotated.signingSecret!)
      assert.notStrictEqual(next, secret)
      const sealer = yield* SecretSealer.SecretSealer
      const record = yield* stored(created.channel.id)
      const open = (name: string) => sealer.decrypt(record.secrets[name]!, SecretSealer.associatedData(record.id, name))
      assert.strictEqual(Redacted.value(yield* open("secret")), next)
      assert.strictEqual(Redacted.value(yield* open("url")), "https://ops.example.com/hooks/canaryroll?key=k2")
      // the replaced secret is kept, sealed, with its expiry, for deliveries already queued
      assert.notInclude(JSON.stringify(record), secret)
      const previous = JSON.parse(Redacted.value(yield* open(Channel.previousSecretName)))
      assert.deepStrictEqual(previous, { secret, expiresAt: Channel.previousSecretTtlMs })
      // and an update that does not rotate keeps it as it is
      yield* channels.update("team-a", created.channel.id, { name: "ops-3" })
      assert.strictEqual((yield* stored(created.channel.id)).secrets[Channel.previousSecretName], record.secrets[Channel.previousSecretName])
    }).pipe(Effect.provide(Pipeline.layer())))

  it.effect("an email channel keeps its password unless it is replaced or removed, and never shows it", () =>
    Effect.gen(function*() {
      const channels = yield* Channels.Channels
      const config = {
        kind: "email",
        host: "smtp.example.com",
        port: 587,
        security: "starttls",
        from: "canaryroll@example.com",
        to: ["oncall@example.com"],
        username: "mailer",
        password: "hunter2"
      } as const
      const { channel } = yield* channels.create("team-a", { name: "mail", events: ["release.failed"], config })
      assert.deepStrictEqual(channel.config, {
        kind: "email",
        host: "smtp.example.com",
        port: 587,
        security: "starttls",
        from: "canaryroll@example.com",
        to: ["oncall@example.com"],
        username: "mailer",
        passwordSet: true
      })
      assert.notInclude(JSON.stringify(yield* stored(channel.id)), "hunter2")
      const { password: _, ...withoutPassword } = config
      const kept = yield* channels.update("team-a", channel.id, { config: { ...withoutPassword, port: 2525 } })
      assert.deepStrictEqual([kept.channel.config.kind === "email" && kept.channel.config.passwordSet, (yield* stored(channel.id)).secrets["password"] !== undefined], [true, true])
      const removed = yield* channels.update("team-a", channel.id, { config: { ...config, password: null } })
      assert.isFalse(removed.channel.config.kind === "email" && removed.channel.config.passwordSet)
    }).pipe(Effect.provide(Pipeline.layer())))

  it.effect("another team's channel is not found, not changed, not deleted", () =>
    Effect.gen(function*() {
      const channels = yield* Channels.Channels
      const { channel } = yield* channels.create("team-a", {
        name: "a",
        events: ["release.failed"],
        config: { kind: "discord", url: "https://discord.com/api/webhooks/1/abc" }
      })
      for (
        const attempt of [
          channels.get("team-b", channel.id),
          channels.update("team-b", channel.id, { name: "stolen" }),
          channels.remove("team-b", channel.id)
        ] as const
      ) {
        const error = yield* Effect.flip(attempt as Effect.Effect<unknown, { readonly _tag: string }>)
        assert.strictEqual(error._tag, "ChannelNotFound")
      }
      assert.deepStrictEqual(yield* channels.list("team-b"), [])
      assert.strictEqual((yield* channels.get("team-a", channel.id)).name, "a")
      yield* channels.remove("team-a", channel.id)
      assert.deepStrictEqual(yield* channels.list("team-a"), [])
    }).pipe(Effect.provide(Pipeline.layer())))

  it.effect("an update cannot change a channel's kind", () =>
    Effect.gen(function*() {
      const channels = yield* Channels.Channels
      const { channel } = yield* channels.create("team-a", {
        name: "a",
        events: ["release.failed"],
        config: { kind: "google_chat", url: "https://chat.googleapis.com/v1/spaces/X/messages?key=k&token=t" }
      })
      const error = yield* Effect.flip(channels.update("team-a", channel.id, { config: { kind: "slack", url: slackUrl } }))
      assert.strictEqual(error._tag, "ChannelInvalid")
      assert.deepStrictEqual(error._tag === "ChannelInvalid" ? error.issues : [], [
        { field: "config.kind", message: "must stay google_chat: create a new channel for another kind" }
      ])
    }).pipe(Effect.provide(Pipeline.layer())))
})

describe("Channel input", () => {
  it("names every invalid field", () => {
    const result = Channel.decodeInput({
      name: "",
      events: ["release.completed", "release.completed", "release.exploded"],
      config: { kind: "email", host: "smtp example", port: 70000, security: "ssl", from: "nobody", to: [] }
    })
    assert.isTrue(Result.isFailure(result))
    const fields = Result.isFailure(result) ? result.failure.issues.map((issue) => issue.field) : []
    for (const field of ["name", "events[2]", "config.host", "config.port", "config.security", "config.from", "config.to"]) {
      assert.include(fields, field)
    }
  })

  it("accepts each kind, and refuses a URL that is not http(s)", () => {
    for (const config of [
      { kind: "slack", url: slackUrl },
      { kind: "discord", url: "https://discord.com/api/webhooks/1/abc" },
      { kind: "google_chat", url: "https://chat.googleapis.com/v1/spaces/X/messages?key=k" },
      { kind: "webhook", url: "https://example.com/hook", secret: "a-long-enough-secret" },
      { kind: "email", host: "smtp.example.com", port: 465, security: "tls", from: "a@example.com", to: ["b@example.com"] }
    ]) {
      assert.isTrue(Result.isSuccess(Channel.decodeInput({ name: "n", events: ["release.failed"], config })), config.kind)
    }
    assert.isTrue(Result.isFailure(Channel.decodeInput({ name: "n", events: ["release.failed"], config: { kind: "slack", url: "ftp://x" } })))
    assert.isTrue(Result.isFailure(Channel.decodeInput({ name: "n", events: [], config: { kind: "slack", url: slackUrl } })))
  })

  it("redacts a URL to its scheme and host", () => {
    assert.strictEqual(Redaction.url(slackUrl), "https://hooks.slack.com/…")
    assert.strictEqual(Redaction.url("http://127.0.0.1:8080/x?token=y"), "http://127.0.0.1:8080/…")
  })
})
