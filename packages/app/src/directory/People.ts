/**
 * People port: the people who sign in (users), each with one email address and a password hash.
 *
 * Contract (the `PeopleContract` suite, `@canaryroll/app/testing`, run on every layer):
 * - An email belongs to one person, compared without regard to case: creating a second person
 *   with it fails with `EmailTaken`, and `byEmail` finds the person whatever the case asked.
 * - A name is kept without the spaces around it; the email as given.
 * - `updatePasswordHash` replaces the hash (a new password, or the same one rehashed with
 *   today's parameters); the port never sees a password, only what `PasswordHash` made of it.
 *
 * Times are inputs (epoch milliseconds from the caller's `Clock`). Storage failing is the one
 * failure every port shares, `Storage.StorageUnavailable`.
 *
 * Layers: `layerMemory` here (its writes are undone when a `Storage.Transactions` transaction
 * fails), and `PgPeople.layer` in `@canaryroll/postgres` (the `users` table).
 *
 * @since 0.2.0
 */
import { Id } from "@canaryroll/core"
import { Context, Effect, Layer, Option, Schema } from "effect"
import { recordUndo, type StorageUnavailable } from "../Storage.ts"

export interface Person {
  readonly id: string
  readonly email: string
  readonly name: string
  readonly createdAt: number
}

/** A person with what their password checks against. */
export interface Account {
  readonly person: Person
  readonly passwordHash: string
}

export interface NewPerson {
  readonly email: string
  readonly name: string
  readonly passwordHash: string
  readonly now: number
}

/** Somebody already has this email address (in any case). */
export class EmailTaken extends Schema.TaggedError<EmailTaken>()("EmailTaken", {
  email: Schema.String,
  message: Schema.String
}) {}

export const emailTaken = (email: string) => new EmailTaken({ email, message: `an account for ${email} already exists` })

export class People extends Context.Service<People, {
  /** Creates a person; `EmailTaken` when someone has the address. */
  readonly create: (person: NewPerson) => Effect.Effect<Account, EmailTaken | StorageUnavailable>
  /** The person with this email, whatever its case. */
  readonly byEmail: (email: string) => Effect.Effect<Option.Option<Account>, StorageUnavailable>
  readonly byId: (id: string) => Effect.Effect<Option.Option<Account>, StorageUnavailable>
  /** Replaces the person's password hash (nothing happens for an unknown id). */
  readonly updatePasswordHash: (id: string, passwordHash: string) => Effect.Effect<void, StorageUnavailable>
}>()("@canaryroll/app/People") {}

export const makeMemory = Effect.sync(() => {
  const byId = new Map<string, Account>()
  const find = (email: string) => {
    const wanted = email.toLowerCase()
    for (const account of byId.values()) if (account.person.email.toLowerCase() === wanted) return account
    return undefined
  }
  return People.of({
    create: (input) =>
      Effect.suspend(() => {
        if (find(input.email) !== undefined) return Effect.fail(emailTaken(input.email))
        const account: Account = {
          person: { id: Id.makeUnsafe("person"), email: input.email, name: input.name.trim(), createdAt: input.now },
          passwordHash: input.passwordHash
        }
        byId.set(account.person.id, account)
        return Effect.as(recordUndo(() => byId.delete(account.person.id)), account)
      }),
    byEmail: (email) => Effect.sync(() => Option.fromNullishOr(find(email))),
    byId: (id) => Effect.sync(() => Option.fromNullishOr(byId.get(id))),
    updatePasswordHash: (id, passwordHash) =>
      Effect.suspend(() => {
        const before = byId.get(id)
        if (before === undefined) return Effect.void
        byId.set(id, { ...before, passwordHash })
        return recordUndo(() => byId.set(id, before))
      })
  })
})

export const layerMemory: Layer.Layer<People> = Layer.effect(People, makeMemory)
