/**
 * Team API tokens (`crt_…`) for CI and the GitHub Action: created with a name and a role, the
 * secret shown once with a copy button; afterwards only its name, role, a recognisable prefix and
 * its last use. Revoking one refuses every request with it from then on.
 */
import type { Role } from "@canaryroll/api/Access"
import type { TeamToken } from "@canaryroll/api/Schemas"
import { useQuery, useQueryClient } from "@tanstack/react-query"
import { type FormEvent, useState } from "react"
import { Button } from "react-aria-components"
import { call, change } from "../api/Client.ts"
import { roleNames } from "../session/Session.ts"
import { CheckedField } from "../ui/CheckedField.tsx"
import { ConfirmDialog } from "../ui/LazyConfirmDialog.tsx"
import { fieldErrorsOf, type FieldErrors, noFieldErrors } from "../ui/FieldErrors.ts"
import { OneTimeSecret } from "../ui/OneTimeSecret.tsx"
import { Failed, Loading } from "../ui/States.tsx"
import { roles } from "./Members.tsx"
import { settingsKeys, timeText } from "./SettingsKeys.ts"

export const TeamTokens = ({ team }: { readonly team: string }) => {
  const queryClient = useQueryClient()
  const [name, setName] = useState("")
  const [role, setRole] = useState<Role>("deploy")
  const [errors, setErrors] = useState<FieldErrors>(noFieldErrors)
  const [issued, setIssued] = useState<{ readonly name: string; readonly token: string } | undefined>(undefined)
  const [revoking, setRevoking] = useState<TeamToken | undefined>(undefined)
  const [busy, setBusy] = useState(false)
  const tokens = useQuery({ queryKey: settingsKeys.tokens(team), queryFn: () => call((client) => client.teams.listTokens({ params: { team } })) })
  const refresh = () => queryClient.invalidateQueries({ queryKey: settingsKeys.tokens(team) })
  const submit = async (event: FormEvent) => {
    event.preventDefault()
    setBusy(true)
    setErrors(noFieldErrors)
    try {
      const created = await change((client) => client.teams.createToken({ params: { team }, payload: { name: name.trim(), role } }))
      setIssued({ name: created.name, token: created.token })
      setName("")
      await refresh()
    } catch (error) {
      setErrors(fieldErrorsOf(error, (path) => path === "name"))
    } finally {
      setBusy(false)
    }
  }
  const active = (tokens.data ?? []).filter((token) => token.revokedAt === null)
  return (
    <>
      <form className="form inline-form" aria-label="Create a team token" onSubmit={submit} noValidate>
        <CheckedField label="Token name" name="name" value={name} onChange={setName} problem={errors.byField.get("name")} isRequired
          description="Where it is used, e.g. “GitHub Actions: storefront”." />
        <div className="field">
          <label htmlFor="token-role">Role</label>
          <select id="token-role" className="native-select" value={role} onChange={(event) => setRole(event.target.value as Role)}>
            {roles.map((value) => <option key={value} value={value}>{roleNames[value]}</option>)}
          </select>
        </div>
        <button type="submit" className="button primary" disabled={busy}>{busy ? "Creating…" : "Create the token"}</button>
      </form>
      {errors.general === undefined ? null : <p className="problem" role="alert">{errors.general}</p>}
      {issued === undefined ? null : <OneTimeSecret title={`Team token ${issued.name}`} secret={issued.token} onDone={() => setIssued(undefined)} />}
      {tokens.isPending ? <Loading what="team tokens" /> : tokens.isError ? <Failed error={tokens.error} retry={() => tokens.refetch()} /> : active.length === 0
        ? <p className="muted">No team token yet.</p>
        : (
          <table className="table" aria-label="Team tokens">
            <thead><tr><th scope="col">Name</th><th scope="col">Role</th><th scope="col">Token</th><th scope="col">Last used</th><th scope="col">Created</th><th scope="col"><span className="visually-hidden">Actions</span></th></tr></thead>
            <tbody>
              {active.map((token) => (
                <tr key={token.id}>
                  <th scope="row">{token.name}</th>
                  <td>{roleNames[token.role]}</td>
                  <td><code>{token.display}</code></td>
                  <td>{timeText(token.lastUsedAt)}</td>
                  <td>{timeText(token.createdAt)}</td>
                  <td className="actions"><Button className="button danger" aria-label={`Revoke ${token.name}`} onPress={() => setRevoking(token)}>Revoke</Button></td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      <ConfirmDialog isOpen={revoking !== undefined} onOpenChange={(open) => { if (!open) setRevoking(undefined) }} withReason={false} danger
        title={`Revoke ${revoking?.name ?? ""}?`} confirmLabel="Revoke"
        description="Every request with this token is refused from now on: update whatever uses it (a CI secret) first."
        onConfirm={async () => {
          if (revoking === undefined) return
          await change((client) => client.teams.revokeToken({ params: { team, tokenId: revoking.id } }))
          await refresh()
        }} />
    </>
  )
}
