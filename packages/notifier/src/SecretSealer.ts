/**
 * SecretSealer port: how channel secrets (webhook URLs, which are bearer credentials for Slack,
 * Discord and Google Chat; webhook signing secrets; SMTP passwords) are encrypted at rest. The
 * notifier seals them before the store sees them and opens them only to send. Associated data
 * binds each sealed value to its channel and field (`channel:{id}:{name}`), so a value copied
 * into another row does not open there.
 *
 * The shape is the reference server's `SecretBox` (AES-256-GCM, rotating keys), which satisfies
 * this port as it is: `Layer.effect(SecretSealer, SecretBox)`. The notifier does not depend on
 * the server; tests use their own AES-256-GCM sealer.
 *
 * @since 0.1.0
 */
import { Context, type Effect, type Redacted } from "effect"

/** A sealed value that cannot be opened: altered, bound to another record, or under an unknown key. */
export interface Unsealable {
  readonly message: string
}

export class SecretSealer extends Context.Service<SecretSealer, {
  readonly encrypt: (plaintext: Redacted.Redacted<string>, associatedData: string) => Effect.Effect<string>
  readonly decrypt: (sealed: string, associatedData: string) => Effect.Effect<Redacted.Redacted<string>, Unsealable>
}>()("@canaryroll/notifier/SecretSealer") {}

/** The associated data of a channel's secret: the channel and the field it belongs to. */
export const associatedData = (channelId: string, name: string): string => `channel:${channelId}:${name}`
