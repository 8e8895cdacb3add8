/**
 * How a Worker's traffic is divided between versions, the way Cloudflare's deployments express
 * it: one or two versions whose percentages sum to 100.
 *
 * @since 0.1.0
 */
import { Schema } from "effect"

export const VersionShare = Schema.Struct({
  versionId: Schema.String,
  percentage: Schema.Finite
})
export type VersionShare = typeof VersionShare.Type

export const TrafficSplit = Schema.Array(VersionShare)
export type TrafficSplit = typeof TrafficSplit.Type

/** A live Cloudflare deployment: its id and the split it serves. */
export const ActiveDeployment = Schema.Struct({
  deploymentId: Schema.String,
  split: TrafficSplit
})
export type ActiveDeployment = typeof ActiveDeployment.Type

export const whole = (versionId: string): TrafficSplit => [{ versionId, percentage: 100 }]

/** The split for a canary step: the canary at `percentage`, the stable version serving the rest. */
export const canaryAt = (canaryVersionId: string, stableVersionId: string, percentage: number): TrafficSplit =>
  percentage >= 100
    ? whole(canaryVersionId)
    : [
      { versionId: canaryVersionId, percentage },
      { versionId: stableVersionId, percentage: round2(100 - percentage) }
    ]

const round2 = (n: number) => Math.round(n * 100) / 100

/**
 * Order-insensitive equality. A version at 0% counts: Cloudflare keeps it in the deployment, and
 * that is what lets version overrides reach a canary in a 0% smoke-test step, so a deployment
 * without it is a different one.
 */
export const equals = (a: TrafficSplit, b: TrafficSplit): boolean => {
  const norm = (s: TrafficSplit) =>
    s.map((share) => `${share.versionId}=${round2(share.percentage)}`)
      .sort()
      .join(",")
  return norm(a) === norm(b)
}

export const percentageOf = (split: TrafficSplit, versionId: string): number =>
  split.filter((share) => share.versionId === versionId).reduce((sum, share) => sum + share.percentage, 0)

/** Why a split is not one Cloudflare would accept, or `undefined` if it is valid. */
export const invalidReason = (split: TrafficSplit): string | undefined => {
  if (split.length < 1 || split.length > 2) return `a deployment has 1 or 2 versions, got ${split.length}`
  if (split.length === 2 && split[0]!.versionId === split[1]!.versionId) return "the two versions must differ"
  if (split.some((share) => share.percentage < 0 || share.percentage > 100)) return "percentages must be between 0 and 100"
  // As Cloudflare: 0, or at least 0.01 with at most two decimals, exactly (no float tolerance).
  const fine = split.find((share) =>
    (share.percentage > 0 && share.percentage < 0.01) || Math.round(share.percentage * 100) / 100 !== share.percentage
  )
  if (fine !== undefined) return `percentages are 0 or 0.01 to 100 with at most two decimals, got ${fine.percentage}`
  // Summed in hundredths: whole numbers, so no float error decides.
  const hundredths = split.reduce((total, share) => total + Math.round(share.percentage * 100), 0)
  if (hundredths !== 10_000) return `percentages must sum to 100, got ${hundredths / 100}`
  return undefined
}

export const describe = (split: TrafficSplit): string =>
  split.map((share) => `${share.versionId} ${share.percentage}%`).join(" / ")
