/**
 * @canaryroll/cloudflare: CanaryRoll on Cloudflare Workers. The TrafficRouter on the deployments
 * API (official SDK), the HealthSource on the GraphQL Analytics API, the per-token API budget,
 * and credentials. The Cloudflare API simulator is at `@canaryroll/cloudflare/simulator`.
 *
 * @since 0.1.0
 */
export * as AccessCheck from "./AccessCheck.ts"
export * as AnalyticsHealthSource from "./AnalyticsHealthSource.ts"
export * as ApiBudget from "./ApiBudget.ts"
export * as Credentials from "./Credentials.ts"
export * as WorkersApi from "./WorkersApi.ts"
export * as WorkersTrafficRouter from "./WorkersTrafficRouter.ts"
