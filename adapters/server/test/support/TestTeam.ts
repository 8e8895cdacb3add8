/**
 * A team set up over the API the way a person would: an admin signs up, creates the team, saves
 * the simulator account's Cloudflare token, registers both seeded Workers, creates a fast plan
 * and one team token per role. Tests then act as any of them.
 */
import { assert } from "@effect/vitest"
import { Effect } from "effect"
import type * as TestServer from "./TestServer.ts"

export interface Worker {
  readonly workerId: string
  readonly scriptName: string
  readonly liveVersionId: string
  /** Uploaded, not deployed: a healthy candidate. */
  readonly goodVersionId: string
  /** Uploaded, not deployed: fails 20% of its requests. */
  readonly badVersionId: string
}

export interface Team {
  readonly teamId: string
  readonly slug: string
  readonly adminCookie: string
  readonly adminEmail: string
  readonly adminUserId: string
  readonly tokens: { readonly read_only: string; readonly deploy: string; readonly admin: string }
  readonly tokenIds: { readonly read_only: string; readonly deploy: string; readonly admin: string }
  readonly workers: ReadonlyArray<Worker>
  /** Two steps (50% then 100%), 60 s soak each, checks every 10 s. */
  readonly fastPlanId: string
}

export const fastPlan = {
  slug: "fast",
  name: "Fast",
  steps: [{ percentage: 50, waitSeconds: 60 }, { percentage: 100, waitSeconds: 60 }],
  health: { intervalSeconds: 10, failuresBeforeAction: 3, maxErrorRate: 0.05, minRequests: 10, analyticsDelaySeconds: 0 }
}

/** A simulated account like the seeded one: the same Workers, each with one version live. */
const ownAccount = (simulator: TestServer.Running["simulator"], seeded: TestServer.Running["seeded"], slug: string) => {
  const account = simulator.createAccount({ name: slug })
  const token = simulator.createToken({ accountIds: [account.id] })
  const scripts = seeded.scripts.map((script) => {
    const created = simulator.createScript({ accountId: account.id, scriptName: script.name, requestsPerMinute: script.requestsPerMinute })
    return { ...script, activeVersionId: created.versionId }
  })
  return { accountId: account.id, apiToken: token.value, scripts }
}

export const expectStatus = (response: TestServer.Response, status: number, what: string) =>
  assert.strictEqual(response.status, status, `${what}: ${response.status} ${JSON.stringify(response.body)}`)

export const cookieOf = (response: TestServer.Response) => response.headers.get("set-cookie")!.split(";")[0]!

/** Signs a person up; returns their session cookie and id. */
export const signUp = (server: TestServer.Running, email: string) =>
  Effect.gen(function*() {
    const response = yield* server.client.request("POST", "/api/auth/signup", {
      body: { email, name: email.split("@")[0], password: "correct horse battery staple" }
    })
    expectStatus(response, 201, `sign up ${email}`)
    return { cookie: cookieOf(response), userId: response.body.user.id as string }
  })

/**
 * Creates the team. The first team connects the simulator's seeded account; a Cloudflare account
 * belongs to one team, so others (`account: "own"`) get an account of their own with the same
 * two Workers.
 */
export const create = (server: TestServer.Running, slug = "acme", options: { readonly account?: "seeded" | "own" } = {}) =>
  Effect.gen(function*() {
    const { client, simulator } = server
    const seeded = options.account === "own" ? ownAccount(server.simulator, server.seeded, slug) : server.seeded
    const adminEmail = `admin@${slug}.example`
    const admin = yield* signUp(server, adminEmail)
    const cookie = admin.cookie
    const team = yield* client.request("POST", "/api/teams", { cookie, body: { name: slug.toUpperCase(), slug } })
    expectStatus(team, 201, "create team")
    const base = `/api/teams/${slug}`
    const saved = yield* client.request("PUT", `${base}/cloudflare/accounts/${seeded.accountId}`, {
      cookie,
      body: { apiToken: seeded.apiToken }
    })
    expectStatus(saved, 200, "save Cloudflare token")
    const plan = yield* client.request("POST", `${base}/plans`, { cookie, body: fastPlan })
    expectStatus(plan, 201, "create plan")
    const workers: Array<Worker> = []
    for (const script of seeded.scripts) {
      const registered = yield* client.request("POST", `${base}/workers`, {
        cookie,
        body: { accountId: seeded.accountId, scriptName: script.name, defaultPlanId: "fast" }
      })
      expectStatus(registered, 201, `register ${script.name}`)
      const good = simulator.createVersion({ accountId: seeded.accountId, scriptName: script.name, errorRate: 0.001, message: "good" })
      const bad = simulator.createVersion({ accountId: seeded.accountId, scriptName: script.name, errorRate: 0.2, message: "bad" })
      workers.push({
        workerId: registered.body.id,
        scriptName: script.name,
        liveVersionId: script.activeVersionId,
        goodVersionId: good.id,
        badVersionId: bad.id
      })
    }
    const tokens: Record<string, string> = {}
    const tokenIds: Record<string, string> = {}
    for (const role of ["read_only", "deploy", "admin"] as const) {
      const issued = yield* client.request("POST", `${base}/tokens`, { cookie, body: { name: `ci-${role}`, role } })
      expectStatus(issued, 201, `create ${role} token`)
      tokens[role] = issued.body.token
      tokenIds[role] = issued.body.id
    }
    return {
      teamId: team.body.id,
      slug,
      adminCookie: cookie,
      adminEmail,
      adminUserId: admin.userId,
      tokens: tokens as unknown as Team["tokens"],
      tokenIds: tokenIds as unknown as Team["tokenIds"],
      workers,
      fastPlanId: plan.body.id
    } satisfies Team
  })
