/**
 * The server's metrics, each declared once here: what a process did since it started (counters),
 * what it sees now (gauges read when scraped) and how late its scheduler is (a histogram). Every
 * process exposes its own at `/metrics`; Prometheus adds them up across the processes that share
 * a database (`sum by (…)`), so nothing here is shared through the database.
 *
 * The label values are closed sets (event types, statuses, verdicts, causes, Cloudflare
 * endpoints, error kinds, route templates, HTTP statuses) plus a token's fingerprint: the first
 * 12 hex digits of its SHA-256, which names a token to whoever holds it and to nobody else. No
 * team, Worker, person, URL or token appears, so a scrape says how the service runs, never who
 * uses it.
 *
 * @since 0.1.0
 */
import type { HealthCheck, Release, ReleaseEvent } from "@canaryroll/core"
import { Context, Effect, Layer } from "effect"
import { createHash } from "node:crypto"
import * as CloudflareCalls from "./CloudflareCalls.ts"
import * as MetricRegistry from "./MetricRegistry.ts"

/** The release status an event leaves the release in, when it changes it (the `releases_total` counter). */
export const statusAfter: { readonly [Type in ReleaseEvent.ReleaseEventType]: Release.Status | undefined } = {
  ReleaseCreated: "pending",
  ReleaseStarted: "in_progress",
  StepStarted: undefined,
  TrafficShifted: undefined,
  TrafficShiftFailed: undefined,
  HealthChecked: undefined,
  Promoted: undefined,
  Paused: "paused",
  Resumed: "in_progress",
  RollbackStarted: undefined,
  RolledBack: "rolled_back",
  Completed: "completed",
  Failed: "failed",
  Cancelled: "cancelled",
  DriftDetected: undefined,
  Stalled: undefined
}

/** Why a rollback started: a person asked, health checks failed, or a traffic change was given up. */
export type RollbackCause = "manual" | "unhealthy" | "traffic_change_failed"

export const rollbackCause = (event: Extract<ReleaseEvent.ReleaseEvent, { readonly _tag: "RollbackStarted" }>): RollbackCause =>
  event.actor._tag !== "System" ? "manual" : event.failing === true ? "traffic_change_failed" : "unhealthy"

/** How a token is named in labels: a fingerprint that cannot be turned back into the token. */
export const tokenFingerprint = (token: string): string => createHash("sha256").update(token).digest("hex").slice(0, 12)

/** Scheduler lag buckets, in seconds: the targets are p50 ≤ 25 ms and p99 ≤ 250 ms. */
const lagBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 15, 60]
const durationBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]

export const make = () => {
  const registry = MetricRegistry.make()
  const startedAt = Date.now() / 1000
  const processStart = registry.gauge("canaryroll_process_start_time_seconds", "When this process started, in Unix seconds.")
  processStart.set({}, startedAt)
  return {
    registry,
    events: registry.counter(
      "canaryroll_release_events_total",
      "Release events this process appended, by type.",
      ["type"]
    ),
    releases: registry.counter(
      "canaryroll_releases_total",
      "Releases this process moved into a status (ReleaseCreated: pending), by that status.",
      ["status"]
    ),
    steps: registry.counter("canaryroll_release_steps_total", "Release steps this process's scheduler claimed and ran."),
    healthChecks: registry.counter(
      "canaryroll_health_checks_total",
      "Health checks this process recorded, by verdict.",
      ["verdict"]
    ),
    rollbacks: registry.counter(
      "canaryroll_rollbacks_total",
      "Rollbacks this process started, by cause (manual, unhealthy, traffic_change_failed).",
      ["cause"]
    ),
    cloudflareRequests: registry.counter(
      "canaryroll_cloudflare_requests_total",
      "Calls to Cloudflare's API this process made, by endpoint.",
      ["endpoint"]
    ),
    cloudflareErrors: registry.counter(
      "canaryroll_cloudflare_errors_total",
      "Failed calls to Cloudflare's API, by endpoint and kind (Cloudflare's HTTP status, or network, timeout, aborted).",
      ["endpoint", "kind"]
    ),
    budgetRefusals: registry.counter(
      "canaryroll_cloudflare_budget_refusals_total",
      "Cloudflare calls CanaryRoll did not make because the token's budget was spent or Cloudflare asked to wait, by budget and API.",
      ["budget", "api"]
    ),
    budgetRemaining: registry.gauge(
      "canaryroll_cloudflare_budget_remaining",
      "Requests this process may still make in the current window, per budget (releases: the orchestrator's, requests: people's), Cloudflare token (a SHA-256 fingerprint) and API (rest, graphql).",
      ["budget", "token", "api"]
    ),
    budgetBlocked: registry.gauge(
      "canaryroll_cloudflare_budget_blocked",
      "1 while Cloudflare rate-limited the token (429) and CanaryRoll waits out retry-after, per token fingerprint and API.",
      ["budget", "token", "api"]
    ),
    schedulerLag: registry.histogram(
      "canaryroll_scheduler_lag_seconds",
      "How long after its due time this process claimed a release step.",
      lagBuckets
    ),
    deliveries: registry.counter(
      "canaryroll_notification_deliveries_total",
      "Notification delivery attempts this process made, by outcome (delivered, retry, failed).",
      ["outcome"]
    ),
    httpRequests: registry.counter(
      "canaryroll_http_requests_total",
      "HTTP requests this process answered, by method, route template and status (route unmatched: no such route).",
      ["method", "route", "status"]
    ),
    httpDuration: registry.histogram(
      "canaryroll_http_request_duration_seconds",
      "How long this process took to answer HTTP requests, by method and route template.",
      durationBuckets,
      ["method", "route"]
    )
  }
}

export interface Instruments extends ReturnType<typeof make> {}

/** Counts what a batch of appended events says. */
export const recordAppended = (metrics: Instruments, events: ReadonlyArray<ReleaseEvent.ReleaseEvent>) => {
  for (const event of events) {
    metrics.events.inc({ type: event._tag })
    const status = statusAfter[event._tag]
    if (status !== undefined) metrics.releases.inc({ status })
    if (event._tag === "HealthChecked") metrics.healthChecks.inc({ verdict: event.verdict satisfies HealthCheck.Verdict })
    if (event._tag === "RollbackStarted") metrics.rollbacks.inc({ cause: rollbackCause(event) })
  }
}

export class ServerMetrics extends Context.Service<ServerMetrics, Instruments>()("@canaryroll/server/ServerMetrics") {}

/**
 * A fresh set of metrics: one per server (tests run several in one process), counting the
 * process's Cloudflare calls while the layer lives.
 */
export const layer: Layer.Layer<ServerMetrics> = Layer.effect(
  ServerMetrics,
  Effect.gen(function*() {
    const metrics = make()
    yield* CloudflareCalls.observe(metrics)
    return metrics
  })
)
