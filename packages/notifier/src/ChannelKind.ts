/**
 * ChannelKind: what one kind of notification channel is, in one value. A kind names itself
 * (`kind`), says what people configure (`config`, a Schema whose checks name each field), what
 * they are shown back (`view`, never a secret), how the configuration is stored (`seal`: settings
 * in clear, secrets sealed by the `SecretSealer`), how it is opened for sending (`open`), which of
 * its secrets an error could repeat (`secretsOf`, for `Redaction`), and how one notification is
 * rendered and sent (`send`, over the `Transport` it is handed).
 *
 * Each kind is one module under `kinds/`, registered once in `ChannelKinds`; the HTTP API's
 * schemas, the store, the views, the sender and the audit sentences all come from the registry.
 * A kind module imports no Node built-in (sending goes through the `Transport`, which the Node
 * runtime implements in `ChannelSender` with its address checks), so the registry is as
 * browser- and workerd-safe as the API that declares its endpoints with it.
 *
 * @since 0.3.0
 */
import { Effect, Redacted, Schema } from "effect"
import { Base64 } from "effect/encoding"
import type * as Notification from "./Notification.ts"
import * as Redaction from "./Redaction.ts"
import type * as RetryPolicy from "./RetryPolicy.ts"
import * as SecretSealer from "./SecretSealer.ts"
import * as WebhookSignature from "./WebhookSignature.ts"

/**
 * A check with its message (the field is named by the Schema's path) and, for the API's OpenAPI
 * document, the bounds it enforces as JSON Schema (`maxLength`, `maxItems`): approximate, as a
 * test function says more than they can.
 */
export const check = <A>(
  test: (value: A) => boolean,
  message: (value: A) => string,
  bounds?: { readonly minLength?: number; readonly maxLength?: number; readonly minItems?: number; readonly maxItems?: number }
) =>
  Schema.makeFilter(
    (value: A) => test(value) ? undefined : message(value),
    bounds === undefined ? undefined : { toJsonSchema: () => [bounds, true] as const }
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

/** An `https:` or `http:` URL people give: never another scheme (see docs/notifications.md). */
export const Url = Schema.String.check(check(isHttpUrl, () => "must be an http(s) URL of at most 2048 characters", { maxLength: 2048 }))

/** A stored channel, as a kind reads it back. */
export interface StoredChannel {
  readonly id: string
  /** What is not secret, as JSON (what `seal` returned). */
  readonly settings: { readonly [key: string]: unknown }
  /** Sealed secrets by name, each bound to this channel and name (`SecretSealer.associatedData`). */
  readonly secrets: { readonly [name: string]: string }
}

/** A configuration as stored: settings in clear, secrets sealed. */
export interface Sealed {
  readonly settings: { readonly [key: string]: unknown }
  readonly secrets: { readonly [name: string]: string }
  /** A secret made for this channel (a webhook's signing secret), to show once. */
  readonly generatedSecret: Redacted.Redacted<string> | null
}

export interface SealContext {
  readonly channelId: string
  /** The stored channel on an update (same kind): a secret left out of the new config is kept from it. */
  readonly current: StoredChannel | undefined
  /** Replace a generated secret the config does not give (`rotateSigningSecret` with a new config). */
  readonly rotateSecret: boolean
}

/** An SMTP server to send through. */
export interface MailServer {
  readonly host: string
  readonly port: number
  /** `tls`: TLS from the first byte (usually 465); `starttls`: upgrade required (587); `none`: plain. */
  readonly security: "tls" | "starttls" | "none"
  readonly username: string | null
}

export interface MailMessage {
  readonly from: string
  readonly to: ReadonlyArray<string>
  readonly subject: string
  readonly text: string
  readonly html: string
  readonly headers: { readonly [name: string]: string }
}

/**
 * How a kind reaches the outside: the runtime's, with its rules (public addresses only, the
 * address checked is the one connected to, no redirects, a timeout). Neither ever fails: how the
 * attempt went is the result.
 */
export interface Transport {
  readonly post: (request: {
    readonly url: Redacted.Redacted<string>
    readonly body: string
    readonly headers: { readonly [name: string]: string }
  }) => Effect.Effect<RetryPolicy.AttemptResult>
  readonly mail: (request: {
    readonly server: MailServer
    readonly password: Redacted.Redacted<string> | null
    readonly message: MailMessage
  }) => Effect.Effect<RetryPolicy.AttemptResult>
}

/** One attempt at one delivery. */
export interface Attempt {
  /** The delivery's id, the same for every attempt (`X-CanaryRoll-Delivery`). */
  readonly deliveryId: string
  /** When the attempt starts, epoch milliseconds (a webhook signs it). */
  readonly at: number
}

type Tagged<K extends string, Fields extends Schema.Struct.Fields> = { readonly kind: Schema.Literal<K> } & Fields

/** What a kind module writes; `make` adds the `kind` literal to its config and view. */
export interface Definition<K extends string, Config extends Schema.Struct.Fields, View extends Schema.Struct.Fields, Opened> {
  readonly kind: K
  /** How a sentence names the kind: "the Slack notification channel …". */
  readonly label: string
  /** What people configure, besides `kind`. */
  readonly config: Config
  /** What people are shown back, besides `kind`: never a secret, at most whether one is set. */
  readonly view: View
  readonly seal: (
    config: Schema.Struct.Type<Tagged<K, Config>>,
    context: SealContext
  ) => Effect.Effect<Sealed, never, SecretSealer.SecretSealer>
  /** A new generated secret in place of the stored one (`rotateSigningSecret`); absent: the kind has none. */
  readonly rotate?: ((channel: StoredChannel) => Effect.Effect<Sealed, SecretSealer.Unsealable, SecretSealer.SecretSealer>) | undefined
  readonly show: (channel: StoredChannel) => Schema.Struct.Type<View>
  /** The channel's secrets opened: only ever held while sending. */
  readonly open: (channel: StoredChannel) => Effect.Effect<Opened, SecretSealer.Unsealable, SecretSealer.SecretSealer>
  /** The secrets of an opened channel that an error might repeat, to take out of it (`Redaction.text`). */
  readonly secretsOf: (opened: Opened) => ReadonlyArray<string>
  /** Renders `notification` and sends it once. */
  readonly send: (
    opened: Opened,
    notification: Notification.Notification,
    attempt: Attempt,
    transport: Transport
  ) => Effect.Effect<RetryPolicy.AttemptResult>
}

export interface ChannelKind<K extends string, Config extends Schema.Struct.Fields, View extends Schema.Struct.Fields, Opened>
  extends Omit<Definition<K, Config, View, Opened>, "config" | "view">
{
  readonly config: Schema.Struct<Tagged<K, Config>>
  readonly view: Schema.Struct<Tagged<K, View>>
}

/**
 * Any kind, as a registry holds it. The `any`s are the registry's erasure: each kind's functions
 * stay precisely typed in its own module, and the registry only ever hands a kind what that kind
 * produced (a config its own schema decoded, its own stored channel, its own opened secrets).
 */
export interface Any {
  readonly kind: string
  readonly label: string
  readonly config: Schema.Codec<{ readonly kind: string }, { readonly kind: string }>
  readonly view: Schema.Codec<{ readonly kind: string }, { readonly kind: string }>
  readonly seal: (config: any, context: SealContext) => Effect.Effect<Sealed, never, SecretSealer.SecretSealer>
  readonly rotate?: ((channel: StoredChannel) => Effect.Effect<Sealed, SecretSealer.Unsealable, SecretSealer.SecretSealer>) | undefined
  readonly show: (channel: StoredChannel) => object
  readonly open: (channel: StoredChannel) => Effect.Effect<any, SecretSealer.Unsealable, SecretSealer.SecretSealer>
  readonly secretsOf: (opened: any) => ReadonlyArray<string>
  readonly send: (opened: any, notification: Notification.Notification, attempt: Attempt, transport: Transport) => Effect.Effect<RetryPolicy.AttemptResult>
}

/** A kind from its definition. */
export const make = <const K extends string, Config extends Schema.Struct.Fields, View extends Schema.Struct.Fields, Opened>(
  definition: Definition<K, Config, View, Opened>
): ChannelKind<K, Config, View, Opened> => ({
  ...definition,
  config: Schema.Struct({ kind: Schema.Literal(definition.kind), ...definition.config }),
  view: Schema.Struct({ kind: Schema.Literal(definition.kind), ...definition.view })
})

/** Seals `plaintext` as the secret `name` of channel `channelId`. */
export const sealSecret = (channelId: string, name: string, plaintext: string) =>
  Effect.flatMap(
    SecretSealer.SecretSealer,
    (sealer) => sealer.encrypt(Redacted.make(plaintext), SecretSealer.associatedData(channelId, name))
  )

/** Opens the secret `name` of `channel`; a record without it (written by something else than `seal`) is unsealable. */
export const openSecret = (
  channel: StoredChannel,
  name: string
): Effect.Effect<Redacted.Redacted<string>, SecretSealer.Unsealable, SecretSealer.SecretSealer> => {
  const sealed = channel.secrets[name]
  return sealed === undefined
    ? Effect.fail({ message: `the channel has no ${name}` })
    : Effect.flatMap(SecretSealer.SecretSealer, (sealer) => sealer.decrypt(sealed, SecretSealer.associatedData(channel.id, name)))
}

/** A URL's secret parts (`Redaction.secretsOfUrl`), and its user info as HTTP Basic authentication sends it. */
export const urlSecrets = (url: string): ReadonlyArray<string> => {
  const basic: Array<string> = []
  try {
    const { username, password } = new URL(url)
    if (username !== "" || password !== "") basic.push(Base64.encode(`${decodeURIComponent(username)}:${decodeURIComponent(password)}`))
  } catch {
    // Not a URL (or malformed escapes): its parts are all there is.
  }
  return [...Redaction.secretsOfUrl(url), ...basic]
}

const UrlSettings = Schema.Struct({ url: Schema.String })
const decodeUrlSettings = Schema.decodeUnknownSync(UrlSettings)

/**
 * A chat platform's incoming webhook (Slack, Discord, Google Chat): the URL is the credential,
 * sealed whole and shown as its scheme and host; a message is one JSON POST to it.
 */
export const incomingWebhook = <const K extends string>(options: {
  readonly kind: K
  readonly label: string
  /** The JSON body of a notification. */
  readonly render: (notification: Notification.Notification) => unknown
}) =>
  make({
    kind: options.kind,
    label: options.label,
    config: { url: Url },
    view: { url: Schema.String },
    seal: (config, { channelId }) =>
      Effect.map(sealSecret(channelId, "url", config.url), (url): Sealed => ({
        settings: { url: Redaction.url(config.url) },
        secrets: { url },
        generatedSecret: null
      })),
    show: (channel) => ({ url: decodeUrlSettings(channel.settings).url }),
    open: (channel) => Effect.map(openSecret(channel, "url"), (url) => ({ url })),
    secretsOf: (opened) => urlSecrets(Redacted.value(opened.url)),
    send: (opened, notification, attempt, transport) =>
      transport.post({
        url: opened.url,
        body: JSON.stringify(options.render(notification)),
        headers: { [WebhookSignature.deliveryHeader]: attempt.deliveryId }
      })
  })
