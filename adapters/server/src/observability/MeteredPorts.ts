/**
 * The ports, counted: each decorator passes every call through to the port it wraps and counts
 * what the call says, so the metrics see exactly what the orchestrator, the handlers and the
 * notifier do, whichever storage is underneath, and no part of the application knows it is
 * measured.
 *
 * - EventStore: appended events by type, the statuses they lead to, health checks by verdict,
 *   rollbacks by cause;
 * - Scheduler: steps claimed, and how late after their due time (scheduler lag);
 * - NotificationStore: delivery attempts by outcome;
 * - ApiBudget (the orchestrator's) and RequestBudget (people's): the Cloudflare tokens in use, so
 *   that a scrape can say how much of each token's budget is left.
 *
 * @since 0.1.0
 */
import * as RequestBudget from "@canaryroll/app/http/RequestBudget"
import { ApiBudget } from "@canaryroll/cloudflare"
import { EventStore, Scheduler } from "@canaryroll/core"
import { NotificationStore } from "@canaryroll/notifier"
import { Clock, Context, Effect, Layer } from "effect"
import * as ServerMetrics from "./ServerMetrics.ts"

const meterEventStore = (metrics: ServerMetrics.Instruments, store: EventStore.EventStore["Service"]) =>
  EventStore.EventStore.of({
    ...store,
    append: (streamId, expectedVersion, events) =>
      store.append(streamId, expectedVersion, events).pipe(
        Effect.tap((recorded) => Effect.sync(() => ServerMetrics.recordAppended(metrics, recorded.map((entry) => entry.event))))
      )
  })

const meterScheduler = (metrics: ServerMetrics.Instruments, scheduler: Scheduler.Scheduler["Service"]) =>
  Scheduler.Scheduler.of({
    ...scheduler,
    claim: (owner, now, limit, leaseMs) =>
      scheduler.claim(owner, now, limit, leaseMs).pipe(
        Effect.tap((claimed) =>
          Effect.map(Clock.currentTimeMillis, (claimedAt) => {
            metrics.steps.inc({}, claimed.length)
            for (const due of claimed) metrics.schedulerLag.observe({}, Math.max(0, claimedAt - due.dueAt) / 1000)
          })
        )
      )
  })

const meterNotifications = (metrics: ServerMetrics.Instruments, store: NotificationStore.NotificationStore["Service"]) =>
  NotificationStore.NotificationStore.of({
    ...store,
    complete: (id, outcome) =>
      store.complete(id, outcome).pipe(
        Effect.tap(() => Effect.sync(() => metrics.deliveries.inc({ outcome: outcome._tag.toLowerCase() })))
      )
  })

/** Which budget a ledger belongs to, in the metric's `budget` label. */
export type BudgetName = "releases" | "requests"

/** The tokens a budget has seen, and when Cloudflare last told one to wait (a 429). */
interface Ledgers {
  readonly tokens: Map<string, { readonly fingerprint: string; blockedUntil: Record<ApiBudget.ApiKind, number> }>
}

const meterBudget = (
  metrics: ServerMetrics.Instruments,
  name: BudgetName,
  ledgers: Ledgers,
  budget: ApiBudget.ApiBudget["Service"]
): ApiBudget.ApiBudget["Service"] => {
  const seen = (token: string) => {
    let entry = ledgers.tokens.get(token)
    if (entry === undefined) {
      entry = { fingerprint: ServerMetrics.tokenFingerprint(token), blockedUntil: { rest: 0, graphql: 0 } }
      ledgers.tokens.set(token, entry)
    }
    return entry
  }
  return {
    take: (token, kind) =>
      Effect.suspend(() => {
        seen(token)
        return budget.take(token, kind).pipe(
          Effect.tapError(() => Effect.sync(() => metrics.budgetRefusals.inc({ budget: name, api: kind })))
        )
      }),
    block: (token, kind, retryAfterSeconds) =>
      budget.block(token, kind, retryAfterSeconds).pipe(
        Effect.tap(() =>
          Effect.map(Clock.currentTimeMillis, (now) => {
            const entry = seen(token)
            entry.blockedUntil[kind] = Math.max(entry.blockedUntil[kind], now + retryAfterSeconds * 1000)
          })
        )
      ),
    usage: budget.usage
  }
}

/** Fills the budget gauges when scraped: what each token may still spend in its window. */
const collectBudget = (
  metrics: ServerMetrics.Instruments,
  name: BudgetName,
  ledgers: Ledgers,
  budget: ApiBudget.ApiBudget["Service"],
  limits: ApiBudget.Limits
) =>
  Effect.gen(function*() {
    const now = yield* Clock.currentTimeMillis
    for (const [token, entry] of ledgers.tokens) {
      const usage = yield* budget.usage(token)
      for (const api of ["rest", "graphql"] as const) {
        const allowed = Math.floor(limits[api].requests * limits.share)
        const labels = { token: entry.fingerprint, api, budget: name }
        metrics.budgetRemaining.set(labels, Math.max(0, allowed - usage[api]))
        metrics.budgetBlocked.set(labels, entry.blockedUntil[api] > now ? 1 : 0)
      }
    }
  })

/** A budget whose tokens are remembered, and whose remainder per token each scrape reports. */
const meteredBudget = (
  metrics: ServerMetrics.Instruments,
  name: BudgetName,
  budget: ApiBudget.ApiBudget["Service"],
  limits: ApiBudget.Limits
) => {
  const ledgers: Ledgers = { tokens: new Map() }
  const metered = meterBudget(metrics, name, ledgers, budget)
  metrics.registry.onCollect(collectBudget(metrics, name, ledgers, metered, limits))
  return metered
}

/** The orchestrator's budget (`ApiBudget.layer(limits)`), counted. */
export const layerApiBudget = (limits: ApiBudget.Limits): Layer.Layer<ApiBudget.ApiBudget, never, ServerMetrics.ServerMetrics> =>
  Layer.effect(
    ApiBudget.ApiBudget,
    Effect.gen(function*() {
      const metrics = yield* ServerMetrics.ServerMetrics
      return ApiBudget.ApiBudget.of(meteredBudget(metrics, "releases", yield* ApiBudget.make(limits), limits))
    })
  )

/** People's budget (`RequestBudget.layer(limits)`), counted. */
export const layerRequestBudget = (
  limits: ApiBudget.Limits
): Layer.Layer<RequestBudget.RequestBudget, never, ServerMetrics.ServerMetrics> =>
  Layer.effect(
    RequestBudget.RequestBudget,
    Effect.gen(function*() {
      const metrics = yield* ServerMetrics.ServerMetrics
      return RequestBudget.RequestBudget.of(meteredBudget(metrics, "requests", yield* ApiBudget.make(limits), limits))
    })
  )

type MeteredStorage = EventStore.EventStore | Scheduler.Scheduler | NotificationStore.NotificationStore

/**
 * `storage` with its event store, scheduler and notification store replaced by their counted
 * versions; every other service passes through. Put it under whatever uses them (the notifier,
 * the routes, the scheduler loop), so that all of them see the counted ports.
 */
export const layerStorage = <A, E, R>(
  storage: Layer.Layer<A | MeteredStorage, E, R>
): Layer.Layer<A | MeteredStorage, E, R | ServerMetrics.ServerMetrics> =>
  Layer.effectContext(
    Effect.gen(function*() {
      const context = yield* Effect.context<A | MeteredStorage>()
      const ports = context as Context.Context<MeteredStorage>
      const metrics = yield* ServerMetrics.ServerMetrics
      return context.pipe(
        Context.add(EventStore.EventStore, meterEventStore(metrics, Context.get(ports, EventStore.EventStore))),
        Context.add(Scheduler.Scheduler, meterScheduler(metrics, Context.get(ports, Scheduler.Scheduler))),
        Context.add(
          NotificationStore.NotificationStore,
          meterNotifications(metrics, Context.get(ports, NotificationStore.NotificationStore))
        )
      )
    })
  ).pipe(Layer.provide(storage))
