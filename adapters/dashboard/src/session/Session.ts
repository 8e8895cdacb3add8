/**
 * Who is signed in, in which teams, with which role: `GET /api/me`, cached by TanStack Query and
 * refetched after signing in or out, creating a team or accepting an invitation. Nothing is kept
 * in `localStorage`: the session is the server's HttpOnly cookie, and the team is in the URL.
 */
import type { Role } from "@canaryroll/api/Access"
import type { Team } from "@canaryroll/api/Schemas"
import { useQuery, useQueryClient } from "@tanstack/react-query"
import { call } from "../api/Client.ts"

export const meKey = ["me"] as const

export const useMe = () =>
  useQuery({
    queryKey: meKey,
    queryFn: () => call((client) => client.me.me()),
    retry: (count, error) => (error as { status?: number }).status !== 401 && count < 2
  })

export const useRefreshMe = () => {
  const queryClient = useQueryClient()
  return () => queryClient.invalidateQueries({ queryKey: meKey })
}

/** The team named by `ref` (its slug or id) among the caller's teams. */
export const teamOf = (teams: ReadonlyArray<Team>, ref: string): Team | undefined =>
  teams.find((team) => team.slug === ref || team.id === ref)

const rank: Record<Role, number> = { read_only: 0, deploy: 1, admin: 2 }

/** What a role may do on screen: the same rule as the API's `RequiredRole` of each endpoint. */
export const can = (role: Role, needed: Role) => rank[role] >= rank[needed]

/** A role as people read it. */
export const roleNames: Record<Role, string> = { read_only: "read-only", deploy: "deploy", admin: "admin" }
