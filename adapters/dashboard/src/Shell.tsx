/**
 * The frame of every signed-in screen: the product's name (home), the team switcher (the team is
 * the URL's), who is signed in, and log out.
 */
import type { Team, User } from "@canaryroll/api/Schemas"
import { useQueryClient } from "@tanstack/react-query"
import type { ReactNode } from "react"
import { Button, Menu, MenuItem, MenuTrigger, Popover } from "react-aria-components"
import { call } from "./api/Client.ts"
import { Link } from "./routing/Link.tsx"
import { navigate, teamPath, useLocation } from "./routing/Router.tsx"
import { roleNames, teamOf } from "./session/Session.ts"
import { TeamNav } from "./ui/TeamNav.tsx"

export const Shell = ({ me, children }: { readonly me: { readonly user: User; readonly teams: ReadonlyArray<Team> }; readonly children: ReactNode }) => {
  const queryClient = useQueryClient()
  const { path } = useLocation()
  const ref = /^\/teams\/([^/]+)/.exec(path)?.[1]
  const current = ref === undefined ? undefined : teamOf(me.teams, decodeURIComponent(ref))
  const logout = async () => {
    await call((client) => client.auth.logout()).catch(() => undefined)
    queryClient.clear()
    navigate("/login", { replace: true })
  }
  return (
    <>
      <header className="shell">
        <Link to="/" className="brand">CanaryRoll</Link>
        <MenuTrigger>
          <Button className="button switcher" aria-label="Switch team">
            {current === undefined ? "Teams" : `${current.name} (${roleNames[current.role]})`} ▾
          </Button>
          <Popover className="popover">
            <Menu className="menu" aria-label="Teams" onAction={(key) => navigate(String(key))}>
              {me.teams.map((team) => (
                <MenuItem className="menu-item" key={team.id} id={teamPath(team.slug)} textValue={team.name}>
                  {team.name} <span className="muted">({roleNames[team.role]})</span>
                </MenuItem>
              ))}
              <MenuItem className="menu-item" id="/new-team">Create a team…</MenuItem>
            </Menu>
          </Popover>
        </MenuTrigger>
        <TeamNav team={current} path={path} />
        <span className="spacer" />
        <span className="muted">{me.user.email}</span>
        <Button className="button" onPress={logout}>Log out</Button>
      </header>
      {children}
    </>
  )
}
