/**
 * Where an audit entry leads: the release it belongs to, or the screen of the setting it changed
 * (by its type's family, which the server's settings entries name: `PlanUpdated`,
 * `TeamTokenCreated`, …). Undefined when there is nothing to open (the entry is all there is).
 */
import { pathOf, releasePath, teamPath } from "../routing/Router.tsx"

export interface LinkedEntry {
  readonly type: string
  readonly deploymentId: string | null
  readonly details: { readonly [key: string]: unknown }
}

export interface EntryLink {
  readonly to: string
  readonly label: string
}

const settings = (team: string, section: string, label: string): EntryLink => ({ to: `${pathOf("teams", team, "settings")}#${section}`, label })

export const linkOf = (team: string, entry: LinkedEntry): EntryLink | undefined => {
  if (entry.deploymentId !== null) return { to: releasePath(team, entry.deploymentId), label: "the release" }
  const type = entry.type
  if (type.startsWith("Plan")) return { to: pathOf("teams", team, "plans"), label: "the plans" }
  if (type.startsWith("Worker")) return { to: teamPath(team), label: "the Workers" }
  if (type.startsWith("Member")) return settings(team, "members", "the members")
  if (type.startsWith("Invitation")) return type === "InvitationAccepted" ? settings(team, "members", "the members") : settings(team, "invitations", "the invitations")
  if (type.startsWith("TeamToken")) return settings(team, "tokens", "the team tokens")
  if (type.startsWith("Cloudflare")) return settings(team, "cloudflare", "the Cloudflare accounts")
  if (type.startsWith("NotificationChannel")) return settings(team, "channels", "the channels")
  if (type === "PasswordChanged" || type === "SessionsEnded") return { to: "/account", label: "your account" }
  if (type.startsWith("Team")) return { to: teamPath(team), label: "the team" }
  return undefined
}
