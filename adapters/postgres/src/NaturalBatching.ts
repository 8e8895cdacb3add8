/**
 * NaturalBatching: concurrent requests share calls, without a timer. At most `callsInFlight`
 * calls run at a time; a request that finds one free makes its call at once, alone (so a quiet
 * process pays no latency for batching), and the requests that arrive while every call is busy
 * queue. When a call ends, its slot goes to the queue: the next call takes the first request
 * queued and those behind it that may join (`canJoin`, at most `maxBatch`). Under load, batches
 * grow as long as calls take; idle, there is no batch at all. (Effect's `RequestResolver`
 * batches by a delay window instead, which every request would wait out.)
 *
 * A call runs uninterruptibly and settles every request in it. The first call runs in the
 * fiber of the request that made it; a call for queued requests runs in a fiber of its own, so
 * that no request waits for another's. A request interrupted while queued leaves the queue; one
 * interrupted while its call runs is not waited for, and its outcome is dropped.
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

interface Waiter<A, B, E> {
  readonly request: A
  readonly outcome: Deferred.Deferred<B, E>
}

export const make = <A, B, E>(options: Options<A, B, E>): NaturalBatching<A, B, E> => {
  const callsInFlight = Math.max(1, options.callsInFlight)
  const maxBatch = Math.max(1, options.maxBatch)
  const canJoin = options.canJoin ?? (() => true)
  const queue: Array<Waiter<A, B, E>> = []
  let running = 0

  /** The first request queued and those that may join it, out of the queue, in queue order. */
  const takeBatch = () => {
    const batch: Array<Waiter<A, B, E>> = []
    const requests: Array<A> = []
    for (let i = 0; i < queue.length && batch.length < maxBatch;) {
      const waiter = queue[i]!
      if (batch.length === 0 || canJoin(requests, waiter.request)) {
        batch.push(waiter)
        requests.push(waiter.request)
        queue.splice(i, 1)
      } else {
        i++
      }
    }
    return { batch, requests }
  }

  /**
   * Makes the call for `batch` (holding a slot) and settles its requests; then the slot goes to
   * the queue's next call, or is freed.
   */
  const call = (batch: ReadonlyArray<Waiter<A, B, E>>, requests: ReadonlyArray<A>): Effect.Effect<void> =>
    options.call(requests).pipe(
      Effect.exit,
      Effect.flatMap((called) => {
        batch.forEach((waiter, i) =>
          Deferred.doneUnsafe(
            waiter.outcome,
            Exit.isFailure(called)
              ? Exit.failCause(called.cause)
              : called.value[i] ?? Exit.die(new Error(`a batched call returned no outcome for request ${i + 1}`))
          )
        )
        if (queue.length === 0) {
          running--
          return Effect.void
        }
        const next = takeBatch()
        return Effect.asVoid(Effect.forkDetach(call(next.batch, next.requests)))
      }),
      Effect.uninterruptible
    )

  const submit = (request: A): Effect.Effect<B, E> =>
    Effect.suspend(() => {
      const waiter: Waiter<A, B, E> = { request, outcome: Deferred.makeUnsafe() }
      if (running < callsInFlight) {
        running++
        return call([waiter], [request]).pipe(Effect.andThen(Deferred.await(waiter.outcome)))
      }
      queue.push(waiter)
      return Deferred.await(waiter.outcome).pipe(
        Effect.onInterrupt(() =>
          Effect.sync(() => {
            const at = queue.indexOf(waiter)
            if (at >= 0) queue.splice(at, 1)
          })
        )
      )
    })

  return { submit }
}
