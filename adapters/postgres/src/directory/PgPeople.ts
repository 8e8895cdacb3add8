/**
 * PgPeople: the application's People port on the `users` table (migration `0006_teams`). An
 * email is unique whatever its case (the `users_email` index on `lower(email)`), so two sign-ups
 * racing for one address cannot both succeed: the loser's insert does nothing, and it is told
 * `EmailTaken`.
 *
 * @since 0.2.0
 */
import { People } from "@canaryroll/app"
import { Id } from "@canaryroll/core"
import { Effect, Layer, Option } from "effect"
import { SqlClient } from "effect/sql"
import { unavailable } from "./PgTransactions.ts"

interface UserRow {
  readonly id: string
  readonly email: string
  readonly name: string
  readonly password_hash: string
  readonly created_at: Date
}

const toAccount = (row: UserRow): People.Account => ({
  person: { id: row.id, email: row.email, name: row.name, createdAt: row.created_at.getTime() },
  passwordHash: row.password_hash
})

/** The store over the `SqlClient` in context; run `Migrations` first. */
export const make: Effect.Effect<People.People["Service"], never, SqlClient.SqlClient> = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  const one = (rows: ReadonlyArray<UserRow>) => Option.map(Option.fromNullishOr(rows[0]), toAccount)
  return People.People.of({
    create: (input) =>
      sql<UserRow>`
        INSERT INTO users (id, email, name, password_hash, created_at)
        VALUES (${Id.makeUnsafe("person")}, ${input.email}, ${input.name.trim()}, ${input.passwordHash}, ${new Date(input.now)})
        ON CONFLICT DO NOTHING
        RETURNING *`.pipe(
        Effect.mapError(unavailable),
        Effect.flatMap((rows) =>
          Option.match(one(rows), {
            onNone: () => Effect.fail(People.emailTaken(input.email)),
            onSome: Effect.succeed
          })
        )
      ),
    byEmail: (email) =>
      sql<UserRow>`SELECT * FROM users WHERE lower(email) = lower(${email})`.pipe(Effect.map(one), Effect.mapError(unavailable)),
    byId: (id) => sql<UserRow>`SELECT * FROM users WHERE id = ${id}`.pipe(Effect.map(one), Effect.mapError(unavailable)),
    updatePasswordHash: (id, passwordHash) =>
      sql`UPDATE users SET password_hash = ${passwordHash} WHERE id = ${id}`.pipe(Effect.asVoid, Effect.mapError(unavailable))
  })
})

export const layer: Layer.Layer<People.People, never, SqlClient.SqlClient> = Layer.effect(People.People, make)
