/**
 * PgOutbox: the Outbox port as per-consumer checkpoints (`outbox_checkpoints`) over the events
 * table. `pending` reads the log after the consumer's checkpoint with the event store's gap-safe
 * `readAll`, so an event committed late is handed out late, never skipped; `acknowledge` moves the
 * checkpoint forward only. Checkpoints are rows, so a restarted process (or another one) carries
 * on where the consumer left off, and whatever was not acknowledged is handed out again.
 *
 * @since 0.1.0
 */
import { Outbox } from "@canaryroll/core"
import { Effect, Layer } from "effect"
import { SqlClient, type SqlError } from "effect/sql"
import * as PgEventStore from "./PgEventStore.ts"

const unavailable = (error: SqlError.SqlError) =>
  new Outbox.OutboxUnavailable({ message: PgEventStore.describeSqlError(error) })

/** The consumer's checkpoint; 0 (the start of the log) for a consumer that never acknowledged. */
export const checkpoint = Effect.fnUntraced(function*(consumer: string) {
  const sql = yield* SqlClient.SqlClient
  const [row] = yield* sql<{ position: bigint }>`SELECT position FROM outbox_checkpoints WHERE consumer = ${consumer}`
  return row === undefined ? 0 : Number(row.position)
})

/** The outbox over the `SqlClient` in context; run `Migrations` first. */
export const make: Effect.Effect<typeof Outbox.Outbox.Service, never, SqlClient.SqlClient> = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  const provideSql = Effect.provideService(SqlClient.SqlClient, sql)
  return Outbox.Outbox.of({
    pending: (consumer, limit) =>
      checkpoint(consumer).pipe(
        Effect.flatMap((after) => PgEventStore.readAll(after, limit)),
        Effect.mapError(unavailable),
        provideSql
      ),
    acknowledge: (consumer, position) =>
      sql`
        INSERT INTO outbox_checkpoints (consumer, position) VALUES (${consumer}, ${position})
        ON CONFLICT (consumer) DO UPDATE
          SET position = greatest(outbox_checkpoints.position, excluded.position), acknowledged_at = now()`.pipe(
          Effect.asVoid,
          Effect.mapError(unavailable)
        )
  })
})

export const layer: Layer.Layer<Outbox.Outbox, never, SqlClient.SqlClient> = Layer.effect(Outbox.Outbox, make)
