/** Create a team: its name and the slug its URLs use. The creator is its admin. */
import { useState } from "react"
import { call } from "../api/Client.ts"
import { navigate, teamPath } from "../routing/Router.tsx"
import { useRefreshMe } from "../session/Session.ts"
import { ActionForm, Field } from "../ui/Form.tsx"

const slugFrom = (name: string) => name.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-+|-+$/g, "").slice(0, 50)

export default function NewTeamScreen() {
  const refresh = useRefreshMe()
  const [name, setName] = useState("")
  const [slug, setSlug] = useState<string | undefined>(undefined)
  const shownSlug = slug ?? slugFrom(name)
  return (
    <main className="page narrow">
      <h1>Create a team</h1>
      <p>A team holds Workers, plans, members and tokens. You will be its admin.</p>
      <ActionForm label="Create a team" submitLabel="Create the team" onSubmit={async () => {
        const team = await call((client) => client.me.createTeam({ payload: { name, slug: shownSlug } }))
        await refresh()
        navigate(teamPath(team.slug))
      }}>
        <Field label="Team name" name="name" value={name} onChange={setName} />
        <Field label="Slug (in the team's URLs)" name="slug" value={shownSlug} onChange={setSlug}
          description="Lowercase letters, digits and dashes." />
      </ActionForm>
    </main>
  )
}
