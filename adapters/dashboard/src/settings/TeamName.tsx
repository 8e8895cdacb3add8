/** The team's display name (its slug, in every URL and CLI call, stays). */
import type { Team } from "@canaryroll/api/Schemas"
import { useQueryClient } from "@tanstack/react-query"
import { type FormEvent, useState } from "react"
import { change } from "../api/Client.ts"
import { meKey } from "../session/Session.ts"
import { CheckedField } from "../ui/CheckedField.tsx"
import { fieldErrorsOf, type FieldErrors, noFieldErrors } from "../ui/FieldErrors.ts"

export const TeamName = ({ team }: { readonly team: Team }) => {
  const queryClient = useQueryClient()
  const [name, setName] = useState(team.name)
  const [errors, setErrors] = useState<FieldErrors>(noFieldErrors)
  const [done, setDone] = useState<string | undefined>(undefined)
  const [busy, setBusy] = useState(false)
  const submit = async (event: FormEvent) => {
    event.preventDefault()
    setBusy(true)
    setErrors(noFieldErrors)
    setDone(undefined)
    try {
      const renamed = await change((client) => client.teams.updateTeam({ params: { team: team.slug }, payload: { name: name.trim() } }))
      setDone(`The team is now called ${renamed.name}.`)
      await queryClient.invalidateQueries({ queryKey: meKey })
    } catch (error) {
      setErrors(fieldErrorsOf(error, (path) => path === "name"))
    } finally {
      setBusy(false)
    }
  }
  return (
    <form className="form inline-form" aria-label="Rename the team" onSubmit={submit} noValidate>
      <CheckedField label="Team name" name="name" value={name} onChange={setName} problem={errors.byField.get("name")} isRequired
        description={`The slug “${team.slug}” stays: URLs, the CLI and the GitHub Action keep working.`} />
      <button type="submit" className="button" disabled={busy || name.trim() === team.name}>{busy ? "Saving…" : "Rename"}</button>
      {errors.general === undefined ? null : <p className="problem" role="alert">{errors.general}</p>}
      <p role="status" aria-live="polite" className="muted">{done ?? ""}</p>
    </form>
  )
}
