/**
 * @canaryroll/core: the pure release core. Pure data and functions (plans, the release decider,
 * health assessment, next action, projections), the ports with their in-memory layers, and the
 * orchestrator that runs one step of a release over those ports.
 *
 * @since 0.1.0
 */
export * as ActiveReleases from "./ActiveReleases.ts"
export * as Actor from "./Actor.ts"
export * as Attention from "./Attention.ts"
export * as AuditEntry from "./AuditEntry.ts"
export * as EventStore from "./EventStore.ts"
export * as HealthCheck from "./HealthCheck.ts"
export * as HealthSource from "./HealthSource.ts"
export * as Id from "./Id.ts"
export * as NextAction from "./NextAction.ts"
export * as Orchestrator from "./Orchestrator.ts"
export * as Outbox from "./Outbox.ts"
export * as PersonCommand from "./PersonCommand.ts"
export * as Plan from "./Plan.ts"
export * as Release from "./Release.ts"
export * as ReleaseCommand from "./ReleaseCommand.ts"
export * as ReleaseDecider from "./ReleaseDecider.ts"
export * as ReleaseEvent from "./ReleaseEvent.ts"
export * as ReleaseSummary from "./ReleaseSummary.ts"
export * as Scheduler from "./Scheduler.ts"
export * as TrafficHistory from "./TrafficHistory.ts"
export * as TrafficRouter from "./TrafficRouter.ts"
export * as TrafficSplit from "./TrafficSplit.ts"
export * as ValidationError from "./ValidationError.ts"
