/**
 * The signed-in frame's navigation within a team: its Workers, plans, audit log and (for admins)
 * settings, the one being shown marked as current; and the person's own account page.
 */
import type { Team } from "@canaryroll/api/Schemas"
import { Link } from "../routing/Link.tsx"
import { pathOf, teamPath } from "../routing/Router.tsx"
import "./TeamNav.css"

export const TeamNav = ({ team, path }: { readonly team: Team | undefined; readonly path: string }) => {
  const links = team === undefined ? [] : [
    { to: teamPath(team.slug), label: "Workers" },
    { to: pathOf("teams", team.slug, "plans"), label: "Plans" },
    { to: pathOf("teams", team.slug, "audit"), label: "Audit log" },
    ...(team.role === "admin" ? [{ to: pathOf("teams", team.slug, "settings"), label: "Settings" }] : [])
  ]
  return (
    <nav className="team-nav" aria-label="Team">
      {links.map((link) => <Link key={link.to} to={link.to} current={path === link.to || decodeURIComponent(path) === decodeURIComponent(link.to)}>{link.label}</Link>)}
      <Link to="/account" current={path === "/account"}>Your account</Link>
    </nav>
  )
}
