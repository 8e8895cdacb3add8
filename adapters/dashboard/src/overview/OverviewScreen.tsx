/**
 * A team's Workers (`GET overview`, one request): each with the split its releases last put live
 * (or, before any release, Cloudflare's live deployment), its current or last release, and what
 * needs a person about it, in the core's words; a "needs attention" filter; adding a Worker and
 * choosing its default plan (admins); starting a new release (deploy and admin).
 *
 * Plain HTML for the table, the filter and the pickers: a read-only table of a few Workers gains
 * nothing from react-aria's grid (its code was a quarter of this screen's first load), and the
 * browser's own checkbox and `<select>` are accessible as they are. react-aria's code loads with
 * the add-Worker dialog, when it opens.
 */
import type { WorkerOverview } from "@canaryroll/api/Dashboard"
import type { Deployment, PlanView, Worker } from "@canaryroll/api/Schemas"
import { useQuery, useQueryClient } from "@tanstack/react-query"
import { lazy, Suspense, useState } from "react"
import { call } from "../api/Client.ts"
import { Link } from "../routing/Link.tsx"
import { newReleasePath, releasePath } from "../routing/Router.tsx"
import { can, roleNames, teamOf, useMe } from "../session/Session.ts"
import { percent, shortId, statusNames } from "../release/Describe.ts"
import { Empty, Failed, Loading } from "../ui/States.tsx"
import { PlanPicker } from "./PlanPicker.tsx"

// Its code (react-aria's Modal, the scripts' Select) loads when an admin first opens it.
const AddWorkerDialog = lazy(() => import("./AddWorkerDialog.tsx").then((module) => ({ default: module.AddWorkerDialog })))

export const overviewKey = (team: string) => ["overview", team] as const
export const plansKey = (team: string) => ["plans", team] as const

type Share = { readonly versionId: string; readonly percentage: number }

const Split = ({ shares, release }: { readonly shares: ReadonlyArray<Share>; readonly release: Deployment | null }) => (
  <span>
    {shares.map((share, index) => {
      const canary = release !== null && share.versionId === release.cfVersionId
      return (
        <span key={share.versionId} className={canary ? "canary" : "stable"}>
          {index > 0 ? " · " : ""}{percent(share.percentage)} {shortId(share.versionId)}{canary ? " (canary)" : ""}
        </span>
      )
    })}
  </span>
)

/** Before any release of the Worker shifted traffic, the split is read from Cloudflare (once a minute). */
const CloudflareSplit = ({ team, worker }: { readonly team: string; readonly worker: Worker }) => {
  const live = useQuery({
    queryKey: ["live", team, worker.id],
    queryFn: () => call((client) => client.workers.liveDeployment({ params: { team, workerId: worker.id } })),
    refetchInterval: 60_000
  })
  if (live.isPending) return <span className="muted">reading Cloudflare…</span>
  if (live.isError) return <span className="problem">unavailable: {live.error.message}</span>
  return <Split shares={live.data.versions} release={null} />
}

export default function OverviewScreen({ team: ref }: { readonly team: string }) {
  const me = useMe()
  const queryClient = useQueryClient()
  const team = teamOf(me.data?.teams ?? [], ref)
  const [attentionOnly, setAttentionOnly] = useState(false)
  const [adding, setAdding] = useState(false)
  const overview = useQuery({
    queryKey: overviewKey(ref),
    queryFn: () => call((client) => client.dashboard.overview({ params: { team: ref }, query: {} })),
    enabled: team !== undefined,
    // Reads no Cloudflare API (the split comes from the releases' events): cheap to refresh.
    refetchInterval: 5_000
  })
  const isAdmin = team !== undefined && can(team.role, "admin")
  const plans = useQuery({
    queryKey: plansKey(ref),
    queryFn: () => call((client) => client.plans.listPlans({ params: { team: ref } })),
    enabled: team !== undefined
  })
  if (team === undefined) {
    return <main className="page"><h1>Team not found</h1><p className="problem" role="alert">You are not a member of the team “{ref}”, or it does not exist.</p></main>
  }
  const mayRelease = can(team.role, "deploy")
  const rows: ReadonlyArray<WorkerOverview> = overview.data?.workers ?? []
  const needing = rows.filter((row) => row.attention.length > 0)
  const shown = attentionOnly ? needing : rows
  const planName = (id: string) => (plans.data ?? []).find((plan: PlanView) => plan.id === id)?.name ?? id
  const setDefaultPlan = async (worker: Worker, planId: string) => {
    await call((client) => client.workers.updateWorker({ params: { team: ref, workerId: worker.id }, payload: { defaultPlanId: planId } }))
    await queryClient.invalidateQueries({ queryKey: overviewKey(ref) })
  }
  return (
    <main className="page">
      <div className="title-row">
        <h1>{team.name}: Workers</h1>
        {mayRelease && rows.length > 0 ? <Link to={newReleasePath(ref)} className="button primary">New release</Link> : null}
        {isAdmin ? <button type="button" className="button" onClick={() => setAdding(true)}>Add a Worker</button> : null}
      </div>
      {team.role === "read_only"
        ? <p className="notice" role="note">You are read-only in this team: you can see everything, and change nothing.</p>
        : null}
      {overview.isPending ? <Loading what="Workers" /> : overview.isError ? <Failed error={overview.error} retry={() => overview.refetch()} /> : rows.length === 0 ? (
        <Empty title="No Workers yet">
          {isAdmin
            ? <p>Add a Worker from your Cloudflare account: CanaryRoll then releases its new versions step by step. If the team has no Cloudflare account yet, connect one first (the dialog says how).</p>
            : <p>An admin of {team.name} adds Workers. Once there is one, its releases show here.</p>}
          {isAdmin ? <button type="button" className="button primary" onClick={() => setAdding(true)}>Add a Worker</button> : null}
        </Empty>
      ) : (
        <>
          <label className="switch">
            <input type="checkbox" role="switch" className="visually-hidden" checked={attentionOnly} onChange={(event) => setAttentionOnly(event.currentTarget.checked)} />
            <span className="indicator" aria-hidden="true" /> Needs attention only ({needing.length})
          </label>
          <table aria-label="Workers" className="table">
            <thead>
              <tr>
                <th scope="col">Worker</th>
                <th scope="col">Live split</th>
                <th scope="col">Release</th>
                <th scope="col">Needs attention</th>
                <th scope="col">Default plan</th>
              </tr>
            </thead>
            <tbody>
              {shown.length === 0 ? <tr><td colSpan={5} className="muted">Nothing needs attention.</td></tr> : shown.map((row) => (
                <tr key={row.worker.id}>
                  <th scope="row">
                    <strong>{row.worker.scriptName}</strong>
                    <div className="muted small">{row.worker.id}</div>
                  </th>
                  <td>{row.split === null ? <CloudflareSplit team={ref} worker={row.worker} /> : <Split shares={row.split} release={row.release} />}</td>
                  <td>
                    {row.release === null ? <span className="muted">no release yet</span> : (
                      <Link to={releasePath(ref, row.release.id)}>
                        <span className={`status status-${row.release.status}`}>{statusNames[row.release.status]}</span>{" "}
                        {row.release.name ?? shortId(row.release.cfVersionId)}
                        {row.release.status === "in_progress" ? ` · ${percent(row.release.currentPercentage)}` : ""}
                      </Link>
                    )}
                  </td>
                  <td>
                    {row.attention.length === 0 ? <span className="muted">—</span> : (
                      <ul className="attention">{row.attention.map((item) => <li key={item.kind}>{item.message}</li>)}</ul>
                    )}
                  </td>
                  <td>
                    {isAdmin && plans.data !== undefined
                      ? <PlanPicker label={`Default plan of ${row.worker.scriptName}`} plans={plans.data} selected={row.worker.defaultPlanId}
                        onSelect={(planId) => setDefaultPlan(row.worker, planId)} />
                      : planName(row.worker.defaultPlanId)}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          <p className="muted small">Your role here: {roleNames[team.role]}.</p>
        </>
      )}
      {isAdmin && adding ? <Suspense fallback={null}><AddWorkerDialog team={ref} isOpen onOpenChange={setAdding} plans={plans.data ?? []} /></Suspense> : null}
    </main>
  )
}
