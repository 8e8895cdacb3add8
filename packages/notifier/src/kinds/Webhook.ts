/**
 * The `webhook` channel kind: any http(s) URL (sealed whole; shown as its scheme and host) with a
 * signing secret of its own (generated when not given, shown once; see `WebhookSignature`), and
 * each request signed with the time it is sent. A secret replaced (rotated, or a new one given)
 * keeps signing beside the new one for `previousSecretTtlMs`, so that deliveries already queued
 * still pass receivers that have not switched yet.
 *
 * The body of a webhook delivery: `{ event, release }`, JSON. `event` is the notification event
 * (its name, the core event's type and facts, who acted, why); `release` is the release summary
 * as the HTTP API's Deployment shape, plus the Worker's script name and the release page's URL.
 * A test message adds `"test": true`. Fields are only ever added, never renamed: receivers may
 * rely on them.
 *
 * @since 0.1.0
 */
import type { Actor, ReleaseEvent, ReleaseSummary } from "@canaryroll/core"
import { Clock, Effect, Redacted, Schema } from "effect"
import * as ChannelKind from "../ChannelKind.ts"
import type * as Notification from "../Notification.ts"
import * as Redaction from "../Redaction.ts"
import * as SecretSealer from "../SecretSealer.ts"
import * as WebhookSignature from "../WebhookSignature.ts"

export interface WebhookBody {
  readonly event: {
    /** The event id (`releaseId:version`), stable across retries: deduplicate on it. */
    readonly id: string
    readonly name: Notification.Notification["name"]
    readonly type: ReleaseEvent.ReleaseEventType
    /** ISO 8601. */
    readonly at: string
    readonly actor: Actor.Actor
    readonly title: string
    readonly sentence: string
    readonly reason: string | null
    readonly measurement: Notification.Measurement | null
    /** The core event as stored (see docs/events.md). */
    readonly details: ReleaseEvent.ReleaseEvent
  }
  readonly release: ReleaseSummary.ReleaseSummary & {
    readonly scriptName: string
    readonly url: string
  }
  readonly test?: true
}

export const body = (notification: Notification.Notification): WebhookBody => ({
  event: {
    id: notification.eventId,
    name: notification.name,
    type: notification.type,
    at: new Date(notification.at).toISOString(),
    actor: notification.actor,
    title: notification.title,
    sentence: notification.sentence,
    reason: notification.reason,
    measurement: notification.measurement,
    details: notification.details
  },
  release: { ...notification.release, scriptName: notification.scriptName, url: notification.releaseUrl },
  ...(notification.test ? { test: true as const } : {})
})

/** The exact bytes sent and signed. */
export const render = (notification: Notification.Notification): string => JSON.stringify(body(notification))

const SigningSecret = Schema.String.check(
  ChannelKind.check((s: string) => s.length >= 16 && s.length <= 256, () => "must be 16 to 256 characters", { minLength: 16, maxLength: 256 })
)

/**
 * A replaced signing secret, while it has not expired: sealed as JSON `{ secret, expiresAt }`
 * (expiry in epoch milliseconds) under this name in the channel's secrets.
 */
export const previousSecretName = "previousSecret"

/** How long a replaced signing secret keeps signing beside the new one: receivers have a day to switch. */
export const previousSecretTtlMs = 24 * 60 * 60_000

const PreviousSecret = Schema.fromJsonString(Schema.Struct({ secret: Schema.String, expiresAt: Schema.Number }))

/** The secret in force, opened; one that no longer opens counts as none (it is replaced anyway). */
const openCurrent = (channel: ChannelKind.StoredChannel) =>
  channel.secrets["secret"] === undefined
    ? Effect.succeed(undefined)
    : ChannelKind.openSecret(channel, "secret").pipe(Effect.map(Redacted.value), Effect.orElseSucceed(() => undefined))

/**
 * Seals `url` with the signing secret `given` (or keeps the stored one when `given` is absent and
 * nothing asks to rotate, or makes a new one); a replaced secret is sealed as the previous one.
 */
const sealWith = Effect.fnUntraced(function*(
  channelId: string,
  url: string,
  given: string | undefined,
  current: ChannelKind.StoredChannel | undefined,
  rotate: boolean
) {
  const stored = current?.secrets["secret"]
  const keepStored = stored !== undefined && given === undefined && !rotate
  // The secret in force, when it is being replaced: it keeps signing beside the new one for a while.
  const replaced = current === undefined || stored === undefined || keepStored ? undefined : yield* openCurrent(current)
  // The sealed secret that stays (none given and no rotation, or the one given is the one in force).
  const kept = keepStored || (given !== undefined && given === replaced) ? stored : undefined
  const fresh = given ?? WebhookSignature.generateSecret()
  const previous = kept !== undefined
    ? current?.secrets[previousSecretName]
    : replaced === undefined
    ? undefined
    : yield* ChannelKind.sealSecret(
      channelId,
      previousSecretName,
      JSON.stringify({ secret: replaced, expiresAt: (yield* Clock.currentTimeMillis) + previousSecretTtlMs })
    )
  return {
    settings: { url: Redaction.url(url) },
    secrets: {
      url: yield* ChannelKind.sealSecret(channelId, "url", url),
      secret: kept ?? (yield* ChannelKind.sealSecret(channelId, "secret", fresh)),
      ...(previous === undefined ? {} : { [previousSecretName]: previous })
    },
    generatedSecret: kept === undefined && given === undefined ? Redacted.make(fresh) : null
  } satisfies ChannelKind.Sealed as ChannelKind.Sealed
})

/** The replaced secret if it is still in force; one that no longer opens or reads is left out, never an error. */
const openPrevious = Effect.fnUntraced(function*(channel: ChannelKind.StoredChannel) {
  const sealed = channel.secrets[previousSecretName]
  if (sealed === undefined) return undefined
  const sealer = yield* SecretSealer.SecretSealer
  const now = yield* Clock.currentTimeMillis
  return yield* sealer.decrypt(sealed, SecretSealer.associatedData(channel.id, previousSecretName)).pipe(
    Effect.flatMap((opened) => Schema.decodeUnknownEffect(PreviousSecret)(Redacted.value(opened))),
    Effect.map((previous) => previous.expiresAt > now ? Redacted.make(previous.secret) : undefined),
    Effect.orElseSucceed(() => undefined)
  )
})

export interface Opened {
  readonly url: Redacted.Redacted<string>
  /** The signing secrets in force: the current one, then a replaced one until it expires. */
  readonly secrets: readonly [Redacted.Redacted<string>, ...Array<Redacted.Redacted<string>>]
}

const decodeUrlSettings = Schema.decodeUnknownSync(Schema.Struct({ url: Schema.String }))

export const kind = ChannelKind.make({
  kind: "webhook",
  label: "webhook",
  config: {
    url: ChannelKind.Url,
    /** Absent: a new channel gets a generated one; an update keeps the current one. */
    secret: Schema.optionalKey(SigningSecret)
  },
  view: { url: Schema.String, signingSecretSet: Schema.Literal(true) },
  seal: (config, { channelId, current, rotateSecret }) => sealWith(channelId, config.url, config.secret, current, rotateSecret),
  // Rotating alone: the stored URL stays, only the secret changes.
  rotate: (channel) =>
    Effect.flatMap(
      ChannelKind.openSecret(channel, "url"),
      (url) => sealWith(channel.id, Redacted.value(url), undefined, channel, true)
    ),
  show: (channel) => ({ url: decodeUrlSettings(channel.settings).url, signingSecretSet: true as const }),
  open: Effect.fnUntraced(function*(channel) {
    const url = yield* ChannelKind.openSecret(channel, "url")
    const secret = yield* ChannelKind.openSecret(channel, "secret")
    const previous = yield* openPrevious(channel)
    return { url, secrets: previous === undefined ? [secret] : [secret, previous] } satisfies Opened as Opened
  }),
  secretsOf: (opened: Opened) => [...ChannelKind.urlSecrets(Redacted.value(opened.url)), ...opened.secrets.map(Redacted.value)],
  send: (opened: Opened, notification, attempt, transport) => {
    const body = render(notification)
    return transport.post({
      url: opened.url,
      body,
      headers: WebhookSignature.headers({
        secret: opened.secrets.map(Redacted.value),
        timestamp: Math.floor(attempt.at / 1000),
        body,
        deliveryId: attempt.deliveryId
      })
    })
  }
})
