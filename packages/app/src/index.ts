/**
 * @canaryroll/app: the CanaryRoll application, runtime-neutral. The ports of the directory (people
 * and sessions, teams, members and invitations, API tokens, Cloudflare accounts, Workers, plans,
 * the log-in throttle, idempotency keys) and of the read models, each with a memory layer; the
 * Postgres layers live in `@canaryroll/postgres`, and every layer runs the same contract suite
 * (`@canaryroll/app/testing`).
 *
 * @since 0.2.0
 */
export * as Storage from "./Storage.ts"
export * as AuditLog from "./readmodel/AuditLog.ts"
export * as Keyset from "./readmodel/Keyset.ts"
export * as ReleaseProjection from "./readmodel/ReleaseProjection.ts"
export * as ReleaseSummaries from "./readmodel/ReleaseSummaries.ts"
export * as ReleaseFeed from "./readmodel/ReleaseFeed.ts"
export * as ApiTokens from "./directory/ApiTokens.ts"
export * as TeamTokenAccess from "./directory/TeamTokenAccess.ts"
export * as People from "./directory/People.ts"
export * as Sessions from "./directory/Sessions.ts"
export * as Teams from "./directory/Teams.ts"
export * as CloudflareAccounts from "./directory/CloudflareAccounts.ts"
export * as IdempotencyKeys from "./directory/IdempotencyKeys.ts"
export * as LoginThrottle from "./directory/LoginThrottle.ts"
export * as MemoryDirectory from "./directory/MemoryDirectory.ts"
export * as Plans from "./directory/Plans.ts"
export * as Workers from "./directory/Workers.ts"
export * as ApiToken from "./security/ApiToken.ts"
export * as PasswordHash from "./security/PasswordHash.ts"
export * as SecretBox from "./security/SecretBox.ts"
export * as SessionSecret from "./security/SessionSecret.ts"
export * as InvitationMail from "./mail/InvitationMail.ts"
