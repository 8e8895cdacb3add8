/**
 * Create a release: the Worker, one of its versions as Cloudflare lists them (number, message,
 * tag), the plan (the Worker's default unless another is picked), automatic or manual advance,
 * and an optional name and ticket link. The release is created pending: its page runs the
 * preflight and offers Start.
 *
 * The browser's own form controls (`<select>`, radios, inputs): accessible as they are, and this
 * screen's first load stays under budget without react-aria's Select (docs/dashboard.md).
 */
import type { PlanView } from "@canaryroll/api/Schemas"
import { useQuery } from "@tanstack/react-query"
import { type FormEvent, useState } from "react"
import { call, change, messageOf } from "../api/Client.ts"
import { navigate, releasePath, teamPath, useLocation } from "../routing/Router.tsx"
import { can, teamOf, useMe } from "../session/Session.ts"
import { Link } from "../routing/Link.tsx"
import { planChoiceText } from "../overview/PlanPicker.tsx"
import { shortId } from "../release/Describe.ts"
import { Empty, Failed, Loading } from "../ui/States.tsx"
import { NativeSelect } from "../ui/NativeSelect.tsx"

export default function NewReleaseScreen({ team: ref }: { readonly team: string }) {
  const me = useMe()
  const { search } = useLocation()
  const team = teamOf(me.data?.teams ?? [], ref)
  const [workerId, setWorkerId] = useState<string | undefined>(search.get("worker") ?? undefined)
  const [versionId, setVersionId] = useState<string | undefined>(undefined)
  const [planId, setPlanId] = useState<string | undefined>(undefined)
  const [advance, setAdvance] = useState<"automatic" | "manual">("automatic")
  const [name, setName] = useState("")
  const [ticketUrl, setTicketUrl] = useState("")
  const [problem, setProblem] = useState<string | undefined>(undefined)
  const [busy, setBusy] = useState(false)
  const workers = useQuery({ queryKey: ["workers", ref], queryFn: () => call((client) => client.workers.listWorkers({ params: { team: ref } })) })
  const plans = useQuery({ queryKey: ["plans", ref], queryFn: () => call((client) => client.plans.listPlans({ params: { team: ref } })) })
  const worker = (workers.data ?? []).find((w) => w.id === workerId) ?? (workers.data?.length === 1 ? workers.data[0] : undefined)
  const versions = useQuery({
    queryKey: ["versions", ref, worker?.id],
    queryFn: () => call((client) => client.workers.listVersions({ params: { team: ref, workerId: worker!.id } })),
    enabled: worker !== undefined
  })
  if (team !== undefined && !can(team.role, "deploy")) {
    return <main className="page"><p className="notice" role="note">You are read-only in this team: only deploy members and admins create releases.</p></main>
  }
  const plan = planId ?? worker?.defaultPlanId
  const submit = async (event: FormEvent) => {
    event.preventDefault()
    if (worker === undefined || versionId === undefined) {
      setProblem(worker === undefined ? "Pick the Worker to release." : "Pick the version to release.")
      return
    }
    setBusy(true)
    setProblem(undefined)
    try {
      const created = await change((client) =>
        client.deployments.createDeployment({
          params: { team: ref, workerId: worker.id },
          payload: {
            versionId,
            ...(plan === undefined ? {} : { planId: plan }),
            autoAdvance: advance === "automatic",
            ...(name.trim() === "" ? {} : { name: name.trim() }),
            ...(ticketUrl.trim() === "" ? {} : { ticketUrl: ticketUrl.trim() })
          }
        }))
      navigate(releasePath(ref, created.id))
    } catch (error) {
      setProblem(messageOf(error))
    } finally {
      setBusy(false)
    }
  }
  return (
    <main className="page narrow">
      <p className="crumbs"><Link to={teamPath(ref)}>{team?.name ?? ref}</Link> / new release</p>
      <h1>New release</h1>
      {workers.isPending || plans.isPending ? <Loading what="Workers and plans" /> : workers.isError ? <Failed error={workers.error} /> : plans.isError ? <Failed error={plans.error} /> : workers.data.length === 0 ? (
        <Empty title="No Workers yet"><p>Add a Worker on the <Link to={teamPath(ref)}>team's page</Link> first.</p></Empty>
      ) : (
        <form className="form" aria-label="New release" onSubmit={submit}>
          <NativeSelect label="Worker" visibleLabel placeholder="Pick a Worker" selected={worker?.id}
            choices={workers.data.map((w) => ({ id: w.id, text: w.scriptName }))}
            onChange={(id) => { setWorkerId(id); setVersionId(undefined) }} />
          {worker === undefined ? null : versions.isPending ? <Loading what="the Worker's versions" /> : versions.isError ? <Failed error={versions.error} retry={() => versions.refetch()} /> : (
            <NativeSelect label="Version (from Cloudflare)" visibleLabel placeholder="Pick a version" selected={versionId}
              choices={[...versions.data].sort((a, b) => b.number - a.number).map((v) => ({
                id: v.id,
                text: [
                  `#${v.number} ${v.message ?? "(no message)"}`,
                  v.tag === null ? "" : ` [${v.tag}]`,
                  ` · ${shortId(v.id)}`,
                  v.createdOn === null ? "" : ` · ${new Date(v.createdOn).toLocaleString()}`
                ].join("")
              }))}
              onChange={setVersionId} />
          )}
          <NativeSelect label="Plan" visibleLabel placeholder="Pick a plan" selected={plan}
            choices={plans.data.map((p: PlanView) => ({ id: p.id, text: planChoiceText(p, p.id === worker?.defaultPlanId ? " (the Worker's default)" : "") }))}
            onChange={setPlanId} />
          <fieldset className="radios">
            <legend>Advance</legend>
            <label className="choice">
              <input type="radio" name="advance" value="automatic" checked={advance === "automatic"} onChange={() => setAdvance("automatic")} />
              {" "}Automatic: each step advances when its soak is over and the latest check is healthy
            </label>
            <label className="choice">
              <input type="radio" name="advance" value="manual" checked={advance === "manual"} onChange={() => setAdvance("manual")} />
              {" "}Manual: a person advances each step
            </label>
          </fieldset>
          <div className="field">
            <label htmlFor="release-name">Name (optional)</label>
            <input id="release-name" value={name} onChange={(event) => setName(event.currentTarget.value)} maxLength={200} />
          </div>
          <div className="field">
            <label htmlFor="release-ticket">Ticket link (optional, https: or http:)</label>
            <input id="release-ticket" type="url" value={ticketUrl} onChange={(event) => setTicketUrl(event.currentTarget.value)} />
          </div>
          {problem === undefined ? null : <p className="problem" role="alert">{problem}</p>}
          <button type="submit" className="button primary" disabled={busy}>{busy ? "Creating…" : "Create the release"}</button>
        </form>
      )}
    </main>
  )
}
