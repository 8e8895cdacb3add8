/**
 * Invitations: an admin invites an email address with a role; the server emails them the link to
 * accept it when it has outgoing mail, and the page says whether it did (and why not); the link
 * is shown once either way (copy it to the person when it was not emailed). Pending invitations show when they expire; revoking one stops its link
 * working, and "Send again" revokes it and issues a new link with a fresh expiry (the old link
 * stops working).
 */
import type { Role } from "@canaryroll/api/Access"
import type { Invitation } from "@canaryroll/api/Schemas"
import { useQuery, useQueryClient } from "@tanstack/react-query"
import { type FormEvent, useState } from "react"
import { Button } from "react-aria-components"
import { call, change, messageOf } from "../api/Client.ts"
import { roleNames } from "../session/Session.ts"
import { CheckedField } from "../ui/CheckedField.tsx"
import { fieldErrorsOf, type FieldErrors, noFieldErrors } from "../ui/FieldErrors.ts"
import { OneTimeSecret } from "../ui/OneTimeSecret.tsx"
import { Failed, Loading } from "../ui/States.tsx"
import { roles } from "./Members.tsx"
import { settingsKeys, timeText } from "./SettingsKeys.ts"

export const Invitations = ({ team }: { readonly team: string }) => {
  const queryClient = useQueryClient()
  const [email, setEmail] = useState("")
  const [role, setRole] = useState<Role>("deploy")
  const [errors, setErrors] = useState<FieldErrors>(noFieldErrors)
  const [link, setLink] = useState<{ readonly email: string; readonly url: string; readonly mailNote: string } | undefined>(undefined)
  const [busy, setBusy] = useState(false)
  const [problem, setProblem] = useState<string | undefined>(undefined)
  const invitations = useQuery({ queryKey: settingsKeys.invitations(team), queryFn: () => call((client) => client.teams.listInvitations({ params: { team } })) })
  const refresh = () => queryClient.invalidateQueries({ queryKey: settingsKeys.invitations(team) })
  const invite = async (address: string, chosen: Role) => {
    const issued = await change((client) => client.teams.createInvitation({ params: { team }, payload: { email: address, role: chosen } }))
    setLink({
      email: issued.email,
      url: issued.acceptUrl,
      mailNote: issued.emailed
        ? `Emailed to ${issued.email}. The link is also here, shown this once, should you pass it on yourself.`
        : `Not emailed: ${issued.notEmailedReason ?? "the server sends no email"}. Send this link to them yourself: it is shown this once.`
    })
    await refresh()
  }
  const submit = async (event: FormEvent) => {
    event.preventDefault()
    setBusy(true)
    setErrors(noFieldErrors)
    try {
      await invite(email.trim(), role)
      setEmail("")
    } catch (error) {
      setErrors(fieldErrorsOf(error, (path) => path === "email"))
    } finally {
      setBusy(false)
    }
  }
  const act = async (what: () => Promise<unknown>) => {
    setProblem(undefined)
    try {
      await what()
    } catch (error) {
      setProblem(messageOf(error))
    }
    await refresh()
  }
  const revoke = (invitation: Invitation) => change((client) => client.teams.revokeInvitation({ params: { team, invitationId: invitation.id } }))
  const pending = (invitations.data ?? []).filter((invitation) => invitation.status === "pending")
  return (
    <>
      <form className="form inline-form" aria-label="Invite someone" onSubmit={submit} noValidate>
        <CheckedField label="Email" name="email" type="email" value={email} onChange={setEmail} problem={errors.byField.get("email")} isRequired />
        <div className="field">
          <label htmlFor="invite-role">Role</label>
          <select id="invite-role" className="native-select" value={role} onChange={(event) => setRole(event.target.value as Role)}>
            {roles.map((value) => <option key={value} value={value}>{roleNames[value]}</option>)}
          </select>
        </div>
        <button type="submit" className="button primary" disabled={busy}>{busy ? "Inviting…" : "Invite"}</button>
      </form>
      {errors.general === undefined ? null : <p className="problem" role="alert">{errors.general}</p>}
      {link === undefined ? null : (
        <OneTimeSecret title={`Invitation link for ${link.email}`} secret={link.url} onDone={() => setLink(undefined)}
          note={`${link.mailNote} It works for one sign-up or sign-in, until it expires or is revoked.`} />
      )}
      {invitations.isPending ? <Loading what="invitations" /> : invitations.isError ? <Failed error={invitations.error} retry={() => invitations.refetch()} /> : pending.length === 0
        ? <p className="muted">No pending invitation.</p>
        : (
          <table className="table" aria-label="Pending invitations">
            <thead><tr><th scope="col">Email</th><th scope="col">Role</th><th scope="col">Sent</th><th scope="col">Expires</th><th scope="col"><span className="visually-hidden">Actions</span></th></tr></thead>
            <tbody>
              {pending.map((invitation) => (
                <tr key={invitation.id}>
                  <th scope="row">{invitation.email}</th>
                  <td>{roleNames[invitation.role]}</td>
                  <td>{timeText(invitation.createdAt)}</td>
                  <td>{timeText(invitation.expiresAt)}</td>
                  <td className="actions">
                    <Button className="button" aria-label={`Send again: the invitation of ${invitation.email}`}
                      onPress={() => act(async () => { await revoke(invitation); await invite(invitation.email, invitation.role) })}>Send again</Button>
                    <Button className="button danger" aria-label={`Revoke the invitation of ${invitation.email}`} onPress={() => act(() => revoke(invitation))}>Revoke</Button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      {problem === undefined ? null : <p className="problem" role="alert">{problem}</p>}
    </>
  )
}
