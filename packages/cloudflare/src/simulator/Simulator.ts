/**
 * `start(options)`: a Cloudflare API simulator listening on loopback, with the control methods
 * tests and demos use to shape it (accounts, tokens, Workers, versions, error and request rates,
 * out-of-band deployments, faults, the clock, call counters). The same operations are served as
 * JSON under `/__sim` (ControlApi) for processes that only have the URL.
 */
import { createServer } from "node:http"
import type { AddressInfo } from "node:net"
import * as AnalyticsQuery from "./AnalyticsQuery.ts"
import * as ApiRoutes from "./ApiRoutes.ts"
import * as ApiServer from "./ApiServer.ts"
import * as CallCounters from "./CallCounters.ts"
import * as ControlApi from "./ControlApi.ts"
import * as Envelope from "./Envelope.ts"
import type { CodeOverrides } from "./ErrorCatalogue.ts"
import * as Faults from "./Faults.ts"
import * as Platform from "./Platform.ts"
import * as RateLimiter from "./RateLimiter.ts"
import * as SimulatorClock from "./SimulatorClock.ts"
import * as TrafficModel from "./TrafficModel.ts"
import * as WireFormat from "./WireFormat.ts"

export interface StartOptions {
  /** 0 (the default) picks a free port. */
  readonly port?: number
  readonly host?: string
  /** Epoch ms; Date.now by default. Drive it from Effect's TestClock in tests. */
  readonly clock?: () => number
  /** Analytics newer than now − delay are not visible yet; 60 s by default. */
  readonly analyticsDelayMs?: number
  readonly rateLimits?: {
    readonly rest?: Partial<RateLimiter.Limit>
    readonly graphql?: Partial<RateLimiter.Limit>
  }
  readonly datasetLimits?: Partial<AnalyticsQuery.DatasetLimits>
  /** Replace the error codes the simulator answers with (see ErrorCatalogue). */
  readonly errorCodes?: CodeOverrides
  /**
   * Sees every answer of `/client/v4` as it leaves (route template, status, body): what a test
   * validates against Cloudflare's schemas while a client or wrangler talks to the simulator.
   */
  readonly onAnswer?: (answer: ApiServer.Answer) => void
}

export interface ScriptRef {
  readonly accountId: string
  readonly scriptName: string
}

export interface CreateScript extends ScriptRef {
  /** The first version's id: a lowercase UUID no other version has; random by default. */
  readonly versionId?: string
  readonly requestsPerMinute?: number
  /** The error rate of the first version. */
  readonly errorRate?: TrafficModel.ErrorRate
  readonly profile?: Partial<TrafficModel.InvocationProfile>
  /** `workers/message` of the first version. */
  readonly message?: string
  /** Epoch ms of the first upload and deployment; now by default (backdate to seed history). */
  readonly at?: number
}

export interface CreateVersion extends ScriptRef {
  /** A lowercase UUID no other version has; random by default. */
  readonly id?: string
  readonly errorRate?: TrafficModel.ErrorRate
  readonly profile?: Partial<TrafficModel.InvocationProfile>
  readonly message?: string
  readonly tag?: string
  readonly source?: Platform.VersionSource
  readonly at?: number
}

export interface DeployOutOfBand extends ScriptRef {
  readonly versions: ReadonlyArray<{ readonly version_id: string; readonly percentage: number }>
  readonly message?: string
  readonly at?: number
}

export type DeploymentJson = ReturnType<typeof WireFormat.deployment>

export interface State {
  readonly now: string
  readonly clockPinned: boolean
  readonly analyticsDelayMs: number
  readonly tokens: ReadonlyArray<{
    readonly id: string
    readonly value: string
    /** `user`, or `account` for an account-owned token. */
    readonly owner: "user" | "account"
    readonly accountIds: ReadonlyArray<string>
  }>
  readonly accounts: ReadonlyArray<{
    readonly id: string
    readonly name: string
    readonly scripts: ReadonlyArray<{
      readonly name: string
      readonly requestsPerMinute: number
      readonly versions: ReadonlyArray<{
        readonly id: string
        readonly number: number
        readonly errorRate: number
        readonly message: string | null
        readonly createdOn: string
      }>
      readonly deployments: ReadonlyArray<DeploymentJson>
    }>
  }>
}

/** What tests and demos can do to the simulated platform, in-process or over `/__sim`. */
export interface Control {
  readonly now: () => number
  /** Pin the clock (epoch ms or an ISO string). */
  readonly setClock: (time: number | string) => void
  readonly advanceClock: (ms: number) => void
  /** Follow the `clock` option again. */
  readonly releaseClock: () => void
  readonly setAnalyticsDelay: (ms: number) => void
  readonly createAccount: (input?: { readonly id?: string; readonly name?: string; readonly ownerEmail?: string }) => {
    readonly id: string
    readonly name: string
  }
  readonly createToken: (input: {
    readonly accountIds: ReadonlyArray<string>
    readonly value?: string
    readonly email?: string
    /** `user` (the default) or `account`: an account-owned token of its one account. */
    readonly owner?: "user" | "account"
  }) => { readonly id: string; readonly value: string }
  /** A Worker with its first version live at 100%, as `wrangler deploy` leaves it. */
  readonly createScript: (input: CreateScript) => {
    readonly scriptName: string
    readonly versionId: string
    readonly deploymentId: string
  }
  /** Upload a version (not deployed). */
  readonly createVersion: (input: CreateVersion) => { readonly id: string; readonly number: number }
  /** From now on; a schedule's `fromSeconds` count from now. */
  readonly setErrorRate: (input: ScriptRef & { readonly versionId: string; readonly errorRate: TrafficModel.ErrorRate }) => void
  readonly setRequestRate: (input: ScriptRef & { readonly requestsPerMinute: number }) => void
  /** A deployment made by hand (source "wrangler"), validated like the API's. */
  readonly deployOutOfBand: (input: DeployOutOfBand) => DeploymentJson
  readonly activeDeployment: (input: ScriptRef) => DeploymentJson | undefined
  readonly injectFault: (fault: Faults.Fault) => { readonly id: number }
  readonly armedFaults: () => ReadonlyArray<Faults.ArmedFault>
  readonly clearFaults: () => void
  readonly counters: () => CallCounters.Counts
  readonly resetCounters: () => void
  readonly resetRateLimits: () => void
  readonly state: () => State
}

export interface Simulator extends Control {
  /** For the SDK's `baseURL`: "http://127.0.0.1:PORT/client/v4". */
  readonly baseUrl: string
  /** "http://127.0.0.1:PORT/__sim". */
  readonly controlUrl: string
  readonly port: number
  readonly close: () => Promise<void>
}

export const defaultAnalyticsDelayMs = 60_000

const toTime = (time: number | string) => typeof time === "number" ? time : Date.parse(time)

const makeControl = (
  platform: Platform.Platform,
  clock: SimulatorClock.SimulatorClock,
  faults: Faults.Faults,
  counters: CallCounters.CallCounters,
  rateLimiter: RateLimiter.RateLimiter,
  analyticsDelay: { ms: number }
): Control => {
  const ownerOf = (accountId: string) => {
    const account = platform.accounts.get(accountId)
    if (account === undefined) throw new Error(`no account ${accountId}`)
    return account.owner
  }
  return {
    now: clock.now,
    setClock: (time) => clock.set(toTime(time)),
    advanceClock: clock.advance,
    releaseClock: clock.release,
    setAnalyticsDelay: (ms) => {
      if (!(ms >= 0)) throw new Error(`the analytics delay must be a non-negative number of ms, got ${ms}`)
      analyticsDelay.ms = ms
    },
    createAccount: (input) => {
      const account = platform.createAccount(input)
      return { id: account.id, name: account.name }
    },
    createToken: (input) => {
      const token = platform.createToken(input)
      return { id: token.id, value: token.value }
    },
    createScript: (input) => {
      const script = platform.createScript(input)
      return { scriptName: script.name, versionId: script.versions[0]!.id, deploymentId: script.deployments[0]!.id }
    },
    createVersion: (input) => {
      const script = platform.requireScript(input.accountId, input.scriptName)
      const version = platform.uploadVersion(script, {
        ...(input.id === undefined ? {} : { id: input.id }),
        source: input.source ?? "wrangler",
        author: ownerOf(input.accountId),
        mainModule: "worker.js",
        modules: [Platform.placeholderModule(`${input.scriptName} v${script.versions.length + 1}`)],
        annotations: {
          ...(input.message === undefined ? {} : { message: input.message }),
          ...(input.tag === undefined ? {} : { tag: input.tag })
        },
        ...(input.errorRate === undefined ? {} : { errorRate: input.errorRate }),
        ...(input.profile === undefined ? {} : { profile: input.profile }),
        ...(input.at === undefined ? {} : { at: input.at })
      })
      return { id: version.id, number: version.number }
    },
    setErrorRate: (input) =>
      platform.setErrorRate(platform.requireScript(input.accountId, input.scriptName), input.versionId, input.errorRate),
    setRequestRate: (input) =>
      platform.setRequestRate(platform.requireScript(input.accountId, input.scriptName), input.requestsPerMinute),
    deployOutOfBand: (input) =>
      WireFormat.deployment(platform.deployByHand(platform.requireScript(input.accountId, input.scriptName), input)),
    activeDeployment: (input) => {
      const active = Platform.activeDeployment(platform.requireScript(input.accountId, input.scriptName))
      return active === undefined ? undefined : WireFormat.deployment(active)
    },
    injectFault: (fault) => ({ id: faults.arm(fault).id }),
    armedFaults: faults.armed,
    clearFaults: faults.clear,
    counters: counters.snapshot,
    resetCounters: counters.reset,
    resetRateLimits: rateLimiter.reset,
    state: () => {
      const now = clock.now()
      return {
        now: new Date(now).toISOString(),
        clockPinned: clock.isPinned(),
        analyticsDelayMs: analyticsDelay.ms,
        tokens: platform.tokens().map((token) => ({
          id: token.id,
          value: token.value,
          owner: token.owner._tag === "Account" ? "account" : "user",
          accountIds: [...token.accountIds]
        })),
        accounts: [...platform.accounts.values()].map((account) => ({
          id: account.id,
          name: account.name,
          scripts: [...account.scripts.values()].map((script) => ({
            name: script.name,
            requestsPerMinute: TrafficModel.valueAt(script.requestRate, now),
            versions: [...script.versions].reverse().map((version) => ({
              id: version.id,
              number: version.number,
              errorRate: TrafficModel.errorRateAt(version.errorRate, now),
              message: version.annotations.message ?? null,
              createdOn: WireFormat.timestamp(version.createdOn)
            })),
            deployments: [...script.deployments].reverse().map(WireFormat.deployment)
          }))
        }))
      }
    }
  }
}

export const start = async (options: StartOptions = {}): Promise<Simulator> => {
  const clock = SimulatorClock.make(options.clock)
  const platform = Platform.make(clock.now)
  const counters = CallCounters.make()
  const faults = Faults.make()
  const rateLimiter = RateLimiter.make({
    rest: { ...RateLimiter.cloudflareLimits.rest, ...options.rateLimits?.rest },
    graphql: { ...RateLimiter.cloudflareLimits.graphql, ...options.rateLimits?.graphql }
  }, clock.now)
  const analyticsDelay = { ms: options.analyticsDelayMs ?? defaultAnalyticsDelayMs }
  const pending = ApiServer.makePending()
  const codes = options.errorCodes ?? {}
  const routes = ApiRoutes.routes({
    platform,
    counters,
    analyticsDelayMs: () => analyticsDelay.ms,
    datasetLimits: { ...AnalyticsQuery.defaultDatasetLimits, ...options.datasetLimits }
  })
  const control = makeControl(platform, clock, faults, counters, rateLimiter, analyticsDelay)
  const deps: ApiServer.Dependencies = {
    platform,
    clock,
    counters,
    faults,
    rateLimiter,
    codes,
    routes,
    pending,
    onAnswer: options.onAnswer ?? (() => {})
  }

  const server = createServer((request, response) => {
    const url = new URL(request.url ?? "/", "http://simulator.invalid")
    const handled = url.pathname.startsWith(`${ControlApi.prefix}/`) || url.pathname === ControlApi.prefix
      ? ControlApi.handle(request, response, url, control)
      : url.pathname.startsWith(`${ApiServer.apiPrefix}/`)
      ? ApiServer.handle(request, response, url, deps)
      : Promise.resolve(ApiServer.send(response, Envelope.errorReply("noRoute", codes)))
    handled.catch((error: unknown) =>
      ApiServer.send(
        response,
        Envelope.errorReply("internalError", codes, error instanceof Error ? error.message : String(error))
      )
    )
  })
  const host = options.host ?? "127.0.0.1"
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject)
    server.listen(options.port ?? 0, host, () => {
      server.off("error", reject)
      resolve()
    })
  })
  const port = (server.address() as AddressInfo).port
  const origin = `http://${host}:${port}`
  return {
    ...control,
    baseUrl: `${origin}${ApiServer.apiPrefix}`,
    controlUrl: `${origin}${ControlApi.prefix}`,
    port,
    close: () =>
      new Promise<void>((resolve, reject) => {
        pending.releaseAll()
        server.close((error) => (error === undefined ? resolve() : reject(error)))
        server.closeAllConnections()
      })
  }
}
