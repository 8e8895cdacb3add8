/**
 * Creating or changing a plan: its steps (share of traffic and soak), its health policy, and a
 * live preview of the timeline it implies. The API's refusal is shown next to each field it
 * names (`steps[1].percentage: must be greater than…`); nothing is saved until it accepts.
 */
import { PlanRequest as ApiPlanRequest } from "@canaryroll/api/Api"
import { type PlanView, Slug } from "@canaryroll/api/Schemas"
import { Schema } from "effect"
import { type FormEvent, useMemo, useState } from "react"
import { Button, Label, Radio, RadioGroup } from "react-aria-components"
import { CheckedField } from "../ui/CheckedField.tsx"
import { checkedBy, type FieldErrors, fieldErrorsOf, noFieldErrors } from "../ui/FieldErrors.ts"
import { draftOf, emptyDraft, type PlanDraft, type PlanRequest, requestOf, stepDraft } from "./PlanDraft.ts"
import { TimelinePreview } from "./TimelinePreview.tsx"

const NewPlanRequest = Schema.Struct({ slug: Slug, ...ApiPlanRequest.fields })

/** The problems of fields the form shows beside them; the rest in one message for the form. */
const placed = (errors: FieldErrors): FieldErrors => {
  const byField = new Map([...errors.byField].filter(([path]) => knownField(path)))
  const elsewhere = [...errors.byField].filter(([path]) => !knownField(path)).map(([path, message]) => `${path}: ${message}`)
  const general = [errors.general, ...elsewhere].filter((part) => part !== undefined).join("; ")
  return { byField, general: general === "" ? undefined : general }
}

const knownField = (path: string) =>
  /^(slug|name|steps|steps\[\d+\](\.(percentage|waitSeconds))?|health\.(intervalSeconds|failuresBeforeAction|maxErrorRate|maxErrorRateIncrease|minRequests|analyticsDelaySeconds))$/.test(path)

export const PlanEditor = (props: {
  /** The plan to change; absent: a new plan. */
  readonly plan?: PlanView
  readonly onSave: (slug: string, request: PlanRequest) => Promise<unknown>
  readonly onCancel: () => void
}) => {
  const [draft, setDraft] = useState<PlanDraft>(() => props.plan === undefined ? emptyDraft() : draftOf(props.plan))
  const [errors, setErrors] = useState<FieldErrors>(noFieldErrors)
  const [busy, setBusy] = useState(false)
  const set = <K extends keyof PlanDraft>(key: K) => (value: PlanDraft[K]) => setDraft((current) => ({ ...current, [key]: value }))
  const setStep = (index: number, field: "percentage" | "waitSeconds", value: string) =>
    setDraft((current) => ({ ...current, steps: current.steps.map((step, i) => i === index ? { ...step, [field]: value } : step) }))
  const problem = (path: string) => errors.byField.get(path)
  const parsed = useMemo(() => requestOf(draft), [draft])
  const isNew = props.plan === undefined

  const submit = async (event: FormEvent) => {
    event.preventDefault()
    const result = requestOf(draft)
    if ("problems" in result) {
      setErrors({ byField: result.problems, general: "Some fields are not numbers: see each field." })
      return
    }
    // The API's own rules, checked by its schema: a plan that breaks one is never sent.
    const checked = isNew
      ? checkedBy(NewPlanRequest, { slug: draft.slug.trim(), ...result.request })
      : checkedBy(ApiPlanRequest, result.request)
    if (checked._tag === "Invalid") {
      setErrors(placed(checked.errors))
      return
    }
    setBusy(true)
    setErrors(noFieldErrors)
    try {
      await props.onSave(draft.slug.trim(), result.request)
    } catch (error) {
      setErrors(fieldErrorsOf(error, knownField))
    } finally {
      setBusy(false)
    }
  }

  return (
    <form className="form plan-editor" aria-label={isNew ? "New plan" : `Change ${props.plan.name}`} onSubmit={submit} noValidate>
      <div className="plan-columns">
        <div>
          <CheckedField label="Name" name="name" value={draft.name} onChange={set("name")} problem={problem("name")} isRequired />
          {isNew
            ? <CheckedField label="Slug" name="slug" value={draft.slug} onChange={set("slug")} problem={problem("slug")} isRequired
              description="How the CLI and the GitHub Action name it (planId: …): lowercase letters, digits and dashes." />
            : <p className="muted small">Slug: <code>{draft.slug}</code> (it stays).</p>}
          <fieldset className="steps">
            <legend>Steps: the canary's share of traffic, and how long it soaks there</legend>
            {problem("steps") === undefined ? null : <p className="problem small" role="alert">{problem("steps")}</p>}
            <ol className="step-rows">
              {draft.steps.map((step, index) => (
                <li key={step.key} className="step-row">
                  <CheckedField label={`Step ${index + 1} traffic (%)`} name={`steps[${index}].percentage`} inputMode="decimal"
                    value={step.percentage} onChange={(value) => setStep(index, "percentage", value)} problem={problem(`steps[${index}].percentage`)} />
                  <CheckedField label={`Step ${index + 1} soak (seconds)`} name={`steps[${index}].waitSeconds`} inputMode="numeric"
                    value={step.waitSeconds} onChange={(value) => setStep(index, "waitSeconds", value)} problem={problem(`steps[${index}].waitSeconds`)} />
                  <Button className="button" aria-label={`Remove step ${index + 1}`} isDisabled={draft.steps.length === 1}
                    onPress={() => setDraft((current) => ({ ...current, steps: current.steps.filter((_, i) => i !== index) }))}>Remove</Button>
                </li>
              ))}
            </ol>
            <Button className="button" onPress={() => setDraft((current) => ({ ...current, steps: [...current.steps, stepDraft("100", "600")] }))}
              isDisabled={draft.steps.length >= 20}>Add a step</Button>
          </fieldset>
          <fieldset className="health">
            <legend>Health policy</legend>
            <CheckedField label="Check every (seconds)" name="health.intervalSeconds" inputMode="numeric" value={draft.intervalSeconds}
              onChange={set("intervalSeconds")} problem={problem("health.intervalSeconds")} description="10 to 3,600." />
            <CheckedField label="Unhealthy checks in a row before acting" name="health.failuresBeforeAction" inputMode="numeric"
              value={draft.failuresBeforeAction} onChange={set("failuresBeforeAction")} problem={problem("health.failuresBeforeAction")} />
            <CheckedField label="Highest error rate (%)" name="health.maxErrorRate" inputMode="decimal" value={draft.maxErrorRatePercent}
              onChange={set("maxErrorRatePercent")} problem={problem("health.maxErrorRate")} description="Sent as a fraction: 1% is 0.01." />
            <CheckedField label="Highest increase over the stable version (%, optional)" name="health.maxErrorRateIncrease" inputMode="decimal"
              value={draft.maxErrorRateIncreasePercent} onChange={set("maxErrorRateIncreasePercent")} problem={problem("health.maxErrorRateIncrease")} />
            <CheckedField label="Fewest requests for a verdict" name="health.minRequests" inputMode="numeric" value={draft.minRequests}
              onChange={set("minRequests")} problem={problem("health.minRequests")} />
            <CheckedField label="Analytics delay (seconds)" name="health.analyticsDelaySeconds" inputMode="numeric" value={draft.analyticsDelaySeconds}
              onChange={set("analyticsDelaySeconds")} problem={problem("health.analyticsDelaySeconds")}
              description="How long Cloudflare's analytics take to include a minute." />
            <RadioGroup className="radios" value={draft.onInconclusive} onChange={(value) => set("onInconclusive")(value === "fail" ? "fail" : "hold")}>
              <Label>Too little traffic to judge</Label>
              <Radio className="radio" value="hold">Hold: wait for more</Radio>
              <Radio className="radio" value="fail">Count it as unhealthy</Radio>
            </RadioGroup>
            <RadioGroup className="radios" value={draft.onFailure} onChange={(value) => set("onFailure")(value === "pause" ? "pause" : "rollback")}>
              <Label>When the new version is unhealthy</Label>
              <Radio className="radio" value="rollback">Roll back by itself</Radio>
              <Radio className="radio" value="pause">Pause for a person</Radio>
            </RadioGroup>
          </fieldset>
        </div>
        <TimelinePreview parsed={parsed} />
      </div>
      {errors.general === undefined ? null : <p className="problem" role="alert">{errors.general}</p>}
      {errors.byField.size > 0 && errors.general === undefined
        ? <p className="problem" role="alert">Nothing was saved: {errors.byField.size === 1 ? "one field needs" : `${errors.byField.size} fields need`} a change (each says why under it).</p>
        : null}
      <div className="buttons">
        <Button className="button" onPress={props.onCancel} isDisabled={busy}>Cancel</Button>
        <button type="submit" className="button primary" disabled={busy}>{busy ? "Saving…" : isNew ? "Create the plan" : "Save the plan"}</button>
      </div>
    </form>
  )
}
