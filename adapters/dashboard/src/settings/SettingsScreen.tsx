/**
 * A team's settings, for its admins: members and roles, invitations, team tokens, Cloudflare
 * accounts, notification channels and what was sent to them. Anyone else opening this address
 * is told plainly that it is for admins, and who to ask (the API refuses them too).
 */
import { teamOf, roleNames, useMe } from "../session/Session.ts"
import { Link } from "../routing/Link.tsx"
import { teamPath } from "../routing/Router.tsx"
import { Channels } from "./Channels.tsx"
import { CloudflareAccounts } from "./CloudflareAccounts.tsx"
import { Deliveries } from "./Deliveries.tsx"
import { Invitations } from "./Invitations.tsx"
import { Members } from "./Members.tsx"
import { TeamName } from "./TeamName.tsx"
import { TeamTokens } from "./TeamTokens.tsx"
import "../ui/Settings.css"

const sections = [
  { id: "team", title: "Team" },
  { id: "members", title: "Members" },
  { id: "invitations", title: "Invitations" },
  { id: "tokens", title: "Team tokens" },
  { id: "cloudflare", title: "Cloudflare accounts" },
  { id: "channels", title: "Notification channels" },
  { id: "deliveries", title: "Deliveries" }
] as const

export default function SettingsScreen({ team: ref }: { readonly team: string }) {
  const me = useMe()
  const team = teamOf(me.data?.teams ?? [], ref)
  if (team === undefined || me.data === undefined) {
    return <main className="page"><p className="problem" role="alert">You are not a member of the team “{ref}”, or it does not exist.</p></main>
  }
  if (team.role !== "admin") {
    return (
      <main className="page narrow">
        <h1>{team.name}: Settings</h1>
        <div className="problem" role="alert">
          <p><strong>Team settings are for the team's admins.</strong> You are {roleNames[team.role]} in {team.name}, so members, invitations, tokens,
            Cloudflare accounts and notification channels are not shown to you and cannot be changed by you.</p>
          <p>Ask an admin of {team.name} to change something, or to make you admin.</p>
        </div>
        <p><Link to={teamPath(ref)}>Back to {team.name}'s Workers</Link></p>
      </main>
    )
  }
  const render = (id: (typeof sections)[number]["id"]) => {
    switch (id) {
      case "team": return <TeamName team={team} />
      case "members": return <Members team={ref} myUserId={me.data.user.id} />
      case "invitations": return <Invitations team={ref} />
      case "tokens": return <TeamTokens team={ref} />
      case "cloudflare": return <CloudflareAccounts team={ref} />
      case "channels": return <Channels team={ref} />
      case "deliveries": return <Deliveries team={ref} />
    }
  }
  return (
    <main className="page">
      <h1>{team.name}: Settings</h1>
      <nav aria-label="Settings sections" className="crumbs">
        {sections.map((section, index) => <span key={section.id}>{index > 0 ? " · " : ""}<a href={`#${section.id}`}>{section.title}</a></span>)}
      </nav>
      {sections.map((section) => (
        <section key={section.id} id={section.id} aria-labelledby={`${section.id}-title`} className="settings-section">
          <h2 id={`${section.id}-title`}>{section.title}</h2>
          {render(section.id)}
        </section>
      ))}
    </main>
  )
}
