/**
 * AdminAccount: a person and a team they administer, made directly in the database. It is how a
 * server whose sign-up is invite-only (`CANARYROLL_SIGNUP=invite-only`) gets its first admin
 * (`canaryroll admin create`), who then invites everyone else. The same rules as over HTTP: the
 * email and slug are checked as the API checks them, the password must meet the policy, the team
 * starts with the standard plan, and its audit log records who created it.
 *
 * @since 0.1.0
 */
import { Actor } from "@canaryroll/core"
import { PgSettingsAudit } from "@canaryroll/postgres"
import { Clock, Effect, Option, Redacted, Schema } from "effect"
import { SqlClient } from "effect/sql"
import * as S from "./api/Schemas.ts"
import * as PasswordHash from "./security/PasswordHash.ts"
import * as Accounts from "./store/Accounts.ts"
import * as Plans from "./store/Plans.ts"
import * as Teams from "./store/Teams.ts"

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
export const create = Effect.fnUntraced(function*(input: Input, passwordParameters: PasswordHash.Parameters = PasswordHash.current) {
  const sql = yield* SqlClient.SqlClient
  const email = yield* checked(S.Email, "email", input.email.trim())
  const name = yield* checked(S.Name, "name", input.name)
  const teamSlug = yield* checked(S.Slug, "team slug", input.teamSlug)
  const teamName = yield* checked(S.Name, "team name", input.teamName)
  const password = yield* Effect.fromResult(PasswordHash.checkPolicy(input.password)).pipe(
    Effect.mapError((rejected) => new AdminNotCreated({ message: rejected.message }))
  )
  const passwordHash = yield* PasswordHash.hash(password, passwordParameters)
  const at = new Date(yield* Clock.currentTimeMillis)
  return yield* Effect.gen(function*() {
    const user = yield* Accounts.createUser({ email, name, passwordHash, now: at })
    if (Option.isNone(user)) {
      return yield* new AdminNotCreated({ message: `email: an account for ${email} already exists` })
    }
    const person = user.value.user
    const team = yield* Teams.createTeam({ name: teamName, slug: teamSlug, adminUserId: person.id, now: at })
    if (Option.isNone(team)) {
      return yield* new AdminNotCreated({ message: `team slug: the team slug ${JSON.stringify(teamSlug)} is taken` })
    }
    yield* Plans.createPlan({ teamId: team.value.id, ...Plans.standard, now: at })
    yield* PgSettingsAudit.record({
      teamId: team.value.id,
      type: "TeamCreated",
      actor: Actor.user(person.id, person.email),
      at: at.getTime(),
      sentence: `${person.email} created the team ${team.value.name} (${team.value.slug}) from the command line`,
      details: { slug: team.value.slug, name: team.value.name, via: "canaryroll admin create" }
    })
    return { user: person, team: Teams.view(team.value, "admin") } satisfies Created
  }).pipe(sql.withTransaction)
})
