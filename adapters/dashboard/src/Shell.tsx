/**
 * The frame of every signed-in screen: the product's name (home), the team switcher (the team is
 * the URL's), who is signed in, and log out. The switcher's menu code loads on its first click,
 * so the frame adds almost nothing to a screen's first load.
 */
import type { Team, User } from "@canaryroll/api/Schemas"
import { useQueryClient } from "@tanstack/react-query"
import { lazy, type ReactNode, Suspense, useState } from "react"
import { call } from "./api/Client.ts"
import { Link } from "./routing/Link.tsx"
import { navigate, useLocation } from "./routing/Router.tsx"
import { roleNames, teamOf } from "./session/Session.ts"
import { TeamNav } from "./ui/TeamNav.tsx"
import { SwitcherText } from "./ui/SwitcherText.tsx"

const TeamMenu = lazy(() => import("./TeamMenu.tsx"))

export const Shell = ({ me, children }: { readonly me: { readonly user: User; readonly teams: ReadonlyArray<Team> }; readonly children: ReactNode }) => {
  const queryClient = useQueryClient()
  const { path } = useLocation()
  const [menuWanted, setMenuWanted] = useState(false)
  const ref = /^\/teams\/([^/]+)/.exec(path)?.[1]
  const current = ref === undefined ? undefined : teamOf(me.teams, decodeURIComponent(ref))
  const label = current === undefined ? "Teams" : `${current.name} (${roleNames[current.role]})`
  const logout = async () => {
    await call((client) => client.auth.logout()).catch(() => undefined)
    queryClient.clear()
    navigate("/login", { replace: true })
  }
  const plainSwitcher = (
    <button type="button" className="button switcher" aria-haspopup="menu" onClick={() => setMenuWanted(true)}>
      <SwitcherText label={label} />
    </button>
  )
  return (
    <>
      <header className="shell">
        <Link to="/" className="brand">CanaryRoll</Link>
        {menuWanted ? <Suspense fallback={plainSwitcher}><TeamMenu label={label} teams={me.teams} /></Suspense> : plainSwitcher}
        <TeamNav team={current} path={path} />
        <span className="spacer" />
        <span className="muted">{me.user.email}</span>
        <button type="button" className="button" onClick={logout}>Log out</button>
      </header>
      {children}
    </>
  )
}
