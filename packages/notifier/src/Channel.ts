/**
 * A channel: where a team's notifications go, and which events it wants. Five kinds:
 *
 * - `slack`, `discord`, `google_chat`: an incoming webhook URL of that platform;
 * - `email`: an SMTP server (host, port, `tls` from the first byte, `starttls`, or `none`), the
 *   sender, the recipients, and optional credentials;
 * - `webhook`: any HTTPS (or HTTP) URL, with a signing secret of its own (generated when not
 *   given, shown once; see `WebhookSignature`).
 *
 * This module validates what people send (`ChannelInput`, `ChannelPatch`: Schemas the HTTP API
 * can reuse, failing with `ChannelInvalid` naming each field), turns it into the stored record
 * with every secret sealed (`seal`), opens a record for sending (`open`), and shows a record
 * without its secrets (`view`): a URL as its scheme and host followed by `…` (`Redaction.url`), a
 * password as set or not, a signing secret not at all.
 *
 * @since 0.1.0
 */
import { ValidationError } from "@canaryroll/core"
import { Clock, Effect, Redacted, Result, Schema } from "effect"
import * as NotificationEvent from "./NotificationEvent.ts"
import * as Redaction from "./Redaction.ts"
import type * as NotificationStore from "./NotificationStore.ts"
import * as SecretSealer from "./SecretSealer.ts"
import * as WebhookSignature from "./WebhookSignature.ts"

export {
  ChannelConfig,
  ChannelInput,
  ChannelPatch,
  DiscordConfig,
  EmailConfig,
  EmailSecurity,
  GoogleChatConfig,
  Kind,
  maxRecipients,
  SlackConfig,
  WebhookConfig
} from "./ChannelConfig.ts"
import { type ChannelConfig, ChannelInput, ChannelPatch, EmailSecurity, type Kind } from "./ChannelConfig.ts"

/** The input failed validation; `issues` name each offending field. */
export class ChannelInvalid extends Schema.TaggedError<ChannelInvalid>()("ChannelInvalid", {
  message: Schema.String,
  issues: Schema.Array(ValidationError.FieldIssue)
}) {}

export class ChannelNotFound extends Schema.TaggedError<ChannelNotFound>()("ChannelNotFound", {
  teamId: Schema.String,
  channelId: Schema.String
}) {
  override get message() {
    return `no channel ${this.channelId} in team ${this.teamId}`
  }
}

const invalidFrom = (subject: string) => (error: Schema.SchemaError) => {
  const issues = ValidationError.fieldIssues(error)
  return new ChannelInvalid({ message: ValidationError.describe(subject, issues), issues })
}

/** Validates untrusted input into a channel to create, naming every offending field. */
export const decodeInput = (input: unknown): Result.Result<ChannelInput, ChannelInvalid> =>
  Schema.decodeUnknownResult(ChannelInput)(input, { errors: "all" }).pipe(Result.mapError(invalidFrom("channel")))

/** Validates untrusted input into a channel update, naming every offending field. */
export const decodePatch = (input: unknown): Result.Result<ChannelPatch, ChannelInvalid> =>
  Schema.decodeUnknownResult(ChannelPatch)(input, { errors: "all" }).pipe(Result.mapError(invalidFrom("channel update")))

export const invalid = (field: string, message: string) =>
  new ChannelInvalid({ message: ValidationError.describe("channel", [{ field, message }]), issues: [{ field, message }] })

/** An email channel's stored settings: everything but the password. */
export const EmailSettings = Schema.Struct({
  host: Schema.String,
  port: Schema.Int,
  security: EmailSecurity,
  from: Schema.String,
  to: Schema.Array(Schema.String),
  username: Schema.NullOr(Schema.String)
})
export type EmailSettings = typeof EmailSettings.Type

/** A URL kind's stored settings: how the URL is shown. */
export const UrlSettings = Schema.Struct({ url: Schema.String })

/** A channel as shown to people: no secret, only whether it is set. */
export type ConfigView =
  | { readonly kind: "slack" | "discord" | "google_chat"; readonly url: string }
  | { readonly kind: "webhook"; readonly url: string; readonly signingSecretSet: true }
  | {
    readonly kind: "email"
    readonly host: string
    readonly port: number
    readonly security: EmailSecurity
    readonly from: string
    readonly to: ReadonlyArray<string>
    readonly username: string | null
    readonly passwordSet: boolean
  }

export interface ChannelView {
  readonly id: string
  readonly teamId: string
  readonly name: string
  readonly kind: Kind
  readonly events: ReadonlyArray<NotificationEvent.EventName>
  readonly enabled: boolean
  readonly config: ConfigView
  /** ISO 8601. */
  readonly createdAt: string
  readonly updatedAt: string
}

const decodeEmailSettings = Schema.decodeUnknownSync(EmailSettings)
const decodeUrlSettings = Schema.decodeUnknownSync(UrlSettings)

export const view = (record: NotificationStore.ChannelRecord): ChannelView => {
  const config: ConfigView = record.kind === "email"
    ? { kind: "email", ...decodeEmailSettings(record.settings), passwordSet: record.secrets["password"] !== undefined }
    : record.kind === "webhook"
    ? { kind: "webhook", url: decodeUrlSettings(record.settings).url, signingSecretSet: true }
    : { kind: record.kind, url: decodeUrlSettings(record.settings).url }
  return {
    id: record.id,
    teamId: record.teamId,
    name: record.name,
    kind: record.kind,
    events: record.events,
    enabled: record.enabled,
    config,
    createdAt: new Date(record.createdAt).toISOString(),
    updatedAt: new Date(record.updatedAt).toISOString()
  }
}

/** The stored settings and sealed secrets of `config`, for the channel `channelId`. */
export interface Sealed {
  readonly settings: { readonly [key: string]: unknown }
  readonly secrets: { readonly [name: string]: string }
  /** A signing secret made for this channel, to show once. */
  readonly generatedSigningSecret: Redacted.Redacted<string> | null
}

/**
 * Seals `config` for channel `channelId`. `current` is the stored record on an update: a webhook
 * secret or an SMTP password left out of `config` is kept from it. A webhook secret replaced (by
 * `rotateSigningSecret` or a new `secret`) is kept as `previousSecret` for `previousSecretTtlMs`,
 * so that deliveries already queued still pass receivers that have not switched yet.
 */
export const seal = Effect.fnUntraced(function*(
  channelId: string,
  config: ChannelConfig,
  current: NotificationStore.ChannelRecord | undefined,
  options: { readonly rotateSigningSecret?: boolean | undefined } = {}
) {
  const sealer = yield* SecretSealer.SecretSealer
  const sealAs = (name: string, plaintext: string) =>
    sealer.encrypt(Redacted.make(plaintext), SecretSealer.associatedData(channelId, name))
  switch (config.kind) {
    case "slack":
    case "discord":
    case "google_chat":
      return {
        settings: { url: Redaction.url(config.url) },
        secrets: { url: yield* sealAs("url", config.url) },
        generatedSigningSecret: null
      } satisfies Sealed as Sealed
    case "webhook": {
      const stored = current?.kind === "webhook" ? current.secrets["secret"] : undefined
      // The secret in force, when it is being replaced: it keeps signing beside the new one for a while.
      const replaced = stored === undefined || (config.secret === undefined && options.rotateSigningSecret !== true)
        ? undefined
        : yield* sealer.decrypt(stored, SecretSealer.associatedData(channelId, "secret")).pipe(
          Effect.map(Redacted.value),
          Effect.orElseSucceed(() => undefined)
        )
      const unchanged = stored !== undefined &&
        ((config.secret === undefined && options.rotateSigningSecret !== true) || config.secret === replaced)
      const generated = config.secret === undefined && !unchanged ? WebhookSignature.generateSecret() : undefined
      const previous = unchanged
        ? current?.secrets[previousSecretName]
        : replaced === undefined
        ? undefined
        : yield* sealAs(
          previousSecretName,
          JSON.stringify({ secret: replaced, expiresAt: (yield* Clock.currentTimeMillis) + previousSecretTtlMs })
        )
      return {
        settings: { url: Redaction.url(config.url) },
        secrets: {
          url: yield* sealAs("url", config.url),
          secret: unchanged ? stored : yield* sealAs("secret", config.secret ?? generated!),
          ...(previous === undefined ? {} : { [previousSecretName]: previous })
        },
        generatedSigningSecret: generated === undefined ? null : Redacted.make(generated)
      } satisfies Sealed as Sealed
    }
    case "email": {
      const settings: EmailSettings = {
        host: config.host,
        port: config.port,
        security: config.security,
        from: config.from,
        to: config.to,
        username: config.username ?? null
      }
      const password = config.password === undefined
        ? current?.kind === "email" ? current.secrets["password"] : undefined
        : config.password === null
        ? undefined
        : yield* sealAs("password", config.password)
      return {
        settings,
        secrets: password === undefined ? {} : { password },
        generatedSigningSecret: null
      } satisfies Sealed as Sealed
    }
  }
})

/** Where and how to send, with the secrets opened: only ever held while sending. */
export type Target =
  | { readonly kind: "slack" | "discord" | "google_chat"; readonly url: Redacted.Redacted<string> }
  | {
    readonly kind: "webhook"
    readonly url: Redacted.Redacted<string>
    /** The signing secrets in force: the current one, then a replaced one until it expires. */
    readonly secrets: readonly [Redacted.Redacted<string>, ...Array<Redacted.Redacted<string>>]
  }
  | { readonly kind: "email"; readonly settings: EmailSettings; readonly password: Redacted.Redacted<string> | null }

/** A secret the record should have and has not: a record written by something else than `seal`. */
const missing = (name: string): SecretSealer.Unsealable => ({ message: `the channel has no ${name}` })

/**
 * A webhook's replaced signing secret, while it has not expired: sealed as JSON
 * `{ secret, expiresAt }` (expiry in epoch milliseconds) under this name in the channel's secrets.
 */
export const previousSecretName = "previousSecret"

/** How long a replaced signing secret keeps signing beside the new one: receivers have a day to switch. */
export const previousSecretTtlMs = 24 * 60 * 60_000

const PreviousSecret = Schema.fromJsonString(Schema.Struct({ secret: Schema.String, expiresAt: Schema.Number }))

/** The replaced secret if it is still in force; one that no longer opens or reads is left out, never an error. */
const openPrevious = Effect.fnUntraced(function*(record: NotificationStore.ChannelRecord) {
  const sealed = record.secrets[previousSecretName]
  if (sealed === undefined) return undefined
  const sealer = yield* SecretSealer.SecretSealer
  const now = yield* Clock.currentTimeMillis
  return yield* sealer.decrypt(sealed, SecretSealer.associatedData(record.id, previousSecretName)).pipe(
    Effect.flatMap((opened) => Schema.decodeUnknownEffect(PreviousSecret)(Redacted.value(opened))),
    Effect.map((previous) => previous.expiresAt > now ? Redacted.make(previous.secret) : undefined),
    Effect.orElseSucceed(() => undefined)
  )
})

export const open = Effect.fnUntraced(function*(record: NotificationStore.ChannelRecord) {
  const sealer = yield* SecretSealer.SecretSealer
  const openAs = (name: string) => {
    const sealed = record.secrets[name]
    return sealed === undefined
      ? Effect.fail(missing(name))
      : sealer.decrypt(sealed, SecretSealer.associatedData(record.id, name))
  }
  switch (record.kind) {
    case "slack":
    case "discord":
    case "google_chat":
      return { kind: record.kind, url: yield* openAs("url") } satisfies Target as Target
    case "webhook": {
      const url = yield* openAs("url")
      const secret = yield* openAs("secret")
      const previous = yield* openPrevious(record)
      return { kind: "webhook", url, secrets: previous === undefined ? [secret] : [secret, previous] } satisfies Target as Target
    }
    case "email":
      return {
        kind: "email",
        settings: decodeEmailSettings(record.settings),
        password: record.secrets["password"] === undefined ? null : yield* openAs("password")
      } satisfies Target as Target
  }
})
