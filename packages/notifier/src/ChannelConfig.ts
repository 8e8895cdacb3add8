/**
 * What a channel's settings may be, as Schemas only: the five kinds, each kind's config, and what
 * creating (`ChannelInput`) or updating (`ChannelPatch`) a channel takes. Browser- and
 * workerd-safe (it imports only `effect`): `@canaryroll/api` declares its endpoints with these,
 * and `Channel` (the notifier runtime: sealing, opening, showing) validates with the same ones.
 * Published as `@canaryroll/notifier/channel-config`.
 *
 * @since 0.2.0
 */
import { Schema } from "effect"
import * as NotificationEvent from "./NotificationEvent.ts"

export const Kind = Schema.Literals(["slack", "discord", "google_chat", "email", "webhook"])
export type Kind = typeof Kind.Type

/** `tls`: TLS from the first byte (usually port 465); `starttls`: upgrade required (587); `none`: plain (tests, relays on localhost). */
export const EmailSecurity = Schema.Literals(["tls", "starttls", "none"])
export type EmailSecurity = typeof EmailSecurity.Type

export const maxRecipients = 50

/**
 * A check with its message and, for the API's OpenAPI document, the bounds it enforces as JSON
 * Schema (`maxLength`, `maxItems`): approximate, as a test function says more than they can.
 */
const check = <A>(
  test: (value: A) => boolean,
  message: (value: A) => string,
  bounds?: { readonly minLength?: number; readonly maxLength?: number; readonly minItems?: number; readonly maxItems?: number }
) =>
  Schema.makeFilter(
    (value: A) => test(value) ? undefined : message(value),
    bounds === undefined ? undefined : { toJsonSchema: () => [bounds, true] as const }
  )

const Name = Schema.String.check(
  check((s: string) => s.trim().length >= 1 && s.length <= 100, (s) => `must be 1 to 100 characters, got ${s.length}`, {
    minLength: 1,
    maxLength: 100
  })
)

const isHttpUrl = (text: string): boolean => {
  if (text.length > 2048) return false
  try {
    const url = new URL(text)
    return (url.protocol === "https:" || url.protocol === "http:") && url.hostname !== ""
  } catch {
    return false
  }
}

const Url = Schema.String.check(check(isHttpUrl, () => "must be an http(s) URL of at most 2048 characters", { maxLength: 2048 }))

const Events = Schema.Array(NotificationEvent.EventName).check(
  check((events: ReadonlyArray<string>) => events.length >= 1, () => "must name at least one event"),
  // Every event at most once: a list can be no longer than the events there are.
  check((events: ReadonlyArray<string>) => new Set(events).size === events.length, () => "must not repeat an event", {
    minItems: 1,
    maxItems: NotificationEvent.names.length
  })
)

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

const SigningSecret = Schema.String.check(
  check((s: string) => s.length >= 16 && s.length <= 256, () => "must be 16 to 256 characters", { minLength: 16, maxLength: 256 })
)

export const SlackConfig = Schema.Struct({ kind: Schema.Literal("slack"), url: Url })
export const DiscordConfig = Schema.Struct({ kind: Schema.Literal("discord"), url: Url })
export const GoogleChatConfig = Schema.Struct({ kind: Schema.Literal("google_chat"), url: Url })
export const WebhookConfig = Schema.Struct({
  kind: Schema.Literal("webhook"),
  url: Url,
  /** Absent: a new channel gets a generated one; an update keeps the current one. */
  secret: Schema.optionalKey(SigningSecret)
})
export const EmailConfig = Schema.Struct({
  kind: Schema.Literal("email"),
  host: Host,
  port: Port,
  security: EmailSecurity,
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
})

export const ChannelConfig = Schema.Union([SlackConfig, DiscordConfig, GoogleChatConfig, WebhookConfig, EmailConfig]).pipe(
  Schema.toTaggedUnion("kind")
)
export type ChannelConfig = typeof ChannelConfig.Type

/** What creating a channel takes. */
export const ChannelInput = Schema.Struct({
  name: Name,
  events: Events,
  enabled: Schema.optionalKey(Schema.Boolean),
  config: ChannelConfig
})
export type ChannelInput = typeof ChannelInput.Type

/** What updating a channel takes: only what changes. `config` must keep the channel's kind. */
export const ChannelPatch = Schema.Struct({
  name: Schema.optionalKey(Name),
  events: Schema.optionalKey(Events),
  enabled: Schema.optionalKey(Schema.Boolean),
  config: Schema.optionalKey(ChannelConfig),
  /** A new generated signing secret for a `webhook` channel, returned once. */
  rotateSigningSecret: Schema.optionalKey(Schema.Boolean)
})
export type ChannelPatch = typeof ChannelPatch.Type
