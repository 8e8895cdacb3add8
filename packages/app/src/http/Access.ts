/**
 * The `Authentication` and `TeamAccess` middlewares (declared in `api/Access.ts`).
 *
 * A bearer token is checked offline first (prefix, length, checksum): a malformed one never
 * reaches the database. Known tokens stamp their last use. A session is a random secret in an
 * HttpOnly cookie, looked up by its hash.
 *
 * A team token on a team's path is looked up with its team, and with the release when the
 * endpoint is `getDeployment`, in one `TeamTokenAccess.find` when the storage offers that port
 * (one round trip instead of three on Postgres: `GET` of a release is what the GitHub Action and
 * the CLI poll). `TeamAccess` and the handler then decide from what it found (`Prefetched`) by the
 * same rules as from `Teams` and `ReleaseSummaries`; without the port they ask those.
 *
 * @since 0.1.0
 */
import { ApiTokens, People, Sessions, TeamTokenAccess, Teams } from "../index.ts"
import { Actor, type ReleaseSummary } from "@canaryroll/core"
import { Clock, Context, Effect, Layer, Option, Redacted } from "effect"
import { HttpRouter, HttpServerRequest } from "effect/http"
import {
  Authentication,
  type Caller,
  CurrentCaller,
  CurrentTeam,
  includes,
  RequiredRole,
  TeamAccess
} from "@canaryroll/api/Access"
import { Forbidden, NotFound, Unauthorized } from "@canaryroll/api/ApiError"
import * as ApiToken from "../security/ApiToken.ts"
import * as Storage from "./Storage.ts"

const unauthorized = (message: string) => new Unauthorized({ error: "unauthorized", message })

const now = Clock.currentTimeMillis

/**
 * What the `Authentication` middleware found for a team token in one `TeamTokenAccess.find`: the
 * team its path names (`teamRef`) and, for `getDeployment`, the release (`releaseId`), so that
 * `TeamAccess` and the handler do not look them up again. Absent: they look them up.
 */
export class Prefetched extends Context.Service<Prefetched, {
  readonly teamRef: string
  readonly team: Option.Option<Teams.Team>
  readonly releaseId: string | null
  readonly release: Option.Option<ReleaseSummary.ReleaseSummary>
}>()("@canaryroll/app/http/Access/Prefetched") {}

/** The endpoint whose release `Authentication` looks up with the token (what the Action polls). */
const releaseReadingEndpoint = "getDeployment"

/**
 * The release `releaseId` of `teamId` as `Prefetched` holds it: `None` when it was not looked up
 * with the token (the caller then asks `ReleaseSummaries`), `Some(None)` when it was and the team
 * has no such release.
 */
export const prefetchedRelease = (teamId: string, releaseId: string) =>
  Effect.map(Effect.serviceOption(Prefetched), (prefetched) =>
    Option.isSome(prefetched) && prefetched.value.releaseId === releaseId &&
      Option.isSome(prefetched.value.team) && prefetched.value.team.value.id === teamId
      ? Option.some(prefetched.value.release)
      : Option.none())

/** Who a bearer token belongs to, or why it does not count. */
const callerOfToken = Effect.fnUntraced(function*(token: Redacted.Redacted<string>) {
  const tokens = yield* ApiTokens.ApiTokens
  const kind = ApiToken.kindOf(token)
  if (Option.isNone(kind)) {
    return yield* unauthorized(
      "the bearer token is not a CanaryRoll API token (crt_… for a team, cru_… for a user, 40 characters with a checksum)"
    )
  }
  const at = yield* now
  if (kind.value === "team") {
    const found = yield* tokens.teamTokenByHash(ApiToken.hash(token), at)
    if (Option.isNone(found)) return yield* unauthorized("the team token is unknown or was revoked")
    return {
      _tag: "TeamToken",
      tokenId: found.value.id,
      teamId: found.value.teamId,
      role: found.value.role,
      name: found.value.name
    } satisfies Caller as Caller
  }
  const found = yield* tokens.userTokenByHash(ApiToken.hash(token), at)
  const person = Option.isNone(found)
    ? Option.none()
    : Option.map(yield* (yield* People.People).byId(found.value.userId), (account) => account.person)
  if (Option.isNone(found) || Option.isNone(person)) return yield* unauthorized("the user token is unknown or was revoked")
  return {
    _tag: "User",
    userId: person.value.id,
    email: person.value.email,
    name: person.value.name,
    userTokenId: found.value.id,
    sessionId: null
  } satisfies Caller as Caller
})

export const layerAuthentication = Layer.effect(
  Authentication,
  Effect.gen(function*() {
    const sessions = yield* Sessions.Sessions
    const people = yield* People.People
    const tokens = yield* ApiTokens.ApiTokens
    // Optional: a storage without it answers through the three ports.
    const access = yield* Effect.serviceOption(TeamTokenAccess.TeamTokenAccess)
    const withPorts = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
      effect.pipe(Effect.provideService(People.People, people), Effect.provideService(ApiTokens.ApiTokens, tokens))
    return Authentication.of({
      bearer: (httpEffect, { credential, endpoint }) =>
        Effect.gen(function*() {
          if (Redacted.value(credential) === "") {
            return yield* unauthorized("no credentials: send `Authorization: Bearer <token>` or sign in")
          }
          const params = yield* HttpRouter.params
          const teamRef = params.team
          if (
            Option.isSome(access) && teamRef !== undefined &&
            Option.getOrUndefined(ApiToken.kindOf(credential)) === "team"
          ) {
            // One lookup for the token, its team and the release (see the module doc). If it fails,
            // the three ports are asked as without it, so a failure answers exactly as there.
            const releaseId = endpoint.identifier === releaseReadingEndpoint ? params.id ?? null : null
            const found = yield* access.value.find({ hash: ApiToken.hash(credential), now: yield* now, teamRef, releaseId })
              .pipe(Effect.catchTag("StorageUnavailable", () => Effect.succeed(undefined)))
            if (found === undefined) {
              const caller = yield* callerOfToken(credential).pipe(withPorts, Storage.unavailable)
              return yield* Effect.provideService(httpEffect, CurrentCaller, caller)
            }
            if (Option.isNone(found.token)) return yield* unauthorized("the team token is unknown or was revoked")
            const token = found.token.value
            const caller: Caller = {
              _tag: "TeamToken",
              tokenId: token.id,
              teamId: token.teamId,
              role: token.role,
              name: token.name
            }
            return yield* httpEffect.pipe(
              Effect.provideService(CurrentCaller, caller),
              Effect.provideService(Prefetched, { teamRef, team: found.team, releaseId, release: found.release })
            )
          }
          const caller = yield* callerOfToken(credential).pipe(withPorts, Storage.unavailable)
          return yield* Effect.provideService(httpEffect, CurrentCaller, caller)
        }),
      session: (httpEffect, { credential }) =>
        Effect.gen(function*() {
          if (Redacted.value(credential) === "") {
            // Tried after the bearer scheme: when a token was sent, its problem is the answer.
            const request = yield* HttpServerRequest.HttpServerRequest
            const authorization = request.headers.authorization
            if (authorization !== undefined && authorization.trim() !== "") {
              const token = authorization.replace(/^bearer\s+/i, "").trim()
              if (!/^bearer\s+/i.test(authorization)) {
                return yield* unauthorized("the Authorization header must be `Bearer <token>`")
              }
              yield* callerOfToken(Redacted.make(token)).pipe(withPorts, Storage.unavailable)
            }
            return yield* unauthorized("no credentials: send `Authorization: Bearer <token>` or sign in")
          }
          // The person a live session belongs to (its last use stamped).
          const found = yield* Effect.gen(function*() {
            const session = yield* sessions.touch(ApiToken.hash(credential), yield* now)
            if (Option.isNone(session)) return Option.none()
            const account = yield* people.byId(session.value.userId)
            return Option.map(account, (account) => ({ person: account.person, sessionId: session.value.id }))
          }).pipe(Storage.unavailable)
          if (Option.isNone(found)) return yield* unauthorized("the session expired or was ended: sign in again")
          const { person, sessionId } = found.value
          return yield* Effect.provideService(httpEffect, CurrentCaller, {
            _tag: "User",
            userId: person.id,
            email: person.email,
            name: person.name,
            userTokenId: null,
            sessionId
          })
        })
    })
  })
)

/** Who the audit log names for a caller. */
export const actorOf = (caller: Caller): Actor.Actor =>
  caller._tag === "User" ? Actor.user(caller.userId, caller.email) : Actor.token(caller.tokenId, caller.name)

export const layerTeamAccess = Layer.effect(
  TeamAccess,
  Effect.gen(function*() {
    const teams = yield* Teams.Teams
    return TeamAccess.of((httpEffect, { endpoint }) =>
      Effect.gen(function*() {
        const caller = yield* CurrentCaller
        const params = yield* HttpRouter.params
        const ref = params.team ?? ""
        const prefetched = yield* Effect.serviceOption(Prefetched)
        const team = Option.isSome(prefetched) && prefetched.value.teamRef === ref
          ? prefetched.value.team
          : yield* teams.byRef(ref)
        // Not a member: the same answer as for a team that does not exist. Made only when it is
        // the answer: an error captures a stack trace, which cost every request ~40 µs.
        const notFound = () => new NotFound({ error: "not_found", message: `team ${JSON.stringify(ref)} was not found` })
        if (Option.isNone(team)) return yield* notFound()
        const role = caller._tag === "TeamToken"
          ? caller.teamId === team.value.id ? Option.some(caller.role) : Option.none()
          : yield* teams.roleOf(team.value.id, caller.userId)
        if (Option.isNone(role)) return yield* notFound()
        const needed = Option.getOrElse(Context.getOption(endpoint.annotations, RequiredRole), () => "admin" as const)
        if (!includes(role.value, needed)) {
          const who = caller._tag === "TeamToken" ? `the token ${caller.name}` : caller.email
          return yield* new Forbidden({
            error: "forbidden",
            message: `this needs the ${needed} role in team ${team.value.slug}; ${who} has ${role.value}`
          })
        }
        return yield* Effect.provideService(httpEffect, CurrentTeam, {
          team: { id: team.value.id, slug: team.value.slug, name: team.value.name },
          role: role.value,
          actor: actorOf(caller)
        })
      }).pipe(Storage.unavailable)
    )
  })
)
