/**
 * The simulated Cloudflare platform: accounts, API tokens and the accounts they reach, and
 * Workers (scripts) with their versions, deployments and traffic. Every record takes its time
 * from the simulator clock. A script keeps two lists of deployments: the visible one (which
 * `DELETE` edits) and an append-only traffic history, because deleting an old deployment does
 * not undo the requests it served.
 */
import type { TrafficHistory } from "@canaryroll/core"
import { createHash, randomBytes, randomUUID } from "node:crypto"
import type * as Annotations from "./Annotations.ts"
import * as DeploymentRules from "./DeploymentRules.ts"
import { Rejection } from "./ErrorCatalogue.ts"
import * as TrafficModel from "./TrafficModel.ts"

export interface Account {
  readonly id: string
  readonly name: string
  readonly owner: Author
  readonly scripts: Map<string, Script>
}

export interface Author {
  readonly id: string
  readonly email: string
}

/**
 * Who owns a token. A user token belongs to a person and reaches the accounts it was given; it is
 * verified at `GET /user/tokens/verify`. An account-owned token ("Account API token", the kind
 * Cloudflare recommends) belongs to one account and is verified at
 * `GET /accounts/{account_id}/tokens/verify`. Each verify endpoint answers the other kind as an
 * invalid token (401, 1000), as Cloudflare does.
 */
export type TokenOwner =
  | { readonly _tag: "User" }
  | { readonly _tag: "Account"; readonly accountId: string }

export interface ApiToken {
  /** The token's identifier tag, as the verify endpoints report it. */
  readonly id: string
  /** The secret a client sends as `Authorization: Bearer <value>`. */
  readonly value: string
  readonly owner: TokenOwner
  readonly accountIds: ReadonlySet<string>
  readonly author: Author
}

/** `metadata.source` of a version (OAS26 enum, abridged to what the simulator produces). */
export type VersionSource = "api" | "wrangler" | "dash" | "terraform"

export interface Module {
  readonly name: string
  readonly contentType: string
  readonly content: Uint8Array
}

export interface Version {
  readonly id: string
  readonly number: number
  readonly createdOn: number
  readonly source: VersionSource
  readonly author: Author
  readonly annotations: Annotations.Annotations
  readonly mainModule: string
  readonly modules: ReadonlyArray<{ readonly name: string; readonly contentType: string; readonly size: number }>
  readonly etag: string
  readonly compatibilityDate: string
  readonly compatibilityFlags: ReadonlyArray<string>
  readonly bindings: ReadonlyArray<unknown>
  readonly usageModel: string
  readonly startupTimeMs: number
  readonly errorRate: TrafficModel.Timeline<TrafficModel.ErrorRate>
  readonly profile: TrafficModel.InvocationProfile
}

export interface Deployment {
  readonly id: string
  readonly createdOn: number
  /** "api" for the REST API; "wrangler" for out-of-band and initial deployments. */
  readonly source: string
  readonly versions: ReadonlyArray<DeploymentRules.VersionShare>
  readonly message: string | undefined
  readonly author: Author
}

export interface Script {
  readonly name: string
  readonly accountId: string
  /** Oldest first; numbers are sequential from 1. */
  readonly versions: Array<Version>
  /** Oldest first; the last one is active. */
  readonly deployments: Array<Deployment>
  /** Every deployment ever made, oldest first: what served the traffic. */
  readonly history: Array<TrafficHistory.Period>
  readonly requestRate: TrafficModel.Timeline<number>
}

export interface VersionInput {
  /** A UUID not used by any other version; random by default (tests that need ids up front). */
  readonly id?: string
  readonly source: VersionSource
  readonly author: Author
  readonly annotations?: Annotations.Annotations
  readonly mainModule: string
  readonly modules: ReadonlyArray<Module>
  readonly compatibilityDate?: string
  readonly compatibilityFlags?: ReadonlyArray<string>
  readonly bindings?: ReadonlyArray<unknown>
  readonly usageModel?: string
  readonly errorRate?: TrafficModel.ErrorRate
  readonly profile?: Partial<TrafficModel.InvocationProfile>
  /** Epoch ms; defaults to now. */
  readonly at?: number
}

export interface DeploymentInput {
  readonly request: DeploymentRules.DeploymentRequest
  readonly source: string
  readonly author: Author
  readonly at?: number
}

export interface ScriptInput {
  readonly accountId: string
  readonly scriptName: string
  /** The id of the first version (see `VersionInput.id`). */
  readonly versionId?: string
  readonly requestsPerMinute?: number
  readonly errorRate?: TrafficModel.ErrorRate
  readonly profile?: Partial<TrafficModel.InvocationProfile>
  /** `workers/message` of the first version. */
  readonly message?: string
  readonly at?: number
}

/** `{script_name}` in OAS24. */
export const scriptNamePattern = /^[a-z0-9_][a-z0-9-_]*$/
export const accountIdPattern = /^[0-9a-f]{32}$/
/** Version and deployment ids: lowercase UUIDs (OAS26 `format: uuid`). */
export const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/

/** Uploads that omit it get the oldest date before any compatibility flag took effect (docs). */
export const defaultCompatibilityDate = "2021-11-02"
export const defaultRequestsPerMinute = 600

export const hex32 = () => randomBytes(16).toString("hex")

/** 40 characters, like Cloudflare API tokens. */
const tokenValue = () => randomBytes(30).toString("base64url")

export const activeDeployment = (script: Script): Deployment | undefined => script.deployments.at(-1)

export const findVersion = (script: Script, versionId: string): Version | undefined =>
  script.versions.find((version) => version.id === versionId)

/** A module that answers with its version number, for versions made outside an upload. */
export const placeholderModule = (label: string): Module => ({
  name: "worker.js",
  contentType: "application/javascript+module",
  content: new TextEncoder().encode(`export default { fetch() { return new Response(${JSON.stringify(label)}) } }\n`)
})

export interface Platform {
  readonly accounts: ReadonlyMap<string, Account>
  readonly createAccount: (input?: { readonly id?: string; readonly name?: string; readonly ownerEmail?: string }) => Account
  readonly createToken: (input: {
    readonly accountIds: ReadonlyArray<string>
    readonly value?: string
    readonly email?: string
    /** `user` (the default) or `account`: an account-owned token of its one account. */
    readonly owner?: "user" | "account"
  }) => ApiToken
  readonly tokenByValue: (value: string) => ApiToken | undefined
  readonly tokens: () => ReadonlyArray<ApiToken>
  readonly findScript: (accountId: string, scriptName: string) => Script | undefined
  /** A script as the control API names it; throws a plain Error when it does not exist. */
  readonly requireScript: (accountId: string, scriptName: string) => Script
  readonly createScript: (input: ScriptInput) => Script
  readonly uploadVersion: (script: Script, input: VersionInput) => Version
  /** Validate a deployment body by Cloudflare's rules and make it live. */
  readonly deploy: (script: Script, body: unknown, by: Omit<DeploymentInput, "request">) => Deployment
  /** What `wrangler versions deploy` does by hand: the same rules, `source: "wrangler"`. */
  readonly deployByHand: (script: Script, input: {
    readonly versions: ReadonlyArray<DeploymentRules.VersionShare>
    readonly message?: string
    readonly at?: number
  }) => Deployment
  readonly deleteDeployment: (script: Script, deploymentId: string) => void
  readonly setErrorRate: (script: Script, versionId: string, rate: TrafficModel.ErrorRate) => void
  readonly setRequestRate: (script: Script, requestsPerMinute: number) => void
}

export const make = (now: () => number): Platform => {
  const accounts = new Map<string, Account>()
  const tokens = new Map<string, ApiToken>()

  const requireAccount = (accountId: string): Account => {
    const account = accounts.get(accountId)
    if (account === undefined) throw new Error(`no account ${accountId}`)
    return account
  }

  // The traffic history must stay in creation order even if a pinned clock is set back.
  const stamp = (script: Script, at: number | undefined) => {
    const latest = Math.max(
      script.versions.at(-1)?.createdOn ?? -Infinity,
      script.history.at(-1)?.createdAt ?? -Infinity
    )
    return Math.max(at ?? now(), latest)
  }

  const versionExists = (versionId: string) =>
    [...accounts.values()].some((account) =>
      [...account.scripts.values()].some((script) => findVersion(script, versionId) !== undefined)
    )

  const uploadVersion = (script: Script, input: VersionInput): Version => {
    const rate = input.errorRate ?? 0
    const invalid = TrafficModel.invalidErrorRate(rate)
    if (invalid !== undefined) throw new Error(invalid)
    if (input.id !== undefined) {
      if (!uuidPattern.test(input.id)) throw new Error(`a version id is a lowercase UUID, got ${input.id}`)
      if (versionExists(input.id)) throw new Error(`version ${input.id} exists`)
    }
    const createdOn = stamp(script, input.at)
    const hash = createHash("sha256")
    for (const module of input.modules) hash.update(module.name).update(module.content)
    const totalBytes = input.modules.reduce((sum, module) => sum + module.content.byteLength, 0)
    const version: Version = {
      id: input.id ?? randomUUID(),
      number: script.versions.length + 1,
      createdOn,
      source: input.source,
      author: input.author,
      annotations: input.annotations ?? {},
      mainModule: input.mainModule,
      modules: input.modules.map((module) => ({
        name: module.name,
        contentType: module.contentType,
        size: module.content.byteLength
      })),
      etag: hash.digest("hex"),
      compatibilityDate: input.compatibilityDate ?? defaultCompatibilityDate,
      compatibilityFlags: input.compatibilityFlags ?? [],
      bindings: input.bindings ?? [],
      usageModel: input.usageModel ?? "standard",
      // A plausible figure that grows with the bundle, like a real startup would.
      startupTimeMs: 4 + Math.round(totalBytes / 2048),
      errorRate: TrafficModel.timeline(createdOn, rate),
      profile: { ...TrafficModel.defaultProfile, ...input.profile }
    }
    script.versions.push(version)
    return version
  }

  const record = (script: Script, input: DeploymentInput): Deployment => {
    const createdOn = stamp(script, input.at)
    const deployment: Deployment = {
      id: randomUUID(),
      createdOn,
      source: input.source,
      versions: input.request.versions,
      message: input.request.annotations.message,
      author: input.author
    }
    script.deployments.push(deployment)
    script.history.push({
      createdAt: createdOn,
      split: deployment.versions.map((share) => ({ versionId: share.version_id, percentage: share.percentage }))
    })
    return deployment
  }

  const platform: Platform = {
    accounts,
    createAccount: (input = {}) => {
      const id = input.id ?? hex32()
      if (!accountIdPattern.test(id)) throw new Error(`an account id is 32 lowercase hex characters, got ${id}`)
      if (accounts.has(id)) throw new Error(`account ${id} exists`)
      const account: Account = {
        id,
        name: input.name ?? `Account ${id.slice(0, 6)}`,
        owner: { id: hex32(), email: input.ownerEmail ?? "owner@example.com" },
        scripts: new Map()
      }
      accounts.set(id, account)
      return account
    },
    createToken: (input) => {
      for (const accountId of input.accountIds) requireAccount(accountId)
      const owner = input.owner ?? "user"
      if (owner !== "user" && owner !== "account") throw new Error(`a token's owner is "user" or "account", got ${JSON.stringify(owner)}`)
      if (owner === "account" && input.accountIds.length !== 1) {
        throw new Error(`an account-owned token belongs to exactly one account, got ${input.accountIds.length}`)
      }
      const value = input.value ?? tokenValue()
      if (!/^[A-Za-z0-9_-]+$/.test(value)) throw new Error("a token value is letters, digits, _ and - only")
      if (tokens.has(value)) throw new Error("that token value is taken")
      const firstAccount = input.accountIds[0] === undefined ? undefined : accounts.get(input.accountIds[0])
      const token: ApiToken = {
        id: hex32(),
        value,
        owner: owner === "account" ? { _tag: "Account", accountId: input.accountIds[0]! } : { _tag: "User" },
        accountIds: new Set(input.accountIds),
        author: { id: firstAccount?.owner.id ?? hex32(), email: input.email ?? firstAccount?.owner.email ?? "owner@example.com" }
      }
      tokens.set(value, token)
      return token
    },
    tokenByValue: (value) => tokens.get(value),
    tokens: () => [...tokens.values()],
    findScript: (accountId, scriptName) => accounts.get(accountId)?.scripts.get(scriptName),
    requireScript: (accountId, scriptName) => {
      const script = requireAccount(accountId).scripts.get(scriptName)
      if (script === undefined) throw new Error(`no Worker ${scriptName} in account ${accountId}`)
      return script
    },
    createScript: (input) => {
      const account = requireAccount(input.accountId)
      if (!scriptNamePattern.test(input.scriptName)) {
        throw new Error(`a Worker name matches ${scriptNamePattern}, got ${input.scriptName}`)
      }
      if (account.scripts.has(input.scriptName)) throw new Error(`Worker ${input.scriptName} exists`)
      const rpm = input.requestsPerMinute ?? defaultRequestsPerMinute
      const invalid = TrafficModel.invalidRequestRate(rpm)
      if (invalid !== undefined) throw new Error(invalid)
      const at = input.at ?? now()
      const script: Script = {
        name: input.scriptName,
        accountId: account.id,
        versions: [],
        deployments: [],
        history: [],
        requestRate: TrafficModel.timeline(at, rpm)
      }
      // Only `wrangler deploy` can create a Worker: its first version goes live at once.
      const first = uploadVersion(script, {
        ...(input.versionId === undefined ? {} : { id: input.versionId }),
        source: "wrangler",
        author: account.owner,
        mainModule: "worker.js",
        modules: [placeholderModule(`${input.scriptName} v1`)],
        ...(input.message === undefined ? {} : { annotations: { message: input.message } }),
        ...(input.errorRate === undefined ? {} : { errorRate: input.errorRate }),
        ...(input.profile === undefined ? {} : { profile: input.profile }),
        at
      })
      record(script, {
        request: { versions: [{ version_id: first.id, percentage: 100 }], annotations: {} },
        source: "wrangler",
        author: account.owner,
        at
      })
      account.scripts.set(script.name, script)
      return script
    },
    uploadVersion,
    deploy: (script, body, by) => {
      const request = DeploymentRules.check(body, script.name, script.versions.map((version) => version.id))
      return record(script, { ...by, request })
    },
    deployByHand: (script, input) =>
      platform.deploy(script, {
        strategy: "percentage",
        versions: input.versions,
        ...(input.message === undefined ? {} : { annotations: { "workers/message": input.message } })
      }, { source: "wrangler", author: requireAccount(script.accountId).owner, ...(input.at === undefined ? {} : { at: input.at }) }),
    deleteDeployment: (script, deploymentId) => {
      const index = script.deployments.findIndex((deployment) => deployment.id === deploymentId)
      if (index < 0) throw new Rejection("deploymentNotFound")
      if (index === script.deployments.length - 1) throw new Rejection("activeDeploymentNotDeletable")
      script.deployments.splice(index, 1)
    },
    setErrorRate: (script, versionId, rate) => {
      const version = findVersion(script, versionId)
      if (version === undefined) throw new Error(`no version ${versionId} on Worker ${script.name}`)
      const invalid = TrafficModel.invalidErrorRate(rate)
      if (invalid !== undefined) throw new Error(invalid)
      TrafficModel.change(version.errorRate, now(), rate)
    },
    setRequestRate: (script, requestsPerMinute) => {
      const invalid = TrafficModel.invalidRequestRate(requestsPerMinute)
      if (invalid !== undefined) throw new Error(invalid)
      TrafficModel.change(script.requestRate, now(), requestsPerMinute)
    }
  }
  return platform
}
