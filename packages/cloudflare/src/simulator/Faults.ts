/**
 * Faults a test arms for the next N matching calls (by method and a path substring):
 * - `status`: answer with a 5xx instead of doing the work;
 * - `latency`: do the work, answer late;
 * - `timeout`: never answer; hold the socket until the client gives up (or `holdMs` passes,
 *   then drop the connection);
 * - `lost`: do the work, then lose the answer: a 5xx instead of the real reply, or (without a
 *   status) hold the socket as `timeout` does. This is the unknown outcome a client must resolve
 *   by reading state back, never by retrying blindly;
 * - `outOfBandDeployment`: just before the call is served, someone deploys by hand (wrangler).
 * Faults apply in the order they were armed; a call consumes at most one.
 */

export interface Match {
  /** HTTP method, case-insensitive. */
  readonly method?: string
  /** A substring of the URL path (with /client/v4), e.g. "/deployments" or "/graphql". */
  readonly path?: string
}

interface Common {
  /** How many matching calls it affects; 1 by default. */
  readonly times?: number
  readonly match?: Match
}

export type Fault =
  | Common & {
    readonly kind: "status"
    readonly status: number
    /** Send `x-should-retry: true|false`, which the SDK obeys over its status rules. */
    readonly shouldRetry?: boolean
    /** An HTML page like Cloudflare's edge serves for 502/504, instead of a JSON envelope. */
    readonly html?: boolean
  }
  | Common & { readonly kind: "latency"; readonly latencyMs: number }
  | Common & { readonly kind: "timeout"; readonly holdMs?: number }
  | Common & { readonly kind: "lost"; readonly status?: number; readonly holdMs?: number }
  | Common & {
    readonly kind: "outOfBandDeployment"
    readonly accountId: string
    readonly scriptName: string
    readonly versions: ReadonlyArray<{ readonly version_id: string; readonly percentage: number }>
    readonly message?: string
  }

export interface ArmedFault {
  readonly id: number
  readonly fault: Fault
  remaining: number
}

export const invalidFault = (fault: unknown): string | undefined => {
  if (typeof fault !== "object" || fault === null) return "a fault is an object with a kind"
  const candidate = fault as Partial<Record<string, unknown>>
  const times = candidate.times
  if (times !== undefined && (typeof times !== "number" || !Number.isInteger(times) || times < 1)) {
    return "times must be a positive integer"
  }
  const isServerError = (status: unknown) => typeof status === "number" && status >= 500 && status <= 599
  switch (candidate.kind) {
    case "status":
      return isServerError(candidate.status) ? undefined : "a status fault needs a 5xx status"
    case "latency":
      return typeof candidate.latencyMs === "number" && candidate.latencyMs >= 0 ? undefined : "latencyMs is required"
    case "timeout":
      return undefined
    case "lost":
      return candidate.status === undefined || isServerError(candidate.status) ? undefined : "a lost answer is a 5xx"
    case "outOfBandDeployment":
      return typeof candidate.accountId === "string" && typeof candidate.scriptName === "string" &&
          Array.isArray(candidate.versions)
        ? undefined
        : "an out-of-band deployment needs accountId, scriptName and versions"
    default:
      return `unknown fault kind ${JSON.stringify(candidate.kind)}`
  }
}

export interface Faults {
  readonly arm: (fault: Fault) => ArmedFault
  /** The fault the call consumes, if any. */
  readonly take: (method: string, path: string) => Fault | undefined
  readonly armed: () => ReadonlyArray<ArmedFault>
  readonly clear: () => void
}

export const make = (): Faults => {
  let nextId = 1
  let queue: Array<ArmedFault> = []
  const matches = (match: Match | undefined, method: string, path: string) =>
    (match?.method === undefined || match.method.toUpperCase() === method.toUpperCase()) &&
    (match?.path === undefined || path.includes(match.path))
  return {
    arm: (fault) => {
      const invalid = invalidFault(fault)
      if (invalid !== undefined) throw new Error(invalid)
      const armed: ArmedFault = { id: nextId++, fault, remaining: fault.times ?? 1 }
      queue.push(armed)
      return armed
    },
    take: (method, path) => {
      const armed = queue.find((candidate) => matches(candidate.fault.match, method, path))
      if (armed === undefined) return undefined
      armed.remaining--
      if (armed.remaining === 0) queue = queue.filter((candidate) => candidate !== armed)
      return armed.fault
    },
    armed: () => queue.map((armed) => ({ ...armed })),
    clear: () => {
      queue = []
    }
  }
}
