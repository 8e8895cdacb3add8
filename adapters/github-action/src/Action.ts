/**
 * What the action does, in the order the public `canaryroll/action@v1` does it: (upload the
 * version with wrangler) → create the release → with `auto-start`, run the preflight checks and
 * start it → with `wait`, poll until it finishes. Outputs are written as soon as they are known,
 * so a later step sees `release-id` even when this one fails; the job summary is written at the
 * end, whatever happened.
 *
 * Creating and starting go through the CLI's API client: each request carries an
 * `Idempotency-Key` and is sent again with it when no answer comes back, so a dropped connection
 * never creates a second release or starts it twice.
 *
 * The step fails (exit 1, with an error annotation) on bad input, a refused call, a failed
 * preflight, and — when waiting — a release that is rolled back, fails, is cancelled, or does not
 * finish within `wait-timeout`.
 *
 * @since 0.1.0
 */
import type { Schemas } from "@canaryroll/api"
import { CanaryRollApi, ReleaseProgress, ReleaseWatch } from "@canaryroll/cli"
import { Duration, Effect } from "effect"
import { FetchHttpClient } from "effect/http"
import * as ActionInputs from "./ActionInputs.ts"
import * as JobSummary from "./JobSummary.ts"
import * as WorkflowFiles from "./WorkflowFiles.ts"
import * as WranglerUpload from "./WranglerUpload.ts"

/** What happened, for the summary, whether or not the step succeeds. */
interface Outcome {
  release: Schemas.PublicDeployment | undefined
  releaseUrl: string
  progress: ReleaseProgress.ReleaseProgress | undefined
  uploadedVersion: boolean
}

const failureMessage = (error: { readonly _tag: string; readonly message: string }) => {
  switch (error._tag) {
    case "ApiRefused": {
      const refused = error as CanaryRollApi.ApiRefused
      const hint = refused.status === 401
        ? " Check the api-token secret: it must be a team token (crt_…) of this team."
        : refused.status === 403
        ? " The token's role is too small: use a token with the deploy role."
        : refused.status === 404
        ? " Check team-id, worker-id and plan."
        : ""
      return `CanaryRoll refused ${refused.method} ${refused.path}: ${refused.message} (${refused.status} ${refused.code}).${hint}`
    }
    case "ServerUnreachable":
      return `Could not reach CanaryRoll: ${error.message}. Check api-url.`
    default:
      return error.message
  }
}

export const run = (env: ActionInputs.Environment) => {
  const outcome: Outcome = { release: undefined, releaseUrl: "", progress: undefined, uploadedVersion: false }
  const setOutput = (name: string, value: string) => WorkflowFiles.setOutput(env, name, value)

  const steps = Effect.gen(function*() {
    // Before anything can print them, whatever else is wrong with the inputs.
    for (const secret of ActionInputs.secrets(env)) yield* WorkflowFiles.mask(secret)
    const inputs = yield* ActionInputs.read(env)
    for (const warning of inputs.warnings) yield* WorkflowFiles.warning(warning)
    const api = yield* CanaryRollApi.make({
      apiUrl: inputs.apiUrl,
      token: inputs.apiToken,
      team: inputs.teamId,
      headers: inputs.cfAccess === undefined
        ? {}
        : { "CF-Access-Client-Id": inputs.cfAccess.clientId, "CF-Access-Client-Secret": inputs.cfAccess.clientSecret }
    })

    let versionId = inputs.versionId
    if (inputs.upload !== undefined) {
      const uploaded = yield* WranglerUpload.upload({ ...inputs.upload, env })
      versionId = uploaded.versionId
      outcome.uploadedVersion = true
      yield* WorkflowFiles.log(`Uploaded version ${uploaded.versionId}${uploaded.workerName === undefined ? "" : ` of ${uploaded.workerName}`}`)
    }
    yield* setOutput("version-id", versionId!)

    const created = (yield* api.createRelease({
      workerId: inputs.workerId,
      versionId: versionId!,
      planId: inputs.plan,
      autoAdvance: inputs.autoAdvance,
      name: inputs.name,
      ticketUrl: inputs.ticketUrl
    })).value
    outcome.release = created
    outcome.releaseUrl = api.releaseUrl(created.id)
    yield* setOutput("release-id", created.id)
    yield* setOutput("release-url", outcome.releaseUrl)
    yield* setOutput("status", created.status)
    yield* WorkflowFiles.log(`Created release ${created.id} (${created.status}): ${outcome.releaseUrl}`)

    if (!inputs.autoStart) {
      yield* WorkflowFiles.log("auto-start is off: start the release from CanaryRoll when you are ready.")
      return
    }
    const preflight = (yield* api.preflight(created.id)).value
    for (const check of preflight.checks) {
      yield* WorkflowFiles.log(`preflight ${check.passed ? "✓" : "✗"} ${check.name}${check.message === undefined ? "" : `: ${check.message}`}`)
    }
    if (!preflight.passed) {
      const failed = preflight.checks.filter((check) => !check.passed).map((check) => `${check.name}${check.message === undefined ? "" : ` (${check.message})`}`)
      return yield* Effect.fail({ _tag: "PreflightFailed", message: `Preflight checks failed, the release was not started: ${failed.join("; ")}` })
    }
    const started = (yield* api.act("start", created.id)).value
    outcome.release = started
    yield* setOutput("status", started.status)
    yield* WorkflowFiles.log(`Started release ${created.id}`)

    if (!inputs.wait) return
    let last = ""
    const finished = yield* ReleaseWatch.untilFinished(api, created.id, {
      pollInterval: Duration.seconds(inputs.pollIntervalSeconds),
      timeout: Duration.seconds(inputs.waitTimeoutSeconds),
      onProgress: (progress, release) =>
        Effect.suspend(() => {
          outcome.progress = progress
          outcome.release = release
          // The log gets a line per change (the soak countdown alone is not one).
          const line = ReleaseProgress.describe(progress)
          const state = line.replace(/ · soak [^·]+ left/, "")
          if (state === last) return Effect.void
          last = state
          return WorkflowFiles.log(line)
        }),
      // A server restarting (several processes take turns) is waited out; the log says so once.
      onUnavailable: (error) =>
        WorkflowFiles.warning(
          `CanaryRoll is not answering (${error.message}); the release carries on there. ` +
            `Asking again every ${inputs.pollIntervalSeconds}s until wait-timeout.`
        )
    }).pipe(
      Effect.map((answer) => answer.value),
      Effect.catchTag("WaitTimedOut", (timedOut) => {
        // The last status read, or the one the release was started with if none was.
        const status = timedOut.status ?? started.status
        return Effect.andThen(
          setOutput("status", status),
          Effect.fail({
            _tag: "WaitTimedOut",
            message: `The release did not finish within wait-timeout (${inputs.waitTimeoutSeconds}s); it is ${status.replace("_", " ")}${
              timedOut.unavailable === null ? "" : ` as far as we know (CanaryRoll is not answering: ${timedOut.unavailable})`
            } and carries on: ${outcome.releaseUrl}`
          })
        )
      })
    )
    outcome.release = finished
    yield* setOutput("status", finished.status)
    if (finished.status !== "completed") {
      const reason = finished.statusReason ?? finished.rollbackReason ?? null
      return yield* Effect.fail({
        _tag: "ReleaseNotCompleted",
        message: `The release was ${finished.status.replace("_", " ")}${reason === null ? "" : `: ${reason}`} (${outcome.releaseUrl})`
      })
    }
    yield* WorkflowFiles.log(`Release ${created.id} completed: version ${finished.cfVersionId} serves 100%.`)
  })

  return steps.pipe(
    Effect.as(0),
    Effect.catch((error: { readonly _tag: string; readonly message: string }) =>
      Effect.as(WorkflowFiles.error(failureMessage(error)), 1)
    ),
    Effect.tap(() =>
      outcome.release === undefined ? Effect.void : WorkflowFiles.appendSummary(
        env,
        JobSummary.render({
          release: outcome.release,
          releaseUrl: outcome.releaseUrl,
          progress: outcome.progress,
          uploadedVersion: outcome.uploadedVersion,
          note: outcome.release.status === "pending" ? "The release is pending: start it from CanaryRoll when you are ready." : undefined
        })
      )
    ),
    Effect.provide(FetchHttpClient.layer)
  )
}
