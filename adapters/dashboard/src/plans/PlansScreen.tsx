/**
 * A team's release plans: each with its steps and health policy; admins create, change and
 * delete them (a plan a Worker uses by default cannot be deleted: the API says which). Others
 * read them.
 */
import type { PlanView } from "@canaryroll/api/Schemas"
import { useQuery, useQueryClient } from "@tanstack/react-query"
import { useState } from "react"
import { Button } from "react-aria-components"
import { call, change } from "../api/Client.ts"
import { can, teamOf, useMe } from "../session/Session.ts"
import { ConfirmDialog } from "../ui/LazyConfirmDialog.tsx"
import { Empty, Failed, Loading } from "../ui/States.tsx"
import { PlanEditor } from "./PlanEditor.tsx"
import { durationText, timelineOf } from "./PlanTimeline.ts"
import "../ui/Settings.css"

export const plansKey = (team: string) => ["plans", team] as const

type Editing = { readonly _tag: "None" } | { readonly _tag: "New" } | { readonly _tag: "Existing"; readonly plan: PlanView }

const percent = (fraction: number) => `${Math.round(fraction * 1_000_000) / 10_000}%`

const PlanSummary = ({ plan }: { readonly plan: PlanView }) => {
  const timeline = timelineOf(plan.steps, plan.health)
  return (
    <>
      <p className="steps-line">{plan.steps.map((step) => `${step.percentage}% (${durationText(step.waitSeconds)})`).join(" → ")}</p>
      <p className="muted small">
        Checks every {durationText(plan.health.intervalSeconds)}; error rate at most {percent(plan.health.maxErrorRate)}
        {plan.health.maxErrorRateIncrease === undefined ? "" : `, at most ${percent(plan.health.maxErrorRateIncrease)} above the stable version`};{" "}
        {plan.health.failuresBeforeAction} unhealthy in a row {plan.health.onFailure === "rollback" ? "roll back" : "pause"}.
        Earliest completion {durationText(timeline.earliestCompletion)}.
      </p>
    </>
  )
}

export default function PlansScreen({ team: ref }: { readonly team: string }) {
  const me = useMe()
  const queryClient = useQueryClient()
  const team = teamOf(me.data?.teams ?? [], ref)
  const [editing, setEditing] = useState<Editing>({ _tag: "None" })
  const [deleting, setDeleting] = useState<PlanView | undefined>(undefined)
  const [saved, setSaved] = useState<string | undefined>(undefined)
  const plans = useQuery({
    queryKey: plansKey(ref),
    queryFn: () => call((client) => client.plans.listPlans({ params: { team: ref } })),
    enabled: team !== undefined
  })
  if (team === undefined) {
    return <main className="page"><p className="problem" role="alert">You are not a member of the team “{ref}”, or it does not exist.</p></main>
  }
  const isAdmin = can(team.role, "admin")
  const refresh = () => queryClient.invalidateQueries({ queryKey: plansKey(ref) })
  const save = async (slug: string, request: Parameters<Parameters<typeof PlanEditor>[0]["onSave"]>[1]) => {
    const plan = editing._tag === "Existing"
      ? await change((client) => client.plans.updatePlan({ params: { team: ref, plan: editing.plan.id }, payload: request }))
      : await change((client) => client.plans.createPlan({ params: { team: ref }, payload: { slug, ...request } }))
    await refresh()
    setEditing({ _tag: "None" })
    setSaved(`Saved the plan ${plan.name}.`)
  }
  return (
    <main className="page">
      <div className="title-row">
        <h1>{team.name}: Plans</h1>
        <span className="spacer" />
        {isAdmin && editing._tag === "None" ? <Button className="button primary" onPress={() => { setSaved(undefined); setEditing({ _tag: "New" }) }}>New plan</Button> : null}
      </div>
      {isAdmin ? null : <p className="notice" role="note">Plans are changed by the team's admins; you can read them.</p>}
      <p role="status" aria-live="polite" className="muted">{saved ?? ""}</p>
      {editing._tag === "None" ? null : (
        <section className="card" aria-labelledby="plan-editor-title">
          <h2 id="plan-editor-title">{editing._tag === "New" ? "New plan" : `Change ${editing.plan.name}`}</h2>
          {editing._tag === "Existing" ? <p className="muted small">Releases already created keep the steps they were created with.</p> : null}
          <PlanEditor key={editing._tag === "Existing" ? editing.plan.id : "new"} {...(editing._tag === "Existing" ? { plan: editing.plan } : {})}
            onSave={save} onCancel={() => setEditing({ _tag: "None" })} />
        </section>
      )}
      {plans.isPending ? <Loading what="plans" /> : plans.isError ? <Failed error={plans.error} retry={() => plans.refetch()} /> : plans.data.length === 0 ? (
        <Empty title="No plans yet"><p>A plan says how a release moves: its steps and how each is judged.</p></Empty>
      ) : (
        <ul className="list plans" aria-label="Plans">
          {plans.data.map((plan) => (
            <li key={plan.id} className="card" id={`plan-${plan.slug}`} aria-labelledby={`plan-title-${plan.id}`}>
              <div className="title-row">
                <h2 id={`plan-title-${plan.id}`}>{plan.name} <code className="muted small">{plan.slug}</code></h2>
                <span className="spacer" />
                {isAdmin ? (
                  <>
                    <Button className="button" aria-label={`Change ${plan.name}`} onPress={() => { setSaved(undefined); setEditing({ _tag: "Existing", plan }) }}>Change</Button>
                    <Button className="button danger" aria-label={`Delete ${plan.name}`} onPress={() => setDeleting(plan)}>Delete</Button>
                  </>
                ) : null}
              </div>
              <PlanSummary plan={plan} />
            </li>
          ))}
        </ul>
      )}
      <ConfirmDialog title={`Delete the plan ${deleting?.name ?? ""}?`} withReason={false} danger confirmLabel="Delete the plan"
        description="Releases already created keep their steps. A plan a Worker uses by default cannot be deleted: change the Worker's default plan first."
        isOpen={deleting !== undefined} onOpenChange={(open) => { if (!open) setDeleting(undefined) }}
        onConfirm={async () => {
          if (deleting === undefined) return
          await change((client) => client.plans.deletePlan({ params: { team: ref, plan: deleting.id } }))
          setSaved(`Deleted the plan ${deleting.name}.`)
          await refresh()
        }} />
    </main>
  )
}
