/**
 * The server's side of the API's `Availability` middleware (packages/api `ApiError.ts`), around
 * every endpoint. It declares the API's 503 (`StorageUnavailable` with `Retry-After`, or
 * `Unavailable`); it has nothing left to translate: every handler and middleware turns its ports'
 * unavailability errors into the API's `StorageUnavailable` itself, through `Storage.unavailable`
 * (packages/app `http/Storage.ts`), so storage failures arrive here as typed failures, never as
 * defects to pick apart.
 *
 * @since 0.2.0
 */
import { Availability } from "@canaryroll/api/ApiError"
import { Layer } from "effect"

export const layer = Layer.succeed(Availability, Availability.of((httpEffect) => httpEffect))
