/**
 * ChannelKinds: the registry of notification channel kinds, and everything derived from it. A
 * registry (`make`) takes the kinds (each one module under `kinds/`, see `ChannelKind`) and
 * derives what a channel may be: the kind names (`Kind`), each kind's config (`ChannelConfig`),
 * what creating (`ChannelInput`) or updating (`ChannelPatch`) a channel takes, and what a channel
 * is shown as (`ConfigView`). `standard` holds CanaryRoll's five kinds; its schemas are exported
 * at the top level, and the HTTP API (`@canaryroll/api`) declares its channel endpoints with them.
 *
 * Adding a kind: write its module under `kinds/` and add it to `standard` below; the API's
 * schemas and OpenAPI document, the store, the views, the sender and the audit sentences follow
 * (docs/notifications.md, "Adding a channel kind"). Browser- and workerd-safe (no Node
 * built-in): published as `@canaryroll/notifier/channel-config`.
 *
 * @since 0.3.0
 */
import { Schema } from "effect"
import * as ChannelKind from "./ChannelKind.ts"
import * as Discord from "./kinds/Discord.ts"
import * as Email from "./kinds/Email.ts"
import * as GoogleChat from "./kinds/GoogleChat.ts"
import * as Slack from "./kinds/Slack.ts"
import * as Webhook from "./kinds/Webhook.ts"
import * as NotificationEvent from "./NotificationEvent.ts"

const { check } = ChannelKind

const Name = Schema.String.check(
  check((s: string) => s.trim().length >= 1 && s.length <= 100, (s) => `must be 1 to 100 characters, got ${s.length}`, {
    minLength: 1,
    maxLength: 100
  })
)

const Events = Schema.Array(NotificationEvent.EventName).check(
  check((events: ReadonlyArray<string>) => events.length >= 1, () => "must name at least one event"),
  // Every event at most once: a list can be no longer than the events there are.
  check((events: ReadonlyArray<string>) => new Set(events).size === events.length, () => "must not repeat an event", {
    minItems: 1,
    maxItems: NotificationEvent.names.length
  })
)

type Configs<Kinds extends ReadonlyArray<ChannelKind.Any>> = ReadonlyArray<Kinds[number]["config"]>
type Views<Kinds extends ReadonlyArray<ChannelKind.Any>> = ReadonlyArray<Kinds[number]["view"]>

const inputOf = <Config extends Schema.Top>(config: Config) =>
  Schema.Struct({
    name: Name,
    events: Events,
    enabled: Schema.optionalKey(Schema.Boolean),
    config
  })

const patchOf = <Config extends Schema.Top>(config: Config) =>
  Schema.Struct({
    name: Schema.optionalKey(Name),
    events: Schema.optionalKey(Events),
    enabled: Schema.optionalKey(Schema.Boolean),
    /** Must keep the channel's kind. */
    config: Schema.optionalKey(config),
    /** A new generated secret for a kind that has one (`webhook`), returned once. */
    rotateSigningSecret: Schema.optionalKey(Schema.Boolean)
  })

export interface Registry<Kinds extends ReadonlyArray<ChannelKind.Any>> {
  readonly kinds: Kinds
  /** The kind names. */
  readonly Kind: Schema.Literals<ReadonlyArray<Kinds[number]["kind"]>>
  /** One kind's config, chosen by `kind`. */
  readonly ChannelConfig: Schema.Union<Configs<Kinds>>
  /** What creating a channel takes. */
  readonly ChannelInput: ReturnType<typeof inputOf<Schema.Union<Configs<Kinds>>>>
  /** What updating a channel takes: only what changes. */
  readonly ChannelPatch: ReturnType<typeof patchOf<Schema.Union<Configs<Kinds>>>>
  /** A channel's configuration as shown: never a secret. */
  readonly ConfigView: Schema.Union<Views<Kinds>>
  /** The kind named `kind`, if registered. */
  readonly get: (kind: string) => ChannelKind.Any | undefined
}

/** A registry of `kinds`; their names must differ. */
export const make = <const Kinds extends ReadonlyArray<ChannelKind.Any>>(kinds: Kinds): Registry<Kinds> => {
  const byName = new Map<string, ChannelKind.Any>()
  for (const kind of kinds) {
    if (byName.has(kind.kind)) throw new Error(`the channel kind ${kind.kind} is registered twice`)
    byName.set(kind.kind, kind)
  }
  const configs: Configs<Kinds> = kinds.map((kind) => kind.config)
  const ChannelConfig = Schema.Union(configs)
  return {
    kinds,
    Kind: Schema.Literals(kinds.map((kind): Kinds[number]["kind"] => kind.kind)),
    ChannelConfig,
    ChannelInput: inputOf(ChannelConfig),
    ChannelPatch: patchOf(ChannelConfig),
    ConfigView: Schema.Union(kinds.map((kind): Kinds[number]["view"] => kind.view)),
    get: (kind) => byName.get(kind)
  }
}

const standardKinds = [Slack.kind, Discord.kind, GoogleChat.kind, Email.kind, Webhook.kind] as const

/** The registry of CanaryRoll's channel kinds (an interface, so that types that use it name it rather than spell it out). */
export interface Standard extends Registry<typeof standardKinds> {}

/** CanaryRoll's channel kinds. */
export const standard: Standard = make(standardKinds)

export const Kind = standard.Kind
export type Kind = typeof Kind.Type

export const ChannelConfig = standard.ChannelConfig
export type ChannelConfig = typeof ChannelConfig.Type

export const ChannelInput = standard.ChannelInput
export type ChannelInput = typeof ChannelInput.Type

export const ChannelPatch = standard.ChannelPatch
export type ChannelPatch = typeof ChannelPatch.Type

export const ConfigView = standard.ConfigView
export type ConfigView = typeof ConfigView.Type

/** How a sentence names a kind ("the Slack notification channel …"); an unknown kind by its name. */
export const label = (kind: string): string => standard.get(kind)?.label ?? kind
