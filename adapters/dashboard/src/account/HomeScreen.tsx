/** `/`: the person's only team opens at once; several are listed; none leads to creating one. */
import { useEffect } from "react"
import { navigate, teamPath } from "../routing/Router.tsx"
import { roleNames, useMe } from "../session/Session.ts"
import { Link } from "../routing/Link.tsx"
import { Empty } from "../ui/States.tsx"

export default function HomeScreen() {
  const me = useMe()
  const teams = me.data?.teams ?? []
  const only = teams.length === 1 ? teams[0] : undefined
  useEffect(() => {
    if (only !== undefined) navigate(teamPath(only.slug), { replace: true })
  }, [only])
  if (teams.length === 0) {
    return (
      <main className="page">
        <Empty title="You are not in a team yet" level={1}>
          <p>Create a team to add your Workers, or open the invitation link a teammate sent you.</p>
          <Link to="/new-team" className="button primary">Create a team</Link>
        </Empty>
      </main>
    )
  }
  return (
    <main className="page">
      <h1>Your teams</h1>
      <ul className="list">
        {teams.map((team) => <li key={team.id}><Link to={teamPath(team.slug)}>{team.name}</Link> <span className="muted">{roleNames[team.role]}</span></li>)}
      </ul>
    </main>
  )
}
