/**
 * @canaryroll/memory: run CanaryRoll releases entirely in memory under `TestClock`, against a
 * scripted fleet of Workers. For CanaryRoll's own tests, and for teams testing their plans.
 *
 * @since 0.1.0
 */
export * as ErrorRate from "./ErrorRate.ts"
export * as Harness from "./Harness.ts"
export * as SimulatedTime from "./SimulatedTime.ts"
export * as WorkerFleet from "./WorkerFleet.ts"
