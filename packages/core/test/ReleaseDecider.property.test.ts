/**
 * Property tests for the release decider. A scenario is a random valid plan plus a random run:
 * people send commands while the system drives the release the way the orchestrator does
 * (`nextAction` → side effect with a random outcome → system command). Only accepted decisions
 * are folded. Invariants are checked after every command; each invariant is its own property so
 * that one broken rule does not hide another, and each shrinks to its own smallest run.
 *
 * Generation uses Effect's own property engine (`effect/Arbitrary` through `it.prop` of
 * `@effect/vitest`), with a fixed seed. A move is state-independent data (a few random numbers);
 * the simulation interprets it against the current state, so shrinking a run stays meaningful.
 */
import { assert, describe, it } from "@effect/vitest"
import { Arbitrary, Effect, Result, Schema } from "effect"
import { Actor, HealthCheck, NextAction, Plan, Release, ReleaseDecider, TrafficSplit } from "../src/index.ts"
import type { ReleaseCommand, ReleaseEvent } from "../src/index.ts"

type Command = ReleaseCommand.ReleaseCommand
type Event = ReleaseEvent.ReleaseEvent

const releaseId = "rel-1"
const canaryId = "v-canary"
const stableId = "v-stable"
const strangerId = "v-hand-made"
const t0 = Date.UTC(2025, 0, 1)
const alice = Actor.user("u-1", "Alice")
const ci = Actor.token("t-1", "CI")

const seed = 20250101
const runs = 200
const maxMoves = 60
const propertyOptions = { timeout: 120_000, arbitrary: { runs, seed, size: maxMoves, maxShrinks: 300 } }

// ---------------------------------------------------------------------------------------------
// Generators
// ---------------------------------------------------------------------------------------------

const int = (minimum: number, maximum: number) =>
  Arbitrary.schema(Schema.Int.check(Schema.isBetween({ minimum, maximum })))
const literal = <const L extends ReadonlyArray<string>>(values: L) => Arbitrary.schema(Schema.Literals(values))

const healthPolicy = Arbitrary.all({
  intervalSeconds: int(10, 900),
  failuresBeforeAction: int(1, 5),
  maxErrorRatePercent: int(0, 20),
  /** Negative: no comparison with the stable version. */
  maxErrorRateIncreasePercent: int(-5, 10),
  minRequests: int(0, 500),
  onInconclusive: literal(["hold", "fail"]),
  analyticsDelaySeconds: int(0, 300),
  onFailure: literal(["rollback", "pause"])
}).pipe(Arbitrary.map((p): Plan.HealthPolicyInput => ({
  intervalSeconds: p.intervalSeconds,
  failuresBeforeAction: p.failuresBeforeAction,
  maxErrorRate: p.maxErrorRatePercent / 100,
  ...(p.maxErrorRateIncreasePercent >= 0 ? { maxErrorRateIncrease: p.maxErrorRateIncreasePercent / 100 } : {}),
  minRequests: p.minRequests,
  onInconclusive: p.onInconclusive,
  analyticsDelaySeconds: p.analyticsDelaySeconds,
  onFailure: p.onFailure
})))

/**
 * 1–20 steps: distinct hundredths below 100 in increasing order, then 100. Waits 0..4 hours, a
 * quarter of them 0. Built through `Plan.make`, so an invalid plan fails loudly here.
 */
const plan = Arbitrary.all({
  hundredths: Arbitrary.array(int(1, 9999), { maxLength: Plan.maxSteps - 1 }),
  waits: Arbitrary.array(int(-4800, 4 * 3600), { minLength: Plan.maxSteps, maxLength: Plan.maxSteps }),
  health: healthPolicy
}).pipe(Arbitrary.map(({ hundredths, waits, health }) => {
  const percentages = [...new Set(hundredths)].sort((a, b) => a - b).map((h) => h / 100)
  percentages.push(100)
  return Plan.make({
    steps: percentages.map((percentage, i) => ({ percentage, waitSeconds: Math.max(0, waits[i]!) })),
    health
  })
}))

/**
 * One move of a run. `kind` picks what happens (0–54: the scheduler wakes the release; then time
 * passing, person commands, a command delivered again), the other numbers pick outcomes. Small
 * numbers are the common, successful outcomes, so shrinking walks towards the happy path.
 */
const move = Arbitrary.all({ kind: int(0, 99), roll: int(0, 999), amount: int(0, 99_999), extra: int(0, 999) })
type Move = { readonly kind: number; readonly roll: number; readonly amount: number; readonly extra: number }

const scenarioWith = (lateDuplicates: boolean) => Arbitrary.all({
  plan,
  autoAdvance: int(0, 3).pipe(Arbitrary.map((n) => n !== 3)),
  /** 0: the moves have to start the release themselves (and may cancel it first); otherwise a person starts it at once. */
  opening: int(0, 3),
  moves: Arbitrary.array(move, { maxLength: maxMoves }),
  driveToEnd: Arbitrary.schema(Schema.Boolean)
}).pipe(Arbitrary.map((s): Scenario => ({ ...s, lateDuplicates })))

/** People and the orchestrator; a command is only ever delivered again right after itself. */
const scenario = scenarioWith(false)
/** The same world where any earlier command may also arrive again later (at-least-once delivery). */
const scenarioWithLateDuplicates = scenarioWith(true)

type Scenario = {
  readonly plan: Plan.Plan
  readonly autoAdvance: boolean
  readonly opening: number
  readonly moves: ReadonlyArray<Move>
  readonly driveToEnd: boolean
  readonly lateDuplicates: boolean
}

// ---------------------------------------------------------------------------------------------
// Independent checks (deliberately not reusing TrafficSplit.equals / canaryAt)
// ---------------------------------------------------------------------------------------------

const shares = (split: TrafficSplit.TrafficSplit): Map<string, number> => {
  const map = new Map<string, number>()
  for (const share of split) {
    if (share.percentage !== 0) map.set(share.versionId, (map.get(share.versionId) ?? 0) + share.percentage)
  }
  return map
}
const close = (a: number | undefined, b: number) => a !== undefined && Math.abs(a - b) < 1e-9

const isWholeStable = (split: TrafficSplit.TrafficSplit | null): boolean => {
  if (split === null) return false
  const s = shares(split)
  return s.size === 1 && close(s.get(stableId), 100)
}

/** The canary at one of the plan's percentages with the stable version serving the rest, or the stable version alone. */
const isPlanSplit = (split: TrafficSplit.TrafficSplit, plan: Plan.Plan): boolean => {
  if (isWholeStable(split)) return true
  const s = shares(split)
  return plan.steps.some(({ percentage }) =>
    percentage === 100
      ? s.size === 1 && close(s.get(canaryId), 100)
      : s.size === 2 && close(s.get(canaryId), percentage) && close(s.get(stableId), 100 - percentage)
  )
}

// ---------------------------------------------------------------------------------------------
// The simulation
// ---------------------------------------------------------------------------------------------

type Invariant =
  | "plan-splits"
  | "checks-measure-the-live-step"
  | "terminal-absorbs"
  | "rollback-ends-rolled-back"
  | "promotion-needs-health"
  | "no-promotion-over-unjudged-gap"
  | "one-terminal-event"
  | "idempotent"
  | "due-not-before-last-event"

interface Violation {
  readonly invariant: Invariant
  readonly message: string
}

interface Outcome {
  readonly state: Release.ReleaseState
  readonly events: ReadonlyArray<Event>
  readonly violations: ReadonlyArray<Violation>
}

const shiftFailureKind = (n: number): ReleaseCommand.ShiftFailureKind =>
  n < 5 ? "transient" : n < 7 ? "rate_limited" : n === 7 ? "credentials" : n === 8 ? "permanent" : "not_found"

/** A split someone could have deployed by hand with the canary and stable versions. */
const handMadeSplit = (n: number): TrafficSplit.TrafficSplit => {
  switch (n % 3) {
    case 0:
      return TrafficSplit.whole(stableId)
    case 1:
      return TrafficSplit.whole(canaryId)
    default: {
      const percentage = ((n >> 2) % 9999 + 1) / 100
      return [{ versionId: canaryId, percentage }, { versionId: stableId, percentage: Math.round((100 - percentage) * 100) / 100 }]
    }
  }
}

const sameSplit = (a: TrafficSplit.TrafficSplit, b: TrafficSplit.TrafficSplit): boolean => {
  const x = shares(a)
  const y = shares(b)
  return x.size === y.size && [...x].every(([versionId, percentage]) => close(y.get(versionId), percentage))
}

/** A hand-made split that differs from every split in `not` (three candidates, at most two excluded). */
const driftedSplit = (n: number, not: ReadonlyArray<TrafficSplit.TrafficSplit>): TrafficSplit.TrafficSplit => {
  for (let i = 0; ; i++) {
    const split = handMadeSplit(n + i)
    if (!not.some((excluded) => sameSplit(split, excluded))) return split
  }
}

const showSplit = (split: TrafficSplit.TrafficSplit) => `[${TrafficSplit.describe(split)}]`

const simulate = (scenario: Scenario): Outcome => {
  const { plan } = scenario
  const stepSplit = (index: number) => TrafficSplit.canaryAt(canaryId, stableId, plan.steps[index]!.percentage)
  let state: Release.ReleaseState = Release.initial
  let now = t0
  let deployments = 0
  const events: Array<Event> = []
  const sent: Array<Command> = []
  const trace: Array<string> = []
  const violations: Array<Violation> = []
  let rollbackStarted = false
  /** The rollback began by giving up a traffic change: it may end Failed when the stable version was found live. */
  let rollbackFailing = false
  let terminalEvents = 0
  // An independent view of the current step, from the events alone: its index, when its split went
  // live, and the checks that measured it (reset when a step starts or the release resumes).
  let stepIndex = 0
  let stepLiveAt: number | null = null
  let stepChecks: Array<Extract<Event, { _tag: "HealthChecked" }>> = []

  const violate = (invariant: Invariant, message: string) => {
    if (violations.some((v) => v.invariant === invariant)) return
    violations.push({
      invariant,
      message: `${message}\n\nplan: ${JSON.stringify(plan)}\nautoAdvance: ${scenario.autoAdvance}\n` +
        `last commands (t = seconds since start):\n  ${trace.slice(-30).join("\n  ")}`
    })
  }

  const clock = (at: number) => `t=${(at - t0) / 1000}`
  const showCommand = (c: Command): string => {
    const who = c.actor._tag === "System" ? "system" : c.actor.name
    const head = `${clock(c.now)} ${who} ${c._tag}`
    switch (c._tag) {
      case "Start":
      case "Resume":
        return `${head} live=${showSplit(c.liveDeployment.split)}`
      case "Advance":
        return `${head} fromStep=${c.fromStep}`
      case "RecordTrafficShift":
        return `${head} step=${c.stepIndex} split=${showSplit(c.deployment.split)}`
      case "RecordRollback":
        return `${head} split=${showSplit(c.deployment.split)}`
      case "ReportShiftFailure":
        return `${head} ${c.purpose} ${c.kind}`
      case "ReportDrift":
        return `${head} observed=${showSplit(c.observed.split)}`
      case "RecordHealthCheck":
        return `${head} window=[${clock(c.window.start)}, ${clock(c.window.end)}) canary=${JSON.stringify(c.canary)} stable=${
          JSON.stringify(c.stable)
        }`
      default:
        return head
    }
  }
  const showDecision = (decision: ReturnType<typeof ReleaseDecider.decide>) =>
    Result.isSuccess(decision)
      ? `[${decision.success.map((e) => e._tag === "HealthChecked" ? `HealthChecked(${e.verdict}, failures ${e.consecutiveFailures})` : e._tag).join(", ")}]`
      : `rejected ${decision.failure.code}`

  /** Checks the events a command produced against the state just before it. */
  const checkEvents = (command: Command, before: Release.ReleaseState, produced: ReadonlyArray<Event>) => {
    for (const event of produced) {
      switch (event._tag) {
        case "TrafficShifted":
          if (!isPlanSplit(event.split, plan)) {
            violate("plan-splits", `TrafficShifted made ${showSplit(event.split)} live, which is neither a plan step's split nor the stable version at 100%`)
          }
          if (event.stepIndex === stepIndex) stepLiveAt = event.at
          break
        case "StepStarted":
          stepIndex = event.stepIndex
          stepLiveAt = null
          stepChecks = []
          break
        case "Resumed":
          stepLiveAt = sameSplit(event.liveDeployment.split, stepSplit(stepIndex)) ? event.at : null
          stepChecks = []
          break
        case "HealthChecked":
          // A check measures the step's split only if its window starts once that split is live.
          if (stepLiveAt === null || event.window.start < stepLiveAt) {
            violate(
              "checks-measure-the-live-step",
              `HealthChecked for step ${event.stepIndex} over [${clock(event.window.start)}, ${clock(event.window.end)}) (${event.verdict}, failures ${event.consecutiveFailures}), but the step's split ${
                stepLiveAt === null ? "is not live" : `went live at ${clock(stepLiveAt)}`
              }`
            )
          } else {
            stepChecks.push(event)
          }
          break
        case "RollbackStarted":
          rollbackStarted = true
          rollbackFailing = event.failing === true
          break
        case "Promoted":
        case "Completed": {
          if (rollbackStarted) violate("rollback-ends-rolled-back", `${event._tag} after RollbackStarted`)
          if (!Release.exists(before)) break
          const latest = stepChecks[stepChecks.length - 1]
          const soaking = before.phase._tag === "Soaking" ? before.phase : undefined
          if (
            soaking === undefined || soaking.checks.consecutiveFailures > 0 || soaking.checks.lastVerdict !== "healthy" ||
            latest === undefined || latest.verdict !== "healthy" || latest.consecutiveFailures > 0
          ) {
            violate(
              "promotion-needs-health",
              `${event._tag} at step ${stepIndex} in phase ${before.phase._tag} (latest HealthChecked of the step: ${
                latest === undefined ? "none" : `${latest.verdict}, failures ${latest.consecutiveFailures}`
              })`
            )
          }
          if (Actor.isSystem(command.actor)) {
            // Independently of the decider's bookkeeping: walk back from the latest healthy window
            // over healthy windows at most one interval apart; that span must cover the soak, and
            // the analytics delay after the soak's end must have passed.
            const interval = plan.health.intervalSeconds * 1000
            const healthyWindows = stepChecks.filter((check) => check.verdict === "healthy").map((check) => check.window)
            const last = healthyWindows[healthyWindows.length - 1]
            let coveredFrom = last?.start ?? Infinity
            let i = healthyWindows.length - 2
            for (; i >= 0; i--) {
              if (coveredFrom - healthyWindows[i]!.end > interval) break
              coveredFrom = Math.min(coveredFrom, healthyWindows[i]!.start)
            }
            // The soak starts when the split went live: a first gap of up to one interval is allowed too.
            if (i < 0 && stepLiveAt !== null && coveredFrom - stepLiveAt <= interval) coveredFrom = stepLiveAt
            const soakEndsAt = coveredFrom + plan.steps[stepIndex]!.waitSeconds * 1000
            if (last === undefined || last.end < soakEndsAt) {
              violate(
                "no-promotion-over-unjudged-gap",
                `automatic ${event._tag} at step ${stepIndex}: healthy checks cover only [${clock(coveredFrom)}, ${
                  last === undefined ? "-" : clock(last.end)
                }), the soak needs until ${clock(soakEndsAt)} (checks: ${
                  stepChecks.map((c) => `${c.verdict}[${clock(c.window.start)},${clock(c.window.end)})`).join(" ")
                })`
              )
            }
            if (command.now < soakEndsAt + plan.health.analyticsDelaySeconds * 1000) {
              violate("no-promotion-over-unjudged-gap", `automatic ${event._tag} at ${clock(command.now)} before the soak ended (${clock(soakEndsAt)}) plus the analytics delay`)
            }
          }
          if (event._tag === "Completed") {
            const live = command._tag === "Advance" ? command.liveDeployment : undefined
            if (live === undefined || !sameSplit(live.split, TrafficSplit.whole(canaryId))) {
              violate("promotion-needs-health", `Completed without reading the canary at 100% live (read ${live === undefined ? "nothing" : showSplit(live.split)})`)
            }
          }
          break
        }
        default:
          break
      }
      if (event._tag === "Completed" || event._tag === "RolledBack" || event._tag === "Failed" || event._tag === "Cancelled") {
        terminalEvents++
        if (terminalEvents > 1) violate("one-terminal-event", `a second terminal event: ${event._tag}`)
        const failedOnStableFound = event._tag === "Failed" && rollbackFailing && command._tag === "RecordRollback" &&
          command.reusedExisting && command.replaced === undefined
        if (rollbackStarted && event._tag !== "RolledBack" && !failedOnStableFound) {
          violate("rollback-ends-rolled-back", `the rollback ended with ${event._tag}, not RolledBack`)
        }
        if (event._tag === "Failed" && !failedOnStableFound) {
          violate("rollback-ends-rolled-back", "Failed without the stable version read at 100% first")
        }
      }
    }
  }

  const send = (command: Command) => {
    sent.push(command)
    const before = state
    const decision = ReleaseDecider.decide(command, before)
    trace.push(`${showCommand(command)} -> ${showDecision(decision)}`)
    if (Result.isFailure(decision)) return
    const produced = decision.success
    if (Release.isTerminal(before) && produced.length > 0) {
      violate("terminal-absorbs", `${command._tag} on a ${before.status} release produced ${produced.map((e) => e._tag).join(", ")}`)
    }
    checkEvents(command, before, produced)
    state = Release.fold(produced, before)
    events.push(...produced)
    if (Release.isTerminal(before) && state.status !== before.status) {
      violate("terminal-absorbs", `${command._tag} moved a ${before.status} release to ${state.status}`)
    }
    if (produced.some((e) => e._tag === "RolledBack")) {
      const live = Release.exists(state) ? Release.liveSplit(state) : null
      if (state.status !== "rolled_back" || !isWholeStable(live)) {
        violate("rollback-ends-rolled-back", `after RolledBack the status is ${state.status} and the live split is ${live === null ? "null" : showSplit(live)}`)
      }
    }
    if (produced.length > 0 && command._tag !== "ReportShiftFailure") {
      // ReportShiftFailure is a new fact each time; every other command is "already done" once its events are folded.
      const again = ReleaseDecider.decide(command, state)
      // By design (docs/lifecycle.md, person commands by status): a Resume that resumed a rollback
      // paused by Cloudflare credentials is rejected the second time, since the release is rolling back.
      const rejectedByDesign = command._tag === "Resume" && Result.isFailure(again) && again.failure.code === "invalid_state" &&
        Release.exists(state) && state.phase._tag === "RollingBack"
      if (!rejectedByDesign && (!Result.isSuccess(again) || again.success.length > 0)) {
        violate(
          "idempotent",
          `re-sending ${command._tag} right after its events (${produced.map((e) => e._tag).join(", ")}) gave ${showDecision(again)}, expected []${
            Result.isFailure(again) ? ` (${again.failure.message})` : ""
          }`
        )
      }
    }
    if (state.status === "in_progress" && produced.length > 0) {
      const action = NextAction.nextAction(state, now)
      const due = NextAction.dueAt(action)
      const lastAt = events[events.length - 1]!.at
      if (due !== undefined && due < lastAt) {
        violate(
          "due-not-before-last-event",
          `after ${produced.map((e) => e._tag).join(", ")} at ${clock(lastAt)}, nextAction is ${action._tag} due at ${clock(due)}`
        )
      }
    }
  }

  const person = (m: Move) => m.extra % 2 === 0 ? alice : ci
  const current = () => Release.exists(state) ? state : undefined

  /** The orchestrator's side effect for a due action, with an outcome picked by the move. */
  const systemCommand = (release: Release.Release, action: NextAction.NextAction, m: Move): Command | undefined => {
    const actor = Actor.system
    switch (action._tag) {
      case "Wait":
        return undefined
      case "Advance": {
        // The orchestrator reads the live deployment before completing: sometimes someone changed it.
        const believed = Release.liveSplit(release) ?? []
        const split = m.roll >= 900 ? driftedSplit(m.amount, [believed]) : believed
        return { _tag: "Advance", fromStep: action.fromStep, liveDeployment: { deploymentId: "dep-read", split }, actor, now }
      }
      case "ShiftTraffic":
        if (m.roll < 600) {
          return {
            _tag: "RecordTrafficShift",
            stepIndex: action.stepIndex,
            deployment: { deploymentId: `dep-${++deployments}`, split: action.split },
            reusedExisting: m.roll % 2 === 1,
            actor,
            now
          }
        }
        if (m.roll < 700) {
          return {
            _tag: "ReportDrift",
            expected: (Release.liveSplit(release) ?? []),
            // Read before applying: drift only when the live split is neither the step's nor the one the events say.
            observed: { deploymentId: "dep-by-hand", split: driftedSplit(m.amount, [action.split, (Release.liveSplit(release) ?? [])]) },
            actor,
            now
          }
        }
        if (m.roll < 780) {
          return {
            _tag: "ReportDrift",
            expected: action.split,
            // Read back after applying: someone deployed by hand in between.
            observed: { deploymentId: "dep-by-hand", split: driftedSplit(m.amount, [action.split]) },
            actor,
            now
          }
        }
        return {
          _tag: "ReportShiftFailure",
          purpose: "step",
          kind: shiftFailureKind(m.extra % 10),
          message: "Cloudflare said no",
          retryAfterSeconds: m.extra % 3 === 0 ? m.amount % 120 : undefined,
          actor,
          now
        }
      case "ApplyRollback":
        if (m.roll < 600) {
          // A rollback restores the stable version whatever is live, and records a hand-made deployment it replaced.
          const replaced = m.roll % 3 === 2
            ? { deploymentId: "dep-by-hand", split: driftedSplit(m.amount, [action.split, (Release.liveSplit(release) ?? [])]) }
            : undefined
          return {
            _tag: "RecordRollback",
            deployment: { deploymentId: `dep-${++deployments}`, split: action.split },
            reusedExisting: replaced === undefined && m.roll % 2 === 1,
            replaced,
            actor,
            now
          }
        }
        return {
          _tag: "ReportShiftFailure",
          purpose: "rollback",
          kind: shiftFailureKind(m.extra % 10),
          message: "Cloudflare said no",
          retryAfterSeconds: m.extra % 3 === 0 ? m.amount % 120 : undefined,
          actor,
          now
        }
      case "CheckHealth": {
        const believed = Release.liveSplit(release)
        if (m.roll >= 940 && believed !== null) {
          // The orchestrator reads the live deployment before judging it.
          return {
            _tag: "ReportDrift",
            expected: believed,
            observed: { deploymentId: "dep-by-hand", split: driftedSplit(m.amount, [believed]) },
            actor,
            now
          }
        }
        const { minRequests, maxErrorRate } = release.plan.health
        const stable = m.extra % 3 === 0
          ? undefined
          : { requests: m.amount % 10_000, errors: Math.floor((m.amount % 10_000) * (m.extra % 5) / 100) }
        if (m.roll < 80) {
          return {
            _tag: "RecordHealthCheck",
            window: action.window,
            canary: undefined,
            stable: undefined,
            unavailableReason: "analytics timed out",
            actor,
            now
          }
        }
        if (m.roll < 200 && minRequests > 0) {
          const canary = { requests: m.amount % minRequests, errors: 0 }
          return { _tag: "RecordHealthCheck", window: action.window, canary, stable, actor, now }
        }
        const requests = minRequests + (m.amount % 5000)
        const errors = m.roll < 620
          ? Math.floor(requests * maxErrorRate * ((m.extra % 100) / 100))
          : Math.min(requests, Math.ceil(requests * (maxErrorRate + 0.01 + (m.extra % 50) / 100)))
        return { _tag: "RecordHealthCheck", window: action.window, canary: { requests, errors }, stable, actor, now }
      }
    }
  }

  /** The scheduler wakes the release: usually at its due time, sometimes early (nothing is due then). */
  const tick = (m: Move) => {
    const release = current()
    if (release === undefined) return
    let action = NextAction.nextAction(release, now)
    if (action._tag === "Wait") return
    if (action.at > now) {
      if (m.roll % 7 === 6) {
        trace.push(`${clock(now)} tick: ${action._tag} not due until ${clock(action.at)}`)
        return
      }
      now = action.at
      action = NextAction.nextAction(release, now)
    }
    const command = systemCommand(release, action, m)
    if (command !== undefined) send(command)
  }

  const personMove = (m: Move) => {
    const actor = person(m)
    const release = current()
    const k = m.kind
    if (k < 62) {
      now += (m.amount % 7200) * 1000
      return
    }
    if (k < 65) {
      const split = m.roll < 900
        ? TrafficSplit.whole(stableId)
        : m.roll < 950
        ? TrafficSplit.canaryAt(canaryId, stableId, 10)
        : TrafficSplit.whole(canaryId)
      return send({ _tag: "Start", liveDeployment: { deploymentId: "dep-0", split }, actor, now })
    }
    if (k < 72) {
      const offset = m.roll < 100 ? -1 : m.roll < 200 ? 1 : 0
      const live = release === undefined ? null : Release.liveSplit(release)
      return send({
        _tag: "Advance",
        fromStep: (release === undefined ? 0 : Release.stepIndex(release)) + offset,
        liveDeployment: live === null ? undefined : { deploymentId: "dep-read", split: live },
        actor,
        now
      })
    }
    if (k < 76) return send({ _tag: "Pause", reason: `paused by ${Actor.describe(actor)}`, actor, now })
    if (k < 83) {
      const split = m.roll < 600
        ? (release === undefined ? null : Release.liveSplit(release)) ?? TrafficSplit.whole(stableId)
        : m.roll < 850
        ? handMadeSplit(m.amount)
        : m.roll % 2 === 0
        ? TrafficSplit.whole(strangerId)
        : [{ versionId: canaryId, percentage: 50 }, { versionId: strangerId, percentage: 50 }]
      return send({ _tag: "Resume", liveDeployment: { deploymentId: "dep-seen", split }, actor, now })
    }
    if (k < 85) return send({ _tag: "Rollback", reason: `rollback requested by ${Actor.describe(actor)}`, actor, now })
    if (k < 87) return send({ _tag: "Cancel", reason: m.roll % 2 === 0 ? null : "not today", actor, now })
    if (k < 96) {
      // The last command arrives again; with late duplicates, any earlier one may (stamped now either way).
      const earlier = scenario.lateDuplicates ? sent[m.roll % sent.length] : sent[sent.length - 1]
      if (earlier !== undefined) send({ ...earlier, now })
      return
    }
    return send({ ...create, releaseId: "rel-other", now })
  }

  const create: ReleaseCommand.Create = {
    _tag: "Create",
    releaseId,
    teamId: "team-1",
    workerId: "worker-1",
    accountId: "acc-1",
    scriptName: "api",
    canaryVersionId: canaryId,
    planId: null,
    plan,
    autoAdvance: scenario.autoAdvance,
    name: null,
    ticketUrl: null,
    actor: alice,
    now
  }
  send(create)
  if (scenario.opening > 0) {
    send({ _tag: "Start", liveDeployment: { deploymentId: "dep-0", split: TrafficSplit.whole(stableId) }, actor: alice, now })
  }

  for (const m of scenario.moves) {
    if (m.kind < 55) tick(m)
    else personMove(m)
  }

  if (scenario.driveToEnd) {
    // A healthy world: every traffic change succeeds and every check is healthy. A person starts or
    // resumes the release when it waits for them, and advances a release without auto-advance.
    trace.push("-- drive to the end --")
    const maxTailSteps = 100_000
    for (let i = 0; i < maxTailSteps && !Release.isTerminal(state); i++) {
      const release = current()!
      if (release.status === "pending") {
        send({ _tag: "Start", liveDeployment: { deploymentId: "dep-0", split: TrafficSplit.whole(stableId) }, actor: alice, now })
        continue
      }
      if (release.status === "paused") {
        send({ _tag: "Resume", liveDeployment: { deploymentId: "dep-seen", split: (Release.liveSplit(release) ?? []) }, actor: alice, now })
        continue
      }
      let action = NextAction.nextAction(release, now)
      if (action._tag === "Wait") break
      now = Math.max(now, action.at)
      action = NextAction.nextAction(release, now)
      const phase = release.phase
      if (
        action._tag === "CheckHealth" && !release.autoAdvance && phase._tag === "Soaking" &&
        phase.checks.lastVerdict === "healthy" && phase.checks.consecutiveFailures === 0
      ) {
        send({
          _tag: "Advance",
          fromStep: phase.run.stepIndex,
          liveDeployment: { deploymentId: "dep-read", split: phase.run.liveSplit },
          actor: alice,
          now
        })
        continue
      }
      const healthy = { requests: release.plan.health.minRequests + 1000, errors: 0 }
      const command = action._tag === "CheckHealth"
        ? { _tag: "RecordHealthCheck" as const, window: action.window, canary: healthy, stable: healthy, actor: Actor.system, now }
        : systemCommand(release, action, { kind: 0, roll: 0, amount: 0, extra: 0 })
      if (command !== undefined) send(command)
    }
    if (!Release.isTerminal(state)) {
      violate("one-terminal-event", `driven to the end, the release is still ${state.status} (no terminal event)`)
    }
  }

  if (Release.isTerminal(state)) {
    if (terminalEvents !== 1) violate("one-terminal-event", `the release is ${state.status} with ${terminalEvents} terminal events`)
    // Everything sent before arrives again: a terminal release absorbs it all.
    trace.push("-- redeliver earlier commands to the terminal release --")
    const status = state.status
    for (const command of [...sent.slice(0, maxMoves + 1), ...sent.slice(-10)]) {
      send({ ...command, now })
      if (state.status !== status) break
    }
  } else if (terminalEvents !== 0) {
    violate("one-terminal-event", `the release is ${state.status} after ${terminalEvents} terminal events`)
  }

  return { state, events, violations }
}

// ---------------------------------------------------------------------------------------------
// Properties
// ---------------------------------------------------------------------------------------------

/** Each invariant is its own property, so one broken rule neither hides nor muddles another. */
const invariants: ReadonlyArray<readonly [Invariant, string]> = [
  ["plan-splits", "every split made live is a plan step's split or the stable version at 100%"],
  ["checks-measure-the-live-step", "a health check counts for a step only over a window in which the step's split was live"],
  ["terminal-absorbs", "a terminal release absorbs every command: no events, status unchanged"],
  ["rollback-ends-rolled-back", "a rollback ends with RolledBack and the stable version at 100%, never with a promotion or completion"],
  [
    "promotion-needs-health",
    "no promotion or completion unless the step's latest check is healthy with no failures counted, and no completion unless the canary was read serving 100%"
  ],
  [
    "no-promotion-over-unjudged-gap",
    "no automatic promotion unless healthy checks cover the whole soak with no unjudged gap over one interval, after the analytics delay"
  ],
  ["one-terminal-event", "at most one terminal event ever, and exactly one once the release is driven to the end"],
  ["idempotent", "re-sending a command right after its own events yields no events (ReportShiftFailure excepted)"],
  ["due-not-before-last-event", "nextAction of an in-progress release is never due before its last event"]
]

const holds = (invariant: Invariant) => ({ scenario }: { readonly scenario: Scenario }) => {
  const violation = simulate(scenario).violations.find((v) => v.invariant === invariant)
  if (violation !== undefined) assert.fail(violation.message)
}

describe("ReleaseDecider over random plans and runs", () => {
  describe("people and the orchestrator", () => {
    for (const [invariant, title] of invariants) {
      it.prop(title, { scenario }, holds(invariant), propertyOptions)
    }
  })

  describe("with late duplicates (any earlier command may arrive again)", () => {
    for (const [invariant, title] of invariants) {
      it.prop(title, { scenario: scenarioWithLateDuplicates }, holds(invariant), propertyOptions)
    }
  })

  // Guards against vacuous properties: the generator must reach every ending and the interesting events.
  it.effect("the scenarios reach every terminal status and exercise drift, pauses, retries and promotions", () =>
    Effect.gen(function*() {
      const samples = yield* Arbitrary.sampleEffect(scenario, { count: runs, seed, size: maxMoves })
      const statuses = new Set<string>()
      const tags = new Set<string>()
      for (const sample of samples) {
        const outcome = simulate(sample)
        statuses.add(outcome.state.status)
        for (const event of outcome.events) tags.add(event._tag)
      }
      for (const status of ["completed", "rolled_back", "failed", "cancelled", "paused", "in_progress"]) {
        assert.isTrue(statuses.has(status), `no scenario ended ${status}; got ${[...statuses].join(", ")}`)
      }
      for (const tag of ["Promoted", "DriftDetected", "Resumed", "TrafficShiftFailed", "Paused", "RollbackStarted", "HealthChecked"]) {
        assert.isTrue(tags.has(tag), `no scenario produced ${tag}`)
      }
    }))
})

// ---------------------------------------------------------------------------------------------
// Health assessment
// ---------------------------------------------------------------------------------------------

const versionSample = Arbitrary.all({ present: int(0, 9), requests: int(0, 2000), errorPercent: int(0, 100) }).pipe(
  Arbitrary.map(({ present, requests, errorPercent }): HealthCheck.VersionSample | undefined =>
    present === 0 ? undefined : { requests, errors: Math.floor(requests * errorPercent / 100) }
  )
)
const decodedPolicy = healthPolicy.pipe(Arbitrary.map((input) => Plan.make({ steps: [{ percentage: 100, waitSeconds: 0 }], health: input }).health))

describe("HealthCheck.assess", () => {
  it.prop(
    "an inconclusive input (no analytics, or fewer requests than minRequests) is inconclusive: never healthy, never unhealthy",
    { policy: decodedPolicy, canary: versionSample, stable: versionSample },
    ({ canary, policy, stable }) => {
      const { verdict } = HealthCheck.assess(policy, canary, stable)
      if (canary === undefined || canary.requests < policy.minRequests) {
        assert.strictEqual(verdict, "inconclusive", `canary ${JSON.stringify(canary)}, minRequests ${policy.minRequests}`)
      }
    },
    propertyOptions
  )

  it.prop(
    "unhealthy only when a limit is exceeded",
    { policy: decodedPolicy, canary: versionSample, stable: versionSample },
    ({ canary, policy, stable }) => {
      const { verdict } = HealthCheck.assess(policy, canary, stable)
      if (verdict !== "unhealthy" || canary === undefined) return
      const rate = HealthCheck.errorRate(canary)
      const overIncrease = policy.maxErrorRateIncrease !== undefined && stable !== undefined &&
        stable.requests >= policy.minRequests && rate - HealthCheck.errorRate(stable) > policy.maxErrorRateIncrease
      assert.isTrue(rate > policy.maxErrorRate || overIncrease, `unhealthy at error rate ${rate}`)
    },
    propertyOptions
  )
})
