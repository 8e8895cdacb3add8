/**
 * `/account`: the signed-in person's own account: change the password (every other session
 * ends), the sessions signed in now with "log out everywhere", and personal user tokens
 * (`cru_…`, acting as the person in each of their teams) shown once, then revocable.
 */
import type { UserToken } from "@canaryroll/api/Schemas"
import { useQuery, useQueryClient } from "@tanstack/react-query"
import { type FormEvent, useState } from "react"
import { Button } from "react-aria-components"
import { call, change } from "../api/Client.ts"
import { navigate } from "../routing/Router.tsx"
import { useMe } from "../session/Session.ts"
import { timeText } from "../settings/SettingsKeys.ts"
import { CheckedField } from "../ui/CheckedField.tsx"
import { ConfirmDialog } from "../ui/LazyConfirmDialog.tsx"
import { fieldErrorsOf, type FieldErrors, noFieldErrors } from "../ui/FieldErrors.ts"
import { OneTimeSecret } from "../ui/OneTimeSecret.tsx"
import { Failed, Loading } from "../ui/States.tsx"
import "../ui/Settings.css"

const sessionsKey = ["my-sessions"] as const
const tokensKey = ["my-tokens"] as const

const PasswordForm = () => {
  const queryClient = useQueryClient()
  const [currentPassword, setCurrent] = useState("")
  const [newPassword, setNew] = useState("")
  const [errors, setErrors] = useState<FieldErrors>(noFieldErrors)
  const [done, setDone] = useState<string | undefined>(undefined)
  const [busy, setBusy] = useState(false)
  const submit = async (event: FormEvent) => {
    event.preventDefault()
    setBusy(true)
    setErrors(noFieldErrors)
    setDone(undefined)
    try {
      const { endedSessions } = await change((client) => client.me.changePassword({ payload: { currentPassword, newPassword } }))
      setCurrent("")
      setNew("")
      setDone(`Password changed. ${endedSessions === 0 ? "No other session was signed in." : `${endedSessions} other session${endedSessions === 1 ? "" : "s"} signed out.`}`)
      await queryClient.invalidateQueries({ queryKey: sessionsKey })
    } catch (error) {
      setErrors(fieldErrorsOf(error, (path) => path === "currentPassword" || path === "newPassword"))
    } finally {
      setBusy(false)
    }
  }
  return (
    <form className="form" aria-label="Change your password" onSubmit={submit} noValidate>
      <CheckedField label="Current password" name="currentPassword" type="password" autoComplete="current-password" value={currentPassword}
        onChange={setCurrent} problem={errors.byField.get("currentPassword")} isRequired />
      <CheckedField label="New password" name="newPassword" type="password" autoComplete="new-password" value={newPassword}
        onChange={setNew} problem={errors.byField.get("newPassword")} isRequired description="12 to 1,024 characters. Every other session of yours ends." />
      {errors.general === undefined ? null : <p className="problem" role="alert">{errors.general}</p>}
      <p role="status" aria-live="polite">{done ?? ""}</p>
      <button type="submit" className="button primary" disabled={busy}>{busy ? "Changing…" : "Change the password"}</button>
    </form>
  )
}

const Sessions = () => {
  const queryClient = useQueryClient()
  const [confirming, setConfirming] = useState(false)
  const sessions = useQuery({ queryKey: sessionsKey, queryFn: () => call((client) => client.me.listSessions()) })
  return (
    <>
      {sessions.isPending ? <Loading what="sessions" /> : sessions.isError ? <Failed error={sessions.error} retry={() => sessions.refetch()} /> : (
        <table className="table" aria-label="Sessions">
          <thead><tr><th scope="col">Browser</th><th scope="col">Signed in</th><th scope="col">Last seen</th><th scope="col">Expires</th></tr></thead>
          <tbody>
            {sessions.data.map((session) => (
              <tr key={session.id}>
                <th scope="row">{session.userAgent ?? "unknown browser"}{session.current ? <span className="tag"> this one</span> : null}</th>
                <td>{timeText(session.createdAt)}</td>
                <td>{timeText(session.lastSeenAt)}</td>
                <td>{timeText(session.expiresAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <Button className="button danger" onPress={() => setConfirming(true)}>Log out everywhere</Button>
      <ConfirmDialog isOpen={confirming} onOpenChange={setConfirming} withReason={false} danger title="Log out everywhere?"
        description="Every session of yours ends, this one too: you sign in again here. Your user tokens keep working (revoke them below)."
        confirmLabel="Log out everywhere"
        onConfirm={async () => {
          await change((client) => client.me.endSessions())
          queryClient.clear()
          navigate("/login", { replace: true })
        }} />
    </>
  )
}

const UserTokens = () => {
  const queryClient = useQueryClient()
  const [name, setName] = useState("")
  const [errors, setErrors] = useState<FieldErrors>(noFieldErrors)
  const [issued, setIssued] = useState<{ readonly name: string; readonly token: string } | undefined>(undefined)
  const [revoking, setRevoking] = useState<UserToken | undefined>(undefined)
  const [busy, setBusy] = useState(false)
  const tokens = useQuery({ queryKey: tokensKey, queryFn: () => call((client) => client.me.listUserTokens()) })
  const submit = async (event: FormEvent) => {
    event.preventDefault()
    setBusy(true)
    setErrors(noFieldErrors)
    try {
      const created = await change((client) => client.me.createUserToken({ payload: { name: name.trim() } }))
      setIssued({ name: created.name, token: created.token })
      setName("")
      await queryClient.invalidateQueries({ queryKey: tokensKey })
    } catch (error) {
      setErrors(fieldErrorsOf(error, (path) => path === "name"))
    } finally {
      setBusy(false)
    }
  }
  const active = (tokens.data ?? []).filter((token) => token.revokedAt === null)
  return (
    <>
      <form className="form inline-form" aria-label="Create a user token" onSubmit={submit} noValidate>
        <CheckedField label="Token name" name="name" value={name} onChange={setName} problem={errors.byField.get("name")} isRequired
          description="It acts as you, in every team you belong to, with your role there." />
        <button type="submit" className="button primary" disabled={busy}>{busy ? "Creating…" : "Create the token"}</button>
      </form>
      {errors.general === undefined ? null : <p className="problem" role="alert">{errors.general}</p>}
      {issued === undefined ? null : <OneTimeSecret title={`User token ${issued.name}`} secret={issued.token} onDone={() => setIssued(undefined)} />}
      {tokens.isPending ? <Loading what="your tokens" /> : tokens.isError ? <Failed error={tokens.error} retry={() => tokens.refetch()} /> : active.length === 0
        ? <p className="muted">No user token.</p>
        : (
          <table className="table" aria-label="User tokens">
            <thead><tr><th scope="col">Name</th><th scope="col">Token</th><th scope="col">Last used</th><th scope="col">Created</th><th scope="col"><span className="visually-hidden">Actions</span></th></tr></thead>
            <tbody>
              {active.map((token) => (
                <tr key={token.id}>
                  <th scope="row">{token.name}</th>
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
        title={`Revoke ${revoking?.name ?? ""}?`} confirmLabel="Revoke" description="Every request with this token is refused from now on."
        onConfirm={async () => {
          if (revoking === undefined) return
          await change((client) => client.me.revokeUserToken({ params: { tokenId: revoking.id } }))
          await queryClient.invalidateQueries({ queryKey: tokensKey })
        }} />
    </>
  )
}

export default function AccountScreen() {
  const me = useMe()
  if (me.data === undefined) return <main className="page"><Loading what="your account" /></main>
  return (
    <main className="page">
      <h1>Your account</h1>
      <p className="muted">{me.data.user.name} · {me.data.user.email}</p>
      <section aria-labelledby="password-title" className="settings-section">
        <h2 id="password-title">Password</h2>
        <PasswordForm />
      </section>
      <section aria-labelledby="sessions-title" className="settings-section">
        <h2 id="sessions-title">Sessions</h2>
        <Sessions />
      </section>
      <section aria-labelledby="tokens-title" className="settings-section">
        <h2 id="tokens-title">User tokens</h2>
        <UserTokens />
      </section>
    </main>
  )
}
