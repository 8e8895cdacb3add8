/**
 * Handlers of the `auth` and `me` groups: sign-up, log-in and log-out (session cookie), the
 * caller's account, password and sessions (changing the password ends the other sessions; log
 * out everywhere ends them all), user tokens, teams, and accepting an invitation.
 *
 * @since 0.1.0
 */
import { PgSettingsAudit } from "@canaryroll/postgres"
import { Actor, Sessions } from "@canaryroll/core"
import { Clock, Effect, Exit, Option, Redacted } from "effect"
import { HttpEffect, HttpServerRequest, HttpServerResponse } from "effect/http"
import { HttpApiBuilder, HttpApiSecurity } from "effect/http-api"
import { SqlClient } from "effect/sql"
import { type Caller, CurrentCaller, sessionCookie } from "../api/Access.ts"
import { Api } from "../api/Api.ts"
import { BadRequest, Conflict, Forbidden, NotFound, TooManyRequests, Unauthorized } from "../api/ApiError.ts"
import * as ClientAddress from "../security/ClientAddress.ts"
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

/** "12 seconds", "4 minutes": how long a refused attempt must wait, in words. */
const inWords = (seconds: number) =>
  seconds < 120 ? `${seconds} second${seconds === 1 ? "" : "s"}` : `${Math.ceil(seconds / 60)} minutes`

/**
 * 429 with `Retry-After` (whole seconds, rounded up) and a sentence saying when to try again.
 * Never "locked": the wait always ends, and the right password is not refused any longer than a
 * wrong one would be.
 */
const mustWait = (waitMs: number, what: string) =>
  Effect.gen(function*() {
    const seconds = Math.max(1, Math.ceil(waitMs / 1000))
    yield* HttpEffect.appendPreResponseHandler((_request, response) =>
      Effect.succeed(HttpServerResponse.setHeader(response, "retry-after", String(seconds)))
    )
    const at = new Date((yield* Clock.currentTimeMillis) + seconds * 1000).toISOString().replace(/\.\d+Z$/, "Z")
    return yield* new TooManyRequests({
      error: "too_many_attempts",
      message: `too many ${what} from this address or for this account; try again in ${inWords(seconds)} (after ${at})`
    })
  })

/**
 * Joins the signed-in or just-created person to the team of a pending invitation (locked by
 * `Teams.pendingInvitation`), in the caller's transaction: checks it is still pending and meant
 * for their email, adds the membership, marks it accepted and records it in the team's audit log.
 */
const joinByInvitation = (
  token: string,
  person: { readonly userId: string; readonly email: string },
  at: Date,
  as: "signed in" | "signing up"
) =>
  Effect.gen(function*() {
    const found = yield* Teams.pendingInvitation(token, at)
    const gone = new NotFound({ error: "not_found", message: "token: no such invitation" })
    if (Option.isNone(found)) return yield* gone
    const { row, view } = found.value
    if (view.status !== "pending") {
      return yield* new Conflict({ error: `invitation_${view.status}`, message: `token: the invitation is ${view.status}` })
    }
    if (row.email.toLowerCase() !== person.email.toLowerCase()) {
      return yield* new Forbidden({
        error: "invitation_for_someone_else",
        message: `token: the invitation is for ${row.email}; you are ${as} as ${person.email}`
      })
    }
    const invitedTo = yield* Teams.teamByRef(row.team_id)
    if (Option.isNone(invitedTo)) return yield* gone
    const team = invitedTo.value
    const added = yield* Teams.addMember(row.team_id, person.userId, row.role, at)
    if (!added) {
      return yield* new Conflict({ error: "already_member", message: `you already belong to the team ${team.slug}` })
    }
    yield* Teams.markInvitationAccepted(row.id, at)
    yield* PgSettingsAudit.record({
      teamId: row.team_id,
      type: "InvitationAccepted",
      actor: Actor.user(person.userId, person.email),
      at: at.getTime(),
      sentence: `${person.email} accepted the invitation and joined as ${row.role}`,
      details: { invitationId: row.id, userId: person.userId, role: row.role }
    })
    return Teams.view(team, row.role)
  })

export const layerAuth = HttpApiBuilder.group(Api, "auth", (handlers) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const config = yield* CurrentServerConfig
    const sessions = yield* Sessions.Sessions
    const startSession = (userId: string) =>
      Effect.gen(function*() {
        const request = yield* HttpServerRequest.HttpServerRequest
        const at = yield* now
        const expiresAt = new Date(at.getTime() + config.sessionTtlMs)
        const userAgent = Accounts.sessionUserAgent(request.headers["user-agent"])
        const secret = yield* Accounts.createSession({ userId, now: at, expiresAt, userAgent })
        yield* setSessionCookie(secret, expiresAt)
      }).pipe(Effect.provideService(Sessions.Sessions, sessions))
    return handlers
      .handle("signup", ({ payload }) =>
        Effect.gen(function*() {
          const password = yield* Effect.fromResult(PasswordHash.checkPolicy(Redacted.make(payload.password))).pipe(
            Effect.mapError((rejected) => new BadRequest({ error: "invalid_password", message: rejected.message }))
          )
          const token = payload.invitationToken
          if (token === undefined && config.signup === "invite-only") {
            return yield* new Forbidden({
              error: "signup_invite_only",
              message:
                "sign-up on this server is by invitation only: open the invitation link a team admin sent you, or ask one to invite you"
            })
          }
          const email = payload.email.trim()
          const signUp = Effect.gen(function*() {
            const passwordHash = yield* PasswordHash.hash(password, config.passwordParameters)
            const at = yield* now
            return yield* Effect.gen(function*() {
              const created = yield* Accounts.createUser({ email, name: payload.name, passwordHash, now: at })
              if (Option.isNone(created)) {
                return yield* new Conflict({ error: "email_taken", message: `email: an account for ${email} already exists; log in instead` })
              }
              const user = created.value.user
              if (token !== undefined) {
                yield* joinByInvitation(token, { userId: user.id, email: user.email }, at, "signing up").pipe(
                  // Without a valid invitation nothing is created: the transaction rolls back.
                  Effect.mapError((refused) =>
                    refused instanceof NotFound || refused instanceof Conflict || refused instanceof Forbidden
                      ? new Forbidden({
                        error: refused instanceof Forbidden ? refused.error : "invitation_invalid",
                        message: `${refused.message.replace(/^token: /, "invitationToken: ")}; ask a team admin for a new invitation`
                      })
                      : refused
                  )
                )
              }
              return user
            }).pipe(sql.withTransaction)
          })
          // An invited sign-up is not throttled: the invitation is the proof. Others count per
          // client address, whether or not the email was taken (so sign-up cannot probe emails fast).
          const user = token !== undefined ? yield* signUp : yield* LoginThrottle.guard(
            LoginThrottle.signUp(ClientAddress.of(yield* HttpServerRequest.HttpServerRequest, config.trustedProxies)),
            signUp,
            (exit) => Exit.isSuccess(exit) || Option.exists(Exit.findErrorOption(exit), (error) => error instanceof Conflict) ? "counted" : "uncounted"
          ).pipe(Effect.catchTag("MustWait", (refused) => mustWait(refused.waitMs, "sign-ups")))
          yield* startSession(user.id)
          return { user }
        }).pipe(Effect.provideService(SqlClient.SqlClient, sql), Storage.orDie))
      .handle("login", ({ payload }) =>
        Effect.gen(function*() {
          const password = Redacted.make(payload.password)
          const email = payload.email.trim()
          const address = ClientAddress.of(yield* HttpServerRequest.HttpServerRequest, config.trustedProxies)
          // Only a checked password counts: a wrong one is counted, a right one clears the account's
          // counters, and anything else (the database failing: our 503) counts for nothing.
          const check = Effect.gen(function*() {
            const found = yield* Accounts.userByEmail(email)
            if (Option.isNone(found)) {
              // The same work as a real check, so timing does not tell which emails have accounts.
              yield* PasswordHash.verifyWithoutAccount(password)
              return Option.none()
            }
            const ok = yield* PasswordHash.verify(password, found.value.passwordHash).pipe(Effect.orElseSucceed(() => false))
            return ok ? found : Option.none()
          })
          const checked = yield* LoginThrottle.guard(
            LoginThrottle.logIn(address, email),
            check,
            (exit) => Exit.isSuccess(exit) ? (Option.isSome(exit.value) ? "cleared" : "counted") : "uncounted"
          ).pipe(Effect.catchTag("MustWait", (refused) => mustWait(refused.waitMs, "failed log-ins")))
          if (Option.isNone(checked)) {
            return yield* new Unauthorized({ error: "invalid_login", message: "the email or the password is wrong" })
          }
          const found = checked.value
          if (PasswordHash.needsRehash(found.passwordHash, config.passwordParameters)) {
            yield* Accounts.updatePasswordHash(found.user.id, yield* PasswordHash.hash(password, config.passwordParameters))
          }
          yield* startSession(found.user.id)
          return { user: found.user }
        }).pipe(Effect.provideService(SqlClient.SqlClient, sql), Storage.orDie))
      .handle("logout", () =>
        Effect.gen(function*() {
          const request = yield* HttpServerRequest.HttpServerRequest
          const secret = request.cookies[sessionCookie]
          if (secret !== undefined && secret !== "") {
            yield* Accounts.deleteSession(Redacted.make(secret)).pipe(Effect.provideService(Sessions.Sessions, sessions))
          }
          yield* HttpApiBuilder.securitySetCookie(session, "", { path: "/", expires: new Date(0), sameSite: "strict" })
        }).pipe(Effect.provideService(SqlClient.SqlClient, sql), Storage.orDie))
  }))

/**
 * Records a change to a person's own sessions in the audit log of every team they belong to (a
 * person's account has no log of its own; their teams' admins are who should see it).
 */
const auditForPerson = Effect.fnUntraced(function*(
  person: { readonly userId: string; readonly email: string },
  change: {
    readonly type: PgSettingsAudit.ChangeType
    readonly at: Date
    readonly sentence: string
    readonly details: Readonly<Record<string, unknown>>
  }
) {
  for (const team of yield* Teams.teamsOfUser(person.userId)) {
    yield* PgSettingsAudit.record({
      teamId: team.id,
      type: change.type,
      actor: Actor.user(person.userId, person.email),
      at: change.at.getTime(),
      sentence: change.sentence,
      details: change.details
    })
  }
})

const sessionsWord = (count: number) => `${count} session${count === 1 ? "" : "s"}`

export const layerMe = HttpApiBuilder.group(Api, "me", (handlers) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const config = yield* CurrentServerConfig
    const sessions = yield* Sessions.Sessions
    const withSql = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
      effect.pipe(
        Effect.provideService(SqlClient.SqlClient, sql),
        Effect.provideService(Sessions.Sessions, sessions),
        Storage.orDie
      )
    return handlers
      .handle("changePassword", ({ payload }) =>
        Effect.gen(function*() {
          const caller = yield* forPeople(yield* CurrentCaller)
          const newPassword = yield* Effect.fromResult(PasswordHash.checkPolicy(Redacted.make(payload.newPassword), "newPassword")).pipe(
            Effect.mapError((rejected) => new BadRequest({ error: "invalid_password", message: rejected.message }))
          )
          const current = Redacted.make(payload.currentPassword)
          // A wrong current password counts as a failed log-in to the account, from this address:
          // a stolen session cannot guess its way to the password faster than the log-in page can.
          const check = Effect.gen(function*() {
            const found = yield* Accounts.userById(caller.userId)
            if (Option.isNone(found)) return false
            return yield* PasswordHash.verify(current, found.value.passwordHash).pipe(Effect.orElseSucceed(() => false))
          })
          const address = ClientAddress.of(yield* HttpServerRequest.HttpServerRequest, config.trustedProxies)
          const ok = yield* LoginThrottle.guard(
            LoginThrottle.logIn(address, caller.email),
            check,
            (exit) => Exit.isSuccess(exit) ? (exit.value ? "cleared" : "counted") : "uncounted"
          ).pipe(Effect.catchTag("MustWait", (refused) => mustWait(refused.waitMs, "wrong passwords")))
          if (!ok) return yield* new Forbidden({ error: "wrong_password", message: "currentPassword: the current password is wrong" })
          const passwordHash = yield* PasswordHash.hash(newPassword, config.passwordParameters)
          const at = yield* now
          // The person's other sessions end with the old password: whoever else held one is out.
          // The session making the change goes on; user tokens are kept (they are listed and
          // revoked on their own).
          const endedSessions = yield* Effect.gen(function*() {
            yield* Accounts.updatePasswordHash(caller.userId, passwordHash)
            const ended = yield* Accounts.endSessions(caller.userId, at, caller.sessionId)
            yield* auditForPerson(caller, {
              type: "PasswordChanged",
              at,
              sentence: `${caller.email} changed their password; ${sessionsWord(ended)} of theirs ended`,
              details: { userId: caller.userId, endedSessions: ended }
            })
            return ended
          }).pipe(sql.withTransaction)
          return { endedSessions }
        }).pipe(withSql))
      .handle("listSessions", () =>
        Effect.gen(function*() {
          const caller = yield* forPeople(yield* CurrentCaller)
          const sessions = yield* Accounts.listSessions(caller.userId, yield* now)
          const iso = (ms: number) => new Date(ms).toISOString()
          return sessions.map((session) => ({
            id: session.id,
            createdAt: iso(session.createdAt),
            lastSeenAt: iso(session.lastSeenAt),
            expiresAt: iso(session.expiresAt),
            userAgent: session.userAgent,
            current: session.id === caller.sessionId
          }))
        }).pipe(withSql))
      .handle("endSessions", () =>
        Effect.gen(function*() {
          const caller = yield* forPeople(yield* CurrentCaller)
          const at = yield* now
          yield* Effect.gen(function*() {
            const ended = yield* Accounts.endSessions(caller.userId, at)
            yield* auditForPerson(caller, {
              type: "SessionsEnded",
              at,
              sentence: `${caller.email} logged out everywhere; ${sessionsWord(ended)} ended`,
              details: { userId: caller.userId, endedSessions: ended }
            })
          }).pipe(sql.withTransaction)
          // The session the request came with ended too: its cookie goes.
          if (caller.sessionId !== null) {
            yield* HttpApiBuilder.securitySetCookie(session, "", { path: "/", expires: new Date(0), sameSite: "strict" })
          }
        }).pipe(withSql))
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
          return yield* joinByInvitation(payload.token, { userId: caller.userId, email: caller.email }, at, "signed in").pipe(
            sql.withTransaction
          )
        }).pipe(withSql))
  }))

