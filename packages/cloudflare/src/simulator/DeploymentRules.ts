/**
 * Cloudflare's rules for a new deployment, checked in the order a reader would: strategy
 * "percentage"; one or two versions (docs and wrangler: "one or two"); each version listed once,
 * known to this Worker and among its 100 most recent uploads; each percentage 0 or in
 * [0.01, 100] (the schemas' `minimum: 0.01`, `maximum: 100`; 0 is allowed, as the
 * version-overrides docs use it) with at most two decimals (inferred: no published precision);
 * the total exactly 100, counted in hundredths. A violation is an HTTP 400 naming the first
 * problem; the messages are ours, since Cloudflare's are not published.
 */
import * as Annotations from "./Annotations.ts"
import { Rejection } from "./ErrorCatalogue.ts"

export const maxVersions = 2
export const deployableVersions = 100
/** The smallest share other than 0 (OAS24 and OAS26 `minimum: 0.01`; Terraform's `Between(0.01, 100)`). */
export const minPercentage = 0.01

/**
 * `percentage` as a whole number of hundredths, or undefined if it has more than two decimals.
 * A two-decimal value is the double nearest some k/100, and k/100 (correctly rounded) gives it
 * back; anything else, 1e-11 or 50.000000000001, does not.
 */
export const hundredths = (percentage: number): number | undefined => {
  const k = Math.round(percentage * 100)
  return k / 100 === percentage ? k : undefined
}

export interface VersionShare {
  readonly version_id: string
  readonly percentage: number
}

export interface DeploymentRequest {
  readonly versions: ReadonlyArray<VersionShare>
  readonly annotations: Annotations.Annotations
}

const refuse = (detail: string): never => {
  throw new Rejection("invalidDeployment", detail)
}

/**
 * Check a `POST .../deployments` body against the Worker's versions (newest last, as uploaded).
 * Returns the deployment to create or throws a Rejection.
 */
export const check = (
  body: unknown,
  scriptName: string,
  uploadedVersionIds: ReadonlyArray<string>
): DeploymentRequest => {
  if (typeof body !== "object" || body === null || Array.isArray(body)) refuse("the request body must be a JSON object")
  const record = body as Record<string, unknown>
  if (record.strategy !== "percentage") refuse(`strategy must be "percentage", got ${JSON.stringify(record.strategy)}`)
  // Cohort-based deployments are a beta outside the SDK and the schemas: refuse rather than ignore.
  if (record.cohorts !== undefined) refuse("cohorts are not supported")
  const versions = record.versions
  if (!Array.isArray(versions) || versions.length === 0) refuse("versions must list 1 or 2 versions")
  const list = versions as ReadonlyArray<unknown>
  if (list.length > maxVersions) {
    refuse(`a deployment can consist of at most ${maxVersions} versions, got ${list.length}`)
  }
  const shares = list.map((entry, index): VersionShare => {
    if (typeof entry !== "object" || entry === null) return refuse(`versions[${index}] must be an object`)
    const { version_id, percentage } = entry as Record<string, unknown>
    if (typeof version_id !== "string") return refuse(`versions[${index}].version_id must be a string`)
    if (typeof percentage !== "number" || !Number.isFinite(percentage)) {
      return refuse(`versions[${index}].percentage must be a number`)
    }
    return { version_id, percentage }
  })
  const seen = new Set<string>()
  for (const share of shares) {
    if (seen.has(share.version_id)) refuse(`version ${share.version_id} is listed more than once`)
    seen.add(share.version_id)
  }
  const inHundredths = shares.map((share, index) => {
    const { percentage } = share
    if (percentage !== 0 && !(percentage >= minPercentage && percentage <= 100)) {
      refuse(`versions[${index}].percentage must be 0 or between ${minPercentage} and 100, got ${percentage}`)
    }
    return hundredths(percentage) ??
      refuse(`versions[${index}].percentage must have at most two decimal places, got ${percentage}`)
  })
  // In whole hundredths the total is exact: no tolerance is needed (wrangler's ± 0.001 is a
  // client-side check; with two decimals it admits nothing but 100 anyway).
  const total = inHundredths.reduce((sum, k) => sum + k, 0)
  if (total !== 100 * 100) refuse(`percentages must total 100, got ${total / 100}`)
  const recent = new Set(uploadedVersionIds.slice(-deployableVersions))
  const known = new Set(uploadedVersionIds)
  for (const share of shares) {
    if (!known.has(share.version_id)) refuse(`version ${share.version_id} does not exist on Worker ${scriptName}`)
    if (!recent.has(share.version_id)) {
      refuse(
        `version ${share.version_id} is not one of the ${deployableVersions} most recent versions of Worker ${scriptName}`
      )
    }
  }
  return { versions: shares, annotations: Annotations.read(record.annotations, "invalidDeployment") }
}
