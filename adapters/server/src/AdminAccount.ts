/**
 * AdminAccount: a person and a team they administer, made directly in the database. It is how a
 * server whose sign-up is invite-only (`CANARYROLL_SIGNUP=invite-only`) gets its first admin
 * (`canaryroll admin create`), who then invites everyone else. The same rules as over HTTP: the
 * email and slug are checked as the API checks them, the password must meet the policy, the team
 * starts with the standard plan, and its audit log records who created it.
 *
 * `make` works over the directory's ports (`People`, `Teams`, `Plans`, `Transactions`) and the
 * `AuditLog`; `create` runs it on the Postgres layers of the database in context, as
 * `canaryroll admin create` does.
 *
 * @since 0.1.0
 */
import { AuditLog, People, Storage, Teams } from "@canaryroll/app"
import { Actor } from "@canaryroll/core"
import * as Postgres from "@canaryroll/postgres"
import { Clock, Effect, Layer, Redacted, Schema } from "effect"
import * as S from "./api/Schemas.ts"
import * as Views from "@canaryroll/app/http/Views"
import * as PasswordHash from "./security/PasswordHash.ts"
import * as Plans from "@canaryroll/app/http/store/Plans"

export interface Input {
  readonly email: string
  readonly name: string
  readonly password: Redacted.Redacted<string>
  readonly teamSlug: string
  readonly teamName: string
}

export interface Created {
  readonly user: S.User
  readonly team: S.Team
}

/** Nothing was created; `message` says why, naming the setting to change. */
export class AdminNotCreated extends Schema.TaggedError<AdminNotCreated>()("AdminNotCreated", {
  message: Schema.String
}) {}

const checked = <A>(schema: Schema.Codec<A, string>, field: string, value: string) =>
  Schema.decodeUnknownEffect(schema)(value).pipe(
    Effect.mapError((error) => new AdminNotCreated({ message: `${field}: ${error.message}` }))
  )

/** Creates the person and the team, in one transaction: both or neither. */
export const make = Effect.fnUntraced(function*(input: Input, passwordParameters: PasswordHash.Parameters = PasswordHash.current) {
  const people = yield* People.People
  const teams = yield* Teams.Teams
  const transactions = yield* Storage.Transactions
  const email = yield* checked(S.Email, "email", input.email.trim())
  const name = yield* checked(S.Name, "name", input.name)
  const teamSlug = yield* checked(S.Slug, "team slug", input.teamSlug)
  const teamName = yield* checked(S.Name, "team name", input.teamName)
  const password = yield* Effect.fromResult(PasswordHash.checkPolicy(input.password)).pipe(
    Effect.mapError((rejected) => new AdminNotCreated({ message: rejected.message }))
  )
  const passwordHash = yield* PasswordHash.hash(password, passwordParameters)
  const at = yield* Clock.currentTimeMillis
  return yield* Effect.gen(function*() {
    const { person } = yield* people.create({ email, name, passwordHash, now: at }).pipe(
      Effect.catchTag("EmailTaken", () => Effect.fail(new AdminNotCreated({ message: `email: an account for ${email} already exists` })))
    )
    const team = yield* teams.create({ name: teamName, slug: teamSlug, adminUserId: person.id, now: at }).pipe(
      Effect.catchTag("SlugTaken", () =>
        Effect.fail(new AdminNotCreated({ message: `team slug: the team slug ${JSON.stringify(teamSlug)} is taken` })))
    )
    yield* Plans.createPlan({ teamId: team.id, ...Plans.standard, now: new Date(at) })
    yield* AuditLog.record({
      teamId: team.id,
      type: "TeamCreated",
      actor: Actor.user(person.id, person.email),
      at,
      sentence: `${person.email} created the team ${team.name} (${team.slug}) from the command line`,
      details: { slug: team.slug, name: team.name, via: "canaryroll admin create" }
    })
    return { user: Views.user(person), team: Views.team(team, "admin") } satisfies Created
  }).pipe(transactions.atomically)
})

/** The directory's Postgres layers `make` needs, on the database in context. */
export const layerPostgres = Layer.mergeAll(
  Postgres.PgPeople.layer,
  Postgres.PgTeams.layer,
  Postgres.PgPlans.layer,
  Postgres.PgTransactions.layer,
  Postgres.PgAuditLog.layer
)

/** `make` on the database in context (`canaryroll admin create`). */
export const create = (input: Input, passwordParameters: PasswordHash.Parameters = PasswordHash.current) =>
  make(input, passwordParameters).pipe(Effect.provide(layerPostgres))
