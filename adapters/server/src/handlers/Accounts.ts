/**
 * Handlers of the `auth` and `me` groups: sign-up, log-in and log-out (session cookie), the
 * caller's account, user tokens, teams, and accepting an invitation.
 *
 * @since 0.1.0
 */
import { PgSettingsAudit } from "@canaryroll/postgres"
import { Actor } from "@canaryroll/core"
import { Clock, Effect, Option, Redacted } from "effect"
import { HttpServerRequest } from "effect/http"
import { HttpApiBuilder, HttpApiSecurity } from "effect/http-api"
import { SqlClient } from "effect/sql"
import { type Caller, CurrentCaller, sessionCookie } from "../api/Access.ts"
import { Api } from "../api/Api.ts"
import { BadRequest, Conflict, Forbidden, NotFound, TooManyRequests, Unauthorized } from "../api/ApiError.ts"
import * as LoginThrottle from "../security/LoginThrottle.ts"
import * as PasswordHash from "../security/PasswordHash.ts"
import { CurrentServerConfig } from "../ServerConfig.ts"
import * as Accounts from "../store/Accounts.ts"
import * as Plans from "../store/Plans.ts"
import * as Teams from "../store/Teams.ts"
import * as Storage from "./Storage.ts"

const now = Effect.map(Clock.currentTimeMillis, (ms) => new Date(ms))
const session = HttpApiSecurity.apiKey({ key: sessionCookie, in: "cookie" })

const setSessionCookie = (secret: Redacted.Redacted<string>, expiresAt: Date) =>
  HttpApiBuilder.securitySetCookie(session, secret, {
    secure: true,
    httpOnly: true,
    sameSite: "strict",
    path: "/",
    expires: expiresAt
  })

const forPeople = (caller: Caller) =>
  caller._tag === "User"
    ? Effect.succeed(caller)
    : Effect.fail(
      new Forbidden({
        error: "user_required",
        message: "this endpoint is for people (a session or a cru_ user token); a team token belongs to one team"
      })
    )

export const layerAuth = HttpApiBuilder.group(Api, "auth", (handlers) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const config = yield* CurrentServerConfig
    const throttle = yield* LoginThrottle.make(config.loginThrottle)
    const startSession = (userId: string) =>
      Effect.gen(function*() {
        const expiresAt = new Date((yield* Clock.currentTimeMillis) + config.sessionTtlMs)
        const secret = yield* Accounts.createSession(userId, expiresAt)
        yield* setSessionCookie(secret, expiresAt)
      })
    return handlers
      .handle("signup", ({ payload }) =>
        Effect.gen(function*() {
          const password = yield* Effect.fromResult(PasswordHash.checkPolicy(Redacted.make(payload.password))).pipe(
            Effect.mapError((rejected) => new BadRequest({ error: "invalid_password", message: rejected.message }))
          )
          const passwordHash = yield* PasswordHash.hash(password, config.passwordParameters)
          const created = yield* Accounts.createUser({
            email: payload.email.trim(),
            name: payload.name,
            passwordHash,
            now: yield* now
          })
          if (Option.isNone(created)) {
            return yield* new Conflict({ error: "email_taken", message: `email: an account for ${payload.email} already exists; log in instead` })
          }
          yield* startSession(created.value.user.id)
          return { user: created.value.user }
        }).pipe(Effect.provideService(SqlClient.SqlClient, sql), Storage.orDie))
      .handle("login", ({ payload }) =>
        Effect.gen(function*() {
          const password = Redacted.make(payload.password)
          // Counted before the (slow) check, so parallel guesses cannot all slip under the limit;
          // a success takes it back.
          const waitMs = yield* throttle.attempt(payload.email)
          if (waitMs > 0) {
            return yield* new TooManyRequests({
              error: "too_many_attempts",
              message: `too many failed log-ins for this email; try again in ${Math.ceil(waitMs / 60_000)} minutes`
            })
          }
          const wrong = Effect.fail(new Unauthorized({ error: "invalid_login", message: "the email or the password is wrong" }))
          const found = yield* Accounts.userByEmail(payload.email.trim())
          if (Option.isNone(found)) {
            // The same work as a real check, so timing does not tell which emails have accounts.
            yield* PasswordHash.verifyWithoutAccount(password)
            return yield* wrong
          }
          const ok = yield* PasswordHash.verify(password, found.value.passwordHash).pipe(Effect.orElseSucceed(() => false))
          if (!ok) return yield* wrong
          yield* throttle.succeeded(payload.email)
          if (PasswordHash.needsRehash(found.value.passwordHash, config.passwordParameters)) {
            yield* Accounts.updatePasswordHash(found.value.user.id, yield* PasswordHash.hash(password, config.passwordParameters))
          }
          yield* startSession(found.value.user.id)
          return { user: found.value.user }
        }).pipe(Effect.provideService(SqlClient.SqlClient, sql), Storage.orDie))
      .handle("logout", () =>
        Effect.gen(function*() {
          const request = yield* HttpServerRequest.HttpServerRequest
          const secret = request.cookies[sessionCookie]
          if (secret !== undefined && secret !== "") yield* Accounts.deleteSession(Redacted.make(secret))
          yield* HttpApiBuilder.securitySetCookie(session, "", { path: "/", expires: new Date(0), sameSite: "strict" })
        }).pipe(Effect.provideService(SqlClient.SqlClient, sql), Storage.orDie))
  }))

export const layerHealth = HttpApiBuilder.group(Api, "health", (handlers) =>
  Effect.succeed(handlers.handle("health", () => Effect.succeed({ ok: true }))))

export const layerMe = HttpApiBuilder.group(Api, "me", (handlers) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const withSql = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
      effect.pipe(Effect.provideService(SqlClient.SqlClient, sql), Storage.orDie)
    return handlers
      .handle("me", () =>
        Effect.gen(function*() {
          const caller = yield* forPeople(yield* CurrentCaller)
          const user = yield* Accounts.userById(caller.userId)
          if (Option.isNone(user)) {
            return yield* new Forbidden({ error: "user_required", message: "the account no longer exists" })
          }
          return { user: user.value.user, teams: yield* Teams.teamsOfUser(caller.userId) }
        }).pipe(withSql))
      .handle("listUserTokens", () =>
        Effect.gen(function*() {
          const caller = yield* forPeople(yield* CurrentCaller)
          return yield* Accounts.listUserTokens(caller.userId)
        }).pipe(withSql))
      .handle("createUserToken", ({ payload }) =>
        Effect.gen(function*() {
          const caller = yield* forPeople(yield* CurrentCaller)
          // Only a signed-in person: a leaked user token must not mint the tokens that outlive it.
          if (caller.userTokenId !== null) {
            return yield* new Forbidden({
              error: "session_required",
              message: "creating a user token needs a signed-in session, not a user token"
            })
          }
          return yield* Accounts.createUserToken(caller.userId, payload.name, yield* now)
        }).pipe(withSql))
      .handle("revokeUserToken", ({ params }) =>
        Effect.gen(function*() {
          const caller = yield* forPeople(yield* CurrentCaller)
          const revoked = yield* Accounts.revokeUserToken(caller.userId, params.tokenId, yield* now)
          if (!revoked) {
            return yield* new NotFound({ error: "not_found", message: `user token ${JSON.stringify(params.tokenId)} was not found` })
          }
        }).pipe(withSql))
      .handle("listTeams", () =>
        Effect.gen(function*() {
          const caller = yield* CurrentCaller
          if (caller._tag === "User") return yield* Teams.teamsOfUser(caller.userId)
          const team = yield* Teams.teamByRef(caller.teamId)
          return Option.match(team, { onNone: () => [], onSome: (team) => [Teams.view(team, caller.role)] })
        }).pipe(withSql))
      .handle("createTeam", ({ payload }) =>
        Effect.gen(function*() {
          const caller = yield* forPeople(yield* CurrentCaller)
          const at = yield* now
          const actor = Actor.user(caller.userId, caller.email)
          return yield* Effect.gen(function*() {
            const team = yield* Teams.createTeam({ name: payload.name, slug: payload.slug, adminUserId: caller.userId, now: at })
            if (Option.isNone(team)) {
              return yield* new Conflict({ error: "slug_taken", message: `slug: the team slug ${JSON.stringify(payload.slug)} is taken` })
            }
            const teamId = team.value.id
            yield* Plans.createPlan({ teamId, ...Plans.standard, now: at })
            yield* PgSettingsAudit.record({
              teamId,
              type: "TeamCreated",
              actor,
              at: at.getTime(),
              sentence: `${caller.email} created the team ${team.value.name} (${team.value.slug})`,
              details: { slug: team.value.slug, name: team.value.name }
            })
            return Teams.view(team.value, "admin")
          }).pipe(sql.withTransaction)
        }).pipe(withSql))
      .handle("acceptInvitation", ({ payload }) =>
        Effect.gen(function*() {
          const caller = yield* forPeople(yield* CurrentCaller)
          const at = yield* now
          return yield* Effect.gen(function*() {
            const found = yield* Teams.pendingInvitation(payload.token, at)
            const gone = new NotFound({ error: "not_found", message: "token: no such invitation" })
            if (Option.isNone(found)) return yield* gone
            const { row, view } = found.value
            if (view.status !== "pending") {
              return yield* new Conflict({ error: `invitation_${view.status}`, message: `token: the invitation is ${view.status}` })
            }
            if (row.email.toLowerCase() !== caller.email.toLowerCase()) {
              return yield* new Forbidden({
                error: "invitation_for_someone_else",
                message: `token: the invitation is for ${row.email}; you are signed in as ${caller.email}`
              })
            }
            const invitedTo = yield* Teams.teamByRef(row.team_id)
            if (Option.isNone(invitedTo)) return yield* gone
            const team = invitedTo.value
            const added = yield* Teams.addMember(row.team_id, caller.userId, row.role, at)
            if (!added) {
              return yield* new Conflict({ error: "already_member", message: `you already belong to the team ${team.slug}` })
            }
            yield* Teams.markInvitationAccepted(row.id, at)
            yield* PgSettingsAudit.record({
              teamId: row.team_id,
              type: "InvitationAccepted",
              actor: Actor.user(caller.userId, caller.email),
              at: at.getTime(),
              sentence: `${caller.email} accepted the invitation and joined as ${row.role}`,
              details: { invitationId: row.id, userId: caller.userId, role: row.role }
            })
            return Teams.view(team, row.role)
          }).pipe(sql.withTransaction)
        }).pipe(withSql))
  }))

