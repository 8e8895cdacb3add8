/**
 * The database failing under a request is not the caller's fault and not something an endpoint
 * declares: it becomes a defect, which the application's outermost middleware answers with
 * `503 { error: "unavailable" }` (see `Application.ts`).
 *
 * @since 0.1.0
 */
import { Effect } from "effect"

/** The errors that mean "storage is down": SQL failures and the ports' own unavailability. */
export const unavailableTags = [
  "SqlError",
  "EventStoreUnavailable",
  "SchedulerUnavailable",
  "ActiveReleasesUnavailable",
  "OutboxUnavailable",
  "NotificationStoreUnavailable",
  "SessionsUnavailable",
  "LoginThrottleUnavailable",
  // Every port of @canaryroll/app.
  "StorageUnavailable"
] as const

type UnavailableTag = typeof unavailableTags[number]

const tags: ReadonlySet<string> = new Set(unavailableTags)

export const isStorageFailure = (error: unknown): boolean =>
  typeof error === "object" && error !== null && tags.has((error as { _tag?: unknown })._tag as string)

/**
 * A unique or foreign-key violation: two requests changed the same thing at once (the loser of
 * a race the handlers' checks could not see). The outer middleware answers it with 409, not 503.
 */
export const isConstraintViolation = (error: unknown): boolean => {
  if (typeof error !== "object" || error === null || (error as { _tag?: unknown })._tag !== "SqlError") return false
  const reason = (error as { reason?: { _tag?: unknown } }).reason?._tag
  return reason === "UniqueViolation" || reason === "ConstraintError"
}

export const orDie = <A, E, R>(
  effect: Effect.Effect<A, E, R>
): Effect.Effect<A, Exclude<E, { readonly _tag: UnavailableTag }>, R> =>
  Effect.catchIf(effect, isStorageFailure, (error) => Effect.die(error)) as Effect.Effect<
    A,
    Exclude<E, { readonly _tag: UnavailableTag }>,
    R
  >
