/**
 * The SQL failures of a directory port's own statements, as the port reports them:
 * `Storage.StorageUnavailable` (see `PgTransactions.unavailable`); the port's typed refusals pass
 * through unchanged.
 *
 * @since 0.2.0
 */
import type { Storage } from "@canaryroll/app"
import { Effect } from "effect"
import { SqlError } from "effect/sql"
import { unavailable } from "./PgTransactions.ts"

export const orUnavailable = <A, E, R>(
  effect: Effect.Effect<A, E | SqlError.SqlError, R>
): Effect.Effect<A, Exclude<E, SqlError.SqlError> | Storage.StorageUnavailable, R> =>
  Effect.mapError(
    effect,
    // What is not a SqlError is one of the port's own errors.
    (error) => SqlError.isSqlError(error) ? unavailable(error) : error as Exclude<E, SqlError.SqlError>
  )
