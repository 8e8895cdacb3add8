/**
 * The sandbox `pnpm start` runs when no real Cloudflare credentials are configured: the Cloudflare
 * simulator in-process (two Workers with traffic), and a demo team to try CanaryRoll with — an
 * admin, a `deploy` team token, both Workers registered, each with a good and a bad (20% errors)
 * candidate version, and a demo plan that finishes in about a minute.
 *
 * Seeding is idempotent: on a database that already has the demo team (a restart), the team,
 * its Workers and plan are kept; the simulator is re-created with the same account id, the
 * sandbox credentials point at it, the admin gets a fresh password and a new token is issued.
 *
 * The admin password and the token are written to `sandbox.json` (mode 0600), never printed.
 *
 * @since 0.1.0
 */
import * as Simulator from "@canaryroll/cloudflare/simulator"
import {
  ApiTokens,
  AuditLog,
  CloudflareAccounts as CloudflareAccountsPort,
  People,
  Plans,
  Storage as AppStorage,
  Teams,
  Workers
} from "@canaryroll/app"
import { Actor, Plan } from "@canaryroll/core"
import { Clock, Effect, Option, Redacted } from "effect"
import * as fs from "node:fs/promises"
import * as path from "node:path"
import * as ApiToken from "./security/ApiToken.ts"
import * as PasswordHash from "./security/PasswordHash.ts"
import type { ServerConfig } from "./ServerConfig.ts"
import * as CloudflareAccounts from "@canaryroll/app/http/store/CloudflareAccounts"

export const teamSlug = "demo"
export const adminEmail = "admin@canaryroll.dev"

/** Analytics the simulator shows after 5 s (Cloudflare: about a minute), so the demo is quick. */
export const analyticsDelayMs = 5_000

/** Three steps of 20 s, checked every 10 s: a healthy release completes in about a minute. */
export const demoPlan = Plan.make({
  steps: [
    { percentage: 10, waitSeconds: 20 },
    { percentage: 50, waitSeconds: 20 },
    { percentage: 100, waitSeconds: 20 }
  ],
  health: {
    intervalSeconds: 10,
    failuresBeforeAction: 3,
    maxErrorRate: 0.05,
    minRequests: 10,
    analyticsDelaySeconds: analyticsDelayMs / 1000
  }
})

export interface SandboxWorker {
  readonly workerId: string
  readonly scriptName: string
  readonly liveVersionId: string
  readonly goodVersionId: string
  readonly badVersionId: string
  readonly planId: string
}

/** What `.canaryroll/sandbox.json` holds, and what `pnpm start` prints. */
export interface SandboxDetails {
  readonly url: string
  readonly teamId: string
  readonly teamSlug: string
  readonly adminEmail: string
  readonly adminPassword: string
  readonly teamToken: string
  readonly accountId: string
  readonly cloudflareApiBaseUrl: string
  readonly workers: ReadonlyArray<SandboxWorker>
}

/** Starts the simulator, reusing the account id of earlier sandbox credentials if there are any. */
export const startSimulator = Effect.gen(function*() {
  const earlier = yield* CloudflareAccountsPort.CloudflareAccounts.use((accounts) => accounts.latestSandbox)
  const simulator = yield* Effect.acquireRelease(
    Effect.promise(() => Simulator.start({ analyticsDelayMs })),
    (simulator) => Effect.promise(() => simulator.close())
  )
  const seeded = Simulator.seed(simulator, Option.isNone(earlier) ? {} : { accountId: earlier.value.accountId })
  // Enough traffic that even the first 10% step sees enough requests for a verdict every 10 s.
  for (const script of seeded.scripts) {
    simulator.setRequestRate({ accountId: seeded.accountId, scriptName: script.name, requestsPerMinute: 1_200 })
  }
  return { simulator, seeded }
})

const randomPassword = () => Buffer.from(crypto.getRandomValues(new Uint8Array(12))).toString("base64url")

/** Creates (or refreshes) the demo team; needs the simulator from `startSimulator`. */
export const seed = Effect.fnUntraced(function*(
  config: ServerConfig,
  { seeded, simulator }: { readonly simulator: Simulator.Simulator; readonly seeded: Simulator.Seeded }
) {
  const transactions = yield* AppStorage.Transactions
  const now = new Date(yield* Clock.currentTimeMillis)
  const adminPassword = randomPassword()
  const passwordHash = yield* PasswordHash.hash(Redacted.make(adminPassword), config.passwordParameters)
  const people = yield* People.People
  const teams = yield* Teams.Teams
  const tokens = yield* ApiTokens.ApiTokens
  return yield* Effect.gen(function*() {
    const existing = yield* people.byEmail(adminEmail)
    if (Option.isSome(existing)) yield* people.updatePasswordHash(existing.value.person.id, passwordHash)
    const admin = Option.isSome(existing)
      ? existing.value
      : yield* people.create({ email: adminEmail, name: "Sandbox admin", passwordHash, now: now.getTime() })
    const adminId = admin.person.id
    const actor = Actor.user(adminId, adminEmail)
    const audit = (type: AuditLog.ChangeType, teamId: string, sentence: string, details: Record<string, unknown>) =>
      AuditLog.record({ teamId, type, actor, at: now.getTime(), sentence, details })

    let team = yield* teams.byRef(teamSlug)
    if (Option.isNone(team)) {
      team = Option.some(yield* teams.create({ name: "CanaryRoll demo", slug: teamSlug, adminUserId: adminId, now: now.getTime() }))
      const teamId = Option.getOrThrow(team).id
      yield* Plans.createStandard(teamId, now.getTime())
      yield* audit("TeamCreated", teamId, `${adminEmail} created the team CanaryRoll demo (demo)`, { slug: teamSlug })
    }
    const teamId = Option.getOrThrow(team).id
    // Back in the team if someone removed them (already a member: nothing to do).
    yield* teams.addMember(teamId, adminId, "admin", now.getTime()).pipe(Effect.catchTag("AlreadyMember", () => Effect.void))

    const plans = yield* Plans.Plans
    let plan = yield* plans.find(teamId, "demo")
    if (Option.isNone(plan)) {
      plan = Option.some(
        yield* Effect.orDie(plans.create({ teamId, slug: "demo", name: "Demo (about a minute)", plan: demoPlan, now: now.getTime() }))
      )
      yield* audit("PlanCreated", teamId, `${adminEmail} created the plan Demo (10% → 50% → 100%)`, { slug: "demo" })
    }
    const planId = Option.getOrThrow(plan).id

    yield* Effect.orDie(CloudflareAccounts.save({
      teamId,
      accountId: seeded.accountId,
      apiToken: Redacted.make(seeded.apiToken),
      baseUrl: simulator.baseUrl,
      sandbox: true,
      now
    }))
    yield* audit(
      "CloudflareCredentialsSaved",
      teamId,
      `${adminEmail} connected the sandbox's simulated Cloudflare account ${seeded.accountId}`,
      { accountId: seeded.accountId, sandbox: true }
    )

    const workers: Array<SandboxWorker> = []
    const workersPort = yield* Workers.Workers
    const registered = yield* workersPort.list(teamId)
    for (const script of seeded.scripts) {
      const existing = registered.find((worker) =>
        worker.accountId === seeded.accountId && worker.scriptName === script.name
      )
      const worker = existing ?? (yield* Effect.orDie(workersPort.register({
        teamId,
        accountId: seeded.accountId,
        scriptName: script.name,
        defaultPlanId: planId,
        healthPolicy: null,
        now: now.getTime()
      })))
      if (existing === undefined) {
        yield* audit("WorkerRegistered", teamId, `${adminEmail} registered the Worker ${script.name}`, { workerId: worker.id })
      }
      const ref = { accountId: seeded.accountId, scriptName: script.name }
      const good = simulator.createVersion({ ...ref, errorRate: 0.002, message: "Sandbox: a good version" })
      const bad = simulator.createVersion({ ...ref, errorRate: 0.2, message: "Sandbox: a bad version (20% errors)" })
      workers.push({
        workerId: worker.id,
        scriptName: script.name,
        liveVersionId: script.activeVersionId,
        goodVersionId: good.id,
        badVersionId: bad.id,
        planId
      })
    }

    const minted = yield* ApiToken.issue("team")
    const created = yield* tokens.createTeamToken({
      teamId,
      name: "sandbox deploy",
      role: "deploy",
      createdBy: adminEmail,
      hash: minted.hash,
      display: minted.display,
      now: now.getTime()
    })
    const token = { ...created, token: Redacted.value(minted.token) }
    yield* audit("TeamTokenCreated", teamId, `${adminEmail} created the team token sandbox deploy (deploy, ${token.display})`, {
      tokenId: token.id,
      display: token.display,
      role: "deploy"
    })
    return {
      url: config.publicUrl,
      teamId,
      teamSlug,
      adminEmail,
      adminPassword,
      teamToken: token.token,
      accountId: seeded.accountId,
      cloudflareApiBaseUrl: simulator.baseUrl,
      workers
    } satisfies SandboxDetails
  }).pipe(transactions.atomically)
})

/** `text` as one shell word (single-quoted unless it needs no quoting). */
const shellWord = (text: string) => /^[\w./-]+$/.test(text) ? text : `'${text.replaceAll("'", `'\\''`)}'`

/**
 * What `pnpm start` prints for a person. Never the admin password or the deploy token: a
 * terminal's output ends up in scrollback, screen shares and CI logs. Both are in `file`
 * (readable by its owner only), and the commands read the token from there.
 */
export const describe = (details: SandboxDetails, file: string) => {
  const worker = details.workers[0]!
  const base = `${details.url}/api/teams/${details.teamSlug}`
  const read = (field: keyof SandboxDetails) =>
    `node -p 'JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).${field}' ${shellWord(file)}`
  return [
    `CanaryRoll sandbox (simulated Cloudflare account ${details.accountId}) is running at ${details.url}`,
    ``,
    `  API docs       ${details.url}/api/docs`,
    `  Team           ${details.teamSlug} (${details.teamId})`,
    `  Admin          ${details.adminEmail} (password: "adminPassword" in ${file})`,
    `  Deploy token   "teamToken" in ${file}`,
    ...details.workers.map((w) =>
      `  Worker         ${w.scriptName} (${w.workerId}): good ${w.goodVersionId}, bad ${w.badVersionId}`
    ),
    ``,
    `Try a release (the demo plan takes about a minute; the bad version is rolled back):`,
    ``,
    `  TOKEN=$(${read("teamToken")})`,
    `  curl -s -X POST ${base}/deployments/workers/${worker.workerId}/deployments \\`,
    `    -H "Authorization: Bearer $TOKEN" -H "Content-Type: application/json" \\`,
    `    -d '{"versionId":"${worker.goodVersionId}"}'`,
    `  curl -s -X POST ${base}/deployments/<id>/start -H "Authorization: Bearer $TOKEN"`,
    ``,
    `These details are in ${file}, readable only by you (it holds the admin password and the deploy token).`
  ].join("\n")
}

/**
 * Writes the details to `file` with mode 0600. A file left from an earlier run keeps its mode
 * when it is opened, so it is narrowed to 0600 before the secrets are written into it.
 */
export const writeDetails = (file: string, details: SandboxDetails) =>
  Effect.promise(async () => {
    await fs.mkdir(path.dirname(file), { recursive: true, mode: 0o700 })
    const handle = await fs.open(file, "w", 0o600)
    try {
      await handle.chmod(0o600)
      await handle.writeFile(`${JSON.stringify(details, null, 2)}\n`)
    } finally {
      await handle.close()
    }
  })
