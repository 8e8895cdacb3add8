/** The link in an invitation email: `/invitations/accept?token=…`. Accepting joins its team. */
import { useMutation } from "@tanstack/react-query"
import { Button } from "react-aria-components"
import { call, messageOf } from "../api/Client.ts"
import { teamPath, useLocation } from "../routing/Router.tsx"
import { roleNames, useMe, useRefreshMe } from "../session/Session.ts"
import { Link } from "../routing/Link.tsx"

export default function InvitationScreen() {
  const { search } = useLocation()
  const token = search.get("token") ?? ""
  const me = useMe()
  const refresh = useRefreshMe()
  const accept = useMutation({
    mutationFn: () => call((client) => client.me.acceptInvitation({ payload: { token } })),
    onSuccess: () => refresh()
  })
  return (
    <main className="page narrow">
      <h1>Join a team on CanaryRoll</h1>
      {token === "" ? <p className="problem" role="alert">This link has no invitation in it. Ask for a new invitation.</p> : (
        <>
          <p>You are signed in as {me.data?.user.email}. Accepting adds this account to the team that invited you.</p>
          {accept.isSuccess
            ? <p role="status">You joined {accept.data.name} as {roleNames[accept.data.role]}. <Link to={teamPath(accept.data.slug)}>Open {accept.data.name}</Link>.</p>
            : <Button className="button primary" isDisabled={accept.isPending} onPress={() => accept.mutate()}>Accept the invitation</Button>}
          {accept.isError ? <p className="problem" role="alert">{messageOf(accept.error)}</p> : null}
          <p className="muted">Invited with another email address? <Link to="/signup">Create an account</Link> for it after logging out.</p>
        </>
      )}
    </main>
  )
}
