/** Labelled fields and a form that shows the API's message when it refuses. */
import { type FormEvent, type ReactNode, useState } from "react"
import { Input, Label, TextField } from "react-aria-components"
import { messageOf } from "../api/Client.ts"

export const Field = (props: {
  readonly label: string
  readonly name: string
  readonly type?: "text" | "email" | "password"
  readonly value: string
  readonly onChange: (value: string) => void
  readonly autoComplete?: string
  readonly description?: string
}) => (
  <TextField className="field" name={props.name} type={props.type ?? "text"} value={props.value} onChange={props.onChange} isRequired
    {...(props.autoComplete === undefined ? {} : { autoComplete: props.autoComplete })}>
    <Label>{props.label}</Label>
    <Input />
    {props.description === undefined ? null : <small className="muted">{props.description}</small>}
  </TextField>
)

/** A form whose submit runs `onSubmit`; a rejection's message is shown under it. */
export const ActionForm = (props: {
  readonly label: string
  readonly submitLabel: string
  readonly onSubmit: () => Promise<unknown>
  readonly children: ReactNode
}) => {
  const [problem, setProblem] = useState<string | undefined>(undefined)
  const [busy, setBusy] = useState(false)
  const submit = async (event: FormEvent) => {
    event.preventDefault()
    setBusy(true)
    setProblem(undefined)
    try {
      await props.onSubmit()
    } catch (error) {
      setProblem(messageOf(error))
    } finally {
      setBusy(false)
    }
  }
  return (
    <form className="form" aria-label={props.label} onSubmit={submit}>
      {props.children}
      {problem === undefined ? null : <p className="problem" role="alert">{problem}</p>}
      <button type="submit" className="button primary" disabled={busy}>{busy ? "Working…" : props.submitLabel}</button>
    </form>
  )
}
