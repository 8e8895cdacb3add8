/**
 * `canaryroll release …`: create, start, watch and steer one release. Each prints the release
 * for people (status, step, percentage, the link to its page) or, with `--json`, the server's
 * JSON. `wait` follows a release until it finishes and exits with its outcome (see ExitCode).
 *
 * @since 0.1.0
 */
import { Clock, Duration, Effect, Option, Schema } from "effect"
import { Argument, CliError, Command, Flag } from "effect/cli"
import { Api, Schemas } from "@canaryroll/api"
import type * as CanaryRollApi from "./CanaryRollApi.ts"
import { CommandFailed, ExitCode } from "./ExitCode.ts"
import * as ExitCodes from "./ExitCode.ts"
import * as Output from "./Output.ts"
import * as ReleaseProgress from "./ReleaseProgress.ts"
import * as ReleaseWatch from "./ReleaseWatch.ts"
import { connect, wantsJson } from "./RootCommand.ts"

const releaseId = Argument.String("id").pipe(Argument.withDescription("The release (deployment) id"))
const reason = Flag.String("reason").pipe(Flag.withDescription("Why, for the audit log"), Flag.optional)

/** `90`, `90s`, `15m`, `2h`, `1h30m`: a duration in seconds. */
export const parseDuration = (text: string): Option.Option<number> => {
  const trimmed = text.trim()
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Option.some(Number(trimmed))
  const parts = [...trimmed.matchAll(/(\d+(?:\.\d+)?)(h|m|s)/g)]
  if (parts.length === 0 || parts.map((part) => part[0]).join("") !== trimmed) return Option.none()
  return Option.some(parts.reduce((sum, [, amount, unit]) => sum + Number(amount) * ({ h: 3600, m: 60, s: 1 }[unit!]!), 0))
}

const durationFlag = (name: string, fallback: string, description: string, minimumSeconds = 0) =>
  Flag.String(name).pipe(
    Flag.withDescription(`${description} (e.g. 90s, 15m, 2h)`),
    Flag.withDefault(fallback),
    Flag.mapEffect((text) =>
      Option.match(Option.filter(parseDuration(text), (seconds) => seconds >= minimumSeconds), {
        onSome: Effect.succeed,
        onNone: () =>
          Effect.fail(
            new CliError.InvalidValue({
              option: name,
              value: text,
              expected: minimumSeconds > 0
                ? `a duration of at least ${minimumSeconds}s, such as 5s, 90s or 15m`
                : "a duration such as 90s, 15m or 2h",
              kind: "flag"
            })
          )
      })
    )
  )

/** Worker ids → script names, for people (an id is what they would not recognise). */
const workerNames = (api: CanaryRollApi.CanaryRollApi) =>
  api.workers().pipe(
    Effect.map((answer) => new Map(answer.value.map((worker) => [worker.id, worker.scriptName]))),
    // A name is a nicety: a server that will not list Workers still shows the release.
    Effect.orElseSucceed(() => new Map<string, string>())
  )

const describeRelease = (api: CanaryRollApi.CanaryRollApi, release: Schemas.PublicDeployment, workerName?: string) => {
  const steps = release.stepsSnapshot.map((step) => `${step.percentage}%`).join(" → ")
  return [
    `Release ${release.id} · ${release.status.replace("_", " ")}`,
    `  Worker      ${workerName === undefined ? release.workerId : `${workerName} (${release.workerId})`}`,
    `  Version     ${release.cfVersionId}${release.cfPreviousVersionId === null ? "" : ` (stable ${release.cfPreviousVersionId})`}`,
    `  Plan        ${steps}${release.autoAdvance ? "" : " (manual advance)"}`,
    ...(release.name === null ? [] : [`  Name        ${release.name}`]),
    ...(release.ticketUrl === null ? [] : [`  Ticket      ${release.ticketUrl}`]),
    ...(release.statusReason === undefined || release.statusReason === null ? [] : [`  Reason      ${release.statusReason}`]),
    `  Page        ${api.releaseUrl(release.id)}`
  ]
}

/** Prints a release as JSON or text, then what to do next for people. */
const show = (api: CanaryRollApi.CanaryRollApi, answer: CanaryRollApi.Answer<Schemas.PublicDeployment>, next: ReadonlyArray<string> = []) =>
  Effect.gen(function*() {
    if (yield* wantsJson) return yield* Output.json(answer.json)
    const name = (yield* workerNames(api)).get(answer.value.workerId)
    yield* Output.lines(...describeRelease(api, answer.value, name), ...(next.length === 0 ? [] : ["", ...next]))
  })

const create = Command.make(
  "create",
  {
    worker: Flag.String("worker").pipe(Flag.withDescription("The Worker: its script name or its id (see `canaryroll workers`)")),
    version: Flag.String("version").pipe(
      Flag.withDescription("The Cloudflare version to roll out: its id, or the tag it was uploaded with (wrangler versions upload --tag)")
    ),
    plan: Flag.String("plan").pipe(Flag.withDescription("A plan id or slug (default: the Worker's plan)"), Flag.optional),
    manual: Flag.Boolean("manual").pipe(Flag.withDescription("Wait for a person at every step"), Flag.withDefault(false)),
    name: Flag.String("name").pipe(Flag.withDescription("A name for the release, e.g. a commit"), Flag.optional),
    ticketUrl: Flag.String("ticket-url").pipe(Flag.withDescription("A link to the change's ticket"), Flag.optional),
    start: Flag.Boolean("start").pipe(Flag.withDescription("Start it right away"), Flag.withDefault(false)),
    wait: Flag.Boolean("wait").pipe(
      Flag.withDescription("With --start: follow it as `release wait` does (its timeout, interval and exit codes)"),
      Flag.withDefault(false)
    ),
    timeout: durationFlag("timeout", "1h", "With --wait: give up after this long; the release carries on"),
    interval: durationFlag("interval", "5s", "With --wait: how often to ask the server, at least 1s", 1)
  },
  Effect.fn(function*(input) {
    const api = yield* connect
    const created = yield* api.createRelease({
      workerId: input.worker,
      versionId: input.version,
      planId: Option.getOrUndefined(input.plan),
      ...(input.manual ? { autoAdvance: false } : {}),
      name: Option.getOrUndefined(input.name),
      ticketUrl: Option.getOrUndefined(input.ticketUrl)
    })
    if (!input.start) {
      if (input.wait) yield* Output.note("--wait follows a started release: add --start (the release is created, pending).")
      return yield* show(api, created, [`Start it with: canaryroll release start ${created.value.id}`])
    }
    const started = yield* api.act("start", created.value.id)
    if (input.wait) return yield* follow(api, created.value.id, { interval: input.interval, throughPauses: false, timeout: input.timeout })
    yield* show(api, started, [`Follow it with: canaryroll release wait ${created.value.id}`])
  })
).pipe(Command.withDescription("Create a release of a new Worker version (pending until started)"))

const status = Command.make(
  "status",
  { id: releaseId },
  Effect.fn(function*({ id }) {
    const api = yield* connect
    const { events, release, server } = yield* ReleaseWatch.read(api, id)
    const now = yield* Clock.currentTimeMillis
    const progress = ReleaseProgress.of(release.value, events, now, server)
    // The server's release, and beside it where it stands (soak window, last verdict, failures, hold).
    if (yield* wantsJson) return yield* Output.json({ ...(release.json as object), progress })
    const name = (yield* workerNames(api)).get(release.value.workerId)
    yield* Output.lines(
      ...describeRelease(api, release.value, name),
      `  Progress    ${ReleaseProgress.describe(progress, now)}`,
      ...(progress.lastEvent === undefined ? [] : [`  Last event  ${progress.lastEvent}`])
    )
  })
).pipe(Command.withDescription("Show a release: status, step, soak time left, next check, last verdict, failures, what holds it"))

/** A person command that takes a reason or nothing, named and described by the API's table (`PersonCommand`). */
const actionCommand = (action: Api.PersonCommand.Simple) =>
  Command.make(
    action,
    { id: releaseId, reason },
    Effect.fn(function*({ id, reason }) {
      const api = yield* connect
      yield* show(api, yield* api.act(action, id, { reason: Option.getOrUndefined(reason) }))
    })
  ).pipe(Command.withDescription(Api.PersonCommand.commands[action].description))

/**
 * An advance names the step it moves on from, so that sending it twice (a retry, a second
 * terminal) cannot move the release two steps: `--from-step`, or the step the release is at when
 * the command reads it.
 */
const advance = Command.make(
  "advance",
  {
    id: releaseId,
    fromStep: Flag.Int("from-step").pipe(
      Flag.withDescription(
        "The step to move on from, counted as the API does (currentStep in --json; 0 is the first); default: the step it is at when read"
      ),
      Flag.optional
    ),
    reason
  },
  Effect.fn(function*({ id, fromStep, reason }) {
    const api = yield* connect
    const from = Option.isSome(fromStep) ? fromStep.value : (yield* api.release(id)).value.currentStep
    yield* show(api, yield* api.act("advance", id, { fromStep: from, reason: Option.getOrUndefined(reason) }))
  })
).pipe(Command.withDescription(Api.PersonCommand.commands.advance.description))

/**
 * Live progress: rewrites one line on a terminal; elsewhere (CI logs) prints a line when it
 * changes. A server that stops answering gets a line of its own, once until it answers again.
 */
const progressPrinter = Effect.sync(() => {
  const tty = process.stderr.isTTY === true
  let last = ""
  let lastPrintedAt = 0
  return {
    progress: (progress: ReleaseProgress.ReleaseProgress) =>
      Effect.flatMap(Clock.currentTimeMillis, (now) =>
        Effect.sync(() => {
          const line = ReleaseProgress.describe(progress, now)
          if (tty) {
            process.stderr.write(`\r\x1b[2K${line}`)
            return
          }
          // Without the countdowns, so a log gets a line per change, and one a minute while soaking.
          const state = line.replace(/ · soak [^·]+ left/, "").replace(/ · next check [^·]+/, "")
          if (state !== last || now - lastPrintedAt >= 60_000) {
            process.stderr.write(`${line}\n`)
            last = state
            lastPrintedAt = now
          }
        })),
    unavailable: (error: CanaryRollApi.ApiError, intervalSeconds: number) =>
      Effect.sync(() => {
        const said = error._tag === "ApiRefused" ? `${error.status} ${error.code}: ${error.message}` : error.message
        process.stderr.write(
          `${tty ? "\r\x1b[2K" : ""}The server is not answering (${said}); the release carries on there. ` +
            `Asking again every ${intervalSeconds}s until --timeout.\n`
        )
        // The next progress line is printed whatever it says.
        last = ""
      })
  }
})

const wait = Command.make(
  "wait",
  {
    id: releaseId,
    timeout: durationFlag("timeout", "1h", "Give up after this long; the release carries on"),
    interval: durationFlag("interval", "5s", "How often to ask the server, at least 1s", 1),
    throughPauses: Flag.Boolean("through-pauses").pipe(
      Flag.withDescription("Keep waiting while the release is paused (by default a pause ends the wait, exit 8)"),
      Flag.withDefault(false)
    )
  },
  Effect.fn(function*({ id, interval, throughPauses, timeout }) {
    yield* follow(yield* connect, id, { interval, throughPauses, timeout })
  })
).pipe(Command.withDescription("Follow a release until it finishes or is paused; the exit code says how it ended"))

/**
 * Follows a release until it finishes (or is paused), printing its progress, then exits as
 * `release wait` documents: `wait`, and `create --wait`.
 */
const follow = Effect.fnUntraced(function*(
  api: CanaryRollApi.CanaryRollApi,
  id: string,
  { interval, throughPauses, timeout }: { readonly interval: number; readonly throughPauses: boolean; readonly timeout: number }
) {
    const print = yield* progressPrinter
    yield* Output.note(`Waiting for release ${id}: ${api.releaseUrl(id)}`)
    const result = yield* ReleaseWatch.untilFinished(api, id, {
      pollInterval: Duration.seconds(interval),
      timeout: Duration.seconds(timeout),
      stopWhenPaused: !throughPauses,
      onProgress: print.progress,
      onUnavailable: (error) => print.unavailable(error, interval)
    }).pipe(Effect.ensuring(process.stderr.isTTY === true ? Output.note("") : Effect.void), Effect.result)
    if (result._tag === "Failure") {
      const error = result.failure
      if (error._tag !== "WaitTimedOut") return yield* Effect.fail(error)
      const seen = error.status === null
        ? `the server never answered (${error.unavailable}); release ${id} carries on there`
        : `release ${id} is still ${error.status.replace("_", " ")} (it carries on)` +
          (error.unavailable === null ? "" : `, and the server is not answering now (${error.unavailable})`)
      return yield* new CommandFailed({
        exitCode: ExitCode.timeout,
        message: `Gave up after ${error.waitedSeconds}s: ${seen}. Wait again, or see it with \`canaryroll release status ${id}\`.`
      })
    }
    const release = result.success
    yield* show(api, release)
    if (release.value.status === "paused") {
      const { events, server } = yield* ReleaseWatch.read(api, id)
      const hold = ReleaseProgress.of(release.value, events, yield* Clock.currentTimeMillis, server).hold
      return yield* new CommandFailed({
        exitCode: ExitCode.paused,
        message: `Release ${id} is paused${hold === undefined ? "" : hold.kind === "drift" ? ` by drift: ${hold.reason}` : `: ${hold.reason}`}. ` +
          `It waits for someone: canaryroll release resume ${id}, or release rollback ${id}.`
      })
    }
    const code = ExitCodes.ofStatus(release.value.status)
    if (code !== ExitCode.success) {
      return yield* new CommandFailed({
        exitCode: code,
        message: `Release ${id} ${release.value.status.replace("_", " ")}${
          release.value.statusReason === null || release.value.statusReason === undefined ? "" : `: ${release.value.statusReason}`
        }`
      })
    }
})

const list = Command.make(
  "list",
  {
    worker: Flag.String("worker").pipe(Flag.withDescription("Only this Worker's releases (its name or id)"), Flag.optional),
    status: Flag.String("status").pipe(
      Flag.withDescription("Only these statuses, comma-separated"),
      // Read with the API's own query schema: a status it does not know is a usage error here.
      Flag.mapEffect((text) =>
        Schema.decodeUnknownEffect(Schemas.StatusList)(text).pipe(
          Effect.mapError(() =>
            new CliError.InvalidValue({
              option: "status",
              value: text,
              expected: `statuses, comma-separated: ${Schemas.Status.literals.join(", ")}`,
              kind: "flag"
            })
          )
        )
      ),
      Flag.optional
    ),
    limit: Flag.Int("limit").pipe(Flag.withDescription("At most this many"), Flag.optional)
  },
  Effect.fn(function*(input) {
    const api = yield* connect
    const page = yield* api.releases({
      workerId: Option.getOrUndefined(input.worker),
      status: Option.getOrUndefined(input.status),
      limit: Option.getOrUndefined(input.limit)
    })
    if (yield* wantsJson) return yield* Output.json(page.json)
    const names = yield* workerNames(api)
    yield* Output.table(
      ["ID", "STATUS", "WORKER", "VERSION", "STEP", "CREATED", "NAME"],
      page.value.deployments.map((release) => [
        release.id,
        release.status,
        names.get(release.workerId) ?? release.workerId,
        release.cfVersionId,
        `${Math.min(release.currentStep + 1, release.stepsSnapshot.length)}/${release.stepsSnapshot.length}`,
        Output.time(release.createdAt),
        release.name ?? ""
      ]),
      "No releases."
    )
  })
).pipe(Command.withDescription("List the team's releases, newest first"))

export const release = Command.make("release").pipe(
  Command.withDescription("Create, start, follow and steer releases"),
  Command.withSubcommands([
    create,
    status,
    advance,
    // start, pause, resume, rollback, cancel: one subcommand per person command of the table.
    ...Api.PersonCommand.simple.map(actionCommand),
    wait,
    list
  ])
)
