/**
 * Handlers of the `auth` and `me` groups: sign-up, log-in and log-out (session cookie), the
 * caller's account, password and sessions (changing the password ends the other sessions; log
 * out everywhere ends them all), user tokens, teams, and accepting an invitation.
 *
 * @since 0.1.0
 */
import { ApiTokens, AuditLog, People, Plans as PlansPort, Sessions, Storage as AppStorage, Teams } from "../index.ts"
import * as SessionSecret from "../security/SessionSecret.ts"
import { Actor, Id } from "@canaryroll/core"
import { Clock, Effect, Exit, Option, Redacted } from "effect"
import { HttpEffect, HttpServerRequest, HttpServerResponse } from "effect/http"
import { HttpApiBuilder, HttpApiSecurity } from "effect/http-api"
import { type Caller, CurrentCaller, sessionCookie } from "@canaryroll/api/Access"
import { Api } from "@canaryroll/api/Api"
import { BadRequest, Conflict, Forbidden, NotFound, TooManyRequests, Unauthorized } from "@canaryroll/api/ApiError"
import * as ApiToken from "../security/ApiToken.ts"
import * as ClientAddress from "./ClientAddress.ts"
import * as LoginThrottle from "../directory/LoginThrottle.ts"
import * as PasswordHash from "../security/PasswordHash.ts"
import { CurrentServerConfig } from "./ServerConfig.ts"
import * as Storage from "./Storage.ts"
import * as Views from "./Views.ts"

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

/** Where a session's User-Agent is cut: enough to tell browsers apart on the account page. */
const userAgentLength = 256

/** A `User-Agent` header as a session keeps it: control characters dropped, cut to a bounded length. */
export const sessionUserAgent = (header: string | undefined): string | null => {
  const cleaned = (header ?? "").replace(/[\u0000-\u001f\u007f]/g, "").trim().slice(0, userAgentLength)
  return cleaned === "" ? null : cleaned
}

/**
 * Joins the signed-in or just-created person to the team of a pending invitation, in the
 * caller's transaction: the Teams port checks it is still pending and meant for their email,
 * adds the membership and marks it accepted; the team's audit log records it.
 */
const joinByInvitation = (
  token: string,
  person: { readonly userId: string; readonly email: string },
  at: number,
  as: "signed in" | "signing up"
) =>
  Effect.gen(function*() {
    const teams = yield* Teams.Teams
    const joined = yield* teams.acceptInvitation({ tokenHash: ApiToken.hash(token), userId: person.userId, email: person.email, now: at })
      .pipe(Effect.catchTags({
        InvitationNotFound: () => Effect.fail(new NotFound({ error: "not_found", message: "token: no such invitation" })),
        InvitationNotPending: ({ status }) =>
          Effect.fail(new Conflict({ error: `invitation_${status}`, message: `token: the invitation is ${status}` })),
        InvitationForSomeoneElse: ({ email }) =>
          Effect.fail(
            new Forbidden({
              error: "invitation_for_someone_else",
              message: `token: the invitation is for ${email}; you are ${as} as ${person.email}`
            })
          ),
        AlreadyMember: ({ teamId }) =>
          Effect.flatMap(teams.byRef(teamId), (team) =>
            Effect.fail(
              new Conflict({
                error: "already_member",
                message: `you already belong to the team ${Option.match(team, { onNone: () => teamId, onSome: (team) => team.slug })}`
              })
            ))
      }))
    const { invitation, team } = joined
    yield* AuditLog.record({
      teamId: team.id,
      type: "InvitationAccepted",
      actor: Actor.user(person.userId, person.email),
      at,
      sentence: `${person.email} accepted the invitation and joined as ${invitation.role}`,
      details: { invitationId: invitation.id, userId: person.userId, role: invitation.role }
    })
    return Views.team(team, invitation.role)
  })

export const layerAuth = HttpApiBuilder.group(Api, "auth", (handlers) =>
  Effect.gen(function*() {
    const config = yield* CurrentServerConfig
    const sessions = yield* Sessions.Sessions
    const people = yield* People.People
    const teams = yield* Teams.Teams
    const auditLog = yield* AuditLog.AuditLog
    const transactions = yield* AppStorage.Transactions
    const withPorts = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
      effect.pipe(
        Effect.provideService(AuditLog.AuditLog, auditLog),
        Effect.provideService(Teams.Teams, teams),
        Storage.unavailable
      )
    /** Starts a session; its secret goes in the cookie and is never stored, only its hash. */
    const startSession = (userId: string) =>
      Effect.gen(function*() {
        const request = yield* HttpServerRequest.HttpServerRequest
        const at = yield* Clock.currentTimeMillis
        const expiresAt = at + config.sessionTtlMs
        const issued = yield* SessionSecret.issue
        yield* sessions.create({
          id: Id.makeUnsafe("session"),
          secretHash: issued.hash,
          userId,
          expiresAt,
          userAgent: sessionUserAgent(request.headers["user-agent"])
        }, at)
        yield* setSessionCookie(issued.secret, new Date(expiresAt))
      })
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
            const at = yield* Clock.currentTimeMillis
            return yield* Effect.gen(function*() {
              const created = yield* people.create({ email, name: payload.name, passwordHash, now: at }).pipe(
                Effect.catchTag("EmailTaken", () =>
                  Effect.fail(
                    new Conflict({ error: "email_taken", message: `email: an account for ${email} already exists; log in instead` })
                  ))
              )
              const user = created.person
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
              return Views.user(user)
            }).pipe(transactions.atomically)
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
        }).pipe(withPorts))
      .handle("login", ({ payload }) =>
        Effect.gen(function*() {
          const password = Redacted.make(payload.password)
          const email = payload.email.trim()
          const address = ClientAddress.of(yield* HttpServerRequest.HttpServerRequest, config.trustedProxies)
          // Only a checked password counts: a wrong one is counted, a right one clears the account's
          // counters, and anything else (the database failing: our 503) counts for nothing.
          const check = Effect.gen(function*() {
            const found = yield* people.byEmail(email)
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
            yield* people.updatePasswordHash(found.person.id, yield* PasswordHash.hash(password, config.passwordParameters))
          }
          yield* startSession(found.person.id)
          return { user: Views.user(found.person) }
        }).pipe(withPorts))
      .handle("logout", () =>
        Effect.gen(function*() {
          const request = yield* HttpServerRequest.HttpServerRequest
          const secret = request.cookies[sessionCookie]
          if (secret !== undefined && secret !== "") {
            yield* sessions.end(SessionSecret.hash(Redacted.make(secret)))
          }
          yield* HttpApiBuilder.securitySetCookie(session, "", { path: "/", expires: new Date(0), sameSite: "strict" })
        }).pipe(withPorts))
  }))

/**
 * Records a change to a person's own sessions in the audit log of every team they belong to (a
 * person's account has no log of its own; their teams' admins are who should see it).
 */
const auditForPerson = Effect.fnUntraced(function*(
  person: { readonly userId: string; readonly email: string },
  change: {
    readonly type: AuditLog.ChangeType
    readonly at: number
    readonly sentence: string
    readonly details: Readonly<Record<string, unknown>>
  }
) {
  const teams = yield* Teams.Teams
  for (const { team } of yield* teams.teamsOf(person.userId)) {
    yield* AuditLog.record({
      teamId: team.id,
      type: change.type,
      actor: Actor.user(person.userId, person.email),
      at: change.at,
      sentence: change.sentence,
      details: change.details
    })
  }
})

const sessionsWord = (count: number) => `${count} session${count === 1 ? "" : "s"}`

export const layerMe = HttpApiBuilder.group(Api, "me", (handlers) =>
  Effect.gen(function*() {
    const config = yield* CurrentServerConfig
    const sessions = yield* Sessions.Sessions
    const people = yield* People.People
    const teams = yield* Teams.Teams
    const tokens = yield* ApiTokens.ApiTokens
    const auditLog = yield* AuditLog.AuditLog
    const plans = yield* PlansPort.Plans
    const transactions = yield* AppStorage.Transactions
    const withPorts = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
      effect.pipe(
        Effect.provideService(AuditLog.AuditLog, auditLog),
        Effect.provideService(PlansPort.Plans, plans),
        Effect.provideService(Teams.Teams, teams),
        Storage.unavailable
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
            const found = yield* people.byId(caller.userId)
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
          const at = yield* Clock.currentTimeMillis
          // The person's other sessions end with the old password: whoever else held one is out.
          // The session making the change goes on; user tokens are kept (they are listed and
          // revoked on their own).
          const endedSessions = yield* Effect.gen(function*() {
            yield* people.updatePasswordHash(caller.userId, passwordHash)
            const ended = yield* sessions.endAll(caller.userId, { now: at, except: caller.sessionId ?? undefined })
            yield* auditForPerson(caller, {
              type: "PasswordChanged",
              at,
              sentence: `${caller.email} changed their password; ${sessionsWord(ended)} of theirs ended`,
              details: { userId: caller.userId, endedSessions: ended }
            })
            return ended
          }).pipe(transactions.atomically)
          return { endedSessions }
        }).pipe(withPorts))
      .handle("listSessions", () =>
        Effect.gen(function*() {
          const caller = yield* forPeople(yield* CurrentCaller)
          const live = yield* sessions.list(caller.userId, yield* Clock.currentTimeMillis)
          const iso = (ms: number) => new Date(ms).toISOString()
          return live.map((session) => ({
            id: session.id,
            createdAt: iso(session.createdAt),
            lastSeenAt: iso(session.lastSeenAt),
            expiresAt: iso(session.expiresAt),
            userAgent: session.userAgent,
            current: session.id === caller.sessionId
          }))
        }).pipe(withPorts))
      .handle("endSessions", () =>
        Effect.gen(function*() {
          const caller = yield* forPeople(yield* CurrentCaller)
          const at = yield* Clock.currentTimeMillis
          yield* Effect.gen(function*() {
            const ended = yield* sessions.endAll(caller.userId, { now: at })
            yield* auditForPerson(caller, {
              type: "SessionsEnded",
              at,
              sentence: `${caller.email} logged out everywhere; ${sessionsWord(ended)} ended`,
              details: { userId: caller.userId, endedSessions: ended }
            })
          }).pipe(transactions.atomically)
          // The session the request came with ended too: its cookie goes.
          if (caller.sessionId !== null) {
            yield* HttpApiBuilder.securitySetCookie(session, "", { path: "/", expires: new Date(0), sameSite: "strict" })
          }
        }).pipe(withPorts))
      .handle("me", () =>
        Effect.gen(function*() {
          const caller = yield* forPeople(yield* CurrentCaller)
          const account = yield* people.byId(caller.userId)
          if (Option.isNone(account)) {
            return yield* new Forbidden({ error: "user_required", message: "the account no longer exists" })
          }
          const memberships = yield* teams.teamsOf(caller.userId)
          return {
            user: Views.user(account.value.person),
            teams: memberships.map(({ role, team }) => Views.team(team, role))
          }
        }).pipe(withPorts))
      .handle("listUserTokens", () =>
        Effect.gen(function*() {
          const caller = yield* forPeople(yield* CurrentCaller)
          return (yield* tokens.userTokens(caller.userId)).map(Views.userToken)
        }).pipe(withPorts))
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
          const issued = yield* ApiToken.issue("user")
          const created = yield* tokens.createUserToken({
            userId: caller.userId,
            name: payload.name,
            hash: issued.hash,
            display: issued.display,
            now: yield* Clock.currentTimeMillis
          })
          return { ...Views.userToken(created), token: Redacted.value(issued.token) }
        }).pipe(withPorts))
      .handle("revokeUserToken", ({ params }) =>
        Effect.gen(function*() {
          const caller = yield* forPeople(yield* CurrentCaller)
          const revoked = yield* tokens.revokeUserToken(caller.userId, params.tokenId, yield* Clock.currentTimeMillis)
          if (Option.isNone(revoked)) {
            return yield* new NotFound({ error: "not_found", message: `user token ${JSON.stringify(params.tokenId)} was not found` })
          }
        }).pipe(withPorts))
      .handle("listTeams", () =>
        Effect.gen(function*() {
          const caller = yield* CurrentCaller
          if (caller._tag === "User") {
            return (yield* teams.teamsOf(caller.userId)).map(({ role, team }) => Views.team(team, role))
          }
          const team = yield* teams.byRef(caller.teamId)
          return Option.match(team, { onNone: () => [], onSome: (team) => [Views.team(team, caller.role)] })
        }).pipe(withPorts))
      .handle("createTeam", ({ payload }) =>
        Effect.gen(function*() {
          const caller = yield* forPeople(yield* CurrentCaller)
          const at = yield* Clock.currentTimeMillis
          const actor = Actor.user(caller.userId, caller.email)
          return yield* Effect.gen(function*() {
            const team = yield* teams.create({ name: payload.name, slug: payload.slug, adminUserId: caller.userId, now: at }).pipe(
              Effect.catchTag("SlugTaken", () =>
                Effect.fail(
                  new Conflict({ error: "slug_taken", message: `slug: the team slug ${JSON.stringify(payload.slug)} is taken` })
                ))
            )
            // A new team starts with the standard plan.
            yield* PlansPort.createStandard(team.id, at)
            yield* AuditLog.record({
              teamId: team.id,
              type: "TeamCreated",
              actor,
              at,
              sentence: `${caller.email} created the team ${team.name} (${team.slug})`,
              details: { slug: team.slug, name: team.name }
            })
            return Views.team(team, "admin")
          }).pipe(transactions.atomically)
        }).pipe(withPorts))
      .handle("acceptInvitation", ({ payload }) =>
        Effect.gen(function*() {
          const caller = yield* forPeople(yield* CurrentCaller)
          const at = yield* Clock.currentTimeMillis
          return yield* joinByInvitation(payload.token, { userId: caller.userId, email: caller.email }, at, "signed in").pipe(
            transactions.atomically
          )
        }).pipe(withPorts))
  }))

