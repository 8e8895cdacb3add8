/**
 * The routes and the frame around them. Screens are loaded on demand (one file each in the
 * build). Signed-out screens (sign in, sign up) stand alone; every other screen needs a session,
 * and a 401 sends the person to sign in and back to where they were.
 */
import { lazy, Suspense, useEffect, type ReactNode } from "react"
import { useMe } from "./session/Session.ts"
import { match, navigate, type Params, useLocation } from "./routing/Router.tsx"
import { Failed, Loading } from "./ui/States.tsx"

// The frame (team menu) is react-aria's Menu: loaded with the first signed-in screen, not before.
const Shell = lazy(() => import("./Shell.tsx").then((module) => ({ default: module.Shell })))
const LoginScreen = lazy(() => import("./account/LoginScreen.tsx"))
const SignupScreen = lazy(() => import("./account/SignupScreen.tsx"))
const InvitationScreen = lazy(() => import("./account/InvitationScreen.tsx"))
const NewTeamScreen = lazy(() => import("./account/NewTeamScreen.tsx"))
const HomeScreen = lazy(() => import("./account/HomeScreen.tsx"))
const OverviewScreen = lazy(() => import("./overview/OverviewScreen.tsx"))
const ReleaseScreen = lazy(() => import("./release/ReleaseScreen.tsx"))
const NewReleaseScreen = lazy(() => import("./releases/NewReleaseScreen.tsx"))
const PlansScreen = lazy(() => import("./plans/PlansScreen.tsx"))
const SettingsScreen = lazy(() => import("./settings/SettingsScreen.tsx"))
const AuditScreen = lazy(() => import("./audit/AuditScreen.tsx"))
const AccountScreen = lazy(() => import("./me/AccountScreen.tsx"))

interface Route {
  readonly pattern: string
  /** Whether the screen needs a signed-in person. */
  readonly signedIn: boolean
  readonly render: (params: Params) => ReactNode
}

const routes: ReadonlyArray<Route> = [
  { pattern: "/login", signedIn: false, render: () => <LoginScreen /> },
  { pattern: "/signup", signedIn: false, render: () => <SignupScreen /> },
  { pattern: "/invitations/accept", signedIn: true, render: () => <InvitationScreen /> },
  { pattern: "/new-team", signedIn: true, render: () => <NewTeamScreen /> },
  { pattern: "/teams/:team/deployments/new", signedIn: true, render: (p) => <NewReleaseScreen team={p.team!} /> },
  { pattern: "/teams/:team/deployments/:id", signedIn: true, render: (p) => <ReleaseScreen team={p.team!} id={p.id!} /> },
  { pattern: "/teams/:team/plans", signedIn: true, render: (p) => <PlansScreen team={p.team!} /> },
  { pattern: "/teams/:team/settings", signedIn: true, render: (p) => <SettingsScreen team={p.team!} /> },
  { pattern: "/teams/:team/audit", signedIn: true, render: (p) => <AuditScreen team={p.team!} /> },
  { pattern: "/account", signedIn: true, render: () => <AccountScreen /> },
  { pattern: "/teams/:team", signedIn: true, render: (p) => <OverviewScreen team={p.team!} /> },
  { pattern: "/", signedIn: true, render: () => <HomeScreen /> }
]

const NotFound = () => (
  <main className="page">
    <h1>Page not found</h1>
    <p>There is nothing at this address. <a href="/">Go to your teams</a>.</p>
  </main>
)

/** Sends a signed-out person to the sign-in screen, remembering where they were going. */
const SignedIn = ({ children }: { readonly children: ReactNode }) => {
  const me = useMe()
  const unauthorized = me.error !== null && (me.error as { status?: number }).status === 401
  useEffect(() => {
    if (unauthorized) navigate(`/login?next=${encodeURIComponent(location.pathname + location.search)}`, { replace: true })
  }, [unauthorized])
  if (me.isPending || unauthorized) return <main className="page"><Loading what="your account" /></main>
  if (me.isError) return <main className="page"><Failed error={me.error} retry={() => me.refetch()} /></main>
  return <Suspense fallback={<main className="page"><Loading what="the page" /></main>}><Shell me={me.data}>{children}</Shell></Suspense>
}

export const App = () => {
  const { path } = useLocation()
  for (const route of routes) {
    const params = match(route.pattern, path)
    if (params === undefined) continue
    const screen = <Suspense fallback={<main className="page"><Loading what="the page" /></main>}>{route.render(params)}</Suspense>
    return route.signedIn ? <SignedIn>{screen}</SignedIn> : screen
  }
  return <NotFound />
}
