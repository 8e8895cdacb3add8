/**
 * A plan as its form holds it (text, as typed) and the request it becomes. Numbers that do not
 * parse are caught here, by field, before anything is sent (the typed client would refuse to
 * encode them); every other rule (percentages strictly increasing to 100, bounds, decimals) is
 * the API's, and its 400 names the field, which the form shows next to it.
 */
import type { PlanView } from "@canaryroll/api/Schemas"

export interface StepDraft {
  /** Stable across edits, so React keeps each row's input (and focus) when one is removed. */
  readonly key: number
  readonly percentage: string
  readonly waitSeconds: string
}

export interface PlanDraft {
  readonly slug: string
  readonly name: string
  readonly steps: ReadonlyArray<StepDraft>
  readonly intervalSeconds: string
  readonly failuresBeforeAction: string
  /** In percent, as people think of it; the API takes a fraction. */
  readonly maxErrorRatePercent: string
  /** Empty: no limit on the increase over the stable version. */
  readonly maxErrorRateIncreasePercent: string
  readonly minRequests: string
  readonly analyticsDelaySeconds: string
  readonly onInconclusive: "hold" | "fail"
  readonly onFailure: "rollback" | "pause"
}

let nextKey = 0
export const stepDraft = (percentage: string, waitSeconds: string): StepDraft => ({ key: nextKey++, percentage, waitSeconds })

const percentOf = (fraction: number) => String(Math.round(fraction * 100 * 10_000) / 10_000)
const fractionOf = (percent: number) => Math.round(percent * 10_000) / 1_000_000

/** A new plan: the shape most teams start from. */
export const emptyDraft = (): PlanDraft => ({
  slug: "",
  name: "",
  steps: [stepDraft("1", "300"), stepDraft("10", "600"), stepDraft("50", "600"), stepDraft("100", "600")],
  intervalSeconds: "60",
  failuresBeforeAction: "3",
  maxErrorRatePercent: "1",
  maxErrorRateIncreasePercent: "",
  minRequests: "100",
  analyticsDelaySeconds: "60",
  onInconclusive: "hold",
  onFailure: "rollback"
})

export const draftOf = (plan: PlanView): PlanDraft => ({
  slug: plan.slug,
  name: plan.name,
  steps: plan.steps.map((step) => stepDraft(String(step.percentage), String(step.waitSeconds))),
  intervalSeconds: String(plan.health.intervalSeconds),
  failuresBeforeAction: String(plan.health.failuresBeforeAction),
  maxErrorRatePercent: percentOf(plan.health.maxErrorRate),
  maxErrorRateIncreasePercent: plan.health.maxErrorRateIncrease === undefined ? "" : percentOf(plan.health.maxErrorRateIncrease),
  minRequests: String(plan.health.minRequests),
  analyticsDelaySeconds: String(plan.health.analyticsDelaySeconds),
  onInconclusive: plan.health.onInconclusive,
  onFailure: plan.health.onFailure
})

export interface PlanRequest {
  readonly name: string
  readonly steps: ReadonlyArray<{ readonly percentage: number; readonly waitSeconds: number }>
  readonly health: {
    readonly intervalSeconds: number
    readonly failuresBeforeAction: number
    readonly maxErrorRate: number
    readonly maxErrorRateIncrease?: number
    readonly minRequests: number
    readonly analyticsDelaySeconds: number
    readonly onInconclusive: "hold" | "fail"
    readonly onFailure: "rollback" | "pause"
  }
}

const numberOf = (text: string): number | undefined => {
  const trimmed = text.trim()
  if (trimmed === "") return undefined
  const value = Number(trimmed)
  return Number.isFinite(value) ? value : undefined
}

/** The request, or each field (by the API's path) that is not a number. */
export const requestOf = (draft: PlanDraft): { readonly request: PlanRequest } | { readonly problems: ReadonlyMap<string, string> } => {
  const problems = new Map<string, string>()
  const read = (path: string, text: string): number => {
    const value = numberOf(text)
    if (value === undefined) problems.set(path, `must be a number, got ${JSON.stringify(text)}`)
    return value ?? 0
  }
  const steps = draft.steps.map((step, index) => ({
    percentage: read(`steps[${index}].percentage`, step.percentage),
    waitSeconds: read(`steps[${index}].waitSeconds`, step.waitSeconds)
  }))
  const increase = draft.maxErrorRateIncreasePercent.trim() === "" ? undefined : read("health.maxErrorRateIncrease", draft.maxErrorRateIncreasePercent)
  const health = {
    intervalSeconds: read("health.intervalSeconds", draft.intervalSeconds),
    failuresBeforeAction: read("health.failuresBeforeAction", draft.failuresBeforeAction),
    maxErrorRate: fractionOf(read("health.maxErrorRate", draft.maxErrorRatePercent)),
    ...(increase === undefined ? {} : { maxErrorRateIncrease: fractionOf(increase) }),
    minRequests: read("health.minRequests", draft.minRequests),
    analyticsDelaySeconds: read("health.analyticsDelaySeconds", draft.analyticsDelaySeconds),
    onInconclusive: draft.onInconclusive,
    onFailure: draft.onFailure
  }
  return problems.size > 0 ? { problems } : { request: { name: draft.name.trim(), steps, health } }
}
