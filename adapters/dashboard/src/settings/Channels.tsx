/**
 * Notification channels: each kind's form (derived from the API's schema, see `ChannelKindForms`),
 * the events it receives, "Send test" with how it went, enable or disable, delete. A webhook's
 * generated signing secret is shown once. URLs and passwords are never shown back: the API
 * answers them masked.
 */
import type { NotificationChannel } from "@canaryroll/api/Schemas"
import { useQuery, useQueryClient } from "@tanstack/react-query"
import { type FormEvent, useState } from "react"
import { Button, Switch } from "react-aria-components"
import { call, change, messageOf } from "../api/Client.ts"
import { CheckedField } from "../ui/CheckedField.tsx"
import { ConfirmDialog } from "../ui/LazyConfirmDialog.tsx"
import { OneTimeSecret } from "../ui/OneTimeSecret.tsx"
import { Failed, Loading } from "../ui/States.tsx"
import { ChannelRequest } from "@canaryroll/api/Api"
import { checkedBy, fieldErrorsOf } from "../ui/FieldErrors.ts"
import { configOf, eventNames, humanize, kindForms } from "./ChannelKindForms.ts"
import { settingsKeys } from "./SettingsKeys.ts"

const configText = (channel: NotificationChannel): string =>
  Object.entries(channel.config).filter(([name]) => name !== "kind")
    .map(([name, value]) => `${humanize(name)}: ${Array.isArray(value) ? value.join(", ") : typeof value === "boolean" ? (value ? "yes" : "no") : String(value)}`).join(" · ")

const NewChannel = ({ team, onCreated }: { readonly team: string; readonly onCreated: (secret: string | null) => void }) => {
  const [kind, setKind] = useState(kindForms[0]?.kind ?? "")
  const [name, setName] = useState("")
  const [values, setValues] = useState<Readonly<Record<string, string>>>({})
  const [events, setEvents] = useState<ReadonlySet<string>>(() => new Set(eventNames.filter((event) => /started|rolled_back|completed|failed|drift/.test(event))))
  const [problems, setProblems] = useState<ReadonlyMap<string, string>>(new Map())
  const [busy, setBusy] = useState(false)
  const form = kindForms.find((candidate) => candidate.kind === kind)
  const submit = async (event: FormEvent) => {
    event.preventDefault()
    if (form === undefined) return
    const checked = checkedBy(ChannelRequest, { name: name.trim(), events: eventNames.filter((item) => events.has(item)), config: configOf(form, values) })
    if (checked._tag === "Invalid") {
      setProblems(checked.errors.byField)
      return
    }
    setBusy(true)
    setProblems(new Map())
    try {
      const saved = await change((client) => client.notifications.createChannel({ params: { team }, payload: checked.value }))
      setName("")
      setValues({})
      onCreated(saved.signingSecret)
    } catch (error) {
      // The API's 400 names fields the same way (`config.url: …`), e.g. a private address.
      const errors = fieldErrorsOf(error, () => true)
      setProblems(errors.general === undefined ? errors.byField : new Map([...errors.byField, ["", errors.general]]))
    } finally {
      setBusy(false)
    }
  }
  const known = new Set(["name", "events", ...(form?.fields.map((field) => `config.${field.name}`) ?? [])])
  const general = [...problems.entries()].filter(([path]) => !known.has(path)).map(([path, message]) => path === "" ? message : `${path}: ${message}`)
  return (
    <form className="form" aria-label="Add a notification channel" onSubmit={submit} noValidate>
      <div className="field">
        <label htmlFor="channel-kind">Kind</label>
        <select id="channel-kind" className="native-select" value={kind} onChange={(event) => { setKind(event.target.value); setValues({}); setProblems(new Map()) }}>
          {kindForms.map((candidate) => <option key={candidate.kind} value={candidate.kind}>{humanize(candidate.kind)}</option>)}
        </select>
      </div>
      <CheckedField label="Channel name" name="name" value={name} onChange={setName} problem={problems.get("name")} isRequired />
      {form?.fields.map((field) => {
        const label = `${humanize(field.name)}${field.required ? "" : " (optional)"}`
        const problem = problems.get(`config.${field.name}`)
        const value = values[field.name] ?? ""
        const set = (next: string) => setValues((current) => ({ ...current, [field.name]: next }))
        if (field.shape._tag === "Choice") {
          return (
            <div className="field" key={`${kind}.${field.name}`}>
              <label htmlFor={`channel-${field.name}`}>{label}</label>
              <select id={`channel-${field.name}`} className="native-select" value={value} onChange={(event) => set(event.target.value)}
                aria-invalid={problem !== undefined} aria-describedby={problem === undefined ? undefined : `channel-${field.name}-problem`}>
                <option value="">Choose…</option>
                {field.shape.options.map((option) => <option key={option} value={option}>{option}</option>)}
              </select>
              {problem === undefined ? null : <small id={`channel-${field.name}-problem`} className="problem small">{problem}</small>}
            </div>
          )
        }
        return (
          <CheckedField key={`${kind}.${field.name}`} label={label} name={`config.${field.name}`} value={value} onChange={set} problem={problem}
            isRequired={field.required} autoComplete="off"
            type={field.shape._tag === "Text" && field.shape.secret ? "password" : "text"}
            {...(field.shape._tag === "Integer" ? { inputMode: "numeric" as const } : {})}
            {...(field.shape._tag === "List" ? { description: "Several: separate them with commas or spaces." } : {})} />
        )
      })}
      <fieldset className="events">
        <legend>Events it receives</legend>
        {eventNames.map((event) => (
          <label key={event} className="checkbox">
            <input type="checkbox" checked={events.has(event)} onChange={(input) => setEvents((current) => {
              const next = new Set(current)
              if (input.target.checked) next.add(event)
              else next.delete(event)
              return next
            })} /> {humanize(event)}
          </label>
        ))}
        {problems.get("events") === undefined ? null : <p className="problem small">{problems.get("events")}</p>}
      </fieldset>
      {general.length === 0 ? null : <p className="problem" role="alert">{general.join("; ")}</p>}
      {problems.size > 0 && general.length === 0 ? <p className="problem" role="alert">Nothing was saved: see the fields marked above.</p> : null}
      <button type="submit" className="button primary" disabled={busy}>{busy ? "Adding…" : "Add the channel"}</button>
    </form>
  )
}

/** The events a channel receives, changed in place (the rest of the channel stays). */
const ChannelEvents = ({ team, channel, onSaved }: { readonly team: string; readonly channel: NotificationChannel; readonly onSaved: () => Promise<unknown> }) => {
  const [events, setEvents] = useState<ReadonlySet<string>>(() => new Set(channel.events))
  const [problem, setProblem] = useState<string | undefined>(undefined)
  const [busy, setBusy] = useState(false)
  const save = async (event: FormEvent) => {
    event.preventDefault()
    const checked = checkedBy(ChannelRequest.fields.events, eventNames.filter((name) => events.has(name)))
    if (checked._tag === "Invalid") {
      setProblem(`events: ${[...checked.errors.byField.values()].join("; ")}`)
      return
    }
    setBusy(true)
    setProblem(undefined)
    try {
      await change((client) => client.notifications.updateChannel({ params: { team, channelId: channel.id }, payload: { events: checked.value } }))
      await onSaved()
    } catch (error) {
      setProblem(messageOf(error))
    } finally {
      setBusy(false)
    }
  }
  return (
    <details>
      <summary>Change the events</summary>
      <form className="form" aria-label={`Events of ${channel.name}`} onSubmit={save} noValidate>
        <fieldset className="events">
          <legend>Events {channel.name} receives</legend>
          {eventNames.map((name) => (
            <label key={name} className="checkbox">
              <input type="checkbox" checked={events.has(name)} onChange={(input) => setEvents((current) => {
                const next = new Set(current)
                if (input.target.checked) next.add(name)
                else next.delete(name)
                return next
              })} /> {humanize(name)}
            </label>
          ))}
        </fieldset>
        {problem === undefined ? null : <p className="problem" role="alert">{problem}</p>}
        <button type="submit" className="button" disabled={busy}>{busy ? "Saving…" : "Save the events"}</button>
      </form>
    </details>
  )
}

export const Channels = ({ team }: { readonly team: string }) => {
  const queryClient = useQueryClient()
  const [secret, setSecret] = useState<string | undefined>(undefined)
  const [results, setResults] = useState<Readonly<Record<string, string>>>({})
  const [problem, setProblem] = useState<string | undefined>(undefined)
  const [deleting, setDeleting] = useState<NotificationChannel | undefined>(undefined)
  const channels = useQuery({ queryKey: settingsKeys.channels(team), queryFn: () => call((client) => client.notifications.listChannels({ params: { team } })) })
  const refresh = async () => {
    await queryClient.invalidateQueries({ queryKey: settingsKeys.channels(team) })
    await queryClient.invalidateQueries({ queryKey: settingsKeys.deliveries(team) })
  }
  const sendTest = async (channel: NotificationChannel) => {
    setResults((current) => ({ ...current, [channel.id]: "Sending a test message…" }))
    try {
      const delivery = await change((client) => client.notifications.sendTestMessage({ params: { team, channelId: channel.id } }))
      setResults((current) => ({
        ...current,
        [channel.id]: delivery.status === "delivered"
          ? `Test message delivered${delivery.lastStatusCode === null ? "" : ` (${delivery.lastStatusCode})`}.`
          : `Test message failed: ${delivery.lastError ?? "no reason given"}${delivery.lastStatusCode === null ? "" : ` (${delivery.lastStatusCode})`}.`
      }))
    } catch (error) {
      setResults((current) => ({ ...current, [channel.id]: `Test message not sent: ${messageOf(error)}` }))
    }
    await queryClient.invalidateQueries({ queryKey: settingsKeys.deliveries(team) })
  }
  const setEnabled = async (channel: NotificationChannel, enabled: boolean) => {
    setProblem(undefined)
    try {
      await change((client) => client.notifications.updateChannel({ params: { team, channelId: channel.id }, payload: { enabled } }))
    } catch (error) {
      setProblem(messageOf(error))
    }
    await refresh()
  }
  return (
    <>
      {channels.isPending ? <Loading what="channels" /> : channels.isError ? <Failed error={channels.error} retry={() => channels.refetch()} /> : channels.data.length === 0
        ? <p className="muted">No channel yet: the team hears about releases nowhere but here.</p>
        : (
          <ul className="list" aria-label="Notification channels">
            {channels.data.map((channel) => (
              <li key={channel.id} className="card" aria-label={channel.name}>
                <div className="title-row">
                  <h3>{channel.name} <span className="tag">{humanize(channel.kind)}</span></h3>
                  <span className="spacer" />
                  <Switch className="switch" isSelected={channel.enabled} onChange={(enabled) => setEnabled(channel, enabled)} aria-label={`${channel.name} enabled`}>
                    <div className="indicator" aria-hidden="true" /> {channel.enabled ? "Enabled" : "Disabled"}
                  </Switch>
                  <Button className="button" aria-label={`Send test to ${channel.name}`} onPress={() => sendTest(channel)}>Send test</Button>
                  <Button className="button danger" aria-label={`Delete ${channel.name}`} onPress={() => setDeleting(channel)}>Delete</Button>
                </div>
                <p className="muted small">{configText(channel)}</p>
                <p className="small">Events: {channel.events.map(humanize).join(", ")}</p>
                <ChannelEvents key={channel.events.join(",")} team={team} channel={channel} onSaved={refresh} />
                <p role="status" aria-live="polite" data-testid={`test-result-${channel.id}`}>{results[channel.id] ?? ""}</p>
              </li>
            ))}
          </ul>
        )}
      {problem === undefined ? null : <p className="problem" role="alert">{problem}</p>}
      {secret === undefined ? null : <OneTimeSecret title="The webhook's signing secret" secret={secret} onDone={() => setSecret(undefined)}
        note="The receiver checks each message's signature with it. It is shown this once." />}
      <h3>Add a channel</h3>
      <NewChannel team={team} onCreated={async (signingSecret) => {
        if (signingSecret !== null) setSecret(signingSecret)
        await refresh()
      }} />
      <ConfirmDialog isOpen={deleting !== undefined} onOpenChange={(open) => { if (!open) setDeleting(undefined) }} withReason={false} danger
        title={`Delete ${deleting?.name ?? ""}?`} confirmLabel="Delete" description="Messages not yet sent to it are dropped."
        onConfirm={async () => {
          if (deleting === undefined) return
          await change((client) => client.notifications.deleteChannel({ params: { team, channelId: deleting.id } }))
          await refresh()
        }} />
    </>
  )
}
