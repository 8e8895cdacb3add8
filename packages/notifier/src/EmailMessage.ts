/**
 * The email of a notification: a subject, a plain-text part and an HTML part that say the same
 * thing (mail clients pick one; spam filters distrust HTML-only mail). The HTML is a plain table
 * with inline styles, which every client renders, and all text in it is escaped. A subject is
 * cut to 200 characters: RFC 5322 allows longer, but clients cut far earlier.
 *
 * @since 0.1.0
 */
import * as Notification from "./Notification.ts"
import * as TextLimit from "./TextLimit.ts"

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
