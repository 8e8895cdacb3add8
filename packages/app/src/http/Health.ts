/**
 * Handlers of the `health` group: `/api/health` says the process answers (liveness);
 * `/api/ready` says it can serve (readiness, see `Readiness.ts`), or answers 503 naming the check
 * that failed. Neither needs credentials, and neither says more than which check failed and why.
 *
 * @since 0.1.0
 */
import { Effect } from "effect"
import { HttpApiBuilder } from "effect/http-api"
import { Api } from "@canaryroll/api/Api"
import { NotReady } from "@canaryroll/api/ApiError"
import * as Readiness from "./Readiness.ts"
import { SecretBox } from "../security/SecretBox.ts"

export const layer = HttpApiBuilder.group(Api, "health", (handlers) =>
  Effect.gen(function*() {
    const store = yield* Readiness.Store
    const box = yield* SecretBox
    return handlers
      .handle("health", () => Effect.succeed({ ok: true }))
      .handle("ready", () =>
        Readiness.check.pipe(
          Effect.provideService(Readiness.Store, store),
          Effect.provideService(SecretBox, box),
          Effect.flatMap((readiness) =>
            readiness.ok
              ? Effect.succeed(readiness)
              : Effect.fail(new NotReady({ error: "not_ready", message: Readiness.summary(readiness), checks: readiness.checks }))
          )
        ))
  }))
