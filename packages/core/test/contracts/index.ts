/**
 * `@canaryroll/core/testing`: one contract suite per port. An adapter's test file runs the suite
 * of each port it implements, e.g. `EventStoreContract.suite("postgres", () => freshPgLayer())`;
 * `makeLayer` is called once per test, so every test starts from an empty adapter.
 *
 * @since 0.1.0
 */
export * as ActiveReleasesContract from "./ActiveReleasesContract.ts"
export * as EventStoreContract from "./EventStoreContract.ts"
export * as HealthSourceContract from "./HealthSourceContract.ts"
export * as OutboxContract from "./OutboxContract.ts"
export * as ScheduleRaceContract from "./ScheduleRaceContract.ts"
export * as SchedulerContract from "./SchedulerContract.ts"
export * as TrafficRouterContract from "./TrafficRouterContract.ts"
