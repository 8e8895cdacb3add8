/**
 * The `discord` channel kind: a Discord channel webhook URL (sealed whole; shown as its scheme
 * and host), and the Discord message of a notification: one embed coloured by outcome
 * (green completed, red rolled back or failed, amber paused or unhealthy, blue otherwise).
 * Discord refuses an embed over its limits, so each part is cut to its own (title 256,
 * description 4,096, at most 25 fields of name 256 and value 1,024, footer 2,048) and the
 * description shrinks until the whole embed counts at most 6,000 characters. Markdown in
 * user-provided text is escaped, and `allowed_mentions` is empty so that a reason containing
 * `@everyone` pings nobody.
 *
 * @since 0.1.0
 */
import * as ChannelKind from "../ChannelKind.ts"
import * as Notification from "../Notification.ts"
import * as TextLimit from "../TextLimit.ts"

export const limits = {
  title: 256,
  description: 4096,
  fields: 25,
  fieldName: 256,
  fieldValue: 1024,
  footer: 2048,
  /** Title, description, field names and values, footer text and author name, together. */
  total: 6000
} as const

export const colours: { readonly [outcome in Notification.Outcome]: number } = {
  info: 0x3b82f6,
  success: 0x22c55e,
  warning: 0xf59e0b,
  danger: 0xef4444
}

export interface Embed {
  readonly title: string
  readonly url: string
  readonly description: string
  readonly color: number
  readonly fields: ReadonlyArray<{ readonly name: string; readonly value: string; readonly inline: boolean }>
  readonly footer: { readonly text: string }
  readonly timestamp: string
}

export interface DiscordMessage {
  readonly username: string
  readonly embeds: ReadonlyArray<Embed>
  readonly allowed_mentions: { readonly parse: ReadonlyArray<string> }
}

/** Discord's markdown characters, shown as typed. */
export const escape = (text: string): string => text.replace(/[\\*_~`|>#[\]()-]/g, (c) => `\\${c}`)

/** Ours is far below Discord's 2,048: it is only the event id. */
const footerLength = 200

const within = (raw: string, max: number) => TextLimit.truncateEscaped(raw, max, escape)

/** What Discord counts toward an embed's 6,000 characters. */
export const totalLength = (embed: Embed): number =>
  TextLimit.length(embed.title) + TextLimit.length(embed.description) + TextLimit.length(embed.footer.text) +
  embed.fields.reduce((sum, field) => sum + TextLimit.length(field.name) + TextLimit.length(field.value), 0)

export const render = (notification: Notification.Notification): DiscordMessage => {
  const facts = Notification.facts(notification).slice(0, limits.fields)
  const fieldsWithin = (max: number) =>
    facts.map(({ label, value }) => ({
      name: TextLimit.truncate(label, limits.fieldName),
      value: within(value, max),
      // Short facts sit side by side; a reason reads better across the embed.
      inline: label !== "Reason" && label !== "Measured"
    }))
  // Fields first, then the description gets what is left of the total. Only absurdly long values
  // (several facts near 1,024) could fill the total alone: then each gets an equal share.
  const budget = limits.total - limits.title - footerLength - 500
  const full = fieldsWithin(limits.fieldValue)
  const used = full.reduce((sum, field) => sum + TextLimit.length(field.name) + TextLimit.length(field.value), 0)
  const fields = used <= budget ? full : fieldsWithin(Math.floor(budget / Math.max(1, facts.length)) - 20)
  const base: Embed = {
    title: TextLimit.truncate(notification.title, limits.title),
    url: notification.releaseUrl,
    description: "",
    color: colours[notification.outcome],
    fields,
    footer: { text: TextLimit.truncate(`${notification.test ? "Test message · " : ""}CanaryRoll · event ${notification.eventId}`, footerLength) },
    timestamp: new Date(notification.at).toISOString()
  }
  const room = Math.min(limits.description, limits.total - totalLength(base))
  const embed: Embed = { ...base, description: within(notification.sentence, Math.max(0, room)) }
  return { username: "CanaryRoll", embeds: [embed], allowed_mentions: { parse: [] } }
}

/** The `discord` kind: the message above, POSTed as JSON to the channel's incoming webhook URL. */
export const kind = ChannelKind.incomingWebhook({ kind: "discord", label: "Discord", render })
