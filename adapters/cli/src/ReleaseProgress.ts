/**
 * Where a release stands, for a person watching it: the step and its percentage, the soak window
 * at this step, the last health verdict and how many failed checks in a row it counts against
 * the policy's limit (`failures 2/3`), when the next check is due, and what holds the release
 * when something does: a pause (a person's, a failed check's, or a drift: someone changed the
 * Worker's deployment by hand) or a stall (analytics have no data to judge the step, or
 * Cloudflare keeps failing a rollback), at a time the caller passes in.
 *
 * The server says most of this itself (`GET deployments/{id}/progress`, computed by the core's
 * next action from the events): when it answers, its soak, checks, next action and attention are
 * taken as they are. A server that predates it (the hosted CanaryRoll, an older one) is read from
 * the release and its events instead: the soak starts when the step's traffic went live, the
 * health policy is the plan snapshot of `ReleaseCreated`, the next check is an interval after the
 * last.
 *
 * @since 0.1.0
 */
import type { Dashboard, Schemas } from "@canaryroll/api"

export interface Verdict {
  readonly verdict: string
  readonly reasons: ReadonlyArray<string>
  readonly at: string
}

/** The soak at the current step: from its traffic going live, for the step's wait. */
export interface Soak {
  readonly startedAt: string
  readonly endsAt: string
  readonly leftSeconds: number
}

/** What holds a release that is not moving by itself. */
export interface Hold {
  /** `paused`: by a person or a failed check; `drift`: the deployment changed outside CanaryRoll; `stalled`: see `cause`. */
  readonly kind: "paused" | "drift" | "stalled"
  /** For a stall: `no_data` (analytics cannot judge the step) or `cloudflare_unreachable`. */
  readonly cause: string | null
  readonly reason: string
  readonly since: string
}

export interface ReleaseProgress {
  readonly status: Schemas.Status
  /** 1-based, as people count steps. */
  readonly step: number
  readonly steps: number
  readonly percentage: number
  /** Seconds until the soak at this step is over; undefined before the step's traffic is live. */
  readonly soakLeftSeconds: number | undefined
  readonly soak: Soak | undefined
  readonly lastVerdict: Verdict | undefined
  /** Failed checks in a row at this step, and how many the policy allows before it acts. */
  readonly failures: { readonly count: number; readonly limit: number } | undefined
  /** When the next health check is due (ISO 8601), while the release is in progress at a live step. */
  readonly nextCheckAt: string | undefined
  /** What the release does next by itself and when (from the server; `undefined` from events alone). */
  readonly next: Dashboard.Progress["next"] | undefined
  readonly hold: Hold | undefined
  /** The newest event's sentence (what the audit log shows). */
  readonly lastEvent: string | undefined
}

const stringList = (value: unknown): ReadonlyArray<string> =>
  Array.isArray(value) ? value.filter((item): item is string => typeof item === "string") : []

const text = (value: unknown): string | undefined => typeof value === "string" ? value : undefined

const numberOr = (value: unknown, fallback: number) => typeof value === "number" && Number.isFinite(value) ? value : fallback

/** The health policy of the plan snapshot (the core's defaults where a field is absent). */
const policyOf = (events: ReadonlyArray<Schemas.DeploymentEvent>) => {
  const created = events.find((event) => event.eventType === "ReleaseCreated")
  const plan = created?.details.plan as { readonly health?: Record<string, unknown> } | undefined
  return {
    intervalSeconds: numberOr(plan?.health?.intervalSeconds, 60),
    failuresBeforeAction: numberOr(plan?.health?.failuresBeforeAction, 3)
  }
}

const iso = (ms: number) => new Date(ms).toISOString()

export const of = (
  release: Schemas.PublicDeployment,
  events: ReadonlyArray<Schemas.DeploymentEvent>,
  now: number,
  server?: Dashboard.Progress
): ReleaseProgress => {
  const fromEvents = ofEvents(release, events, now)
  if (server === undefined) return fromEvents
  const soak = server.soak === null
    ? undefined
    : {
      startedAt: server.soak.from,
      endsAt: server.soak.endsAt,
      leftSeconds: Math.max(0, Math.ceil((Date.parse(server.soak.endsAt) - now) / 1000))
    }
  const attention = (kind: string) => server.attention.find((item) => item.kind === kind)
  const drift = attention("drift")
  const paused = attention("paused")
  const stalled = attention("stalled")
  return {
    ...fromEvents,
    soakLeftSeconds: soak?.leftSeconds,
    soak,
    failures: server.checks === null
      ? undefined
      : { count: server.checks.consecutiveFailures, limit: server.checks.failuresBeforeAction },
    nextCheckAt: server.next.action === "check_health" && server.next.at !== null ? server.next.at : undefined,
    next: server.next,
    hold: drift !== undefined
      ? { kind: "drift", cause: null, reason: drift.message, since: fromEvents.hold?.since ?? server.now }
      : paused !== undefined
      ? { kind: "paused", cause: fromEvents.hold?.cause ?? null, reason: paused.message, since: fromEvents.hold?.since ?? server.now }
      : stalled !== undefined
      ? {
        kind: "stalled",
        cause: fromEvents.hold?.kind === "stalled" ? fromEvents.hold.cause : /analytics/.test(stalled.message) ? "no_data" : "cloudflare_unreachable",
        reason: stalled.message,
        since: fromEvents.hold?.since ?? server.now
      }
      : undefined
  }
}

/** Where a release stands, from the release and its events alone (a server without `progress`). */
const ofEvents = (
  release: Schemas.PublicDeployment,
  events: ReadonlyArray<Schemas.DeploymentEvent>,
  now: number
): ReleaseProgress => {
  const stepIndex = Math.min(release.currentStep, Math.max(0, release.stepsSnapshot.length - 1))
  const step = release.stepsSnapshot[stepIndex]
  const policy = policyOf(events)
  const live = events.findLast((event) => event.eventType === "TrafficShifted" && event.stepIndex === stepIndex)
  const liveAt = live === undefined ? undefined : Date.parse(live.createdAt)
  const soak = release.status === "in_progress" && liveAt !== undefined && step !== undefined
    ? {
      startedAt: iso(liveAt),
      endsAt: iso(liveAt + step.waitSeconds * 1000),
      leftSeconds: Math.max(0, Math.ceil((liveAt + step.waitSeconds * 1000 - now) / 1000))
    }
    : undefined
  const check = events.findLast((event) => event.eventType === "HealthChecked")
  const verdict = check?.details.verdict
  // Failures count at the step they happened: a new step starts from none.
  const stepCheck = check !== undefined && check.stepIndex === stepIndex && liveAt !== undefined &&
      Date.parse(check.createdAt) >= liveAt
    ? check
    : undefined
  const newest = events.at(-1)
  const started = release.status !== "pending" && live !== undefined
  const lastCheckAt = stepCheck === undefined ? liveAt : Date.parse(stepCheck.createdAt)
  return {
    status: release.status,
    step: stepIndex + 1,
    steps: release.stepsSnapshot.length,
    // After a rollback or cancel the canary serves nothing, whatever step it reached.
    percentage: release.status === "completed"
      ? 100
      : release.status === "rolled_back" || release.status === "cancelled" || !started
      ? 0
      : step?.percentage ?? 0,
    soakLeftSeconds: soak?.leftSeconds,
    soak,
    lastVerdict: check === undefined || typeof verdict !== "string"
      ? undefined
      : { verdict, reasons: stringList(check.details.reasons), at: check.createdAt },
    failures: release.status === "in_progress" || release.status === "paused"
      ? { count: numberOr(stepCheck?.details.consecutiveFailures, 0), limit: policy.failuresBeforeAction }
      : undefined,
    nextCheckAt: release.status === "in_progress" && lastCheckAt !== undefined
      ? iso(lastCheckAt + policy.intervalSeconds * 1000)
      : undefined,
    next: undefined,
    hold: holdOf(release, events, liveAt),
    lastEvent: text(newest?.details.message)
  }
}

/** A pause (its reason: the last Paused or DriftDetected), or a stall at the live step not yet cleared by a check. */
const holdOf = (
  release: Schemas.PublicDeployment,
  events: ReadonlyArray<Schemas.DeploymentEvent>,
  liveAt: number | undefined
): Hold | undefined => {
  if (release.status === "paused") {
    const pause = events.findLast((event) => event.eventType === "Paused" || event.eventType === "DriftDetected")
    const drift = pause?.eventType === "DriftDetected"
    return {
      kind: drift ? "drift" : "paused",
      cause: text(pause?.details.cause) ?? null,
      reason: (drift ? text(pause?.details.message) : text(pause?.details.reason)) ?? release.statusReason ?? "paused",
      since: pause?.createdAt ?? release.createdAt
    }
  }
  if (release.status !== "in_progress") return undefined
  const stall = events.findLast((event) => event.eventType === "Stalled")
  if (stall === undefined) return undefined
  const stalledAt = Date.parse(stall.createdAt)
  // Held until a check after it judges the step, or the step changes.
  const cleared = (liveAt !== undefined && liveAt > stalledAt) ||
    events.some((event) => event.eventType === "HealthChecked" && event.details.verdict !== "inconclusive" && Date.parse(event.createdAt) > stalledAt)
  if (cleared) return undefined
  return { kind: "stalled", cause: text(stall.details.cause) ?? null, reason: text(stall.details.reason) ?? "held", since: stall.createdAt }
}

const duration = (seconds: number) =>
  seconds >= 3600
    ? `${Math.floor(seconds / 3600)}h${String(Math.floor((seconds % 3600) / 60)).padStart(2, "0")}m`
    : seconds >= 60
    ? `${Math.floor(seconds / 60)}m${String(seconds % 60).padStart(2, "0")}s`
    : `${seconds}s`

const holdText = (hold: Hold) =>
  hold.kind === "drift"
    ? `paused by drift: ${hold.reason}`
    : hold.kind === "stalled"
    ? `held${hold.cause === "no_data" ? " for lack of data" : ""}: ${hold.reason}`
    : `paused: ${hold.reason}`

/**
 * One line, e.g. `in progress · step 2/3 at 50% · soak 0m14s left · next check in 25s · last
 * check unhealthy (error rate 20% > 5%) · failures 2/3`, at `now` (for the countdowns).
 */
export const describe = (progress: ReleaseProgress, now?: number): string =>
  [
    progress.status.replace("_", " "),
    `step ${progress.step}/${progress.steps} at ${progress.percentage}%`,
    ...(progress.soakLeftSeconds === undefined ? [] : [`soak ${duration(progress.soakLeftSeconds)} left`]),
    ...(now === undefined || progress.hold !== undefined ? [] : nextText(progress, now)),
    ...(progress.lastVerdict === undefined
      ? []
      : [`last check ${progress.lastVerdict.verdict}${
        progress.lastVerdict.verdict === "healthy" || progress.lastVerdict.reasons.length === 0
          ? ""
          : ` (${progress.lastVerdict.reasons.join("; ")})`
      }`]),
    ...(progress.failures === undefined || progress.failures.count === 0
      ? []
      : [`failures ${progress.failures.count}/${progress.failures.limit}`]),
    ...(progress.hold === undefined ? [] : [holdText(progress.hold)])
  ].join(" · ")

const nextText = (progress: ReleaseProgress, now: number): ReadonlyArray<string> => {
  const within = (what: string, at: string) => {
    const seconds = Math.ceil((Date.parse(at) - now) / 1000)
    return seconds > 0 ? `${what} in ${duration(seconds)}` : `${what} due now`
  }
  const next = progress.next
  if (next === undefined) return progress.nextCheckAt === undefined ? [] : [within("next check", progress.nextCheckAt)]
  if (next.action === "wait") return next.waitingFor === "advance" ? ["soaked: waiting for an advance"] : []
  if (next.at === null) return []
  switch (next.action) {
    case "check_health":
      return [within("next check", next.at)]
    case "advance":
      return [within("next step", next.at)]
    case "shift_traffic":
      return [within("traffic shift", next.at)]
    case "apply_rollback":
      return [within("rollback", next.at)]
  }
}
