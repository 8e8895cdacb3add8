/**
 * NaturalBatching: concurrent requests share calls, without a timer. At most `callsInFlight`
 * calls run at a time; a request that finds one free goes at once, alone (so a quiet process
 * pays no latency for batching), and the requests that arrive while every call is busy queue.
 * When a call ends, the first request queued leads the next one, taking with it the queue's
 * requests that may join it (`canJoin`, at most `maxBatch`). Under load, batches grow as long as
 * calls take; idle, there is no batch at all. (Effect's `RequestResolver` batches by a delay
 * window instead, which every request would wait out.)
 *
 * The leader runs the call in its own fiber, uninterruptibly, and hands each other request its
 * outcome. A request interrupted while it waits leaves the queue; one interrupted just after it
 * was asked to lead passes the lead on, so no slot is ever lost.
 *
 * @since 0.3.0
 */
import { Deferred, Effect, Exit } from "effect"

export interface Options<A, B, E> {
  /** Calls running at once (at least 1). */
  readonly callsInFlight: number
  /** Requests in one call (at least 1). */
  readonly maxBatch: number
  /** Whether `request` may join `batch` (e.g. at most one append per stream); default: always. */
  readonly canJoin?: ((batch: ReadonlyArray<A>, request: A) => boolean) | undefined
  /**
   * Makes one call: an outcome per request, in the batch's order. A failure of the call itself
   * is every request's.
   */
  readonly call: (batch: ReadonlyArray<A>) => Effect.Effect<ReadonlyArray<Exit.Exit<B, E>>, E>
}

export interface NaturalBatching<A, B, E> {
  /** Makes `request` in the next call that has room for it, and returns its outcome. */
  readonly submit: (request: A) => Effect.Effect<B, E>
}

/** Told to a queued request whose turn has come to lead a call. */
const lead: unique symbol = Symbol("NaturalBatching/lead")

interface Waiter<A, B, E> {
  readonly request: A
  readonly outcome: Deferred.Deferred<B | typeof lead, E>
  /** Asked to lead, and not yet leading (or done). */
  asked: boolean
}

export const make = <A, B, E>(options: Options<A, B, E>): NaturalBatching<A, B, E> => {
  const callsInFlight = Math.max(1, options.callsInFlight)
  const maxBatch = Math.max(1, options.maxBatch)
  const canJoin = options.canJoin ?? (() => true)
  const queue: Array<Waiter<A, B, E>> = []
  let running = 0

  /** The call's slot goes to the first request queued, or is freed. */
  const passOn = () => {
    const next = queue[0]
    if (next === undefined) {
      running--
      return
    }
    next.asked = true
    Deferred.doneUnsafe(next.outcome, Exit.succeed(lead))
  }

  /** `leader` and the queued requests that may join it, out of the queue, in queue order. */
  const takeBatch = (leader: Waiter<A, B, E>) => {
    const batch: Array<Waiter<A, B, E>> = [leader]
    const requests: Array<A> = [leader.request]
    remove(leader)
    for (let i = 0; i < queue.length && batch.length < maxBatch;) {
      const waiter = queue[i]!
      if (canJoin(requests, waiter.request)) {
        batch.push(waiter)
        requests.push(waiter.request)
        queue.splice(i, 1)
      } else {
        i++
      }
    }
    return { batch, requests }
  }

  const remove = (waiter: Waiter<A, B, E>) => {
    const at = queue.indexOf(waiter)
    if (at >= 0) queue.splice(at, 1)
  }

  /** Runs the call for `leader`'s batch (holding a slot), settles the others, passes the slot on. */
  const leadCall = (leader: Waiter<A, B, E>): Effect.Effect<B, E> =>
    Effect.suspend(() => {
      leader.asked = false
      const { batch, requests } = takeBatch(leader)
      return options.call(requests).pipe(
        Effect.exit,
        Effect.map((called) => {
          const outcomes = batch.map((_, i): Exit.Exit<B, E> =>
            Exit.isFailure(called)
              ? Exit.failCause(called.cause)
              : called.value[i] ?? Exit.die(new Error(`a batched call returned no outcome for request ${i + 1}`))
          )
          for (let i = 1; i < batch.length; i++) Deferred.doneUnsafe(batch[i]!.outcome, outcomes[i]!)
          passOn()
          return outcomes[0]!
        }),
        Effect.uninterruptible,
        Effect.flatten
      )
    })

  const submit = (request: A): Effect.Effect<B, E> =>
    Effect.uninterruptibleMask((restore) =>
      Effect.suspend(() => {
        const waiter: Waiter<A, B, E> = { request, outcome: Deferred.makeUnsafe(), asked: false }
        queue.push(waiter)
        if (running < callsInFlight) {
          running++
          return leadCall(waiter)
        }
        return restore(Deferred.await(waiter.outcome)).pipe(
          Effect.onInterrupt(() =>
            Effect.sync(() => {
              remove(waiter)
              if (waiter.asked) {
                waiter.asked = false
                passOn()
              }
            })
          ),
          Effect.flatMap((outcome) => outcome === lead ? leadCall(waiter) : Effect.succeed(outcome))
        )
      })
    )

  return { submit }
}
