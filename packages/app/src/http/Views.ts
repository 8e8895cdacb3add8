/**
 * The API's views of the directory's people, teams, members, invitations and tokens: the ports
 * keep times as epoch milliseconds, the API shows ISO 8601; a team is shown with the caller's
 * role in it; an invitation with its status at the time asked.
 *
 * @since 0.2.0
 */
import { type ApiTokens, type People, Teams } from "../index.ts"
import type * as S from "@canaryroll/api/Schemas"

const iso = (ms: number) => new Date(ms).toISOString()
const isoOrNull = (ms: number | null) => ms === null ? null : iso(ms)

export const user = (person: People.Person): S.User => ({
  id: person.id,
  email: person.email,
  name: person.name,
  createdAt: iso(person.createdAt)
})

export const team = (team: Teams.Team, role: Teams.Role): S.Team => ({
  id: team.id,
  slug: team.slug,
  name: team.name,
  createdAt: iso(team.createdAt),
  role
})

export const member = (member: Teams.Member): S.Member => ({
  userId: member.userId,
  email: member.email,
  name: member.name,
  role: member.role,
  joinedAt: iso(member.joinedAt)
})

export const invitation = (invitation: Teams.Invitation, now: number): S.Invitation => ({
  id: invitation.id,
  email: invitation.email,
  role: invitation.role,
  invitedBy: invitation.invitedBy,
  createdAt: iso(invitation.createdAt),
  expiresAt: iso(invitation.expiresAt),
  status: Teams.statusOf(invitation, now)
})

export const teamToken = (token: ApiTokens.TeamToken): S.TeamToken => ({
  id: token.id,
  name: token.name,
  role: token.role,
  display: token.display,
  createdBy: token.createdBy,
  createdAt: iso(token.createdAt),
  lastUsedAt: isoOrNull(token.lastUsedAt),
  revokedAt: isoOrNull(token.revokedAt)
})

export const userToken = (token: ApiTokens.UserToken): S.UserToken => ({
  id: token.id,
  name: token.name,
  display: token.display,
  createdAt: iso(token.createdAt),
  lastUsedAt: isoOrNull(token.lastUsedAt),
  revokedAt: isoOrNull(token.revokedAt)
})
