/**
 * The demo account `pnpm sim --seed` serves, also used by the server's sandbox: one account, one
 * token, and two Workers with two hours of history. `storefront` has a candidate version failing
 * 20% of its requests, uploaded but not deployed, ready for a release to catch; `checkout-api`
 * has a healthy candidate.
 */
import type { Control } from "./Simulator.ts"

export interface SeedOptions {
  /** 32 hex characters; random by default. */
  readonly accountId?: string
  /** The API token to issue; random by default. */
  readonly apiToken?: string
  /** `user` (the default) or `account`: the token is the account's own ("Account API token"). */
  readonly tokenOwner?: "user" | "account"
}

export interface SeededVersion {
  readonly id: string
  readonly number: number
  readonly errorRate: number
  readonly message: string
}

export interface SeededScript {
  readonly name: string
  readonly requestsPerMinute: number
  readonly activeVersionId: string
  /** Oldest first. */
  readonly versions: ReadonlyArray<SeededVersion>
}

export interface Seeded {
  readonly accountId: string
  readonly apiToken: string
  readonly scripts: ReadonlyArray<SeededScript>
}

interface Plan {
  readonly name: string
  readonly requestsPerMinute: number
  /** Minutes before now at which each version was uploaded, with its error rate and message. */
  readonly versions: ReadonlyArray<{ readonly minutesAgo: number; readonly errorRate: number; readonly message: string }>
  /** Which version (1-based) is live, and since how many minutes. */
  readonly live: { readonly number: number; readonly minutesAgo: number }
}

const plans: ReadonlyArray<Plan> = [
  {
    name: "storefront",
    requestsPerMinute: 1_200,
    versions: [
      { minutesAgo: 120, errorRate: 0.002, message: "Initial storefront" },
      { minutesAgo: 60, errorRate: 0.003, message: "Faster product pages" },
      { minutesAgo: 10, errorRate: 0.2, message: "Rework the checkout banner" }
    ],
    live: { number: 2, minutesAgo: 55 }
  },
  {
    name: "checkout-api",
    requestsPerMinute: 300,
    versions: [
      { minutesAgo: 120, errorRate: 0.001, message: "Initial checkout API" },
      { minutesAgo: 40, errorRate: 0.001, message: "Retry card authorisations once" },
      { minutesAgo: 5, errorRate: 0.001, message: "Log declined payments" }
    ],
    live: { number: 2, minutesAgo: 30 }
  }
]

export const seed = (control: Control, options: SeedOptions = {}): Seeded => {
  const account = control.createAccount({
    ...(options.accountId === undefined ? {} : { id: options.accountId }),
    name: "CanaryRoll demo",
    ownerEmail: "demo@canaryroll.dev"
  })
  const token = control.createToken({
    accountIds: [account.id],
    ...(options.apiToken === undefined ? {} : { value: options.apiToken }),
    ...(options.tokenOwner === undefined ? {} : { owner: options.tokenOwner })
  })
  const now = control.now()
  const minutesAgo = (minutes: number) => now - minutes * 60_000
  const scripts = plans.map((plan): SeededScript => {
    const ref = { accountId: account.id, scriptName: plan.name }
    const [first, ...later] = plan.versions
    const created = control.createScript({
      ...ref,
      requestsPerMinute: plan.requestsPerMinute,
      errorRate: first!.errorRate,
      message: first!.message,
      at: minutesAgo(first!.minutesAgo)
    })
    const versions: Array<SeededVersion> = [{ id: created.versionId, number: 1, ...first! }]
    // Uploads and the deployment in time order, so the history reads as it happened.
    const events = [
      ...later.map((version) => ({ minutesAgo: version.minutesAgo, upload: version })),
      { minutesAgo: plan.live.minutesAgo, upload: undefined }
    ].sort((a, b) => b.minutesAgo - a.minutesAgo)
    for (const event of events) {
      if (event.upload === undefined) {
        control.deployOutOfBand({
          ...ref,
          versions: [{ version_id: versions[plan.live.number - 1]!.id, percentage: 100 }],
          message: `Deploy version ${plan.live.number}`,
          at: minutesAgo(event.minutesAgo)
        })
      } else {
        const version = control.createVersion({
          ...ref,
          errorRate: event.upload.errorRate,
          message: event.upload.message,
          at: minutesAgo(event.minutesAgo)
        })
        versions.push({ id: version.id, number: version.number, ...event.upload })
      }
    }
    return {
      name: plan.name,
      requestsPerMinute: plan.requestsPerMinute,
      activeVersionId: versions[plan.live.number - 1]!.id,
      versions: versions.map(({ id, number, errorRate, message }) => ({ id, number, errorRate, message }))
    }
  })
  return { accountId: account.id, apiToken: token.value, scripts }
}
