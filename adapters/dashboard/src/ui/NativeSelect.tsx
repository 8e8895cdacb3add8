/**
 * A choice from a list as the browser's own `<select>` (role `combobox`): keyboard, screen
 * readers, touch and the form's label come with the platform, at no JavaScript cost. react-aria's
 * Select (a button, a popover and a listbox) added about 30 KB gzip to the first load of the
 * overview and the new-release form for lists of plain text (docs/dashboard.md, first load).
 */
import { useId } from "react"

export interface Choice {
  readonly id: string
  readonly text: string
  /** Shown but not choosable (a script the team has added already). */
  readonly disabled?: boolean
}

export const NativeSelect = (props: {
  readonly label: string
  /** The label above the list; otherwise it is the list's accessible name only (a table's cell). */
  readonly visibleLabel?: boolean
  /** What the list says before a choice: never a value (an empty, disabled first option). */
  readonly placeholder: string
  readonly choices: ReadonlyArray<Choice>
  readonly selected: string | undefined
  readonly onChange: (id: string) => void
}) => {
  const id = useId()
  const visible = props.visibleLabel === true
  return (
    <div className="select">
      {visible ? <label htmlFor={id}>{props.label}</label> : null}
      <select id={id} className="native-select" {...(visible ? {} : { "aria-label": props.label })} value={props.selected ?? ""}
        onChange={(event) => props.onChange(event.currentTarget.value)}>
        <option value="" disabled>{props.placeholder}</option>
        {props.choices.map((choice) => <option key={choice.id} value={choice.id} disabled={choice.disabled === true}>{choice.text}</option>)}
      </select>
    </div>
  )
}
