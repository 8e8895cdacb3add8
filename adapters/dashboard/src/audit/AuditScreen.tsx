/**
 * The team's audit log: release events and settings changes, newest first, each with who did it,
 * when, and a link to what it touched. Filters by actor, release, type and time; pages follow the
 * API's keyset cursor (older pages by the cursor it hands out, newer ones by the cursors already
 * walked), so a page stays fast however long the log is.
 */
import type { ActorFilter } from "@canaryroll/api/Schemas"
import { keepPreviousData, useQuery } from "@tanstack/react-query"
import { type FormEvent, useState } from "react"
import { Button } from "react-aria-components"
import { call } from "../api/Client.ts"
import { Link } from "../routing/Link.tsx"
import { can, teamOf, useMe } from "../session/Session.ts"
import { timeText } from "../settings/SettingsKeys.ts"
import { CheckedField } from "../ui/CheckedField.tsx"
import { fieldErrorsOf } from "../ui/FieldErrors.ts"
import { Failed, Loading } from "../ui/States.tsx"
import { linkOf } from "./AuditLinks.ts"
import "../ui/Settings.css"

interface Filters {
  /** `""` (anyone), `system`, `user:{id}` or `token:{id}`. */
  readonly actor: string
  readonly deploymentId: string
  /** Comma-separated types. */
  readonly type: string
  /** `datetime-local` values, in the person's zone. */
  readonly from: string
  readonly to: string
}

const noFilters: Filters = { actor: "", deploymentId: "", type: "", from: "", to: "" }

const actorFilterOf = (actor: string): ActorFilter | undefined => {
  if (actor === "system") return { _tag: "System" }
  const match = /^(user|token):(.+)$/.exec(actor)
  return match === null ? undefined : { _tag: match[1] === "user" ? "User" : "Token", id: match[2]! }
}

const timeOf = (local: string): number | undefined => {
  const ms = local === "" ? NaN : new Date(local).getTime()
  return Number.isFinite(ms) ? ms : undefined
}

const pageSize = 25

export default function AuditScreen({ team: ref }: { readonly team: string }) {
  const me = useMe()
  const team = teamOf(me.data?.teams ?? [], ref)
  const [draft, setDraft] = useState<Filters>(noFilters)
  const [filters, setFilters] = useState<Filters>(noFilters)
  // The cursors of the pages walked so far: the last one is the page shown (undefined: the newest).
  const [cursors, setCursors] = useState<ReadonlyArray<string | undefined>>([undefined])
  // Each Filter or Clear asks again, even for filters asked before: the log only grows.
  const [asked, setAsked] = useState(0)
  const cursor = cursors[cursors.length - 1]
  const members = useQuery({
    queryKey: ["members", ref],
    queryFn: () => call((client) => client.teams.listMembers({ params: { team: ref } })),
    enabled: team !== undefined
  })
  const tokens = useQuery({
    queryKey: ["team-tokens", ref],
    queryFn: () => call((client) => client.teams.listTokens({ params: { team: ref } })),
    enabled: team !== undefined && can(team.role, "admin")
  })
  const page = useQuery({
    queryKey: ["audit", ref, filters, cursor, asked],
    placeholderData: keepPreviousData,
    enabled: team !== undefined,
    queryFn: () => {
      const actor = actorFilterOf(filters.actor)
      const from = timeOf(filters.from)
      const to = timeOf(filters.to)
      const types = filters.type.split(",").map((item) => item.trim()).filter((item) => item !== "")
      return call((client) =>
        client.audit.auditLog({
          params: { team: ref },
          query: {
            limit: pageSize,
            ...(actor === undefined ? {} : { actor }),
            ...(filters.deploymentId.trim() === "" ? {} : { deploymentId: filters.deploymentId.trim() }),
            ...(types.length === 0 ? {} : { type: types }),
            ...(from === undefined ? {} : { from }),
            ...(to === undefined ? {} : { to }),
            ...(cursor === undefined ? {} : { cursor })
          }
        }))
    }
  })
  if (team === undefined) {
    return <main className="page"><p className="problem" role="alert">You are not a member of the team “{ref}”, or it does not exist.</p></main>
  }
  const apply = (event: FormEvent) => {
    event.preventDefault()
    setFilters(draft)
    setCursors([undefined])
    setAsked((count) => count + 1)
  }
  const problems = page.isError ? fieldErrorsOf(page.error, (path) => ["actor", "deploymentId", "type", "from", "to"].includes(path)) : undefined
  return (
    <main className="page">
      <h1>{team.name}: Audit log</h1>
      <form className="form filters" aria-label="Filter the audit log" onSubmit={apply} noValidate>
        <div className="field">
          <label htmlFor="audit-actor">Who</label>
          <select id="audit-actor" className="native-select" value={draft.actor} onChange={(event) => setDraft({ ...draft, actor: event.target.value })}>
            <option value="">anyone</option>
            <option value="system">CanaryRoll itself</option>
            {(members.data ?? []).map((member) => <option key={member.userId} value={`user:${member.userId}`}>{member.name} ({member.email})</option>)}
            {(tokens.data ?? []).map((token) => <option key={token.id} value={`token:${token.id}`}>token {token.name}</option>)}
          </select>
        </div>
        <CheckedField label="Release id" name="deploymentId" value={draft.deploymentId} onChange={(deploymentId) => setDraft({ ...draft, deploymentId })}
          problem={problems?.byField.get("deploymentId")} />
        <CheckedField label="Types (comma-separated)" name="type" value={draft.type} onChange={(type) => setDraft({ ...draft, type })}
          problem={problems?.byField.get("type")} description="e.g. PlanUpdated, RollbackStarted" />
        <CheckedField label="From" name="from" type="datetime-local" value={draft.from} onChange={(from) => setDraft({ ...draft, from })} problem={problems?.byField.get("from")} />
        <CheckedField label="Until" name="to" type="datetime-local" value={draft.to} onChange={(to) => setDraft({ ...draft, to })} problem={problems?.byField.get("to")} />
        <div className="buttons">
          <button type="submit" className="button primary">Filter</button>
          <Button className="button" onPress={() => { setDraft(noFilters); setFilters(noFilters); setCursors([undefined]); setAsked((count) => count + 1) }}>Clear</Button>
        </div>
      </form>
      {page.isPending ? <Loading what="the audit log" /> : page.isError ? <Failed error={page.error} retry={() => page.refetch()} /> : page.data.entries.length === 0
        ? <p className="muted">No entry {filters === noFilters ? "yet" : "matches these filters"}.</p>
        : (
          <table className="table audit" aria-label="Audit log">
            <thead><tr><th scope="col">When</th><th scope="col">Who</th><th scope="col">What</th><th scope="col">Type</th><th scope="col"><span className="visually-hidden">Open</span></th></tr></thead>
            <tbody>
              {page.data.entries.map((entry) => {
                const link = linkOf(ref, entry)
                return (
                  <tr key={entry.id}>
                    <td><time dateTime={entry.at}>{timeText(entry.at)}</time></td>
                    <td>{entry.actor.kind === "system" ? "CanaryRoll" : `${entry.actor.kind === "token" ? "token " : ""}${entry.actor.name ?? entry.actor.id ?? "unknown"}`}</td>
                    <th scope="row">{entry.message}</th>
                    <td><code className="event-type">{entry.type}</code></td>
                    <td>{link === undefined ? null : <Link to={link.to}>Open {link.label}</Link>}</td>
                  </tr>
                )
              })}
            </tbody>
          </table>
        )}
      <div className="buttons" role="group" aria-label="Pages">
        <Button className="button" isDisabled={cursors.length === 1} onPress={() => setCursors(cursors.slice(0, -1))}>Newer</Button>
        <span className="muted small">Page {cursors.length}</span>
        <Button className="button" isDisabled={page.data?.nextCursor === null || page.data === undefined}
          onPress={() => { const next = page.data?.nextCursor; if (next !== null && next !== undefined) setCursors([...cursors, next]) }}>Older</Button>
      </div>
    </main>
  )
}
