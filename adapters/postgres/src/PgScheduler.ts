/**
 * PgScheduler: the Scheduler port on one `release_schedule` table (a row per scheduled release:
 * its due time and, while a process steps it, a lease), shared by every server process on the
 * database.
 *
 * - `claim` is one statement: it picks the earliest due releases that nobody holds a live lease
 *   on with `FOR UPDATE SKIP LOCKED` and leases them in the same `UPDATE`, so two processes
 *   claiming at once never get the same release and never wait for each other. An expired lease
 *   is claimable like no lease at all: that is how a crashed process's work is recovered.
 * - Due times and leases are compared with the database's clock (`clock: "database"`, the
 *   default): every process then agrees on what is due and when a lease ends, whatever its own
 *   clock says. The `now` arguments of the port are ignored in that mode. `clock: "effect"` uses
 *   them instead, so the contract suite can drive time with `TestClock`.
 * - `schedule` sends a `NOTIFY` on `channel` (payload: the release id) when the new due time is
 *   earlier than anything a sleeping `SchedulerLoop` may be waiting for (the earliest due time
 *   of a release nobody holds, or the earliest lease end), so sleepers wake for it; giving
 *   leases up (`release`, `releaseAll`) notifies too, since those releases are due again at
 *   once. Any other change only makes a sleeper wake early, which costs a look, not a missed
 *   step. Most schedules notify nobody: a release rescheduled after its step is rarely the
 *   earliest.
 *
 * @since 0.1.0
 */
import { Scheduler } from "@canaryroll/core"
import { Context, Effect, Layer, Option } from "effect"
import { SqlClient, type SqlError } from "effect/sql"
import { describeSqlError } from "./PgEventStore.ts"

/** Whose clock decides what is due: the database's (production) or Effect's `Clock` (tests). */
export type ClockSource = "database" | "effect"

/** Where `schedule` notifies sleeping loops. */
export const defaultChannel = "canaryroll_schedule"

export interface Options {
  /** Default `"database"`; see the module doc. */
  readonly clock?: ClockSource | undefined
  /**
   * The `LISTEN`/`NOTIFY` channel. Channels are per database, not per schema: deployments that
   * share a database in different schemas should use different channels (a shared one only
   * wakes the others for nothing). Default `canaryroll_schedule`.
   */
  readonly channel?: string | undefined
}

export class PgScheduler extends Context.Service<PgScheduler, {
  readonly clock: ClockSource
  readonly channel: string
  /**
   * How long until a release may become claimable, in milliseconds by the scheduler's clock (0
   * or less: now); `None` when nothing is scheduled. It is the earliest due time among releases
   * nobody holds, or the earliest lease end: a lower bound, so a loop sleeping for it may wake
   * to find nothing to do, but never oversleeps. `now` is used only with `clock: "effect"`.
   */
  readonly nextClaimableIn: (now: number) => Effect.Effect<Option.Option<number>, Scheduler.SchedulerUnavailable>
  /** Gives up every lease `owner` holds (a graceful shutdown); returns those releases. */
  readonly releaseAll: (owner: string) => Effect.Effect<ReadonlyArray<string>, Scheduler.SchedulerUnavailable>
}>()("@canaryroll/postgres/PgScheduler") {}

const unavailable = (error: SqlError.SqlError) => new Scheduler.SchedulerUnavailable({ message: describeSqlError(error) })

interface DueRow {
  readonly release_id: string
  /** Epoch milliseconds, as `float8`. */
  readonly due_at: number
}

const toDue = (row: DueRow): Scheduler.Due => ({ releaseId: row.release_id, dueAt: Math.round(row.due_at) })

/**
 * Both the port and the Postgres extras, over the `SqlClient` in context; run `Migrations`
 * first.
 */
export const make = (options: Options = {}) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const clock = options.clock ?? "database"
    const channel = options.channel ?? defaultChannel

    /** The instant comparisons are made at: the database's `now()`, or the caller's `now`. */
    const at = (now: number) => clock === "database" ? sql`now()` : sql`to_timestamp(${now}::float8 / 1000)`
    const epochMillis = (column: string) => sql.literal(`(extract(epoch FROM ${column}) * 1000)::float8`)

    const notify = sql`SELECT pg_notify(${channel}, '')`

    /**
     * Leases given up make their releases due again at once: wake the sleepers. A separate
     * statement (a CTE that is only read for its side effect would not run); should it fail, the
     * sleepers' safety poll still finds the releases.
     */
    const giveUp = (statement: Effect.Effect<ReadonlyArray<{ readonly release_id: string }>, SqlError.SqlError>) =>
      statement.pipe(
        Effect.tap((rows): Effect.Effect<unknown, SqlError.SqlError> => rows.length > 0 ? notify : Effect.void),
        Effect.map((rows) => rows.map((row) => row.release_id)),
        Effect.mapError(unavailable)
      )

    const scheduler = Scheduler.Scheduler.of({
      // The NOTIFY rides on the upsert: one round trip. `waited` is read from the statement's
      // snapshot, before the upsert: it is the bound `nextClaimableIn` gave sleepers (this
      // release's old due time or lease end included), so they wake only if they would
      // otherwise sleep past the new due time.
      schedule: (releaseId, dueAt, owner) =>
        sql`
          WITH waited AS (
            SELECT least(
              (SELECT min(due_at) FROM release_schedule WHERE lease_until IS NULL),
              (SELECT min(lease_until) FROM release_schedule WHERE lease_until IS NOT NULL)
            ) AS until
          ), scheduled AS (
            INSERT INTO release_schedule (release_id, due_at)
            VALUES (${releaseId}, to_timestamp(${dueAt}::float8 / 1000))
            ON CONFLICT (release_id) DO UPDATE
              SET due_at = excluded.due_at,
                -- only the holder's own reschedule ends its lease (its step is done); a person's
                -- request rescheduling a release mid-step leaves the running step its lease
                lease_owner = CASE WHEN release_schedule.lease_owner = ${owner ?? null} THEN NULL ELSE release_schedule.lease_owner END,
                lease_until = CASE WHEN release_schedule.lease_owner = ${owner ?? null} THEN NULL ELSE release_schedule.lease_until END
            RETURNING due_at
          )
          SELECT pg_notify(${channel}, ${releaseId}) FROM scheduled, waited
          WHERE waited.until IS NULL OR scheduled.due_at < waited.until`.pipe(
          Effect.asVoid,
          Effect.mapError(unavailable)
        ),

      unschedule: (releaseId) =>
        sql`DELETE FROM release_schedule WHERE release_id = ${releaseId}`.pipe(Effect.asVoid, Effect.mapError(unavailable)),

      due: (now, limit) =>
        sql<DueRow>`
          SELECT release_id, ${epochMillis("due_at")} AS due_at FROM release_schedule
          WHERE due_at <= ${at(now)}
          ORDER BY release_schedule.due_at, release_id LIMIT ${limit}`.pipe(
          Effect.map((rows) => rows.map(toDue)),
          Effect.mapError(unavailable)
        ),

      // SKIP LOCKED: a row another claimer is leasing right now is left to it. A row it leased
      // and committed after this statement's snapshot is locked, re-read and re-checked by
      // Postgres (READ COMMITTED), and then fails `lease_until <= now`: never claimed twice.
      claim: (owner, now, limit, leaseMs) =>
        sql<DueRow>`
          UPDATE release_schedule AS leased
          SET lease_owner = ${owner}, lease_until = ${at(now)} + ${leaseMs}::float8 * interval '1 millisecond'
          FROM (
            SELECT release_id FROM release_schedule
            WHERE due_at <= ${at(now)} AND (lease_until IS NULL OR lease_until <= ${at(now)})
            ORDER BY due_at LIMIT ${limit}
            FOR UPDATE SKIP LOCKED
          ) AS due
          WHERE leased.release_id = due.release_id
          RETURNING leased.release_id, ${epochMillis("leased.due_at")} AS due_at`.pipe(
          // RETURNING follows no order; the port promises the earliest first.
          Effect.map((rows) =>
            rows.map(toDue).sort((a, b) => a.dueAt - b.dueAt || (a.releaseId < b.releaseId ? -1 : 1))
          ),
          Effect.mapError(unavailable)
        ),

      renew: (owner, releaseIds, now, leaseMs) =>
        releaseIds.length === 0 ? Effect.void : sql`
          UPDATE release_schedule
          SET lease_until = ${at(now)} + ${leaseMs}::float8 * interval '1 millisecond'
          WHERE lease_owner = ${owner} AND release_id IN ${sql.in(releaseIds)}`.pipe(
          Effect.asVoid,
          Effect.mapError(unavailable)
        ),

      release: (owner, releaseIds) =>
        releaseIds.length === 0 ? Effect.void : giveUp(sql`
          UPDATE release_schedule SET lease_owner = NULL, lease_until = NULL
          WHERE lease_owner = ${owner} AND release_id IN ${sql.in(releaseIds)}
          RETURNING release_id`).pipe(Effect.asVoid),

      nextDueAt: sql<{ readonly due_at: number | null }>`
        SELECT ${epochMillis("min(due_at)")} AS due_at FROM release_schedule`.pipe(
        Effect.map(([row]) => Option.fromNullishOr(row?.due_at).pipe(Option.map(Math.round))),
        Effect.mapError(unavailable)
      )
    })

    const extras = PgScheduler.of({
      clock,
      channel,
      nextClaimableIn: (now) =>
        sql<{ readonly wait: number | null }>`
          SELECT (extract(epoch FROM least(
            (SELECT min(due_at) FROM release_schedule WHERE lease_until IS NULL),
            (SELECT min(lease_until) FROM release_schedule WHERE lease_until IS NOT NULL)
          ) - ${at(now)}) * 1000)::float8 AS wait`.pipe(
          Effect.map(([row]) => Option.fromNullishOr(row?.wait)),
          Effect.mapError(unavailable)
        ),
      releaseAll: (owner) =>
        giveUp(sql`
          UPDATE release_schedule SET lease_owner = NULL, lease_until = NULL
          WHERE lease_owner = ${owner}
          RETURNING release_id`)
    })

    return { scheduler, extras }
  })

/** The Scheduler port and `PgScheduler` over the `SqlClient` in context; run `Migrations` first. */
export const layer = (
  options: Options = {}
): Layer.Layer<Scheduler.Scheduler | PgScheduler, never, SqlClient.SqlClient> =>
  Layer.effectContext(
    Effect.map(make(options), ({ extras, scheduler }) =>
      Context.make(Scheduler.Scheduler, scheduler).pipe(Context.add(PgScheduler, extras)))
  )
