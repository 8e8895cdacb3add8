/** A plan chooser (react-aria Select); a refused change shows the API's message next to it. */
import type { PlanView } from "@canaryroll/api/Schemas"
import { useState } from "react"
import { Button, Label, ListBox, ListBoxItem, Popover, Select } from "react-aria-components"
import { messageOf } from "../api/Client.ts"
import { durationText, percent } from "../release/Describe.ts"
import { SelectButton } from "../ui/SelectButton.tsx"

export const planSummary = (plan: PlanView) =>
  plan.steps.map((step) => `${percent(step.percentage)} ${durationText(step.waitSeconds)}`).join(" → ")

export const PlanPicker = (props: {
  readonly label: string
  readonly plans: ReadonlyArray<PlanView>
  readonly selected: string | undefined
  readonly onSelect: (planId: string) => Promise<unknown> | void
  readonly visibleLabel?: boolean
}) => {
  const [problem, setProblem] = useState<string | undefined>(undefined)
  return (
    <div>
      <Select className="select" {...(props.visibleLabel === true ? {} : { "aria-label": props.label })} selectedKey={props.selected ?? null}
        onSelectionChange={async (key) => {
          setProblem(undefined)
          try {
            await props.onSelect(String(key))
          } catch (error) {
            setProblem(messageOf(error))
          }
        }}>
        {props.visibleLabel === true ? <Label>{props.label}</Label> : null}
        <SelectButton placeholder="Pick a plan" />
        <Popover className="popover">
          <ListBox className="menu" items={props.plans}>
            {(plan) => (
              <ListBoxItem className="menu-item" id={plan.id} textValue={plan.name}>
                {plan.name} <span className="muted small">{planSummary(plan)}</span>
              </ListBoxItem>
            )}
          </ListBox>
        </Popover>
      </Select>
      {problem === undefined ? null : <p className="problem" role="alert">{problem}</p>}
    </div>
  )
}
