/**
 * A labelled text field that shows its own problem (the API's, by field path) under it and is
 * marked invalid for assistive technology while it has one.
 */
import { FieldError, Input, Label, Text, TextField } from "react-aria-components"

export const CheckedField = (props: {
  readonly label: string
  readonly name: string
  readonly value: string
  readonly onChange: (value: string) => void
  readonly problem?: string | undefined
  readonly description?: string
  readonly type?: "text" | "email" | "password" | "url" | "datetime-local"
  readonly inputMode?: "numeric" | "decimal"
  readonly isRequired?: boolean
  readonly isDisabled?: boolean
  readonly autoComplete?: string
  readonly className?: string
}) => (
  <TextField className={props.className ?? "field"} name={props.name} type={props.type ?? "text"} value={props.value}
    onChange={props.onChange} isInvalid={props.problem !== undefined} isRequired={props.isRequired ?? false}
    isDisabled={props.isDisabled ?? false} validationBehavior="aria" {...(props.autoComplete === undefined ? {} : { autoComplete: props.autoComplete })}>
    <Label>{props.label}</Label>
    <Input {...(props.inputMode === undefined ? {} : { inputMode: props.inputMode })} />
    {props.description === undefined ? null : <Text slot="description" className="muted small">{props.description}</Text>}
    <FieldError className="problem small">{props.problem}</FieldError>
  </TextField>
)
