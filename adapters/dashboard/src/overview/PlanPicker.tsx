/** A plan chooser (the browser's `<select>`); a refused change shows the API's message next to it. */
import type { PlanView } from "@canaryroll/api/Schemas"
import { useState } from "react"
import { messageOf } from "../api/Client.ts"
import { durationText, percent } from "../release/Describe.ts"
import { NativeSelect } from "../ui/NativeSelect.tsx"

export const planSummary = (plan: PlanView) =>
  plan.steps.map((step) => `${percent(step.percentage)} ${durationText(step.waitSeconds)}`).join(" → ")

/** A plan as a list shows it: its name, then its steps. */
export const planChoiceText = (plan: PlanView, note = "") => `${plan.name}${note} — ${planSummary(plan)}`

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
      <NativeSelect label={props.label} {...(props.visibleLabel === undefined ? {} : { visibleLabel: props.visibleLabel })}
        placeholder="Pick a plan" selected={props.selected}
        choices={props.plans.map((plan) => ({ id: plan.id, text: planChoiceText(plan) }))}
        onChange={async (planId) => {
          setProblem(undefined)
          try {
            await props.onSelect(planId)
          } catch (error) {
            setProblem(messageOf(error))
          }
        }} />
      {problem === undefined ? null : <p className="problem" role="alert">{problem}</p>}
    </div>
  )
}
