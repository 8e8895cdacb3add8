/**
 * Handlers of the `teams` group: the team, its members, invitations, team tokens and Cloudflare
 * accounts. Every change writes its audit entry in the same transaction.
 *
 * @since 0.1.0
 */
import { ApiTokens, AuditLog, InvitationMail, Sessions, Storage as AppStorage, Teams } from "../index.ts"
import { Actor } from "@canaryroll/core"
import { AccessCheck, ApiBudget, WorkersApi } from "@canaryroll/cloudflare"
import { Effect, Option, Redacted } from "effect"
import { Base64Url } from "effect/encoding"
import { HttpApiBuilder } from "effect/http-api"
import { CurrentCaller, CurrentTeam } from "@canaryroll/api/Access"
import { Api } from "@canaryroll/api/Api"
import { BadRequest, Conflict, Forbidden, invalidField, notFound } from "@canaryroll/api/ApiError"
import * as ApiToken from "../security/ApiToken.ts"
import { SecretBox } from "../security/SecretBox.ts"
import { RequestBudget } from "./RequestBudget.ts"
import { CurrentServerConfig } from "./ServerConfig.ts"
import * as CloudflareAccounts from "./store/CloudflareAccounts.ts"
import * as Storage from "./Storage.ts"
import { audit, cloudflareError, now, transaction } from "./TeamSettings.ts"
import * as Views from "./Views.ts"

export const layer = HttpApiBuilder.group(Api, "teams", (handlers) =>
  Effect.gen(function*() {
    const box = yield* SecretBox
    const auditLog = yield* AuditLog.AuditLog
    const config = yield* CurrentServerConfig
    const workersApi = yield* WorkersApi.WorkersApi
    const sessions = yield* Sessions.Sessions
    const teams = yield* Teams.Teams
    const tokens = yield* ApiTokens.ApiTokens
    const transactions = yield* AppStorage.Transactions
    const invitationMail = yield* InvitationMail.InvitationMail
    const provide = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
      effect.pipe(
        Effect.provideService(AuditLog.AuditLog, auditLog),
        Effect.provideService(AppStorage.Transactions, transactions),
        Effect.provideService(SecretBox, box),
        Storage.unavailable
      )
    const epochNow = Effect.map(now, (at) => at.getTime())

    /** The port's last-admin refusal, naming the field that asked for it. */
    const lastAdmin = (what: string) => (refused: Teams.LastAdmin) =>
      Effect.fail(
        new Conflict({
          error: "last_admin",
          message: `${what}: ${refused.userId} is the team's last admin; make someone else admin first`
        })
      )

    return handlers
      .handle("getTeam", () =>
        Effect.gen(function*() {
          const { team, role } = yield* CurrentTeam
          const stored = yield* teams.byRef(team.id)
          // The middleware found it a moment ago: gone now means it was deleted meanwhile.
          if (Option.isNone(stored)) return yield* notFound("team", team.slug)
          return Views.team(stored.value, role)
        }).pipe(provide))
      .handle("updateTeam", ({ payload }) =>
        Effect.gen(function*() {
          const { team, role } = yield* CurrentTeam
          const at = yield* now
          return yield* transactions.atomically(Effect.gen(function*() {
            const found = yield* teams.rename(team.id, payload.name)
            if (Option.isNone(found)) return yield* notFound("team", team.slug)
            const renamed = found.value
            yield* audit({
              type: "TeamUpdated",
              at,
              sentence: (who) => `${who} renamed the team from ${team.name} to ${renamed.name}`,
              details: { from: team.name, to: renamed.name }
            })
            return Views.team(renamed, role)
          }))
        }).pipe(provide))
      .handle("listMembers", () =>
        CurrentTeam.use(({ team }) => Effect.map(teams.members(team.id), (members) => members.map(Views.member))).pipe(provide))
      .handle("updateMember", ({ params, payload }) =>
        Effect.gen(function*() {
          const { team } = yield* CurrentTeam
          const at = yield* now
          return yield* transactions.atomically(Effect.gen(function*() {
            // The port checks the last admin and changes the role as one step (a lock on Postgres).
            const { after, before } = yield* teams.changeRole(team.id, params.userId, payload.role).pipe(
              Effect.catchTags({
                MemberNotFound: () => notFound("member", params.userId),
                LastAdmin: lastAdmin("role")
              })
            )
            if (before.role === after.role) return Views.member(after)
            yield* audit({
              type: "MemberRoleChanged",
              at,
              sentence: (who) => `${who} changed ${before.email}'s role from ${before.role} to ${after.role}`,
              details: { userId: params.userId, email: before.email, from: before.role, to: after.role }
            })
            return Views.member(after)
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
          yield* transactions.atomically(Effect.gen(function*() {
            const removed = yield* teams.removeMember(team.id, params.userId).pipe(
              Effect.catchTags({
                MemberNotFound: () => notFound("member", params.userId),
                LastAdmin: lastAdmin("userId")
              })
            )
            yield* audit({
              type: "MemberRemoved",
              at,
              sentence: (who) => self ? `${who} left the team` : `${who} removed ${removed.email} from the team`,
              details: { userId: params.userId, email: removed.email, role: removed.role }
            })
          }))
        }).pipe(provide))
      .handle("endMemberSessions", ({ params }) =>
        Effect.gen(function*() {
          const { team } = yield* CurrentTeam
          const at = yield* now
          yield* transactions.atomically(Effect.gen(function*() {
            // Only a member of this team: anyone else is a 404, as for any id the team does not have.
            const member = yield* teams.member(team.id, params.userId)
            if (Option.isNone(member)) return yield* notFound("member", params.userId)
            const ended = yield* sessions.endAll(params.userId, { now: at.getTime() })
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
          const at = yield* epochNow
          return (yield* teams.invitations(team.id)).map((invitation) => Views.invitation(invitation, at))
        }).pipe(provide))
      .handle("createInvitation", ({ payload }) =>
        Effect.gen(function*() {
          const { team, actor } = yield* CurrentTeam
          const at = yield* now
          const created = yield* transactions.atomically(Effect.gen(function*() {
            // The secret is shown once, in the accept link; the port keeps only its hash.
            const token = `cri_${Base64Url.encode(crypto.getRandomValues(new Uint8Array(24)))}`
            const invited = yield* teams.invite({
              teamId: team.id,
              email: payload.email,
              role: payload.role,
              invitedBy: actor._tag === "System" ? "system" : actor.name,
              tokenHash: ApiToken.hash(token),
              now: at.getTime(),
              expiresAt: at.getTime() + config.invitationTtlMs
            }).pipe(
              Effect.catchTag("AlreadyMember", () =>
                Effect.fail(new Conflict({ error: "already_member", message: `email: ${payload.email} already belongs to the team` })))
            )
            const invitation = Views.invitation(invited, at.getTime())
            yield* audit({
              type: "InvitationCreated",
              at,
              sentence: (who) => `${who} invited ${payload.email} as ${payload.role}`,
              details: { invitationId: invitation.id, email: payload.email, role: payload.role }
            })
            const acceptUrl = `${config.publicUrl.replace(/\/+$/, "")}/invitations/accept?token=${encodeURIComponent(token)}`
            return { ...invitation, token, acceptUrl, inviter: Actor.describe(actor) }
          }))
          // Sent once the invitation is saved: a mail server that is down or refuses loses
          // nothing, the answer says why and the admin still gets the link.
          const { inviter, ...issued } = created
          const sent = yield* invitationMail.send(InvitationMail.compose({
            to: issued.email,
            teamName: team.name,
            inviter,
            role: issued.role,
            expiresAt: Date.parse(issued.expiresAt),
            acceptUrl: issued.acceptUrl
          })).pipe(
            Effect.as({ emailed: true, notEmailedReason: null }),
            Effect.catchTag("InvitationMailNotSent", ({ reason }) => Effect.succeed({ emailed: false, notEmailedReason: reason }))
          )
          return { ...issued, ...sent }
        }).pipe(provide))
      .handle("revokeInvitation", ({ params }) =>
        Effect.gen(function*() {
          const { team } = yield* CurrentTeam
          const at = yield* now
          yield* transactions.atomically(Effect.gen(function*() {
            const revoked = yield* teams.revokeInvitation(team.id, params.invitationId, at.getTime())
            if (Option.isNone(revoked)) return yield* notFound("invitation", params.invitationId)
            yield* audit({
              type: "InvitationRevoked",
              at,
              sentence: (who) => `${who} revoked the invitation of ${revoked.value.email}`,
              details: { invitationId: params.invitationId, email: revoked.value.email }
            })
          }))
        }).pipe(provide))
      .handle("listTokens", () =>
        CurrentTeam.use(({ team }) => Effect.map(tokens.teamTokens(team.id), (listed) => listed.map(Views.teamToken))).pipe(
          provide
        ))
      .handle("createToken", ({ payload }) =>
        Effect.gen(function*() {
          const { team, actor } = yield* CurrentTeam
          const at = yield* now
          return yield* transactions.atomically(Effect.gen(function*() {
            const minted = yield* ApiToken.issue("team")
            const created = yield* tokens.createTeamToken({
              teamId: team.id,
              name: payload.name,
              role: payload.role,
              createdBy: actor._tag === "System" ? "system" : actor.name,
              hash: minted.hash,
              display: minted.display,
              now: at.getTime()
            })
            const issued = { ...Views.teamToken(created), token: Redacted.value(minted.token) }
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
          yield* transactions.atomically(Effect.gen(function*() {
            const revoked = yield* tokens.revokeTeamToken(team.id, params.tokenId, at.getTime())
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
          // A user token or one owned by this account: both are verified, each where Cloudflare does.
          const verified = yield* workersApi.verifyToken({ apiToken, baseUrl: config.cloudflareBaseUrl }, params.accountId).pipe(
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
            // One team per Cloudflare account: the scheduler resolves a release's token by its
            // account, so a second team's token must never replace the first team's. The port
            // refuses it (409 cloudflare_account_taken) and saves one account's changes one after
            // the other (concurrent saves: a double click, two teams).
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
      .handle("checkCloudflareAccount", ({ params }) =>
        Effect.gen(function*() {
          const { team } = yield* CurrentTeam
          // A saved token the server's key cannot open is the server's fault (its key changed): a 500.
          const credentials = yield* CloudflareAccounts.forTeamAccount(team.id, params.accountId).pipe(
            Effect.catchTag("SecretUndecryptable", (error) => Effect.die(error))
          )
          if (Option.isNone(credentials)) return yield* notFound("Cloudflare account", params.accountId)
          // People's Cloudflare calls spend the requests' share, never the orchestrator's.
          const report = yield* AccessCheck.check(credentials.value, params.accountId).pipe(
            Effect.provideService(ApiBudget.ApiBudget, yield* RequestBudget)
          )
          return { accountId: params.accountId, passed: report.checks.every((check) => check.passed), ...report }
        }).pipe(provide))
      .handle("removeCloudflareAccount", ({ params }) =>
        Effect.gen(function*() {
          const { team } = yield* CurrentTeam
          const at = yield* now
          yield* transaction(Effect.gen(function*() {
            // The port refuses an account Workers are registered in (409 account_in_use), in the
            // step that removes it.
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
