/**
 * Who did something: a person, an API token, or CanaryRoll itself. Every release event carries
 * one, which is what makes the event stream an audit log.
 *
 * @since 0.1.0
 */
import { Schema } from "effect"

export const User = Schema.TaggedStruct("User", {
  id: Schema.String,
  name: Schema.String
})
export const Token = Schema.TaggedStruct("Token", {
  id: Schema.String,
  name: Schema.String
})
/** CanaryRoll's own decisions: automatic promotion, health-triggered rollback, drift pauses. */
export const System = Schema.TaggedStruct("System", {})

export const Actor = Schema.Union([User, Token, System]).pipe(Schema.toTaggedUnion("_tag"))
export type Actor = typeof Actor.Type

export const system: Actor = { _tag: "System" }
export const user = (id: string, name: string): Actor => ({ _tag: "User", id, name })
export const token = (id: string, name: string): Actor => ({ _tag: "Token", id, name })

export const isSystem = (actor: Actor): boolean => actor._tag === "System"

/** How the audit log names an actor in a sentence. */
export const describe = (actor: Actor): string =>
  Actor.match(actor, {
    User: (u) => u.name,
    Token: (t) => `token "${t.name}"`,
    System: () => "CanaryRoll"
  })
