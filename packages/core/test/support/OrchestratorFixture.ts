/**
 * One release as the orchestrator's tests use it: a Worker (`target`) live on `v1`, a person,
 * a two-step plan with one-minute soaks and checks, and `create`, which records a release of `v2`
 * on it. `healthyAnalytics` answers every check with both versions healthy.
 *
 * @since 0.2.0
 */
import { Actor, HealthSource, Orchestrator, Plan } from "../../src/index.ts"

export const target = { accountId: "acc", scriptName: "api" }

export const person = Actor.user("usr_1", "Ada")

export const plan = Plan.make({
  steps: [{ percentage: 10, waitSeconds: 60 }, { percentage: 100, waitSeconds: 60 }],
  health: { intervalSeconds: 60, analyticsDelaySeconds: 0, minRequests: 1 }
})

/** Records a pending, automatic release of `v2` on `target`, on `plan` unless told otherwise. */
export const create = (releaseId: string, releasePlan: Plan.Plan = plan) =>
  Orchestrator.create({
    releaseId,
    teamId: "team",
    workerId: "wkr",
    accountId: target.accountId,
    scriptName: target.scriptName,
    canaryVersionId: "v2",
    planId: null,
    plan: releasePlan,
    autoAdvance: true,
    name: null,
    ticketUrl: null,
    actor: person
  })

export const healthyAnalytics = HealthSource.layerMemory(
  new Map([["v2", { requests: 100, errors: 0 }], ["v1", { requests: 900, errors: 0 }]])
)
