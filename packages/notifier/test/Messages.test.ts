/**
 * Notifications and their renderings: what each message says, and that each platform's limits
 * hold however long the text (the reason is the one field people and Cloudflare fill freely).
 */
import { Actor, type ReleaseEvent } from "@canaryroll/core"
import { assert, describe, it } from "@effect/vitest"
import {
  Discord,
  Email,
  GoogleChat,
  Notification,
  NotificationEvent,
  Slack,
  TextLimit,
  Webhook
} from "../src/index.ts"
import * as Releases from "./support/Releases.ts"

const baseUrl = "https://canaryroll.example/"

/** The notification of the `index`th event of `events`. */
const notificationAt = (events: ReadonlyArray<ReleaseEvent.ReleaseEvent>, index: number) =>
  Notification.fromEvent({ baseUrl }, Notification.foldFacts(events.slice(0, index + 1))!, `release-1:${index + 1}`, events[index]!)

const rolledBack = Releases.rolledBack("release-1", "team-a")
const rollbackStarted = notificationAt(rolledBack, 8)!

const huge = (unit: string, count: number) => Array.from({ length: count }, () => unit).join("")
/** A rollback whose reason is far longer than any platform takes, with markup and emoji in it. */
const longReason = `<@everyone> & *bold* ${huge("error rate 5.17% > maxErrorRate (1.00%) 🚨 <script>; ", 600)}`
const rollbackWithLongReason: Notification.Notification = { ...rollbackStarted, reason: longReason, sentence: longReason }

describe("NotificationEvent", () => {
  it("maps release events to the names channels subscribe to", () => {
    const names = rolledBack.map(NotificationEvent.classify)
    assert.deepStrictEqual(names, [
      "release.created",
      "release.started",
      undefined, // StepStarted
      undefined, // TrafficShifted
      undefined, // a healthy check
      "release.health_check_failed",
      "release.health_check_failed",
      "release.health_check_failed",
      "release.rolled_back", // RollbackStarted
      "release.rolled_back" // RolledBack
    ])
    assert.deepStrictEqual(
      Releases.completed("release-1", "team-a").map(NotificationEvent.classify).filter((name) => name !== undefined),
      ["release.created", "release.started", "release.step_advanced", "release.step_advanced", "release.completed"]
    )
  })
})

describe("release.stalled", () => {
  const stalled = (cause: ReleaseEvent.StallCause, reason: string): ReleaseEvent.ReleaseEvent => ({
    _tag: "Stalled",
    cause,
    stepIndex: 0,
    since: rolledBack[3]!.at,
    reason,
    actor: Actor.system,
    at: rolledBack[3]!.at + 180_000
  })
  const held = (event: ReleaseEvent.ReleaseEvent) => notificationAt([...rolledBack.slice(0, 4), event], 4)!

  it("a step held for lack of health data is said once, with its reason, to channels subscribed to release.stalled", () => {
    const notification = held(stalled("no_data", "held at step 1: no judged health data since 2026-01-01T10:02:00.000Z (analytics unavailable: timeout); the soak counts only judged time"))
    assert.strictEqual(notification.name, "release.stalled")
    assert.strictEqual(notification.title, "Release of checkout-api held: no health data at 10%")
    assert.strictEqual(notification.outcome, "warning")
    assert.match(notification.reason ?? "", /^held at step 1: no judged health data since/)
    assert.include(NotificationEvent.names, "release.stalled")
  })

  it("a rollback Cloudflare keeps failing is said once as pending, never as failed", () => {
    const notification = held(stalled("cloudflare_unreachable", "rollback pending: Cloudflare unreachable since 2026-01-01T10:02:00.000Z (3 attempts, retried with backoff): 503"))
    assert.strictEqual(notification.name, "release.stalled")
    assert.strictEqual(notification.title, "Rollback of checkout-api pending: Cloudflare unreachable")
    assert.match(Slack.render(notification).text, /Rollback of checkout-api pending/)
  })
})

describe("Notification", () => {
  it("says the Worker, the versions, the step, the measured error rate against the limit, the reason and who acted", () => {
    assert.strictEqual(rollbackStarted.name, "release.rolled_back")
    assert.strictEqual(rollbackStarted.title, "Rolling back checkout-api")
    assert.strictEqual(rollbackStarted.releaseUrl, "https://canaryroll.example/teams/team-a/deployments/release-1")
    assert.strictEqual(rollbackStarted.outcome, "warning")
    assert.deepStrictEqual(Notification.facts(rollbackStarted), [
      { label: "Worker", value: "checkout-api" },
      { label: "Versions", value: "v-canary (canary) over v-stable (stable)" },
      { label: "Step", value: "1 of 3 at 10%" },
      { label: "Measured", value: "error rate 5.17% over 1200 requests (limit 1.00%)" },
      {
        label: "Reason",
        value: "3 consecutive failed health checks (failuresBeforeAction 3): error rate 5.17% > maxErrorRate (1.00%)"
      },
      { label: "By", value: "CanaryRoll" }
    ])
  })

  it("a completed rollback keeps the rollback's reason and shows the canary at 0%", () => {
    const done = notificationAt(rolledBack, 9)!
    assert.strictEqual(done.title, "checkout-api rolled back")
    assert.strictEqual(done.outcome, "danger")
    assert.strictEqual(done.percentage, 0)
    assert.include(done.reason!, "failuresBeforeAction 3")
    assert.strictEqual(done.release.status, "rolled_back")
  })

  it("a step advanced by a person names the person and the new step", () => {
    const events = Releases.completed("release-1", "team-a")
    const promoted = notificationAt(events, 6)!
    assert.strictEqual(promoted.title, "checkout-api advanced to 100% (step 3 of 3)")
    assert.strictEqual(promoted.sentence, "Alice promoted checkout-api version v-canary to 100% (step 3)")
    assert.isNull(promoted.measurement)
    assert.strictEqual(notificationAt(events, 8)!.outcome, "success")
  })

  it("events nobody is told about have no notification", () => {
    assert.isUndefined(notificationAt(rolledBack, 4))
    assert.isUndefined(notificationAt(rolledBack, 2))
  })

  it("the test message looks like a real one and says it is a test", () => {
    const test = Notification.test({ baseUrl, teamId: "team-a", id: "dlv_1", at: Releases.t0 })
    assert.strictEqual(test.name, "test")
    assert.isTrue(test.test)
    assert.strictEqual(test.eventId, "test:dlv_1")
    assert.include(test.title, "Test message")
  })
})

describe("TextLimit", () => {
  it("cuts by characters, never inside one, and marks the cut", () => {
    assert.strictEqual(TextLimit.truncate("abcdef", 6), "abcdef")
    assert.strictEqual(TextLimit.truncate("abcdef", 4), "abc…")
    assert.strictEqual(TextLimit.truncate("🚨🚨🚨🚨", 3), "🚨🚨…")
    assert.strictEqual(TextLimit.truncateEscaped("a<b<c<d", 9, Slack.escape), "a&lt;b…")
  })
})

describe("Slack", () => {
  it("is Block Kit with a text fallback", () => {
    const message = Slack.render(rollbackStarted)
    assert.include(message.text, "Rolling back checkout-api")
    assert.deepStrictEqual(message.blocks.map((block) => block.type), ["header", "section", "section", "section", "context"])
    assert.include(JSON.stringify(message), "<https://canaryroll.example/teams/team-a/deployments/release-1|Open the release>")
  })

  it("stays within Slack's limits, with user text escaped", () => {
    const message = Slack.render(rollbackWithLongReason)
    assert.isAtMost(message.blocks.length, Slack.limits.blocks)
    assert.isAtMost(TextLimit.length(message.text), Slack.limits.sectionText)
    for (const block of message.blocks) {
      if (block.type === "header") assert.isAtMost(TextLimit.length(block.text.text), Slack.limits.headerText)
      if (block.type === "section") {
        if (block.text !== undefined) assert.isAtMost(TextLimit.length(block.text.text), Slack.limits.sectionText)
        assert.isAtMost(block.fields?.length ?? 0, Slack.limits.fields)
        for (const field of block.fields ?? []) assert.isAtMost(TextLimit.length(field.text), Slack.limits.fieldText)
      }
    }
    assert.notInclude(JSON.stringify(message), "<@everyone>")
    assert.include(JSON.stringify(message), "&lt;@everyone&gt; &amp; *bold*")
  })
})

describe("a blank reason", () => {
  // The API accepts a pause with reason "" and the orchestrator keeps it as given.
  const paused: ReleaseEvent.ReleaseEvent = { _tag: "Paused", cause: "requested", reason: "", actor: Releases.alice, at: Releases.t0 + 5_000 }
  const events = [...rolledBack.slice(0, 4), paused]
  const notification = notificationAt(events, 4)!

  it("is no reason", () => {
    assert.strictEqual(notification.name, "release.paused")
    assert.isNull(notification.reason)
    assert.notInclude(Notification.facts(notification).map((fact) => fact.label), "Reason")
    // nor is a stored notification's blank reason shown
    assert.notInclude(Notification.facts({ ...notification, reason: "  " }).map((fact) => fact.label), "Reason")
  })

  it("gives no empty Discord field nor empty Google Chat text", () => {
    for (const shown of [notification, { ...notification, reason: "" }]) {
      for (const field of Discord.render(shown).embeds[0]!.fields) assert.notStrictEqual(field.value.trim(), "", field.name)
      for (const widget of GoogleChat.render(shown).cardsV2[0]!.card.sections[0]!.widgets) {
        if ("decoratedText" in widget) assert.notStrictEqual(widget.decoratedText.text.trim(), "", widget.decoratedText.topLabel)
      }
    }
  })
})

describe("Discord", () => {
  it("is one embed, coloured by outcome, that pings nobody", () => {
    const message = Discord.render(rollbackStarted)
    assert.strictEqual(message.embeds.length, 1)
    assert.strictEqual(message.embeds[0]!.color, Discord.colours.warning)
    assert.strictEqual(Discord.render(notificationAt(rolledBack, 9)!).embeds[0]!.color, Discord.colours.danger)
    assert.strictEqual(message.embeds[0]!.url, rollbackStarted.releaseUrl)
    assert.deepStrictEqual(message.allowed_mentions, { parse: [] })
  })

  it("stays within Discord's embed limits", () => {
    const embed = Discord.render(rollbackWithLongReason).embeds[0]!
    assert.isAtMost(TextLimit.length(embed.title), Discord.limits.title)
    assert.isAtMost(TextLimit.length(embed.description), Discord.limits.description)
    assert.isAtMost(embed.fields.length, Discord.limits.fields)
    for (const field of embed.fields) {
      assert.isAtMost(TextLimit.length(field.name), Discord.limits.fieldName)
      assert.isAtMost(TextLimit.length(field.value), Discord.limits.fieldValue)
    }
    assert.isAtMost(Discord.totalLength(embed), Discord.limits.total)
    assert.isAbove(TextLimit.length(embed.description), 1000)
  })
})

describe("GoogleChat", () => {
  it("is a cardsV2 card with a header, the facts and a button to the release", () => {
    const message = GoogleChat.render(rollbackStarted)
    const card = message.cardsV2[0]!.card
    assert.strictEqual(card.header.title, "Rolling back checkout-api")
    assert.deepStrictEqual(
      card.sections[0]!.widgets.flatMap((widget) => "decoratedText" in widget ? [widget.decoratedText.topLabel] : []),
      ["Worker", "Versions", "Step", "Measured", "Reason", "By"]
    )
    assert.include(JSON.stringify(message), `"openLink":{"url":"${rollbackStarted.releaseUrl}"}`)
  })

  it("stays within 32,000 bytes, counting multi-byte characters", () => {
    const emoji = { ...rollbackWithLongReason, reason: huge("🚨", 20_000), sentence: huge("é", 40_000) }
    assert.isAtMost(TextLimit.byteLength(JSON.stringify(GoogleChat.render(emoji))), GoogleChat.limits.messageBytes)
    assert.isAtMost(
      TextLimit.byteLength(JSON.stringify(GoogleChat.render(rollbackWithLongReason))),
      GoogleChat.limits.messageBytes
    )
  })
})

describe("Email", () => {
  it("has a subject, a plain-text part and an HTML part saying the same, with HTML escaped", () => {
    const email = Email.render({ ...rollbackStarted, reason: "<script>alert(1)</script>" })
    assert.strictEqual(email.subject, "[CanaryRoll] Rolling back checkout-api")
    assert.include(email.text, "Reason: <script>alert(1)</script>")
    assert.include(email.text, "Measured: error rate 5.17% over 1200 requests (limit 1.00%)")
    assert.include(email.html, "&lt;script&gt;alert(1)&lt;/script&gt;")
    assert.notInclude(email.html, "<script>")
    assert.include(email.html, `href="${rollbackStarted.releaseUrl}"`)
  })
})

describe("Webhook", () => {
  it("is { event, release } with the release summary", () => {
    const body = JSON.parse(Webhook.render(rollbackStarted))
    assert.deepStrictEqual(Object.keys(body), ["event", "release"])
    assert.strictEqual(body.event.id, "release-1:9")
    assert.strictEqual(body.event.name, "release.rolled_back")
    assert.strictEqual(body.event.type, "RollbackStarted")
    assert.deepStrictEqual(body.event.actor, Actor.system)
    assert.strictEqual(body.release.id, "release-1")
    assert.strictEqual(body.release.status, "in_progress")
    assert.strictEqual(body.release.scriptName, "checkout-api")
    assert.strictEqual(body.release.url, rollbackStarted.releaseUrl)
  })
})
