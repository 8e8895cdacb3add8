/**
 * The server's side of the API's `Availability` middleware (packages/api `ApiError.ts`), around
 * every endpoint. Handlers may fail with the API's `StorageUnavailable` themselves (answered
 * `503 { error: "unavailable", message }` with `Retry-After`); a port's own `StorageUnavailable`
 * (packages/app `Storage.ts`) that a handler let through as a defect becomes that answer here, so
 * a handler moved onto the ports needs no mapping of its own.
 *
 * The older stores' errors (`SqlError`, `EventStoreUnavailable`, …, see `Storage.ts`) are still
 * answered by the application's outermost middleware (`Application.ts`), which tells them from a constraint
 * violation (409) and from text Postgres cannot store (400).
 *
 * @since 0.2.0
 */
import { Availability, StorageUnavailable } from "@canaryroll/api/ApiError"
import * as Redaction from "@canaryroll/notifier/Redaction"
import { Cause, Effect, Layer, Option } from "effect"

const isPortStorageUnavailable = (error: unknown): boolean =>
  typeof error === "object" && error !== null && (error as { readonly _tag?: unknown })._tag === "StorageUnavailable" &&
  !(error instanceof StorageUnavailable)

/** Whether `cause` is a port's `StorageUnavailable`, as a failure or a defect. */
export const isPortStorageCause = (cause: Cause.Cause<unknown>): boolean =>
  isPortStorageUnavailable(Option.getOrUndefined(Cause.findErrorOption(cause))) ||
  isPortStorageUnavailable(Cause.squash(cause))

export const layer = Layer.succeed(
  Availability,
  Availability.of((httpEffect) =>
    Effect.catchCauseIf(httpEffect, isPortStorageCause, (cause) =>
      Effect.andThen(
        Effect.logWarning("storage unavailable while serving a request", Redaction.text(Cause.pretty(cause))),
        Effect.fail(new StorageUnavailable({ message: "the database is unavailable; try again shortly" }))
      ))
  )
)
