/**
 * Realistic release histories for the read-model contracts and tests, written by the core
 * decider the way the orchestrator and people would: several teams, two Workers each, releases that complete, roll
 * back on bad health, get paused and resumed, advanced by hand, cancelled before they start, or
 * rolled back by a token, acted on by the system, users and tokens. Each decision is one append, and the appends
 * of all releases are interleaved by time, with a few neighbours swapped (two processes whose
 * clocks disagree), so positions do not follow event times exactly and many events share a time
 * (health windows end on the same minute boundaries in every release).
 *
 * Deterministic: the same options give the same appends.
 */
import {
  Actor,
  type EventStore,
  NextAction,
  Plan,
  Release,
  type ReleaseCommand,
  ReleaseDecider,
  type ReleaseEvent
} from "@canaryroll/core"
import { Effect, Result } from "effect"

export interface Append {
  readonly streamId: string
  readonly expectedVersion: number
  readonly events: ReadonlyArray<ReleaseEvent.ReleaseEvent>
  readonly at: number
}

export interface Options {
  readonly teams: number
  readonly releasesPerTeam: number
  /** Decisions per release at most (a release may end sooner). Default 24. */
  readonly decisions?: number | undefined
}

export const t0 = Date.parse("2026-11-26T09:00:00Z")

export const users = [Actor.user("usr_ada", "Ada"), Actor.user("usr_bo", "Bo"), Actor.user("usr_cy", "Cy")] as const
export const tokens = [Actor.token("tok_ci", "CI"), Actor.token("tok_ops", "ops bot")] as const

const plan = Plan.make({
  steps: [{ percentage: 10, waitSeconds: 120 }, { percentage: 50, waitSeconds: 120 }, { percentage: 100, waitSeconds: 60 }],
  health: { intervalSeconds: 60, analyticsDelaySeconds: 0, minRequests: 10, failuresBeforeAction: 2 }
})

const fates = ["completes", "unhealthy", "paused", "manual", "cancelled", "rolled_back_by_hand"] as const
type Fate = typeof fates[number]

/** One release's decisions, each the events of one command, in time order. */
const drive = (releaseId: string, team: number, worker: number, index: number, decisions: number): Array<Append> => {
  const fate: Fate = fates[index % fates.length]!
  const person = users[index % users.length]!
  const token = tokens[index % tokens.length]!
  const appends: Array<Append> = []
  let state = Release.initial
  let version = 0
  let deployments = 0
  let live = { deploymentId: `dep_${releaseId}_0`, split: [{ versionId: "v1", percentage: 100 }] }
  /** Applies a command; a person's command the decider refuses is simply not sent. */
  const apply = (command: ReleaseCommand.ReleaseCommand) => {
    const decision = ReleaseDecider.decide(command, state)
    if (Result.isFailure(decision) || decision.success.length === 0) return
    appends.push({ streamId: releaseId, expectedVersion: version, events: decision.success, at: command.now })
    version += decision.success.length
    state = Release.fold(decision.success, state)
  }
  // Two by two at the same moment: equal creation times, for the lists' tie-break.
  let now = t0 + Math.floor(index / 2) * 37_000
  apply({
    _tag: "Create", releaseId, teamId: `team_${team}`, workerId: `wkr_${team}_${worker}`, accountId: `acc_${team}`,
    scriptName: `api-${worker}`, canaryVersionId: "v2", planId: index % 2 === 0 ? `plan_${team}` : null, plan,
    autoAdvance: fate !== "manual", name: index % 3 === 0 ? `release ${index}` : null,
    ticketUrl: index % 4 === 0 ? `https://tickets.example/${index}` : null, actor: index % 2 === 0 ? person : token, now
  })
  now += 1_000
  // A release can only be cancelled before it starts (then it is rolled back instead).
  if (fate === "cancelled") apply({ _tag: "Cancel", reason: index % 2 === 0 ? null : "wrong version", actor: person, now })
  else apply({ _tag: "Start", liveDeployment: live, actor: index % 2 === 0 ? token : person, now })
  for (let decision = 3; decision <= decisions && !Release.isTerminal(state); decision++) {
    if (fate === "paused" && decision === 4) {
      apply({ _tag: "Pause", reason: "checking the dashboards", actor: person, now })
    } else if (fate === "paused" && decision === 7) apply({ _tag: "Resume", liveDeployment: live, actor: token, now })
    else if (fate === "manual" && decision % 4 === 0 && Release.exists(state)) {
      apply({ _tag: "Advance", fromStep: Release.stepIndex(state), liveDeployment: live, actor: person, now })
    }
    else if (fate === "rolled_back_by_hand" && decision === 6) {
      apply({ _tag: "Rollback", reason: "customers complain", actor: token, now })
    } else {
      const action = NextAction.nextAction(state, now)
      // Paused: nothing is due until the person comes back.
      if (action._tag === "Wait") continue
      now = Math.max(now, action.at)
      switch (action._tag) {
        case "ShiftTraffic":
          live = { deploymentId: `dep_${releaseId}_${++deployments}`, split: [...action.split] }
          apply({
            _tag: "RecordTrafficShift", stepIndex: action.stepIndex, deployment: live,
            reusedExisting: deployments % 5 === 0, actor: Actor.system, now
          })
          break
        case "CheckHealth": {
          const canary = fate === "unhealthy" ? { requests: 1_000, errors: 200 } : { requests: 1_000, errors: 1 }
          apply({
            _tag: "RecordHealthCheck", window: action.window, canary, stable: { requests: 9_000, errors: 9 },
            actor: Actor.system, now
          })
          break
        }
        case "Advance":
          // Completing reads the live deployment first.
          apply({ _tag: "Advance", fromStep: action.fromStep, liveDeployment: live, actor: Actor.system, now })
          break
        case "ApplyRollback":
          live = { deploymentId: `dep_${releaseId}_${++deployments}`, split: [...action.split] }
          apply({ _tag: "RecordRollback", deployment: live, reusedExisting: false, actor: Actor.system, now })
          break
      }
    }
    now += 1_000
  }
  return appends
}

/** Every release's appends, interleaved by time (see the module doc). */
export const make = (options: Options): ReadonlyArray<Append> => {
  const all: Array<Append> = []
  let index = 0
  for (let team = 0; team < options.teams; team++) {
    for (let release = 0; release < options.releasesPerTeam; release++) {
      // Every fifth release is still under way (in progress or paused) when the history ends.
      const decisions = index % 5 === 4 ? 5 : options.decisions ?? 24
      all.push(...drive(`rel_${team}_${release}`, team, release % 2, index++, decisions))
    }
  }
  // Stable: a release's own appends stay in order.
  all.sort((a, b) => a.at - b.at)
  // A few neighbours of different releases swap: positions no longer follow times exactly.
  for (let i = 5; i + 1 < all.length; i += 7) {
    if (all[i]!.streamId !== all[i + 1]!.streamId) [all[i], all[i + 1]] = [all[i + 1]!, all[i]!]
  }
  return all
}

/** Appends them all in order; returns every recorded event. */
export const appendAll = (store: typeof EventStore.EventStore.Service, appends: ReadonlyArray<Append>) =>
  Effect.map(
    Effect.forEach(appends, (append) => store.append(append.streamId, append.expectedVersion, append.events)),
    (recorded) => recorded.flat()
  )
