/**
 * Versions and deployments as Cloudflare's JSON shows them: `workers_version-item-short/full/
 * uploaded` and `workers_deployment` (OAS26, OAS24 where OAS26 is missing). Versions also carry
 * the top-level `annotations` that real responses have and the schemas leave out (wrangler reads
 * `annotations["workers/message"]` from them). A Worker as a *service* (what wrangler reads before
 * `versions upload`) has no published schema: its shape is what wrangler 4 reads from it.
 */
import { createHash } from "node:crypto"
import { defaultCompatibilityDate, type Deployment, type Script, type Version } from "./Platform.ts"

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

/** A Worker's tag: 32 hex characters, stable for the account and name (**invented** derivation). */
export const workerTag = (script: Script) =>
  createHash("sha256").update(`${script.accountId}/${script.name}`).digest("hex").slice(0, 32)

/**
 * `GET …/workers/services/{name}`: wrangler reads `default_environment.script.tag`, `.tags` and
 * `.last_deployed_from` (a Worker last deployed from the dashboard makes it compare settings).
 */
export const service = (script: Script) => {
  const first = script.versions[0]?.createdOn ?? 0
  const last = script.versions.at(-1)?.createdOn ?? first
  return {
    id: script.name,
    default_environment: {
      environment: "production",
      created_on: timestamp(first),
      modified_on: timestamp(last),
      script: {
        id: script.name,
        tag: workerTag(script),
        tags: null,
        etag: script.versions.at(-1)?.etag ?? "",
        handlers: ["fetch"],
        created_on: timestamp(first),
        modified_on: timestamp(last),
        last_deployed_from: "wrangler",
        usage_model: "standard"
      }
    },
    created_on: timestamp(first),
    modified_on: timestamp(last),
    usage_model: "standard",
    environments: [{ environment: "production", created_on: timestamp(first), modified_on: timestamp(last) }]
  }
}

/**
 * `GET …/scripts/{name}/settings` (SDK `scripts.settings.get`, `workers_script-settings-response`):
 * the bindings and runtime settings of the newest version (**invented**: which version Cloudflare
 * reports during a gradual deployment is not published). wrangler reads `bindings` before an
 * upload to see which resources already exist, and carries on without them when this fails.
 */
export const scriptSettings = (script: Script) => {
  const newest = script.versions.at(-1)
  return {
    bindings: newest?.bindings ?? [],
    compatibility_date: newest?.compatibilityDate ?? defaultCompatibilityDate,
    compatibility_flags: newest?.compatibilityFlags ?? [],
    logpush: false,
    // Observability off, as a Worker has it until someone turns it on: an object whatever its
    // state (`workers_observability`, `enabled` required). No `placement`: the schema's object
    // always names a mode, region or host, and a Worker without Smart Placement has none.
    observability: { enabled: false, head_sampling_rate: 1, logs: null },
    tags: [],
    tail_consumers: [],
    usage_model: newest?.usageModel ?? "standard"
  }
}
