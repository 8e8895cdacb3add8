/**
 * What every storage port of the application shares: the one typed storage failure (the API
 * declares it as 503 with `Retry-After`), and `Transactions`, which makes several port calls one
 * atomic change (a team with its first admin and its settings-audit entry; a role change that
 * must keep the last admin).
 *
 * Postgres runs `atomically` as one database transaction (every port's Postgres layer uses the
 * same `SqlClient`, so its statements join it). Memory runs it under one lock and undoes the
 * memory layers' writes if it fails: each memory layer records how to undo a write with
 * `recordUndo`, which does nothing outside a transaction.
 *
 * @since 0.2.0
 */
import { Context, Effect, Exit, Layer, Schema, Semaphore } from "effect"

/** The storage could not answer (database down, connection lost). Retrying later may work. */
export class StorageUnavailable extends Schema.TaggedError<StorageUnavailable>()("StorageUnavailable", {
  message: Schema.String
}) {}

export class Transactions extends Context.Service<Transactions, {
  /** Runs `effect` as one atomic change: all of its port writes happen, or none. */
  readonly atomically: <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.Effect<A, E | StorageUnavailable, R>
}>()("@canaryroll/app/Transactions") {}

type Undo = () => void

/** The undo log of the memory transaction the fiber runs in, if any. */
const CurrentUndoLog = Context.Reference<Array<Undo> | undefined>("@canaryroll/app/Storage/CurrentUndoLog", {
  defaultValue: () => undefined
})

/**
 * Memory layers call this right after a write, with how to undo it: inside `atomically` the undo
 * runs if the transaction fails; outside, nothing is recorded.
 */
export const recordUndo = (undo: Undo): Effect.Effect<void> =>
  Effect.map(CurrentUndoLog, (log) => {
    log?.push(undo)
  })

/**
 * Memory transactions: one at a time (a lock), undone on failure. Reads and writes outside a
 * transaction are not blocked (memory writes are single synchronous steps), so they may see a
 * transaction's writes before it ends; the memory layers are for tests and embedded use.
 */
export const makeMemory = Effect.gen(function*() {
  const lock = yield* Semaphore.make(1)
  return Transactions.of({
    atomically: (effect) =>
      Effect.flatMap(CurrentUndoLog, (outer) => {
        // Nested: part of the outer transaction.
        if (outer !== undefined) return effect
        const log: Array<Undo> = []
        return lock.withPermits(1)(
          effect.pipe(
            Effect.provideService(CurrentUndoLog, log),
            Effect.onExit((exit) =>
              Exit.isFailure(exit)
                ? Effect.sync(() => {
                  for (const undo of log.reverse()) undo()
                })
                : Effect.void
            )
          )
        )
      })
  })
})

export const layerMemory: Layer.Layer<Transactions> = Layer.effect(Transactions, makeMemory)
