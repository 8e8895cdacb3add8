/**
 * What can be asked of a release. People (and tokens) send the first group; the orchestrator
 * sends the second after performing a side effect. Every command carries `now` and its actor:
 * the decider never reads a clock.
 *
 * @since 0.1.0
 */
import type { Actor } from "./Actor.ts"
import type { VersionSample, Window } from "./HealthCheck.ts"
import type { Definition } from "./Release.ts"
import type { ShiftPurpose } from "./ReleaseEvent.ts"
import type { ActiveDeployment, TrafficSplit } from "./TrafficSplit.ts"

interface Base {
  readonly actor: Actor
  readonly now: number
}

export interface Create extends Base, Definition {
  readonly _tag: "Create"
}

/** `liveDeployment` is the Worker's active deployment, read just before starting. */
export interface Start extends Base {
  readonly _tag: "Start"
  readonly liveDeployment: ActiveDeployment
}

/**
 * Move on from step `fromStep` (completes the release from the last step). Completing needs
 * `liveDeployment`, read just before: a release completes only when the canary serves 100%.
 */
export interface Advance extends Base {
  readonly _tag: "Advance"
  readonly fromStep: number
  readonly liveDeployment?: ActiveDeployment | undefined
}

export interface Pause extends Base {
  readonly _tag: "Pause"
  readonly reason: string
}

/** `liveDeployment` is read just before resuming and becomes the accepted baseline. */
export interface Resume extends Base {
  readonly _tag: "Resume"
  readonly liveDeployment: ActiveDeployment
}

export interface Rollback extends Base {
  readonly _tag: "Rollback"
  readonly reason: string
}

export interface Cancel extends Base {
  readonly _tag: "Cancel"
  readonly reason: string | null
}

/** The step's split is live (applied now, or found already live). */
export interface RecordTrafficShift extends Base {
  readonly _tag: "RecordTrafficShift"
  readonly stepIndex: number
  readonly deployment: ActiveDeployment
  readonly reusedExisting: boolean
}

/** The stable version serves 100% again. */
export interface RecordRollback extends Base {
  readonly _tag: "RecordRollback"
  readonly deployment: ActiveDeployment
  readonly reusedExisting: boolean
  /** The live deployment found before the rollback, when it was not the one the events expected. */
  readonly replaced?: ActiveDeployment | undefined
}

export type ShiftFailureKind = "transient" | "rate_limited" | "permanent" | "not_found" | "credentials"

export interface ReportShiftFailure extends Base {
  readonly _tag: "ReportShiftFailure"
  readonly purpose: ShiftPurpose
  readonly kind: ShiftFailureKind
  readonly message: string
  readonly retryAfterSeconds?: number | undefined
}

/** Before a traffic change the live deployment was not what the events say. */
export interface ReportDrift extends Base {
  readonly _tag: "ReportDrift"
  readonly expected: TrafficSplit
  readonly observed: ActiveDeployment
}

/** Analytics for one window; `canary` undefined means analytics were unavailable. */
export interface RecordHealthCheck extends Base {
  readonly _tag: "RecordHealthCheck"
  readonly window: Window
  readonly canary: VersionSample | undefined
  readonly stable: VersionSample | undefined
  readonly unavailableReason?: string | undefined
}

export type PersonCommand = Start | Advance | Pause | Resume | Rollback | Cancel
export type SystemCommand = RecordTrafficShift | RecordRollback | ReportShiftFailure | ReportDrift | RecordHealthCheck
export type ReleaseCommand = Create | PersonCommand | SystemCommand
