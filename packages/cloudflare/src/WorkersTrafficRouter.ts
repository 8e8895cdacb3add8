/**
 * The TrafficRouter port on Cloudflare's Workers deployments API (WorkersApi).
 *
 * `apply` is idempotent: it reads the live deployment first and returns it if it already is the
 * split. After a 5xx or a timeout the outcome is unknown, so it reads again before reporting a
 * failure: a deployment that Cloudflare did make is returned, never made twice.
 *
 * @since 0.1.0
 */
import { TrafficRouter, TrafficSplit } from "@canaryroll/core"
import { Effect, Layer } from "effect"
import * as WorkersApi from "./WorkersApi.ts"

export type Options = WorkersApi.Options

const isUnknownOutcome = (error: TrafficRouter.TrafficRouterError) => error.kind === "transient"

export const make = Effect.gen(function*() {
  const api = yield* WorkersApi.WorkersApi
  return TrafficRouter.TrafficRouter.of({
    readActive: api.activeDeployment,
    apply: (target, split, options) =>
      Effect.gen(function*() {
        const invalid = TrafficSplit.invalidReason(split)
        if (invalid !== undefined) {
          return yield* new TrafficRouter.TrafficRouterError({ kind: "permanent", message: invalid })
        }
        const live = yield* api.activeDeployment(target)
        if (TrafficSplit.equals(live.split, split)) return live
        return yield* api.createDeployment(target, split, options.message).pipe(
          // The outcome of a failed create is unknown: look before anyone retries it.
          Effect.catchIf(isUnknownOutcome, (error) =>
            api.activeDeployment(target).pipe(
              Effect.orElseSucceed(() => undefined),
              Effect.flatMap((after) =>
                after !== undefined && TrafficSplit.equals(after.split, split) ? Effect.succeed(after) : Effect.fail(error)
              )
            ))
        )
      })
  })
})

/** The router and the WorkersApi it runs on; needs CloudflareCredentials and ApiBudget. */
export const layer = (options: Options = {}) =>
  Layer.effect(TrafficRouter.TrafficRouter, make).pipe(Layer.provideMerge(WorkersApi.layer(options)))
