/**
 * The `slack` channel kind: a Slack incoming webhook URL (sealed whole; shown as its scheme and
 * host), and the Slack message of a notification: Block Kit blocks with a `text`
 * fallback (what notifications and screen readers show). Slack refuses a message that breaks a
 * limit, so every text is cut to its block's limit: a header 150 characters, a section's text
 * 3,000, a section field 2,000 (at most 10 fields), a context element 3,000; at most 50 blocks
 * (this message has at most 6). User-provided text is escaped (`&`, `<`, `>`) so a reason
 * cannot forge a link or a mention. The link to the release is a mrkdwn link rather than a
 * button: a button in an incoming webhook's message needs an interactive app behind it.
 *
 * @since 0.1.0
 */
import { Actor } from "@canaryroll/core"
import * as ChannelKind from "../ChannelKind.ts"
import * as Notification from "../Notification.ts"
import * as TextLimit from "../TextLimit.ts"

export const limits = {
  headerText: 150,
  sectionText: 3000,
  fieldText: 2000,
  fields: 10,
  contextText: 3000,
  blocks: 50,
  /** Slack cuts a message's top-level `text` beyond this. */
  text: 40_000
} as const

export interface TextObject {
  readonly type: "plain_text" | "mrkdwn"
  readonly text: string
  readonly emoji?: boolean
}

export type Block =
  | { readonly type: "header"; readonly text: TextObject }
  | { readonly type: "section"; readonly text?: TextObject; readonly fields?: ReadonlyArray<TextObject> }
  | { readonly type: "context"; readonly elements: ReadonlyArray<TextObject> }
  | { readonly type: "divider" }

export interface SlackMessage {
  readonly text: string
  readonly blocks: ReadonlyArray<Block>
}

/** Slack's mrkdwn control characters; everything else is shown as typed. */
export const escape = (text: string): string => text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;")

const escapedWithin = (raw: string, max: number): string => TextLimit.truncateEscaped(raw, max, escape)

const mrkdwn = (text: string): TextObject => ({ type: "mrkdwn", text })

const emoji: { readonly [outcome in Notification.Outcome]: string } = {
  info: ":information_source:",
  success: ":white_check_mark:",
  warning: ":warning:",
  danger: ":rotating_light:"
}

export const render = (notification: Notification.Notification): SlackMessage => {
  const fields = Notification.facts(notification).slice(0, limits.fields).map(({ label, value }) =>
    mrkdwn(`*${label}*\n${escapedWithin(value, limits.fieldText - label.length - 3)}`)
  )
  const icon = emoji[notification.outcome]
  const context = `${notification.test ? "Test message · " : ""}${Actor.describe(notification.actor)} · ${
    new Date(notification.at).toISOString()
  } · event ${notification.eventId}`
  const blocks: Array<Block> = [
    { type: "header", text: { type: "plain_text", text: TextLimit.truncate(notification.title, limits.headerText), emoji: true } },
    { type: "section", text: mrkdwn(`${icon} ${escapedWithin(notification.sentence, limits.sectionText - icon.length - 1)}`) },
    { type: "section", fields },
    // The URL is ours (base URL and ids), so it only needs the link syntax's own escaping.
    { type: "section", text: mrkdwn(`<${escape(notification.releaseUrl)}|Open the release>`) },
    { type: "context", elements: [mrkdwn(escapedWithin(context, limits.contextText))] }
  ]
  const text = escapedWithin(`${notification.title}: ${notification.sentence} (${notification.releaseUrl})`, limits.sectionText)
  return { text, blocks: blocks.slice(0, limits.blocks) }
}

/** The `slack` kind: the message above, POSTed as JSON to the channel's incoming webhook URL. */
export const kind = ChannelKind.incomingWebhook({ kind: "slack", label: "Slack", render })
