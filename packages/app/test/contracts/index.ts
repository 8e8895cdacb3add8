/**
 * `@canaryroll/app/testing`: one contract suite per port of the application. An adapter's test
 * file runs the suite of each port it implements, e.g.
 * `AuditLogContract.suite("postgres", () => freshPgLayer())`; `makeLayer` is called once per
 * test, so every test starts from an empty adapter.
 *
 * @since 0.2.0
 */
export * as AuditLogContract from "./AuditLogContract.ts"
export * as ReleaseHistories from "./ReleaseHistories.ts"
export * as ReleaseSummariesContract from "./ReleaseSummariesContract.ts"
export * as CloudflareAccountsContract from "./CloudflareAccountsContract.ts"
export * as DirectoryFixtures from "./DirectoryFixtures.ts"
export * as IdempotencyKeysContract from "./IdempotencyKeysContract.ts"
export * as LoginThrottleContract from "./LoginThrottleContract.ts"
export * as NewTeam from "./NewTeam.ts"
export * as PlansContract from "./PlansContract.ts"
export * as WorkersContract from "./WorkersContract.ts"
export * as ApiTokensContract from "./ApiTokensContract.ts"
export * as ReleaseFeedContract from "./ReleaseFeedContract.ts"
export * as PeopleContract from "./PeopleContract.ts"
export * as SessionsContract from "./SessionsContract.ts"
export * as TeamsContract from "./TeamsContract.ts"
export * as TeamTokenAccessContract from "./TeamTokenAccessContract.ts"
