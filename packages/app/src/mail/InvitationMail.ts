/**
 * The invitation email: what an invited person receives when an admin invites them (or sends an
 * invitation again), and the port that sends it. The message is composed here, runtime-neutral:
 * plain text and HTML naming the team, the inviter, the role, the expiry and the accept link.
 * Sending is the runtime's (`InvitationMail`): the Node server's layer goes through the notifier's
 * SMTP `Mailer` with the server's outgoing mail setting (`adapters/server/src/mail`); a server
 * without that setting has `layerUnconfigured`, and the admin passes the link on by hand.
 *
 * Team names, inviters' names and addresses are people's input: every one is escaped in the HTML,
 * and the subject and recipient are single header lines (line breaks and other controls removed),
 * so no one can add markup, links or headers to a message CanaryRoll sends in its own name.
 *
 * Sending never decides whether the invitation exists: the handler saves it first, then sends,
 * and a failure is an answer (`NotSent` with a reason a person can act on), never a lost invitation.
 *
 * @since 0.2.0
 */
import type { Role } from "@canaryroll/api/Access"
import { Context, Effect, Layer, Schema } from "effect"

/** What the email says. */
export interface Invitation {
  /** The invited address. */
  readonly to: string
  readonly teamName: string
  /** Who invited them, as the audit log names them (a person's name, or `token "ci"`). */
  readonly inviter: string
  readonly role: Role
  /** Epoch milliseconds. */
  readonly expiresAt: number
  /** The link that accepts it, on the server's public address. */
  readonly acceptUrl: string
}

/** One composed message: the sender adds `From`. */
export interface Message {
  readonly to: string
  readonly subject: string
  readonly text: string
  readonly html: string
}

/** Why no email went out, in words the admin reads beside the link they must now pass on. */
export class NotSent extends Schema.TaggedError<NotSent>()("InvitationMailNotSent", {
  reason: Schema.String
}) {}

export class InvitationMail extends Context.Service<InvitationMail, {
  /** Sends one invitation email; fails with why not (no mail setting, the mail server down or refusing). */
  readonly send: (message: Message) => Effect.Effect<void, NotSent>
}>()("@canaryroll/app/InvitationMail") {}

/** What each role may do, in the invitation's words. */
const roleSentences: Record<Role, string> = {
  read_only: "read-only: you can follow releases and read the audit log, and change nothing",
  deploy: "deploy: you can create, start, advance, pause and roll back releases",
  admin: "admin: you can run releases and manage the team's settings, members and tokens"
}

/** A header's value on one line: line breaks and other control characters become spaces. */
export const headerLine = (value: string): string =>
  // eslint-disable-next-line no-control-regex
  value.replace(/[\u0000-\u001f\u007f\u0085\u2028\u2029]+/g, " ").trim()

/** Text as HTML text or attribute value. */
export const escapeHtml = (value: string): string =>
  value.replace(/[&<>"']/g, (character) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", "\"": "&quot;", "'": "&#39;" })[character]!)

/** "8 December 2026 at 10:00 UTC": a date no reader's time zone can shift. */
export const expiryText = (epochMs: number): string =>
  `${new Intl.DateTimeFormat("en-GB", { timeZone: "UTC", dateStyle: "long", timeStyle: "short" }).format(epochMs)} UTC`

/** The email for `invitation`. */
export const compose = (invitation: Invitation): Message => {
  const team = headerLine(invitation.teamName)
  const inviter = headerLine(invitation.inviter)
  const expires = expiryText(invitation.expiresAt)
  const role = roleSentences[invitation.role]
  const text = [
    `${inviter} invited you to the team ${team} on CanaryRoll.`,
    "",
    `Your role: ${role}.`,
    "",
    "Accept the invitation (sign in, or create your account with this address):",
    invitation.acceptUrl,
    "",
    `The link works once, until ${expires}. If you did not expect this invitation, ignore this email: nothing happens without the link.`,
    ""
  ].join("\n")
  const html = [
    "<!doctype html>",
    "<html><body style=\"font-family: sans-serif; line-height: 1.5\">",
    `<p>${escapeHtml(inviter)} invited you to the team <strong>${escapeHtml(team)}</strong> on CanaryRoll.</p>`,
    `<p>Your role: ${escapeHtml(role)}.</p>`,
    `<p><a href="${escapeHtml(invitation.acceptUrl)}">Accept the invitation</a> (sign in, or create your account with this address).</p>`,
    `<p>Or open this link: ${escapeHtml(invitation.acceptUrl)}</p>`,
    `<p>The link works once, until ${escapeHtml(expires)}. If you did not expect this invitation, ignore this email: nothing happens without the link.</p>`,
    "</body></html>",
    ""
  ].join("\n")
  return { to: headerLine(invitation.to), subject: `You are invited to ${team} on CanaryRoll`, text, html }
}

/** The reason a server without outgoing mail gives. */
export const unconfiguredReason =
  "this server sends no email (no CANARYROLL_SMTP_URL is set): pass the link on to them yourself"

/** A server with no outgoing mail setting: every send says so, and the admin passes the link on. */
export const layerUnconfigured: Layer.Layer<InvitationMail> = Layer.succeed(
  InvitationMail,
  InvitationMail.of({ send: () => Effect.fail(new NotSent({ reason: unconfiguredReason })) })
)
