/**
 * What the Cloudflare accounts, Workers and plans contract suites share: the services under test
 * (the three ports agree on one storage, with `Transactions` and a `NewTeam`), the clock, and
 * helpers that connect an account, make a plan and register a Worker.
 *
 * @since 0.2.0
 */
import { Plan } from "@canaryroll/core"
import { it } from "@effect/vitest"
import { Effect, type Layer } from "effect"
import { TestClock } from "effect/testing"
import * as CloudflareAccounts from "../../src/directory/CloudflareAccounts.ts"
import * as Plans from "../../src/directory/Plans.ts"
import * as Workers from "../../src/directory/Workers.ts"
import type * as Storage from "../../src/Storage.ts"
import * as NewTeam from "./NewTeam.ts"

export type Directory =
  | CloudflareAccounts.CloudflareAccounts
  | Workers.Workers
  | Plans.Plans
  | Storage.Transactions
  | NewTeam.NewTeam

/** Called once per test: empty storage. */
export type MakeLayer = () => Layer.Layer<Directory, unknown>

/** 2026-01-01T00:00:00Z, in epoch milliseconds. */
export const t0 = 1_767_225_600_000

export const testWith = (makeLayer: MakeLayer) => <A, E>(title: string, body: () => Effect.Effect<A, E, Directory>) =>
  // The clock first: a database client built at the TestClock's epoch waits on timers that never fire.
  it.effect(title, () => Effect.andThen(TestClock.setTime(t0), body().pipe(Effect.provide(makeLayer(), { local: true }))))

export const twoSteps = Plan.make({ steps: [{ percentage: 10, waitSeconds: 60 }, { percentage: 100, waitSeconds: 60 }] })
export const oneStep = Plan.make({
  steps: [{ percentage: 100, waitSeconds: 0 }],
  health: { maxErrorRate: 0.05, maxErrorRateIncrease: 0.01, failuresBeforeAction: 2, onFailure: "pause" }
})

/** Seals like a SecretBox would, visibly bound to the row. */
export const sealFor = (token: string) => (id: string) => Effect.succeed(`sealed(${token})@${id}`)

export const connect = (teamId: string, accountId: string, options: { readonly token?: string; readonly sandbox?: boolean } = {}) =>
  CloudflareAccounts.CloudflareAccounts.use((accounts) =>
    accounts.save({
      teamId,
      accountId,
      seal: sealFor(options.token ?? "token-1"),
      tokenDisplay: "toke…en-1",
      baseUrl: "https://api.cloudflare.com/client/v4",
      sandbox: options.sandbox ?? false,
      now: t0
    })
  )

export const makePlan = (teamId: string, slug: string, plan: Plan.Plan = twoSteps) =>
  Plans.Plans.use((plans) => plans.create({ teamId, slug, name: `Plan ${slug}`, plan, now: t0 }))

export const register = (teamId: string, accountId: string, scriptName: string, defaultPlanId: string) =>
  Workers.Workers.use((workers) =>
    workers.register({ teamId, accountId, scriptName, defaultPlanId, healthPolicy: null, now: t0 })
  )

/** A team with a connected account and a plan, ready for Workers. */
export const teamWithAccount = (accountId: string) =>
  Effect.gen(function*() {
    const teamId = yield* NewTeam.make
    yield* connect(teamId, accountId)
    const plan = yield* makePlan(teamId, "standard")
    return { teamId, planId: plan.id }
  })
