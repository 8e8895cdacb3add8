/**
 * A channel: where a team's notifications go, and which events it wants. What a channel of each
 * kind holds is its kind's business (`ChannelKind`, one module per kind under `kinds/`, registered
 * in `ChannelKinds`); this module works on any registry's channels: it validates what people send
 * (`decodeInput`, `decodePatch`: failing with `ChannelInvalid` naming each field), turns a config
 * into the stored record with every secret sealed (`seal`), opens a record for sending (`open`),
 * and shows a record without its secrets (`view`). Every function takes the registry, the
 * standard one by default.
 *
 * @since 0.1.0
 */
import { ValidationError } from "@canaryroll/core"
import { Effect, Result, Schema } from "effect"
import type * as ChannelKind from "./ChannelKind.ts"
import * as ChannelKinds from "./ChannelKinds.ts"
import type * as NotificationEvent from "./NotificationEvent.ts"
import type * as NotificationStore from "./NotificationStore.ts"
import type * as SecretSealer from "./SecretSealer.ts"

export { ChannelConfig, ChannelInput, ChannelPatch, ConfigView, Kind } from "./ChannelKinds.ts"
export { previousSecretName, previousSecretTtlMs } from "./kinds/Webhook.ts"

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

/** Any registry, as the functions below take it. */
export type Registry = ChannelKinds.Registry<ReadonlyArray<ChannelKind.Any>>

const invalidFrom = (subject: string) => (error: Schema.SchemaError) => {
  const issues = ValidationError.fieldIssues(error)
  return new ChannelInvalid({ message: ValidationError.describe(subject, issues), issues })
}

export const invalid = (field: string, message: string) =>
  new ChannelInvalid({ message: ValidationError.describe("channel", [{ field, message }]), issues: [{ field, message }] })

/** Validates untrusted input into a channel to create (with the standard kinds, or `registry`'s), naming every offending field. */
export function decodeInput(input: unknown): Result.Result<ChannelKinds.ChannelInput, ChannelInvalid>
export function decodeInput<R extends Registry>(input: unknown, registry: R): Result.Result<R["ChannelInput"]["Type"], ChannelInvalid>
export function decodeInput(input: unknown, registry: Registry = ChannelKinds.standard) {
  return Schema.decodeUnknownResult(registry.ChannelInput)(input, { errors: "all" }).pipe(Result.mapError(invalidFrom("channel")))
}

/** Validates untrusted input into a channel update, naming every offending field. */
export function decodePatch(input: unknown): Result.Result<ChannelKinds.ChannelPatch, ChannelInvalid>
export function decodePatch<R extends Registry>(input: unknown, registry: R): Result.Result<R["ChannelPatch"]["Type"], ChannelInvalid>
export function decodePatch(input: unknown, registry: Registry = ChannelKinds.standard) {
  return Schema.decodeUnknownResult(registry.ChannelPatch)(input, { errors: "all" }).pipe(
    Result.mapError(invalidFrom("channel update"))
  )
}

/** A channel as shown to people: no secret, only whether it is set. */
export interface ChannelView<Config = ChannelKinds.ConfigView> {
  readonly id: string
  readonly teamId: string
  readonly name: string
  readonly kind: Config extends { readonly kind: infer K } ? K : string
  readonly events: ReadonlyArray<NotificationEvent.EventName>
  readonly enabled: boolean
  readonly config: Config
  /** ISO 8601. */
  readonly createdAt: string
  readonly updatedAt: string
}

/** A stored channel as people see it: its kind's `show`, never a secret. */
export function view(record: NotificationStore.ChannelRecord): ChannelView
export function view<R extends Registry>(record: NotificationStore.ChannelRecord, registry: R): ChannelView<R["ConfigView"]["Type"]>
export function view(record: NotificationStore.ChannelRecord, registry: Registry = ChannelKinds.standard): ChannelView<{ readonly kind: string }> {
  return {
    id: record.id,
    teamId: record.teamId,
    name: record.name,
    kind: record.kind,
    events: record.events,
    enabled: record.enabled,
    // A kind no longer registered shows its name only (sending to it fails, naming the kind).
    config: { kind: record.kind, ...registry.get(record.kind)?.show(record) },
    createdAt: new Date(record.createdAt).toISOString(),
    updatedAt: new Date(record.updatedAt).toISOString()
  }
}

/**
 * Seals `config` for channel `channelId`, with its kind in `registry`. `current` is the stored
 * record on an update: a secret left out of `config` is kept from it (the kinds' `seal` says which).
 */
export const seal = (
  channelId: string,
  config: { readonly kind: string },
  current: NotificationStore.ChannelRecord | undefined,
  registry: Registry = ChannelKinds.standard,
  options: { readonly rotateSecret?: boolean | undefined } = {}
): Effect.Effect<ChannelKind.Sealed, ChannelInvalid, SecretSealer.SecretSealer> => {
  const kind = registry.get(config.kind)
  if (kind === undefined) return Effect.fail(invalid("config.kind", `must be one of ${registry.kinds.map((k) => k.kind).join(", ")}`))
  return kind.seal(config, {
    channelId,
    current: current?.kind === config.kind ? current : undefined,
    rotateSecret: options.rotateSecret === true
  })
}

/** Whether the channel's kind has a generated secret that `rotate` replaces. */
export const hasRotatingSecret = (record: NotificationStore.ChannelRecord, registry: Registry = ChannelKinds.standard): boolean =>
  registry.get(record.kind)?.rotate !== undefined

/**
 * A new generated secret in place of the stored one, the rest unchanged (`rotateSigningSecret`);
 * `ChannelInvalid` for a kind that has none, or a record whose secrets no longer open.
 */
export const rotate = (
  record: NotificationStore.ChannelRecord,
  registry: Registry = ChannelKinds.standard
): Effect.Effect<ChannelKind.Sealed, ChannelInvalid, SecretSealer.SecretSealer> => {
  const rotateKind = registry.get(record.kind)?.rotate
  return rotateKind === undefined
    ? Effect.fail(invalid("rotateSigningSecret", `a ${record.kind} channel has no signing secret`))
    : rotateKind(record).pipe(
      Effect.mapError((error) => invalid("rotateSigningSecret", `the stored URL cannot be opened: ${error.message}`))
    )
}

/** A channel opened for sending: its kind, and its secrets opened (only ever held while sending). */
export interface Opened {
  readonly kind: ChannelKind.Any
  readonly opened: unknown
}

export const open = (
  record: NotificationStore.ChannelRecord,
  registry: Registry = ChannelKinds.standard
): Effect.Effect<Opened, SecretSealer.Unsealable, SecretSealer.SecretSealer> => {
  const kind = registry.get(record.kind)
  return kind === undefined
    ? Effect.fail({ message: `no channel kind ${record.kind} is registered` })
    : Effect.map(kind.open(record), (opened) => ({ kind, opened }))
}
