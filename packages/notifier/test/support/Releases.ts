/**
 * Release histories for notifier tests, as the orchestrator would append them: a release that
 * advances and completes, and one whose canary fails its checks and is rolled back.
 */
import { Actor, Plan, type ReleaseEvent, TrafficSplit } from "@canaryroll/core"

/** 2026-01-01T00:00:00Z, in epoch milliseconds. */
export const t0 = 1_767_225_600_000

export const alice = Actor.user("user-1", "Alice")

export const plan = Plan.make({
  steps: [{ percentage: 10, waitSeconds: 600 }, { percentage: 50, waitSeconds: 600 }, { percentage: 100, waitSeconds: 600 }],
  health: { maxErrorRate: 0.01 }
})

export const created = (releaseId: string, teamId: string, at = t0): ReleaseEvent.ReleaseEvent => ({
  _tag: "ReleaseCreated",
  releaseId,
  teamId,
  workerId: "worker-1",
  accountId: "account-1",
  scriptName: "checkout-api",
  canaryVersionId: "v-canary",
  planId: "plan-1",
  plan,
  autoAdvance: true,
  name: null,
  ticketUrl: null,
  actor: alice,
  at
})

export const started = (at = t0 + 1000): ReadonlyArray<ReleaseEvent.ReleaseEvent> => [
  {
    _tag: "ReleaseStarted",
    stableVersionId: "v-stable",
    liveDeployment: { deploymentId: "d-0", split: TrafficSplit.whole("v-stable") },
    actor: alice,
    at
  },
  { _tag: "StepStarted", stepIndex: 0, percentage: 10, actor: alice, at },
  {
    _tag: "TrafficShifted",
    stepIndex: 0,
    deploymentId: "d-1",
    split: TrafficSplit.canaryAt("v-canary", "v-stable", 10),
    reusedExisting: false,
    actor: Actor.system,
    at: at + 1000
  }
]

export const unhealthyCheck = (failures: number, at: number): ReleaseEvent.ReleaseEvent => ({
  _tag: "HealthChecked",
  stepIndex: 0,
  window: { start: at - 60_000, end: at },
  canary: { requests: 1200, errors: 62 },
  stable: { requests: 10800, errors: 11 },
  verdict: "unhealthy",
  reasons: ["error rate 5.17% > maxErrorRate (1.00%)"],
  consecutiveFailures: failures,
  actor: Actor.system,
  at
})

export const healthyCheck = (at: number): ReleaseEvent.ReleaseEvent => ({
  _tag: "HealthChecked",
  stepIndex: 0,
  window: { start: at - 60_000, end: at },
  canary: { requests: 1200, errors: 1 },
  stable: { requests: 10800, errors: 11 },
  verdict: "healthy",
  reasons: [],
  consecutiveFailures: 0,
  actor: Actor.system,
  at
})

/** Created, started, three failed checks, rollback started and done. */
export const rolledBack = (releaseId: string, teamId: string): ReadonlyArray<ReleaseEvent.ReleaseEvent> => [
  created(releaseId, teamId),
  ...started(),
  healthyCheck(t0 + 60_000),
  unhealthyCheck(1, t0 + 120_000),
  unhealthyCheck(2, t0 + 180_000),
  unhealthyCheck(3, t0 + 240_000),
  {
    _tag: "RollbackStarted",
    reason: "3 consecutive failed health checks (failuresBeforeAction 3): error rate 5.17% > maxErrorRate (1.00%)",
    actor: Actor.system,
    at: t0 + 240_000
  },
  { _tag: "RolledBack", deploymentId: "d-2", reusedExisting: false, actor: Actor.system, at: t0 + 250_000 }
]

/** Created, started, promoted twice, completed. */
export const completed = (releaseId: string, teamId: string): ReadonlyArray<ReleaseEvent.ReleaseEvent> => [
  created(releaseId, teamId),
  ...started(),
  { _tag: "Promoted", fromStep: 0, toStep: 1, percentage: 50, actor: Actor.system, at: t0 + 700_000 },
  { _tag: "StepStarted", stepIndex: 1, percentage: 50, actor: Actor.system, at: t0 + 700_000 },
  { _tag: "Promoted", fromStep: 1, toStep: 2, percentage: 100, actor: alice, at: t0 + 1_400_000 },
  { _tag: "StepStarted", stepIndex: 2, percentage: 100, actor: alice, at: t0 + 1_400_000 },
  { _tag: "Completed", actor: Actor.system, at: t0 + 2_100_000 }
]
