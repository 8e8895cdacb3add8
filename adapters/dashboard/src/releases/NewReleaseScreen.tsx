/**
 * Create a release: the Worker, one of its versions as Cloudflare lists them (number, message,
 * tag), the plan (the Worker's default unless another is picked), automatic or manual advance,
 * and an optional name and ticket link. The release is created pending: its page runs the
 * preflight and offers Start.
 */
import type { PlanView } from "@canaryroll/api/Schemas"
import { useQuery } from "@tanstack/react-query"
import { type FormEvent, useState } from "react"
import { Button, Input, Label, ListBox, ListBoxItem, Popover, Radio, RadioGroup, Select, TextField } from "react-aria-components"
import { call, change, messageOf } from "../api/Client.ts"
import { navigate, releasePath, teamPath, useLocation } from "../routing/Router.tsx"
import { can, teamOf, useMe } from "../session/Session.ts"
import { Link } from "../routing/Link.tsx"
import { planSummary } from "../overview/PlanPicker.tsx"
import { shortId } from "../release/Describe.ts"
import { Empty, Failed, Loading } from "../ui/States.tsx"
import { SelectButton } from "../ui/SelectButton.tsx"

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
          <Select className="select" selectedKey={worker?.id ?? null} onSelectionChange={(key) => { setWorkerId(String(key)); setVersionId(undefined) }}>
            <Label>Worker</Label>
            <SelectButton placeholder="Pick a Worker" />
            <Popover className="popover">
              <ListBox className="menu" items={workers.data}>
                {(w) => <ListBoxItem className="menu-item" id={w.id} textValue={w.scriptName}>{w.scriptName}</ListBoxItem>}
              </ListBox>
            </Popover>
          </Select>
          {worker === undefined ? null : versions.isPending ? <Loading what="the Worker's versions" /> : versions.isError ? <Failed error={versions.error} retry={() => versions.refetch()} /> : (
            <Select className="select" selectedKey={versionId ?? null} onSelectionChange={(key) => setVersionId(String(key))} placeholder="Pick a version">
              <Label>Version (from Cloudflare)</Label>
              <SelectButton placeholder="Pick a version" />
              <Popover className="popover">
                <ListBox className="menu" items={[...versions.data].sort((a, b) => b.number - a.number)}>
                  {(v) => (
                    <ListBoxItem className="menu-item" id={v.id} textValue={`#${v.number} ${v.message ?? ""}`}>
                      <strong>#{v.number}</strong> {v.message ?? <span className="muted">no message</span>}
                      {v.tag === null ? null : <span className="tag">{v.tag}</span>}
                      <span className="muted small"> {shortId(v.id)}{v.createdOn === null ? "" : ` · ${new Date(v.createdOn).toLocaleString()}`}</span>
                    </ListBoxItem>
                  )}
                </ListBox>
              </Popover>
            </Select>
          )}
          <Select className="select" selectedKey={plan ?? null} onSelectionChange={(key) => setPlanId(String(key))}>
            <Label>Plan</Label>
            <SelectButton placeholder="Pick a plan" />
            <Popover className="popover">
              <ListBox className="menu" items={plans.data}>
                {(p: PlanView) => (
                  <ListBoxItem className="menu-item" id={p.id} textValue={p.name}>
                    {p.name}{p.id === worker?.defaultPlanId ? " (the Worker's default)" : ""} <span className="muted small">{planSummary(p)}</span>
                  </ListBoxItem>
                )}
              </ListBox>
            </Popover>
          </Select>
          <RadioGroup className="radios" value={advance} onChange={(value) => setAdvance(value === "manual" ? "manual" : "automatic")}>
            <Label>Advance</Label>
            <Radio className="radio" value="automatic">Automatic: each step advances when its soak is over and the latest check is healthy</Radio>
            <Radio className="radio" value="manual">Manual: a person advances each step</Radio>
          </RadioGroup>
          <TextField className="field" value={name} onChange={setName} maxLength={200}>
            <Label>Name (optional)</Label>
            <Input />
          </TextField>
          <TextField className="field" type="url" value={ticketUrl} onChange={setTicketUrl}>
            <Label>Ticket link (optional, https: or http:)</Label>
            <Input />
          </TextField>
          {problem === undefined ? null : <p className="problem" role="alert">{problem}</p>}
          <button type="submit" className="button primary" disabled={busy}>{busy ? "Creating…" : "Create the release"}</button>
        </form>
      )}
    </main>
  )
}
