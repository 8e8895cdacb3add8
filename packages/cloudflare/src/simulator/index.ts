/**
 * The Cloudflare API simulator: a real HTTP server on loopback that answers the Workers versions
 * and deployments API, token verification and the GraphQL analytics the way Cloudflare does, from
 * a scriptable traffic model, with rate limits and injectable faults. See README.md beside this
 * file for the endpoints, the control API, and what is confirmed versus invented.
 */
export {
  type Control,
  type CreateScript,
  type CreateVersion,
  defaultAnalyticsDelayMs,
  type DeploymentJson,
  type DeployOutOfBand,
  type ScriptRef,
  type Simulator,
  start,
  type StartOptions,
  type State
} from "./Simulator.ts"
export type { Answer } from "./ApiServer.ts"
export { seed, type SeededScript, type SeededVersion, type Seeded, type SeedOptions } from "./Seed.ts"
export type { Fault, Match as FaultMatch } from "./Faults.ts"
export type { ErrorRate, ErrorRateStep, InvocationProfile } from "./TrafficModel.ts"
export type { Counts, TokenCalls } from "./CallCounters.ts"
export type { Limit as RateLimit } from "./RateLimiter.ts"
export type { DatasetLimits } from "./AnalyticsQuery.ts"
export { catalogue as errorCatalogue, type ErrorName, type Provenance } from "./ErrorCatalogue.ts"
