/**
 * Who is calling and what they may do. Two middlewares, declared here and implemented by each
 * server runtime (the Node server's `handlers/Access.ts`):
 *
 * - `Authentication` (every endpoint but sign-up and log-in) accepts a bearer token (a team token
 *   `crt_…` or a user token `cru_…`) or the dashboard's session cookie, and provides the
 *   `CurrentCaller`.
 * - `TeamAccess` (every endpoint under `/api/teams/{team}`) resolves the team from the path (id or
 *   slug), checks the caller belongs to it with at least the endpoint's `RequiredRole`, and
 *   provides the `CurrentTeam`. A team the caller does not belong to is a 404, not a 403: its
 *   existence is nobody else's business. A member with too small a role gets a 403 naming the
 *   role needed.
 *
 * @since 0.1.0
 */
import type { Actor } from "@canaryroll/core"
import { Context, Schema } from "effect"
import { HttpApiMiddleware, HttpApiSecurity } from "effect/http-api"
import { Forbidden, NotFound, ServiceUnavailable, Unauthorized } from "./ApiError.ts"

export const roles = ["read_only", "deploy", "admin"] as const
export const Role = Schema.Literals(roles)
export type Role = typeof Role.Type

const rank: Record<Role, number> = { read_only: 0, deploy: 1, admin: 2 }

/** Whether `held` includes everything `needed` allows. */
export const includes = (held: Role, needed: Role): boolean => rank[held] >= rank[needed]

/** The role an endpoint under a team needs; an endpoint without it needs `admin` (fail closed). */
export class RequiredRole extends Context.Service<RequiredRole, Role>()("@canaryroll/api/RequiredRole") {}

export const sessionCookie = "canaryroll_session"

export type Caller =
  | {
    readonly _tag: "User"
    readonly userId: string
    readonly email: string
    readonly name: string
    /** The user token used, if any (absent for a session). */
    readonly userTokenId: string | null
    /** The session used, if any (absent for a user token): its public id. */
    readonly sessionId: string | null
  }
  | {
    readonly _tag: "TeamToken"
    readonly tokenId: string
    readonly teamId: string
    readonly role: Role
    readonly name: string
  }

export class CurrentCaller extends Context.Service<CurrentCaller, Caller>()("@canaryroll/api/CurrentCaller") {}

export interface TeamRef {
  readonly id: string
  readonly slug: string
  readonly name: string
}

export class CurrentTeam extends Context.Service<CurrentTeam, {
  readonly team: TeamRef
  /** The caller's role in this team. */
  readonly role: Role
  /** Who the audit log and the release events name. */
  readonly actor: Actor.Actor
}>()("@canaryroll/api/CurrentTeam") {}

export class Authentication extends HttpApiMiddleware.Service<Authentication, { provides: CurrentCaller }>()(
  "@canaryroll/api/Authentication",
  {
    security: {
      bearer: HttpApiSecurity.bearer,
      session: HttpApiSecurity.apiKey({ key: sessionCookie, in: "cookie" })
    },
    // 503 as well: looking up a token or a session can find the storage down.
    error: [Unauthorized, ServiceUnavailable]
  }
) {}

export class TeamAccess extends HttpApiMiddleware.Service<TeamAccess, {
  requires: CurrentCaller
  provides: CurrentTeam
}>()("@canaryroll/api/TeamAccess", { error: [Forbidden, NotFound, ServiceUnavailable] }) {}
