/**
 * DeliveryWorker: sends the deliveries that are due, each on a fiber of its own, and records how
 * each attempt went (`RetryPolicy.decide`: delivered, retried later, or failed).
 *
 * A slow or dead channel cannot hold up the others: every attempt has a timeout
 * (`ChannelSender`), attempts run side by side up to `concurrency`, and the store hands out at
 * most one delivery per channel at a time, so one channel occupies at most one sender while the
 * rest go on. Claims are leases: if this process dies mid-attempt, the lease runs out and a
 * sender (here after a restart, or in another process) tries again, which is why delivery is at
 * least once, and why receivers deduplicate on `X-CanaryRoll-Delivery` or the event id. A
 * delivery recorded `delivered` is never sent again, restart or not: its state is in the store.
 *
 * Every attempt ends recorded: a defect (a throw while opening the channel or rendering) is a
 * temporary failure with its cause as the error, and a delivery whose claims already exceed the
 * policy's `maxAttempts` (senders that died mid-attempt) is failed without sending. Either way a
 * delivery ends, and never holds its channel for ever. Errors are recorded and logged redacted
 * (`Redaction`): a defect's text may quote a channel's URL.
 *
 * @since 0.1.0
 */
import { Cause, Clock, Duration, Effect, FiberSet, Option, Random } from "effect"
import * as ChannelSender from "./ChannelSender.ts"
import * as NotificationStore from "./NotificationStore.ts"
import * as Redaction from "./Redaction.ts"
import * as RetryPolicy from "./RetryPolicy.ts"

export interface Options {
  /** Attempts under way at once in this process. Default 16. */
  readonly concurrency?: number | undefined
  /**
   * How long a claim holds a delivery. It must be longer than an attempt's timeout, or a slow
   * attempt's delivery could be claimed (and sent) again. Default 2 minutes.
   */
  readonly lease?: Duration.Input | undefined
  /** How long `run` waits when nothing is due or storage fails. Default 1 second. */
  readonly pollInterval?: Duration.Input | undefined
  readonly policy?: Partial<RetryPolicy.Policy> | undefined
}

export interface DeliveryWorker {
  /**
   * Sends everything due now, side by side, and waits for every attempt to be recorded; returns
   * how many attempts were made. For tests and one-shot runs.
   */
  readonly runDue: Effect.Effect<number, NotificationStore.NotificationStoreUnavailable>
  /** One attempt at one claimed delivery, recorded. */
  readonly attempt: (delivery: NotificationStore.DeliveryRecord) => Effect.Effect<void, NotificationStore.NotificationStoreUnavailable>
  /** Claims and sends for ever; never waits for an attempt before claiming more. */
  readonly run: Effect.Effect<never>
}

export const make = (options: Options = {}): Effect.Effect<
  DeliveryWorker,
  never,
  NotificationStore.NotificationStore | ChannelSender.ChannelSender
> =>
  Effect.gen(function*() {
    const store = yield* NotificationStore.NotificationStore
    const sender = yield* ChannelSender.ChannelSender
    const concurrency = Math.max(1, options.concurrency ?? 16)
    const leaseMs = Duration.toMillis(options.lease ?? "2 minutes")
    const pollInterval = options.pollInterval ?? "1 second"
    const policy: RetryPolicy.Policy = { ...RetryPolicy.defaultPolicy, ...options.policy }
    const permanent = (error: string): RetryPolicy.AttemptResult => ({ _tag: "Permanent", error, statusCode: null })

    /**
     * One attempt's result. A defect (a throw while opening the channel or rendering the message)
     * is a failed attempt like any other, recorded and counted: left to kill the fiber, nothing
     * would be recorded, and the delivery would be claimed again after every lease, for ever,
     * holding its channel. Storage errors and interruptions are not results: the lease runs out.
     */
    const send = (delivery: NotificationStore.DeliveryRecord) =>
      Effect.gen(function*() {
        const channel = yield* store.getChannel(delivery.teamId, delivery.channelId)
        if (Option.isNone(channel)) return permanent("the channel was deleted")
        if (!channel.value.enabled) return permanent("the channel is disabled")
        return yield* sender.send(channel.value, delivery.notification, delivery.id)
      }).pipe(
        Effect.catchCause((cause) =>
          Cause.hasDies(cause) && !Cause.hasInterrupts(cause)
            ? Effect.succeed<RetryPolicy.AttemptResult>({
              _tag: "Temporary",
              error: `the attempt failed unexpectedly: ${Cause.pretty(cause).slice(0, 2_000)}`,
              statusCode: null,
              retryAfterMs: null
            })
            : Effect.failCause(cause)
        )
      )

    const attempt = (delivery: NotificationStore.DeliveryRecord) =>
      Effect.gen(function*() {
        // Claims count attempts, including those whose sender died before recording anything
        // (a crash, a lost lease): past the policy's maximum, the delivery is failed unsent.
        if (delivery.attempts > policy.maxAttempts) {
          const at = yield* Clock.currentTimeMillis
          return yield* store.complete(delivery.id, {
            _tag: "Failed",
            at,
            error: `gave up after ${delivery.attempts - 1} attempts (the last never finished)` +
              (delivery.lastError === null ? "" : `: ${delivery.lastError}`),
            statusCode: delivery.lastStatusCode
          })
        }
        const result = yield* send(delivery)
        const now = yield* Clock.currentTimeMillis
        const random = yield* Random.next
        yield* store.complete(delivery.id, RetryPolicy.decide(policy, { attempts: delivery.attempts, result, now, random }))
      })

    const claim = (limit: number) =>
      Effect.flatMap(Clock.currentTimeMillis, (now) => store.claimDue({ now, limit, leaseMs }))

    const runDue = Effect.gen(function*() {
      let attempts = 0
      while (true) {
        const claimed = yield* claim(concurrency)
        if (claimed.length === 0) return attempts
        yield* Effect.forEach(claimed, attempt, { concurrency: "unbounded", discard: true })
        attempts += claimed.length
      }
    })

    const logged = (delivery: NotificationStore.DeliveryRecord) =>
      attempt(delivery).pipe(
        Effect.catch((error) =>
          // The lease runs out and the delivery is tried again: nothing is lost.
          Effect.logWarning(`notifier: could not record delivery ${delivery.id}: ${Redaction.text(error.message)}`)
        ),
        Effect.catchCause((cause) =>
          Cause.hasInterruptsOnly(cause)
            ? Effect.failCause(cause)
            : Effect.logError(`notifier: could not record delivery ${delivery.id}`, Redaction.text(Cause.pretty(cause)))
        )
      )

    const run: Effect.Effect<never> = Effect.scoped(Effect.gen(function*() {
      const inFlight = yield* FiberSet.make<void>()
      while (true) {
        const free = concurrency - (yield* FiberSet.size(inFlight))
        const claimed = free > 0
          ? yield* claim(free).pipe(
            Effect.catch((error) =>
              Effect.logWarning(`notifier: claiming deliveries failed, retrying: ${Redaction.text(error.message)}`).pipe(Effect.as([]))
            ),
            Effect.catchCause((cause) =>
              Effect.logError("notifier: claiming deliveries failed", Redaction.text(Cause.pretty(cause))).pipe(Effect.as([]))
            )
          )
          : []
        for (const delivery of claimed) yield* FiberSet.run(inFlight, logged(delivery))
        // A full claim may mean more is due: look again at once. Otherwise (nothing due, or every
        // sender busy) wait for the next poll.
        if (claimed.length === 0 || claimed.length < free) yield* Effect.sleep(pollInterval)
      }
    }))

    return { runDue, attempt, run }
  })
