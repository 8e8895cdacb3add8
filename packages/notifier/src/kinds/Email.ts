/**
 * The `email` channel kind: an SMTP server (host, port, `tls` from the first byte, `starttls`,
 * or `none`), the sender, the recipients and optional credentials; the password is sealed, the
 * rest stored in clear and shown, with whether a password is set. And the email of a
 * notification: a subject, a plain-text part and an HTML part that say the same
 * thing (mail clients pick one; spam filters distrust HTML-only mail). The HTML is a plain table
 * with inline styles, which every client renders, and all text in it is escaped. A subject is
 * cut to 200 characters: RFC 5322 allows longer, but clients cut far earlier.
 *
 * @since 0.1.0
 */
import { Effect, Redacted, Schema } from "effect"
import { Base64 } from "effect/encoding"
import * as ChannelKind from "../ChannelKind.ts"
import * as Notification from "../Notification.ts"
import * as TextLimit from "../TextLimit.ts"
import * as WebhookSignature from "../WebhookSignature.ts"

export interface EmailMessage {
  readonly subject: string
  readonly text: string
  readonly html: string
}

export const limits = { subject: 200 } as const

const accent: { readonly [outcome in Notification.Outcome]: string } = {
  info: "#3b82f6",
  success: "#16a34a",
  warning: "#d97706",
  danger: "#dc2626"
}

export const escapeHtml = (text: string): string =>
  text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;").replace(/'/g, "&#39;")

export const render = (notification: Notification.Notification): EmailMessage => {
  const facts = Notification.facts(notification)
  const subject = TextLimit.truncate(`${notification.test ? "[CanaryRoll test] " : "[CanaryRoll] "}${notification.title}`, limits.subject)
    // a subject is one header line
    .replace(/[\r\n]+/g, " ")
  const text = [
    notification.title,
    "",
    notification.sentence,
    "",
    ...facts.map(({ label, value }) => `${label}: ${value}`),
    "",
    `Open the release: ${notification.releaseUrl}`,
    "",
    `${notification.test ? "This is a test message. " : ""}Event ${notification.eventId} at ${new Date(notification.at).toISOString()}.`
  ].join("\n")
  const rows = facts.map(({ label, value }) =>
    `<tr><th align="left" style="padding:4px 12px 4px 0;color:#555;font-weight:600;vertical-align:top">${escapeHtml(label)}</th>` +
    `<td style="padding:4px 0">${escapeHtml(value)}</td></tr>`
  ).join("")
  const html = `<!doctype html>
<html><body style="font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;color:#111;margin:0;padding:24px">
<div style="border-left:4px solid ${accent[notification.outcome]};padding-left:16px;max-width:640px">
<h2 style="margin:0 0 12px 0;font-size:18px">${escapeHtml(notification.title)}</h2>
<p style="margin:0 0 16px 0">${escapeHtml(notification.sentence)}</p>
<table cellspacing="0" cellpadding="0" style="border-collapse:collapse;font-size:14px">${rows}</table>
<p style="margin:20px 0"><a href="${escapeHtml(notification.releaseUrl)}" style="color:${accent.info}">Open the release</a></p>
<p style="margin:0;color:#777;font-size:12px">${notification.test ? "This is a test message. " : ""}Event ${escapeHtml(notification.eventId)} at ${
    new Date(notification.at).toISOString()
  }.</p>
</div>
</body></html>`
  return { subject, text, html }
}

/** `tls`: TLS from the first byte (usually port 465); `starttls`: upgrade required (587); `none`: plain (tests, relays on localhost). */
export const Security = Schema.Literals(["tls", "starttls", "none"])
export type Security = typeof Security.Type

export const maxRecipients = 50

const check = ChannelKind.check

const EmailAddress = Schema.String.check(
  check((s: string) => s.length <= 254 && /^[^\s@<>,;"]+@[^\s@<>,;"]+\.[^\s@<>,;"]+$/.test(s), () => "must be an email address", {
    maxLength: 254
  })
)

const Host = Schema.String.check(
  check((s: string) => s.length >= 1 && s.length <= 253 && /^[A-Za-z0-9.:[\]-]+$/.test(s), () => "must be a host name or address", {
    minLength: 1,
    maxLength: 253
  })
)

const Port = Schema.Int.check(check((n: number) => n >= 1 && n <= 65535, (n) => `must be between 1 and 65535, got ${n}`))

/** An email channel's stored settings: everything but the password. */
export const Settings = Schema.Struct({
  host: Schema.String,
  port: Schema.Int,
  security: Security,
  from: Schema.String,
  to: Schema.Array(Schema.String),
  username: Schema.NullOr(Schema.String)
})
export type Settings = typeof Settings.Type

const decodeSettings = Schema.decodeUnknownSync(Settings)

export interface Opened {
  readonly settings: Settings
  readonly password: Redacted.Redacted<string> | null
}

export const kind = ChannelKind.make({
  kind: "email",
  label: "email",
  config: {
    host: Host,
    port: Port,
    security: Security,
    from: EmailAddress,
    to: Schema.Array(EmailAddress).check(
      check((to: ReadonlyArray<string>) => to.length >= 1 && to.length <= maxRecipients, () => `must list 1 to ${maxRecipients} recipients`, {
        minItems: 1,
        maxItems: maxRecipients
      })
    ),
    username: Schema.optionalKey(Schema.NullOr(Schema.String.check(check((s: string) => s.length <= 256, () => "too long", { maxLength: 256 })))),
    /** Absent on an update: the current password is kept; `null`: none. */
    password: Schema.optionalKey(Schema.NullOr(Schema.String.check(check((s: string) => s.length <= 1024, () => "too long", { maxLength: 1024 }))))
  },
  view: {
    host: Schema.String,
    port: Schema.Number,
    security: Security,
    from: Schema.String,
    to: Schema.Array(Schema.String),
    username: Schema.NullOr(Schema.String),
    passwordSet: Schema.Boolean
  },
  seal: Effect.fnUntraced(function*(config, { channelId, current }) {
    const settings: Settings = {
      host: config.host,
      port: config.port,
      security: config.security,
      from: config.from,
      to: config.to,
      username: config.username ?? null
    }
    const password = config.password === undefined
      ? current?.secrets["password"]
      : config.password === null
      ? undefined
      : yield* ChannelKind.sealSecret(channelId, "password", config.password)
    return { settings, secrets: password === undefined ? {} : { password }, generatedSecret: null }
  }),
  show: (channel) => ({ ...decodeSettings(channel.settings), passwordSet: channel.secrets["password"] !== undefined }),
  open: (channel) =>
    Effect.map(
      channel.secrets["password"] === undefined ? Effect.succeed(null) : ChannelKind.openSecret(channel, "password"),
      (password): Opened => ({ settings: decodeSettings(channel.settings), password })
    ),
  secretsOf: ({ settings, password }) => {
    if (password === null) return []
    const plain = Redacted.value(password)
    // As SMTP sends it: AUTH LOGIN the password alone, AUTH PLAIN with the user name.
    return [plain, Base64.encode(plain), Base64.encode(`\u0000${settings.username ?? ""}\u0000${plain}`)]
  },
  send: (opened, notification, attempt, transport) => {
    const message = render(notification)
    return transport.mail({
      server: opened.settings,
      password: opened.password,
      message: {
        from: opened.settings.from,
        to: opened.settings.to,
        subject: message.subject,
        text: message.text,
        html: message.html,
        headers: { [WebhookSignature.deliveryHeader]: attempt.deliveryId }
      }
    })
  }
})
