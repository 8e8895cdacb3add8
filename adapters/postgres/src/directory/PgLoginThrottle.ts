/**
 * PgLoginThrottle: the application's LoginThrottle port with its counters on `login_throttle`
 * (migration `0008_login_throttle`), so that every server process on the database counts the same
 * failures. The rule that reads and writes them (free failures, doubling waits, leases) is the
 * port's own (`LoginThrottle.make` over a `Store`); this module only makes each read-and-write
 * atomic:
 *
 * - `modify` runs in one transaction: it makes sure a row exists for each key (`INSERT … ON
 *   CONFLICT DO NOTHING`), locks them in key order (`SELECT … FOR UPDATE`; one order for everyone,
 *   so two attempts never deadlock), hands the counters to `decide`, and writes or deletes what it
 *   returns. Two processes admitting attempts for the same account at once are serialised there.
 * - Rows are forgotten by time: every so often a `modify` deletes the rows whose `forget_at` has
 *   passed (junk emails tried once do not stay).
 * - Times are the caller's (its `Clock`), stored as `timestamptz`; nothing reads the database's
 *   clock, so TestClock drives this store like the memory one.
 *
 * @since 0.1.0
 */
import { LoginThrottle } from "@canaryroll/app"
import { PgTypes } from "@effect/sql-pg"
import { Effect, Layer, Result } from "effect"
import { SqlClient } from "effect/sql"
import { orUnavailable } from "./PgStorageErrors.ts"

type Counter = LoginThrottle.Counter

interface Row {
  readonly key: string
  readonly failures: number
  readonly last_failure_at: Date
  readonly in_flight: number
  readonly in_flight_until: Date
  readonly forget_at: Date
}

/** A placeholder row, locked while deciding; `decide` always writes or deletes it. */
const placeholder = new Date(0)

/** A `text[]` parameter (the driver would bind an empty array untyped). */
const textArray = (values: ReadonlyArray<string>) => Result.getOrThrow(PgTypes.array(values, PgTypes.OID.text))

/** Forgotten rows are deleted once every this many `modify` calls. */
const sweepEvery = 100

/** The counters' store, over the `SqlClient` in context; run `Migrations` first. */
export const makeStore: Effect.Effect<LoginThrottle.Store, never, SqlClient.SqlClient> = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  let calls = 0
  const modify = <A>(
    keys: ReadonlyArray<string>,
    now: number,
    decide: (counters: ReadonlyMap<string, Counter>) => LoginThrottle.Decision<A>
  ) =>
    orUnavailable(Effect.gen(function*() {
      const sorted = [...new Set(keys)].sort()
      if (++calls % sweepEvery === 0) yield* sql`DELETE FROM login_throttle WHERE forget_at <= ${new Date(now)}`
      yield* sql`
        INSERT INTO login_throttle (key, failures, last_failure_at, in_flight, in_flight_until, forget_at)
        SELECT key, 0, ${placeholder}, 0, ${placeholder}, ${placeholder} FROM unnest(${textArray(sorted)}::text[]) AS key
        ON CONFLICT (key) DO NOTHING`
      const rows = yield* sql<Row>`
        SELECT * FROM login_throttle WHERE key IN ${sql.in(sorted)} ORDER BY key FOR UPDATE`
      const counters = new Map<string, Counter>()
      for (const row of rows) {
        // A placeholder (or a forgotten row) reads as no counter.
        if (row.forget_at.getTime() <= now) continue
        counters.set(row.key, {
          failures: row.failures,
          lastFailureAt: row.last_failure_at.getTime(),
          inFlight: row.in_flight,
          inFlightUntil: row.in_flight_until.getTime(),
          forgetAt: row.forget_at.getTime()
        })
      }
      const { result, writes } = decide(counters)
      const deleted = sorted.filter((key) => writes.has(key) ? writes.get(key) === undefined : !counters.has(key))
      if (deleted.length > 0) yield* sql`DELETE FROM login_throttle WHERE key IN ${sql.in(deleted)}`
      for (const [key, counter] of writes) {
        if (counter === undefined) continue
        yield* sql`
          UPDATE login_throttle SET
            failures = ${counter.failures},
            last_failure_at = ${new Date(counter.lastFailureAt)},
            in_flight = ${counter.inFlight},
            in_flight_until = ${new Date(counter.inFlightUntil)},
            forget_at = ${new Date(counter.forgetAt)}
          WHERE key = ${key}`
      }
      return result
    }).pipe(sql.withTransaction))
  return { modify }
})

/** The port, shared by every process on the database. */
export const layer = (
  options: LoginThrottle.Options = LoginThrottle.defaults
): Layer.Layer<LoginThrottle.LoginThrottle, never, SqlClient.SqlClient> =>
  Layer.effect(LoginThrottle.LoginThrottle, Effect.map(makeStore, (store) => LoginThrottle.make(store, options)))
