/**
 * A team's Workers: each with its live traffic split (read from Cloudflare) and its current or
 * last release, a "needs attention" filter, adding a Worker and choosing its default plan
 * (admins), and starting a new release (deploy and admin).
 */
import type { Deployment, PlanView, Worker } from "@canaryroll/api/Schemas"
import { useQueries, useQuery, useQueryClient } from "@tanstack/react-query"
import { useState } from "react"
import { Button, Cell, Column, Row, Switch, Table, TableBody, TableHeader } from "react-aria-components"
import { call, change } from "../api/Client.ts"
import { newReleasePath, releasePath } from "../routing/Router.tsx"
import { can, roleNames, teamOf, useMe } from "../session/Session.ts"
import { Link } from "../routing/Link.tsx"
import { attentionOf, percent, shortId, statusNames } from "../release/Describe.ts"
import { Empty, Failed, Loading } from "../ui/States.tsx"
import { AddWorkerDialog } from "./AddWorkerDialog.tsx"
import { PlanPicker } from "./PlanPicker.tsx"

export const workersKey = (team: string) => ["workers", team] as const
export const plansKey = (team: string) => ["plans", team] as const

const LiveSplit = ({ team, worker, release }: { readonly team: string; readonly worker: Worker; readonly release: Deployment | undefined }) => {
  const live = useQuery({
    queryKey: ["live", team, worker.id],
    queryFn: () => call((client) => client.workers.liveDeployment({ params: { team, workerId: worker.id } })),
    // Each read is a Cloudflare API call: every 30 s is enough for an overview.
    refetchInterval: 30_000
  })
  if (live.isPending) return <span className="muted">reading…</span>
  if (live.isError) return <span className="problem">unavailable</span>
  return (
    <span>
      {live.data.versions.map((version, index) => (
        <span key={version.versionId} className={release !== undefined && version.versionId === release.cfVersionId ? "canary" : "stable"}>
          {index > 0 ? " · " : ""}{percent(version.percentage)} {shortId(version.versionId)}
          {release !== undefined && version.versionId === release.cfVersionId ? " (canary)" : ""}
        </span>
      ))}
    </span>
  )
}

export default function OverviewScreen({ team: ref }: { readonly team: string }) {
  const me = useMe()
  const queryClient = useQueryClient()
  const team = teamOf(me.data?.teams ?? [], ref)
  const [attentionOnly, setAttentionOnly] = useState(false)
  const [adding, setAdding] = useState(false)
  const workers = useQuery({
    queryKey: workersKey(ref),
    queryFn: () => call((client) => client.workers.listWorkers({ params: { team: ref } })),
    enabled: team !== undefined
  })
  const plans = useQuery({
    queryKey: plansKey(ref),
    queryFn: () => call((client) => client.plans.listPlans({ params: { team: ref } })),
    enabled: team !== undefined
  })
  const latest = useQueries({
    queries: (workers.data ?? []).map((worker) => ({
      queryKey: ["latest-release", ref, worker.id],
      queryFn: () =>
        call((client) => client.deployments.listDeployments({ params: { team: ref }, query: { workerId: worker.id, limit: 1 } })),
      refetchInterval: 5_000
    }))
  })
  if (team === undefined) {
    return <main className="page"><p className="problem" role="alert">You are not a member of the team “{ref}”, or it does not exist.</p></main>
  }
  const isAdmin = can(team.role, "admin")
  const mayRelease = can(team.role, "deploy")
  const rows = (workers.data ?? []).map((worker, index) => {
    const release = latest[index]?.data?.deployments[0]
    return { worker, release, attention: release === undefined ? undefined : attentionOf(release) }
  })
  const shown = attentionOnly ? rows.filter((row) => row.attention !== undefined) : rows
  const planName = (id: string) => (plans.data ?? []).find((plan: PlanView) => plan.id === id)?.name ?? id
  const setDefaultPlan = async (worker: Worker, planId: string) => {
    await change((client) => client.workers.updateWorker({ params: { team: ref, workerId: worker.id }, payload: { defaultPlanId: planId } }))
    await queryClient.invalidateQueries({ queryKey: workersKey(ref) })
  }
  return (
    <main className="page">
      <div className="title-row">
        <h1>{team.name}: Workers</h1>
        <span className="spacer" />
        {mayRelease && rows.length > 0 ? <Link to={newReleasePath(ref)} className="button primary">New release</Link> : null}
        {isAdmin ? <Button className="button" onPress={() => setAdding(true)}>Add a Worker</Button> : null}
      </div>
      {team.role === "read_only"
        ? <p className="notice" role="note">You are read-only in this team: you can see everything, and change nothing.</p>
        : null}
      {workers.isPending ? <Loading what="Workers" /> : workers.isError ? <Failed error={workers.error} retry={() => workers.refetch()} /> : rows.length === 0 ? (
        <Empty title="No Workers yet">
          {isAdmin
            ? <p>Add a Worker from your Cloudflare account: CanaryRoll will then release its new versions step by step. Connect a Cloudflare account first if the team has none.</p>
            : <p>An admin of {team.name} adds Workers. Once there is one, its releases show here.</p>}
          {isAdmin ? <Button className="button primary" onPress={() => setAdding(true)}>Add a Worker</Button> : null}
        </Empty>
      ) : (
        <>
          <Switch className="switch" isSelected={attentionOnly} onChange={setAttentionOnly}>
            <div className="indicator" aria-hidden="true" /> Needs attention only ({rows.filter((row) => row.attention !== undefined).length})
          </Switch>
          <Table aria-label="Workers" className="table">
            <TableHeader>
              <Column isRowHeader>Worker</Column>
              <Column>Live split</Column>
              <Column>Release</Column>
              <Column>Needs attention</Column>
              <Column>Default plan</Column>
            </TableHeader>
            <TableBody items={shown} renderEmptyState={() => <p className="muted">Nothing needs attention.</p>}>
              {(row) => (
                <Row id={row.worker.id}>
                  <Cell>
                    <strong>{row.worker.scriptName}</strong>
                    <div className="muted small">{row.worker.id}</div>
                  </Cell>
                  <Cell><LiveSplit team={ref} worker={row.worker} release={row.release} /></Cell>
                  <Cell>
                    {row.release === undefined ? <span className="muted">no release yet</span> : (
                      <Link to={releasePath(ref, row.release.id)}>
                        <span className={`status status-${row.release.status}`}>{statusNames[row.release.status]}</span>{" "}
                        {row.release.name ?? shortId(row.release.cfVersionId)}
                        {row.release.status === "in_progress" ? ` · ${percent(row.release.currentPercentage)}` : ""}
                      </Link>
                    )}
                  </Cell>
                  <Cell>{row.attention === undefined ? <span className="muted">—</span> : <span className="attention">{row.attention}</span>}</Cell>
                  <Cell>
                    {isAdmin && plans.data !== undefined
                      ? <PlanPicker label={`Default plan of ${row.worker.scriptName}`} plans={plans.data} selected={row.worker.defaultPlanId}
                        onSelect={(planId) => setDefaultPlan(row.worker, planId)} />
                      : planName(row.worker.defaultPlanId)}
                  </Cell>
                </Row>
              )}
            </TableBody>
          </Table>
          <p className="muted small">Your role here: {roleNames[team.role]}.</p>
        </>
      )}
      {isAdmin ? <AddWorkerDialog team={ref} isOpen={adding} onOpenChange={setAdding} plans={plans.data ?? []} /> : null}
    </main>
  )
}
