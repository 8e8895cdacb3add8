/**
 * Create an account. Opened from an invitation link (`?next=/invitations/accept?token=…`), the
 * invitation's token goes with the sign-up, so an invite-only server accepts it and the new
 * account joins the team.
 */
import { useQueryClient } from "@tanstack/react-query"
import { useState } from "react"
import { call } from "../api/Client.ts"
import { navigate, useLocation } from "../routing/Router.tsx"
import { Link } from "../routing/Link.tsx"
import { ActionForm, Field } from "../ui/Form.tsx"
import { safeNext } from "./LoginScreen.tsx"

export default function SignupScreen() {
  const { search } = useLocation()
  const queryClient = useQueryClient()
  const [name, setName] = useState("")
  const [email, setEmail] = useState("")
  const [password, setPassword] = useState("")
  const next = safeNext(search.get("next"))
  const invitationToken = new URL(next, location.origin).searchParams.get("token") ?? undefined
  return (
    <main className="page narrow">
      <h1>Create your CanaryRoll account</h1>
      <ActionForm label="Create an account" submitLabel="Create the account" onSubmit={async () => {
        await call((client) =>
          client.auth.signup({ payload: { name, email, password, ...(invitationToken === undefined ? {} : { invitationToken }) } }))
        // Signing up starts the session. With an invitation the account is in its team already.
        await queryClient.invalidateQueries()
        navigate(invitationToken !== undefined ? "/" : next === "/" ? "/new-team" : next, { replace: true })
      }}>
        <Field label="Name" name="name" autoComplete="name" value={name} onChange={setName} />
        <Field label="Email" name="email" type="email" autoComplete="username" value={email} onChange={setEmail} />
        <Field label="Password" name="password" type="password" autoComplete="new-password" value={password} onChange={setPassword}
          description="At least 12 characters; not a well-known password." />
      </ActionForm>
      <p>Already have an account? <Link to={`/login${next === "/" ? "" : `?next=${encodeURIComponent(next)}`}`}>Sign in</Link>.</p>
    </main>
  )
}
