/**
 * Versions and deployments as Cloudflare's JSON shows them: `workers_version-item-short/full/
 * uploaded` and `workers_deployment` (OAS26, OAS24 where OAS26 is missing). Versions also carry
 * the top-level `annotations` that real responses have and the schemas leave out (wrangler reads
 * `annotations["workers/message"]` from them).
 */
import type { Deployment, Version } from "./Platform.ts"

/** Cloudflare writes microseconds: "2022-11-08T17:19:29.176266Z". */
export const timestamp = (epochMs: number): string => new Date(epochMs).toISOString().replace("Z", "000Z")

const versionAnnotations = (version: Version) => ({
  "workers/triggered_by": "upload",
  ...(version.annotations.message === undefined ? {} : { "workers/message": version.annotations.message }),
  ...(version.annotations.tag === undefined ? {} : { "workers/tag": version.annotations.tag })
})

export const versionShort = (version: Version) => ({
  id: version.id,
  number: version.number,
  metadata: {
    author_email: version.author.email,
    author_id: version.author.id,
    created_on: timestamp(version.createdOn),
    modified_on: timestamp(version.createdOn),
    source: version.source,
    hasPreview: false
  },
  annotations: versionAnnotations(version)
})

export const versionFull = (version: Version) => ({
  ...versionShort(version),
  resources: {
    bindings: version.bindings,
    script: {
      etag: version.etag,
      // The simulator does not run the code; every Worker is taken to export a fetch handler.
      handlers: ["fetch"],
      last_deployed_from: version.source
    },
    script_runtime: {
      compatibility_date: version.compatibilityDate,
      compatibility_flags: version.compatibilityFlags,
      usage_model: version.usageModel
    }
  }
})

export const versionUploaded = (version: Version) => ({
  ...versionFull(version),
  startup_time_ms: version.startupTimeMs
})

export const deployment = (deployment: Deployment) => ({
  id: deployment.id,
  source: deployment.source,
  strategy: "percentage",
  versions: deployment.versions.map((share) => ({ version_id: share.version_id, percentage: share.percentage })),
  created_on: timestamp(deployment.createdOn),
  author_email: deployment.author.email,
  annotations: {
    ...(deployment.message === undefined ? {} : { "workers/message": deployment.message }),
    "workers/triggered_by": "deployment"
  }
})
