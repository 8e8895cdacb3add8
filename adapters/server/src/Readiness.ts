/**
 * Readiness on the Node runtime: the checks and the memory store are the application's
 * (`@canaryroll/app/http/Readiness`, re-exported here so the server's modules keep one name);
 * this module adds the `Store` that asks Postgres (`PgReadiness`), which only a runtime with a
 * database client can give.
 *
 * @since 0.1.0
 */
import { Storage } from "@canaryroll/app"
import { Store } from "@canaryroll/app/http/Readiness"
import { PgEventStore, PgReadiness } from "@canaryroll/postgres"
import { Effect, Layer } from "effect"
import { type Migrator, SqlClient, type SqlError } from "effect/sql"

export * from "@canaryroll/app/http/Readiness"

const errorText = (error: SqlError.SqlError | Migrator.MigrationError): string =>
  error._tag === "SqlError" ? PgEventStore.describeSqlError(error) : error.message

const unavailable = (error: SqlError.SqlError | Migrator.MigrationError) => new Storage.StorageUnavailable({ message: errorText(error) })

/** The checks on the database the `SqlClient` reaches (`PgReadiness`). */
export const layerPostgres: Layer.Layer<Store, never, SqlClient.SqlClient> = Layer.effect(
  Store,
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const onDatabase = <A>(effect: Effect.Effect<A, SqlError.SqlError | Migrator.MigrationError, SqlClient.SqlClient>) =>
      effect.pipe(Effect.provideService(SqlClient.SqlClient, sql), Effect.mapError(unavailable))
    return Store.of({
      ping: onDatabase(PgReadiness.ping),
      missingMigrations: onDatabase(PgReadiness.missingMigrations),
      sealedSecrets: (options) => onDatabase(PgReadiness.sealedSecrets(options))
    })
  })
)
