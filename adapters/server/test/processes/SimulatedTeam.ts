/**
 * For tests of whole server processes that must outlive one another: the Cloudflare simulator
 * runs in the test's own process (on the real clock), not inside a server (as the sandbox's does),
 * so stopping a server leaves Cloudflare up for the next. `create` sets up a team on a running
 * server over HTTP, exactly as `TestTeam.create` does in-process, plus a quick plan (two steps of
 * 10 s, checked every 10 s: a healthy release completes in about half a minute).
 */
import * as Simulator from "@canaryroll/cloudflare/simulator"
import { assert } from "@effect/vitest"
import { Effect } from "effect"
import * as TestServer from "../support/TestServer.ts"
import * as TestTeam from "../support/TestTeam.ts"

export const quickPlan = {
  slug: "quick",
  name: "Quick",
  steps: [{ percentage: 50, waitSeconds: 10 }, { percentage: 100, waitSeconds: 10 }],
  health: { intervalSeconds: 10, failuresBeforeAction: 3, maxErrorRate: 0.05, minRequests: 10, analyticsDelaySeconds: 0 }
}

export interface Cloudflare {
  readonly simulator: Simulator.Simulator
  readonly seeded: Simulator.Seeded
}

/** The simulator with its seeded account, busy enough for a verdict at 50% every 10 s. */
export const startCloudflare = async (): Promise<Cloudflare> => {
  const simulator = await Simulator.start({ analyticsDelayMs: 0 })
  const seeded = Simulator.seed(simulator)
  for (const script of seeded.scripts) {
    simulator.setRequestRate({ accountId: seeded.accountId, scriptName: script.name, requestsPerMinute: 1_200 })
  }
  return { simulator, seeded }
}

/** The team on the server at `url` (its Cloudflare account the simulator's), with the quick plan. */
export const create = async (url: string, cloudflare: Cloudflare, slug = "acme") => {
  // TestTeam.create speaks HTTP through `client` and asks the simulator for versions: all it reads.
  const server = { client: TestServer.makeClient(url), simulator: cloudflare.simulator, seeded: cloudflare.seeded } as unknown as TestServer.Running
  const team = await Effect.runPromise(TestTeam.create(server, slug))
  const plan = await fetch(`${url}/api/teams/${slug}/plans`, {
    method: "POST",
    headers: { authorization: `Bearer ${team.tokens.admin}`, "content-type": "application/json" },
    body: JSON.stringify(quickPlan)
  })
  assert.strictEqual(plan.status, 201, `create the quick plan: ${await plan.clone().text()}`)
  return { ...team, quickPlanId: (await plan.json() as { id: string }).id }
}

/** A JSON call with a bearer token; fails the test on anything but 2xx. */
export const call = async (url: string, method: string, route: string, token: string, body?: unknown) => {
  const response = await fetch(`${url}${route}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) })
  })
  const json = await response.json() as any
  assert.isTrue(response.ok, `${method} ${route}: ${response.status} ${JSON.stringify(json)}`)
  return json
}

export const terminal = new Set(["completed", "rolled_back", "failed", "cancelled"])
