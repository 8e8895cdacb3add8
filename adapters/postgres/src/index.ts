/**
 * @canaryroll/postgres: CanaryRoll on PostgreSQL. The event store and the outbox on one events
 * table, migrations run on start, and an embedded PostgreSQL when `DATABASE_URL` is not set.
 * Test support (one server per test run, a database per test file) is at
 * `@canaryroll/postgres/test-database`.
 *
 * @since 0.1.0
 */
import type { ActiveReleases, EventStore, Outbox } from "@canaryroll/core"
import { PgClient } from "@effect/sql-pg"
import { Config, Effect, Layer, Option, Redacted } from "effect"
import type { Migrator, SqlClient, SqlError } from "effect/sql"
import * as EmbeddedPostgres from "./EmbeddedPostgres.ts"
import * as Migrations from "./Migrations.ts"
import * as PgActiveReleases from "./PgActiveReleases.ts"
import * as PgAuditLog from "./PgAuditLog.ts"
import * as PgEventStore from "./PgEventStore.ts"
import * as PgOutbox from "./PgOutbox.ts"
import * as PgReadModels from "./PgReadModels.ts"
import * as PgReleaseSummaries from "./PgReleaseSummaries.ts"
import * as PgScheduler from "./PgScheduler.ts"
import * as PgSettingsAudit from "./PgSettingsAudit.ts"
import * as SchedulerLoop from "./SchedulerLoop.ts"

export { EmbeddedPostgres, Migrations, PgActiveReleases, PgEventStore, PgOutbox }
export { PgScheduler, SchedulerLoop }
export { PgAuditLog, PgReadModels, PgReleaseSummaries, PgSettingsAudit }
export * as PgNotifications from "./PgNotifications.ts"
export * as PgLoginThrottle from "./directory/PgLoginThrottle.ts"
export * as PgIdempotencyKeys from "./directory/PgIdempotencyKeys.ts"
export * as PgCloudflareAccounts from "./directory/PgCloudflareAccounts.ts"
export * as PgPlans from "./directory/PgPlans.ts"
export * as PgWorkers from "./directory/PgWorkers.ts"
export * as PgReadiness from "./PgReadiness.ts"
export * as PgApiTokens from "./directory/PgApiTokens.ts"
export * as PgTeamTokenAccess from "./directory/PgTeamTokenAccess.ts"
export * as PgPeople from "./directory/PgPeople.ts"
export * as PgSessions from "./directory/PgSessions.ts"
export * as PgTeams from "./directory/PgTeams.ts"
export * as PgTransactions from "./directory/PgTransactions.ts"
export * as PgAuditRow from "./PgAuditRow.ts"
export * as PgReleaseFeed from "./PgReleaseFeed.ts"

export interface Options {
  /** The embedded server, used only when `DATABASE_URL` is not set. */
  readonly embedded?: EmbeddedPostgres.Options | undefined
  /** Pool size. Default 10. */
  readonly maxConnections?: number | undefined
  /**
   * More read models updated in the same transaction as the events (see `PgEventStore.AppendHook`);
   * runs after the built-in ones, the release summaries and the audit log (`PgReadModels`).
   */
  readonly onAppend?: PgEventStore.AppendHook | undefined
}

/**
 * `PgClient` and `SqlClient` on `DATABASE_URL`, or, when it is not set, on an embedded server
 * that starts with the layer and stops when it is released.
 */
export const layerClient = (options: Options = {}) =>
  Layer.unwrap(Effect.gen(function*() {
    // An empty DATABASE_URL counts as unset, as in a shell `DATABASE_URL= pnpm start`.
    const url = Option.filter(
      yield* Config.option(Config.Redacted("DATABASE_URL")),
      (url) => Redacted.value(url) !== ""
    )
    const connect = (url: PgClient.PgPoolConfig["url"]) =>
      PgClient.layer({ url, maxConnections: options.maxConnections ?? 10, applicationName: "canaryroll" })
    if (Option.isSome(url)) return connect(url.value)
    return Layer.unwrap(Effect.map(EmbeddedPostgres.EmbeddedPostgres, (server) => connect(server.url))).pipe(
      Layer.provide(EmbeddedPostgres.layer(options.embedded))
    )
  }))

/**
 * The EventStore (keeping the release summaries and the audit log, then `onAppend`), the Outbox
 * and ActiveReleases (one release per Worker) over the `SqlClient` in context, built after
 * migrating it.
 */
export const layerPorts = (
  options: Pick<Options, "onAppend"> = {}
): Layer.Layer<
  EventStore.EventStore | Outbox.Outbox | ActiveReleases.ActiveReleases,
  Migrator.MigrationError | SqlError.SqlError,
  SqlClient.SqlClient
> =>
  Layer.mergeAll(
    PgEventStore.layer({ onAppend: PgReadModels.appendHook(options.onAppend) }),
    PgOutbox.layer,
    PgActiveReleases.layer
  ).pipe(
    Layer.provide(Migrations.layer)
  )

/**
 * Everything: the client (see `layerClient`), migrations, the EventStore and the Outbox. The
 * clients stay available for read models built on top.
 */
export const layer = (options: Options = {}): Layer.Layer<
  EventStore.EventStore | Outbox.Outbox | ActiveReleases.ActiveReleases | PgClient.PgClient | SqlClient.SqlClient,
  Migrator.MigrationError | SqlError.SqlError | Config.ConfigError | EmbeddedPostgres.EmbeddedPostgresError
> => layerPorts(options).pipe(Layer.provideMerge(layerClient(options)))
