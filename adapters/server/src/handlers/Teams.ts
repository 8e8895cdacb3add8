/**
 * Handlers of the `teams` group: the team, its members, invitations, team tokens and Cloudflare
 * accounts. Every change writes its audit entry in the same transaction.
 *
 * @since 0.1.0
 */
import { WorkersApi } from "@canaryroll/cloudflare"
import { Sessions } from "@canaryroll/core"
import { Effect, Option, Redacted } from "effect"
import { HttpApiBuilder } from "effect/http-api"
import { SqlClient } from "effect/sql"
import { CurrentCaller, CurrentTeam } from "../api/Access.ts"
import { Api } from "../api/Api.ts"
import { BadRequest, Conflict, Forbidden, invalidField, notFound } from "../api/ApiError.ts"
import { SecretBox } from "../security/SecretBox.ts"
import { CurrentServerConfig } from "../ServerConfig.ts"
import * as Accounts from "../store/Accounts.ts"
import * as CloudflareAccounts from "../store/CloudflareAccounts.ts"
import * as Teams from "../store/Teams.ts"
import * as Workers from "../store/Workers.ts"
import * as Storage from "./Storage.ts"
import { audit, cloudflareError, now, transaction } from "./TeamSettings.ts"

export const layer = HttpApiBuilder.group(Api, "teams", (handlers) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const box = yield* SecretBox
    const config = yield* CurrentServerConfig
    const workersApi = yield* WorkersApi.WorkersApi
    const sessions = yield* Sessions.Sessions
    const provide = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
      effect.pipe(Effect.provideService(SqlClient.SqlClient, sql), Effect.provideService(SecretBox, box), Storage.orDie)

    /** Checks that removing or demoting `userId` leaves the team an admin. */
    const keepAnAdmin = (teamId: string, userId: string, currentRole: string, what: string) =>
      Effect.gen(function*() {
        if (currentRole !== "admin") return
        if ((yield* Teams.adminCount(teamId)) <= 1) {
          return yield* new Conflict({
            error: "last_admin",
            message: `${what}: ${userId} is the team's last admin; make someone else admin first`
          })
        }
      })

    return handlers
      .handle("getTeam", () =>
        Effect.gen(function*() {
          const { team, role } = yield* CurrentTeam
          const stored = yield* Teams.teamByRef(team.id)
          // The middleware found it a moment ago: gone now means it was deleted meanwhile.
          if (Option.isNone(stored)) return yield* notFound("team", team.slug)
          return Teams.view(stored.value, role)
        }).pipe(provide))
      .handle("updateTeam", ({ payload }) =>
        Effect.gen(function*() {
          const { team, role } = yield* CurrentTeam
          const at = yield* now
          return yield* transaction(Effect.gen(function*() {
            const renamed = yield* Teams.renameTeam(team.id, payload.name)
            yield* audit({
              type: "TeamUpdated",
              at,
              sentence: (who) => `${who} renamed the team from ${team.name} to ${renamed.name}`,
              details: { from: team.name, to: renamed.name }
            })
            return Teams.view(renamed, role)
          }))
        }).pipe(provide))
      .handle("listMembers", () => CurrentTeam.use(({ team }) => Teams.listMembers(team.id)).pipe(provide))
      .handle("updateMember", ({ params, payload }) =>
        Effect.gen(function*() {
          const { team } = yield* CurrentTeam
          const at = yield* now
          return yield* transaction(Effect.gen(function*() {
            yield* Teams.lockMemberships(team.id)
            const current = yield* Teams.member(team.id, params.userId)
            if (Option.isNone(current)) return yield* notFound("member", params.userId)
            if (current.value.role === payload.role) return current.value
            if (payload.role !== "admin") yield* keepAnAdmin(team.id, params.userId, current.value.role, "role")
            yield* Teams.setRole(team.id, params.userId, payload.role)
            yield* audit({
              type: "MemberRoleChanged",
              at,
              sentence: (who) => `${who} changed ${current.value.email}'s role from ${current.value.role} to ${payload.role}`,
              details: { userId: params.userId, email: current.value.email, from: current.value.role, to: payload.role }
            })
            return { ...current.value, role: payload.role }
          }))
        }).pipe(provide))
      .handle("removeMember", ({ params }) =>
        Effect.gen(function*() {
          const { team, role } = yield* CurrentTeam
          const caller = yield* CurrentCaller
          const self = caller._tag === "User" && caller.userId === params.userId
          if (!self && role !== "admin") {
            return yield* new Forbidden({
              error: "forbidden",
              message: `removing another member needs the admin role in team ${team.slug}; you have ${role}`
            })
          }
          const at = yield* now
          yield* transaction(Effect.gen(function*() {
            yield* Teams.lockMemberships(team.id)
            const current = yield* Teams.member(team.id, params.userId)
            if (Option.isNone(current)) return yield* notFound("member", params.userId)
            yield* keepAnAdmin(team.id, params.userId, current.value.role, "userId")
            yield* Teams.removeMember(team.id, params.userId)
            yield* audit({
              type: "MemberRemoved",
              at,
              sentence: (who) => self ? `${who} left the team` : `${who} removed ${current.value.email} from the team`,
              details: { userId: params.userId, email: current.value.email, role: current.value.role }
            })
          }))
        }).pipe(provide))
      .handle("endMemberSessions", ({ params }) =>
        Effect.gen(function*() {
          const { team } = yield* CurrentTeam
          const at = yield* now
          yield* transaction(Effect.gen(function*() {
            // Only a member of this team: anyone else is a 404, as for any id the team does not have.
            const member = yield* Teams.member(team.id, params.userId)
            if (Option.isNone(member)) return yield* notFound("member", params.userId)
            const ended = yield* Accounts.endSessions(params.userId, at).pipe(Effect.provideService(Sessions.Sessions, sessions))
            yield* audit({
              type: "MemberSessionsEnded",
              at,
              sentence: (who) =>
                `${who} signed ${member.value.email} out everywhere; ${ended} session${ended === 1 ? "" : "s"} ended`,
              details: { userId: params.userId, email: member.value.email, endedSessions: ended }
            })
          }))
        }).pipe(provide))
      .handle("listInvitations", () =>
        Effect.gen(function*() {
          const { team } = yield* CurrentTeam
          return yield* Teams.listInvitations(team.id, yield* now)
        }).pipe(provide))
      .handle("createInvitation", ({ payload }) =>
        Effect.gen(function*() {
          const { team, actor } = yield* CurrentTeam
          const at = yield* now
          return yield* transaction(Effect.gen(function*() {
            const members = yield* Teams.listMembers(team.id)
            if (members.some((member) => member.email.toLowerCase() === payload.email.toLowerCase())) {
              return yield* new Conflict({ error: "already_member", message: `email: ${payload.email} already belongs to the team` })
            }
            const { invitation, token } = yield* Teams.createInvitation({
              teamId: team.id,
              email: payload.email,
              role: payload.role,
              invitedBy: actor._tag === "System" ? "system" : actor.name,
              now: at,
              expiresAt: new Date(at.getTime() + config.invitationTtlMs)
            })
            yield* audit({
              type: "InvitationCreated",
              at,
              sentence: (who) => `${who} invited ${payload.email} as ${payload.role}`,
              details: { invitationId: invitation.id, email: payload.email, role: payload.role }
            })
            const acceptUrl = `${config.publicUrl.replace(/\/+$/, "")}/invitations/accept?token=${encodeURIComponent(token)}`
            return { ...invitation, token, acceptUrl }
          }))
        }).pipe(provide))
      .handle("revokeInvitation", ({ params }) =>
        Effect.gen(function*() {
          const { team } = yield* CurrentTeam
          const at = yield* now
          yield* transaction(Effect.gen(function*() {
            const revoked = yield* Teams.revokeInvitation(team.id, params.invitationId, at)
            if (Option.isNone(revoked)) return yield* notFound("invitation", params.invitationId)
            yield* audit({
              type: "InvitationRevoked",
              at,
              sentence: (who) => `${who} revoked the invitation of ${revoked.value.email}`,
              details: { invitationId: params.invitationId, email: revoked.value.email }
            })
          }))
        }).pipe(provide))
      .handle("listTokens", () => CurrentTeam.use(({ team }) => Teams.listTeamTokens(team.id)).pipe(provide))
      .handle("createToken", ({ payload }) =>
        Effect.gen(function*() {
          const { team, actor } = yield* CurrentTeam
          const at = yield* now
          return yield* transaction(Effect.gen(function*() {
            const issued = yield* Teams.createTeamToken({
              teamId: team.id,
              name: payload.name,
              role: payload.role,
              createdBy: actor._tag === "System" ? "system" : actor.name,
              now: at
            })
            yield* audit({
              type: "TeamTokenCreated",
              at,
              sentence: (who) => `${who} created the team token ${issued.name} (${issued.role}, ${issued.display})`,
              details: { tokenId: issued.id, name: issued.name, role: issued.role, display: issued.display }
            })
            return issued
          }))
        }).pipe(provide))
      .handle("revokeToken", ({ params }) =>
        Effect.gen(function*() {
          const { team } = yield* CurrentTeam
          const at = yield* now
          yield* transaction(Effect.gen(function*() {
            const revoked = yield* Teams.revokeTeamToken(team.id, params.tokenId, at)
            if (Option.isNone(revoked)) return yield* notFound("team token", params.tokenId)
            yield* audit({
              type: "TeamTokenRevoked",
              at,
              sentence: (who) => `${who} revoked the team token ${revoked.value.name} (${revoked.value.display})`,
              details: { tokenId: params.tokenId, name: revoked.value.name, display: revoked.value.display }
            })
          }))
        }).pipe(provide))
      .handle("listCloudflareAccounts", () =>
        CurrentTeam.use(({ team }) => CloudflareAccounts.list(team.id)).pipe(provide))
      .handle("saveCloudflareAccount", ({ params, payload }) =>
        Effect.gen(function*() {
          const { team } = yield* CurrentTeam
          const apiToken = Redacted.make(payload.apiToken.trim())
          // A token Cloudflare refuses is the caller's input error (400); Cloudflare being down is not.
          const verified = yield* workersApi.verifyToken({ apiToken, baseUrl: config.cloudflareBaseUrl }).pipe(
            Effect.mapError((error) =>
              error.kind === "credentials"
                ? invalidField("apiToken", `Cloudflare refuses the token (${error.message})`)
                : cloudflareError(error)
            )
          )
          if (verified.status !== "active") {
            return yield* invalidField("apiToken", `Cloudflare says the token is ${verified.status}, not active`)
          }
          // Active is not enough: the token must reach this account's Workers.
          yield* workersApi.verifyAccountAccess({ apiToken, baseUrl: config.cloudflareBaseUrl }, params.accountId).pipe(
            Effect.mapError((error) =>
              error.kind === "credentials" || error.kind === "not_found"
                ? new BadRequest({
                  error: "cloudflare_account_unreachable",
                  message: `apiToken: the token cannot read the Workers of account ${params.accountId} (${error.message}); ` +
                    "give it Workers Scripts access to that account"
                })
                : cloudflareError(error)
            )
          )
          const at = yield* now
          return yield* transaction(Effect.gen(function*() {
            // Concurrent saves of one account (a double click, two teams) one after the other.
            yield* Storage.lock(sql, `canaryroll/cloudflare-account/${params.accountId}`)
            // One team per Cloudflare account: the scheduler resolves a release's token by its
            // account, so a second team's token must never replace the first team's.
            const owner = yield* CloudflareAccounts.connectedTeam(params.accountId)
            if (Option.isSome(owner) && owner.value !== team.id) {
              return yield* new Conflict({
                error: "cloudflare_account_taken",
                message: `accountId: account ${params.accountId} is connected to another CanaryRoll team; ` +
                  "a Cloudflare account belongs to one team (ask that team to add you)"
              })
            }
            const saved = yield* CloudflareAccounts.save({
              teamId: team.id,
              accountId: params.accountId,
              apiToken,
              baseUrl: config.cloudflareBaseUrl,
              now: at
            })
            yield* audit({
              type: "CloudflareCredentialsSaved",
              at,
              // The audit log is readable by read_only members: not even the token's display.
              sentence: (who) => `${who} saved a verified Cloudflare API token for account ${params.accountId}`,
              details: { accountId: params.accountId }
            })
            return saved
          }))
        }).pipe(provide))
      .handle("removeCloudflareAccount", ({ params }) =>
        Effect.gen(function*() {
          const { team } = yield* CurrentTeam
          const at = yield* now
          yield* transaction(Effect.gen(function*() {
            yield* Storage.lock(sql, `canaryroll/cloudflare-account/${params.accountId}`)
            const workers = yield* Workers.workersInAccount(team.id, params.accountId)
            if (workers.length > 0) {
              return yield* new Conflict({
                error: "account_in_use",
                message: `accountId: Workers are registered in this account (${
                  workers.map((worker) => worker.scriptName).join(", ")
                }); remove them first`
              })
            }
            const removed = yield* CloudflareAccounts.remove(team.id, params.accountId)
            if (!removed) return yield* notFound("Cloudflare account", params.accountId)
            yield* audit({
              type: "CloudflareCredentialsRemoved",
              at,
              sentence: (who) => `${who} removed the Cloudflare credentials of account ${params.accountId}`,
              details: { accountId: params.accountId }
            })
          }))
        }).pipe(provide))
  }))
