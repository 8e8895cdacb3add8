/** Sign in with email and password; back to where the person was going (`?next=`, same site only). */
import { useQueryClient } from "@tanstack/react-query"
import { useState } from "react"
import { call } from "../api/Client.ts"
import { navigate, useLocation } from "../routing/Router.tsx"
import { Link } from "../routing/Link.tsx"
import { ActionForm, Field } from "../ui/Form.tsx"

/** Only a path of this site: `//evil.example` or `https://…` would send the person elsewhere. */
export const safeNext = (next: string | null) => next !== null && /^\/(?![/\\])/.test(next) ? next : "/"

export default function LoginScreen() {
  const { search } = useLocation()
  const queryClient = useQueryClient()
  const [email, setEmail] = useState("")
  const [password, setPassword] = useState("")
  const next = safeNext(search.get("next"))
  return (
    <main className="page narrow">
      <h1>Sign in to CanaryRoll</h1>
      <ActionForm label="Sign in" submitLabel="Sign in" onSubmit={async () => {
        await call((client) => client.auth.login({ payload: { email, password } }))
        await queryClient.invalidateQueries()
        navigate(next, { replace: true })
      }}>
        <Field label="Email" name="email" type="email" autoComplete="username" value={email} onChange={setEmail} />
        <Field label="Password" name="password" type="password" autoComplete="current-password" value={password} onChange={setPassword} />
      </ActionForm>
      <p>New here? <Link to={`/signup${next === "/" ? "" : `?next=${encodeURIComponent(next)}`}`}>Create an account</Link>.</p>
    </main>
  )
}
