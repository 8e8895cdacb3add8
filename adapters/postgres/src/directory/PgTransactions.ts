/**
 * PgTransactions: the application's `Storage.Transactions` on Postgres. `atomically` is one
 * database transaction (`sql.withTransaction`); every Postgres layer of the application's ports
 * runs its statements on the same `SqlClient`, so they join it (a port's own multi-statement
 * change nested in it becomes a savepoint). The transaction failing to begin or commit is
 * `StorageUnavailable`; the effect's own failures pass through unchanged (after the rollback).
 *
 * @since 0.2.0
 */
import { Storage } from "@canaryroll/app"
import { Effect, Layer } from "effect"
import { SqlClient, type SqlError } from "effect/sql"
import * as PgEventStore from "../PgEventStore.ts"

/** A failure of the transaction's own statements, as every directory port reports it. */
export const unavailable = (error: SqlError.SqlError) =>
  new Storage.StorageUnavailable({ message: PgEventStore.describeSqlError(error) })

/** The effect's own failure, kept apart from the transaction's SQL errors. */
class Inner<E> {
  readonly error: E
  constructor(error: E) {
    this.error = error
  }
}

export const make: Effect.Effect<Storage.Transactions["Service"], never, SqlClient.SqlClient> = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  return Storage.Transactions.of({
    atomically: <A, E, R>(effect: Effect.Effect<A, E, R>) =>
      sql.withTransaction(Effect.mapError(effect, (error) => new Inner(error))).pipe(
        Effect.mapError((error: Inner<E> | SqlError.SqlError): E | Storage.StorageUnavailable =>
          error instanceof Inner ? error.error : unavailable(error)
        )
      )
  })
})

export const layer: Layer.Layer<Storage.Transactions, never, SqlClient.SqlClient> = Layer.effect(Storage.Transactions, make)
