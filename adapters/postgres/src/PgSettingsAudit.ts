/**
 * PgSettingsAudit: audit entries for changes to a team's settings (members, invitations, tokens,
 * Cloudflare credentials, Workers, plans) and to its members' sessions. Releases are
 * event-sourced and their audit entries are folded from events (PgReadModels); settings are
 * plain rows, so whoever changes one records the change here in the same transaction. Both
 * kinds share `audit_log`, one log per team, read by PgAuditLog with the same filters and cursor.
 *
 * A settings entry has no release, and its `position` comes from the sequence
 * `settings_audit_positions`, which starts at 2^62: never an event's position (see migration 0006_teams).
 *
 * @since 0.1.0
 */
import type { Actor } from "@canaryroll/core"
import { Effect } from "effect"
import { SqlClient } from "effect/sql"

/** The kinds of settings change, as stored in `audit_log.type`: a storage contract, like event types. */
export const changeTypes = [
  "TeamCreated",
  "TeamUpdated",
  "MemberAdded",
  "MemberRoleChanged",
  "MemberRemoved",
  "InvitationCreated",
  "InvitationAccepted",
  "InvitationRevoked",
  "TeamTokenCreated",
  "TeamTokenRevoked",
  "CloudflareCredentialsSaved",
  "CloudflareCredentialsRemoved",
  "WorkerRegistered",
  "WorkerUpdated",
  "WorkerRemoved",
  "PlanCreated",
  "PlanUpdated",
  "PlanDeleted",
  "NotificationChannelCreated",
  "NotificationChannelUpdated",
  "NotificationChannelDeleted",
  // A member's sessions: their password changed (their other sessions ended), they logged out
  // everywhere, or an admin of the team ended their sessions.
  "PasswordChanged",
  "SessionsEnded",
  "MemberSessionsEnded"
] as const

export type ChangeType = typeof changeTypes[number]

const known: ReadonlySet<string> = new Set(changeTypes)

export const isChangeType = (type: string): type is ChangeType => known.has(type)

export interface Change {
  readonly teamId: string
  readonly type: ChangeType
  readonly actor: Actor.Actor
  /** Epoch milliseconds, from the caller's Clock: the cursor compares times to the millisecond. */
  readonly at: number
  /** The Worker the change is about, when there is one (filters the log by Worker). */
  readonly workerId?: string | null | undefined
  /** What happened, for a person: "alice@example.com created the team token ci (deploy)". */
  readonly sentence: string
  /** The change's facts. Never a secret: callers pass displays (`crt_ab…yz`), not values. */
  readonly details: Readonly<Record<string, unknown>>
}

/** Records a change; run it in the transaction that makes the change. */
export const record = Effect.fnUntraced(function*(change: Change) {
  const sql = yield* SqlClient.SqlClient
  const actorId = change.actor._tag === "System" ? null : change.actor.id
  const details = { ...change.details, actor: change.actor, at: change.at }
  yield* sql`
    INSERT INTO audit_log (id, position, team_id, release_id, worker_id, actor_kind, actor_id, type, at,
      step_index, percentage, sentence, details)
    VALUES (${crypto.randomUUID()}, nextval('settings_audit_positions'), ${change.teamId}, NULL,
      ${change.workerId ?? null}, ${change.actor._tag}, ${actorId}, ${change.type}, ${new Date(change.at)},
      NULL, NULL, ${change.sentence}, ${JSON.stringify(details)}::jsonb)`
})
