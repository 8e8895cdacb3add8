/**
 * Storage failing under a request is not the caller's fault: every port reports it as its own
 * typed unavailability error, and `unavailable` maps each of them, once, to the API's typed
 * `StorageUnavailable` (503 `{ error: "unavailable", message }` with `Retry-After`, declared on
 * every endpoint by the API's `Availability` middleware). Handlers call it around their port
 * calls, so a storage failure is a declared API error, never a defect.
 *
 * @since 0.1.0
 */
import { StorageUnavailable } from "@canaryroll/api/ApiError"
import { ActiveReleases, EventStore, Outbox, Scheduler } from "@canaryroll/core"
// The runtime-neutral module, not the package's index (which brings the Node-bound channels).
import * as NotificationStore from "@canaryroll/notifier/NotificationStore"
import * as Redaction from "@canaryroll/notifier/Redaction"
import { Effect } from "effect"
import * as AppStorage from "../Storage.ts"

/** Every port's "storage is down": the release core's ports, the notifier's store, and the app's own ports. */
export type PortUnavailable =
  | EventStore.EventStoreUnavailable
  | Scheduler.SchedulerUnavailable
  | ActiveReleases.ActiveReleasesUnavailable
  | Outbox.OutboxUnavailable
  | NotificationStore.NotificationStoreUnavailable
  | AppStorage.StorageUnavailable

const isPortUnavailable = (error: unknown): error is PortUnavailable =>
  error instanceof EventStore.EventStoreUnavailable ||
  error instanceof Scheduler.SchedulerUnavailable ||
  error instanceof ActiveReleases.ActiveReleasesUnavailable ||
  error instanceof Outbox.OutboxUnavailable ||
  error instanceof NotificationStore.NotificationStoreUnavailable ||
  error instanceof AppStorage.StorageUnavailable

const answer = (error: PortUnavailable): Effect.Effect<never, StorageUnavailable> =>
  Effect.andThen(
    Effect.logWarning(`storage unavailable while serving a request (${error._tag})`, Redaction.text(error.message)),
    Effect.fail(new StorageUnavailable({ message: "the database is unavailable; try again shortly" }))
  )

/**
 * The one mapping: the compiler checks the keys against `PortUnavailable` (an unknown tag is an
 * error; a port left out stays in the error type, which the annotation refuses).
 */
const toApi = (error: PortUnavailable): Effect.Effect<never, StorageUnavailable> =>
  Effect.catchTags(Effect.fail(error), {
    EventStoreUnavailable: answer,
    SchedulerUnavailable: answer,
    ActiveReleasesUnavailable: answer,
    OutboxUnavailable: answer,
    NotificationStoreUnavailable: answer,
    StorageUnavailable: answer
  })

/**
 * Postgres refusing text it cannot store: NUL (`22021` invalid byte sequence) or `\u0000` in JSON
 * (`22P05` unsupported Unicode escape sequence). The request guard stops these first; this is the
 * safety net for a string it could not see, answered 400 rather than 503. It is not a port's
 * typed error: the Postgres layers report it as their unavailability, so only the driver's code
 * or message (kept in the error's message) tells it apart; `unavailable` lets such an error through
 * as a defect for the outermost middleware (`Application.ts`) to answer 400, as before.
 */
export const isUnstorableText = (error: unknown): boolean => {
  let current: unknown = error
  for (let depth = 0; depth < 6 && typeof current === "object" && current !== null; depth++) {
    const { code, message } = current as { code?: unknown; message?: unknown }
    if (code === "22021" || code === "22P05") return true
    if (typeof message === "string" && /invalid byte sequence|unsupported Unicode escape sequence/i.test(message)) return true
    const next = current as { reason?: unknown; cause?: unknown }
    current = next.reason !== undefined && next.reason !== current ? next.reason : next.cause
  }
  return false
}

/**
 * A port's unavailability, as the API's `StorageUnavailable`; the port's other errors pass
 * through. (`catchTags` cannot take a generic error type, hence the refinement in front of it.)
 */
export const unavailable = <A, E, R>(
  effect: Effect.Effect<A, E, R>
): Effect.Effect<A, Exclude<E, PortUnavailable> | StorageUnavailable, R> =>
  Effect.catch(
    effect,
    (error): Effect.Effect<never, Exclude<E, PortUnavailable> | StorageUnavailable> =>
      // Narrowing a generic `E` by a refinement does not exclude the refined type; what is not a
      // port's unavailability is by construction `Exclude<E, PortUnavailable>`.
      !isPortUnavailable(error)
        ? Effect.fail(error as Exclude<E, PortUnavailable>)
        : isUnstorableText(error)
        ? Effect.die(error)
        : toApi(error)
  )

/**
 * A unique or foreign-key violation (`SqlError`): two requests changed the same thing at once.
 * The outer middleware answers it with 409, not 503. It is not a port's typed error: no port
 * reports it (the Postgres layers turn their `SqlError`s into their unavailability errors), so
 * it stays here as the safety net for an adapter that lets one through as a defect, recognised
 * by shape because packages/app does not depend on `effect/sql`'s driver errors.
 */
export const isConstraintViolation = (error: unknown): boolean => {
  if (typeof error !== "object" || error === null || (error as { _tag?: unknown })._tag !== "SqlError") return false
  const reason = (error as { reason?: { _tag?: unknown } }).reason?._tag
  return reason === "UniqueViolation" || reason === "ConstraintError"
}
