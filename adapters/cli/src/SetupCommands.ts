/**
 * Setting a team up from a terminal, the way the dashboard's settings do: `cloudflare connect`
 * (the account's API token, checked for what releases need, and the account's Workers listed),
 * `workers add`, `plans create` and `plans edit` from a JSON file, and `channels` (add from a
 * JSON file, list, send a test message). Files are read with the API's own schemas, so a wrong
 * field is named before anything is sent; a Cloudflare token comes from the environment or
 * standard input (SecretInput), never from the arguments.
 *
 * @since 0.1.0
 */
import { Api } from "@canaryroll/api"
import { Effect, Option, Schema, Stdio, Stream } from "effect"
import { Argument, Command, Flag } from "effect/cli"
import * as fs from "node:fs/promises"
import { CommandFailed, ExitCode } from "./ExitCode.ts"
import * as Output from "./Output.ts"
import { connect, wantsJson } from "./RootCommand.ts"
import * as SecretInput from "./SecretInput.ts"

/** A JSON file's content (`-`: standard input), decoded with `schema`; a wrong field is a usage error naming it. */
const readJsonFile = <S extends Schema.Top>(file: string, schema: S) =>
  Effect.gen(function*() {
    const text = file === "-"
      ? yield* (yield* Stdio.Stdio).stdin.pipe(Stream.decodeText(), Stream.mkString, Effect.orElseSucceed(() => ""))
      : yield* Effect.tryPromise({
        try: () => fs.readFile(file, "utf8"),
        catch: (error) =>
          new CommandFailed({ exitCode: ExitCode.usage, message: `Cannot read ${file}: ${error instanceof Error ? error.message : String(error)}` })
      })
    return yield* Schema.decodeUnknownEffect(Schema.fromJsonString(schema))(text).pipe(
      Effect.mapError((error) => new CommandFailed({ exitCode: ExitCode.usage, message: `${file === "-" ? "Standard input" : file}: ${error.message}` }))
    )
  })

const fileFlag = (what: string) =>
  Flag.String("file").pipe(Flag.withDescription(`A JSON file with the ${what} (- for standard input)`))

const accountFlag = Flag.String("account").pipe(Flag.withDescription("The Cloudflare account id (32 hexadecimal characters)"))

const connectCloudflare = Command.make(
  "connect",
  { account: accountFlag },
  Effect.fn(function*({ account }) {
    const api = yield* connect
    const token = yield* SecretInput.read({
      variable: "CLOUDFLARE_API_TOKEN",
      prompt: `Cloudflare API token for account ${account}`,
      what: "Cloudflare API token"
    })
    // The server verifies the token with Cloudflare and that it reaches the account's Workers
    // before it keeps it (encrypted); then asks what releases need of it.
    const saved = yield* api.saveCloudflareAccount(account, token)
    const report = yield* api.checkCloudflareAccount(account)
    if (yield* wantsJson) return yield* Output.json({ account: saved.json, check: report.json })
    yield* Output.lines(
      `Connected Cloudflare account ${account} (token ${saved.value.tokenDisplay}, verified by Cloudflare).`,
      ...report.value.checks.map((check) => `  ${check.passed ? "ok  " : "FAIL"}  ${check.name.padEnd(16)}  ${check.message}`),
      ``,
      report.value.workers.length === 0
        ? "The account has no Workers yet: deploy one with wrangler, then add it with canaryroll workers add."
        : `Its Workers: ${report.value.workers.join(", ")}`,
      ...(report.value.workers.length === 0 ? [] : [`Add one with: canaryroll workers add --account ${account} --script ${report.value.workers[0]}`])
    )
    if (!report.value.passed) {
      return yield* new CommandFailed({
        exitCode: ExitCode.error,
        message: "The token is saved, but releases need every check above to pass: give it the permissions named, then run this again."
      })
    }
  })
).pipe(Command.withDescription(
  "Save a Cloudflare API token for an account (from CLOUDFLARE_API_TOKEN or standard input), check it can read analytics and change deployments, and list the account's Workers (admin)"
))

const listCloudflare = Command.make(
  "list",
  {},
  Effect.fn(function*() {
    const api = yield* connect
    const answer = yield* api.cloudflareAccounts()
    if (yield* wantsJson) return yield* Output.json(answer.json)
    yield* Output.table(
      ["ACCOUNT", "TOKEN", "VERIFIED"],
      answer.value.map((entry) => [entry.accountId, entry.tokenDisplay, Output.time(entry.verifiedAt)]),
      "No Cloudflare account connected: canaryroll cloudflare connect --account <id>"
    )
  })
).pipe(Command.withDescription("The team's connected Cloudflare accounts (admin)"))

const checkCloudflare = Command.make(
  "check",
  { account: accountFlag },
  Effect.fn(function*({ account }) {
    const api = yield* connect
    const report = yield* api.checkCloudflareAccount(account)
    if (yield* wantsJson) return yield* Output.json(report.json)
    yield* Output.lines(
      ...report.value.checks.map((check) => `${check.passed ? "ok  " : "FAIL"}  ${check.name.padEnd(16)}  ${check.message}`),
      `Workers: ${report.value.workers.length === 0 ? "none" : report.value.workers.join(", ")}`
    )
    if (!report.value.passed) return yield* new CommandFailed({ exitCode: ExitCode.error, message: "" })
  })
).pipe(Command.withDescription("Check again what the saved token of an account can do (admin)"))

export const cloudflare = Command.make("cloudflare").pipe(
  Command.withDescription("The team's Cloudflare accounts: connect one with its API token, list, check"),
  Command.withSubcommands([connectCloudflare, listCloudflare, checkCloudflare])
)

export const addWorker = Command.make(
  "add",
  {
    account: accountFlag,
    script: Flag.String("script").pipe(Flag.withDescription("The Worker's script name on Cloudflare (what wrangler.toml calls name)")),
    plan: Flag.String("plan").pipe(Flag.withDescription("Its default plan, by slug or id (default: standard)"), Flag.optional)
  },
  Effect.fn(function*(input) {
    const api = yield* connect
    const answer = yield* api.registerWorker({
      accountId: input.account,
      scriptName: input.script,
      defaultPlanId: Option.getOrUndefined(input.plan)
    })
    if (yield* wantsJson) return yield* Output.json(answer.json)
    yield* Output.lines(
      `Added the Worker ${answer.value.scriptName} (${answer.value.id}).`,
      `Release a version of it with: canaryroll release create --worker ${answer.value.scriptName} --version <version id or tag> --start`
    )
  })
).pipe(Command.withDescription("Register a Worker of a connected Cloudflare account; its script must exist there (admin)"))

const PlanFile = Schema.Struct({ slug: Schema.optional(Schema.String), ...Api.PlanRequest.fields })

const createPlan = Command.make(
  "create",
  {
    file: fileFlag("plan: { slug, name, steps: [{ percentage, waitSeconds }], health? }"),
    slug: Flag.String("slug").pipe(Flag.withDescription("The plan's slug (default: the file's)"), Flag.optional)
  },
  Effect.fn(function*(input) {
    const plan = yield* readJsonFile(input.file, PlanFile)
    const slug = Option.isSome(input.slug) ? input.slug.value : plan.slug
    if (slug === undefined) {
      return yield* new CommandFailed({ exitCode: ExitCode.usage, message: "The plan needs a slug: in the file (\"slug\") or --slug" })
    }
    const api = yield* connect
    const { slug: _ignored, ...fields } = plan
    const answer = yield* api.createPlan({ ...fields, slug })
    if (yield* wantsJson) return yield* Output.json(answer.json)
    yield* Output.lines(`Created the plan ${answer.value.name} (${answer.value.slug}): ${describeSteps(answer.value.steps)}`)
  })
).pipe(Command.withDescription("Create a release plan from a JSON file (admin)"))

const editPlan = Command.make(
  "edit",
  {
    plan: Argument.String("plan").pipe(Argument.withDescription("The plan's slug or id")),
    file: fileFlag("plan: { name, steps, health? } (a slug in it is ignored)")
  },
  Effect.fn(function*(input) {
    const plan = yield* readJsonFile(input.file, PlanFile)
    const api = yield* connect
    const { slug: _ignored, ...fields } = plan
    const answer = yield* api.updatePlan(input.plan, fields)
    if (yield* wantsJson) return yield* Output.json(answer.json)
    yield* Output.lines(
      `Saved the plan ${answer.value.name} (${answer.value.slug}): ${describeSteps(answer.value.steps)}`,
      "Releases already created keep the plan they were created with."
    )
  })
).pipe(Command.withDescription("Replace a release plan's steps and health policy from a JSON file (admin)"))

const showPlan = Command.make(
  "show",
  { plan: Argument.String("plan").pipe(Argument.withDescription("The plan's slug or id")) },
  Effect.fn(function*(input) {
    const api = yield* connect
    const answer = yield* api.plan(input.plan)
    // The plan as a file `plans edit` takes back.
    return yield* Output.json({ slug: answer.value.slug, name: answer.value.name, steps: answer.value.steps, health: answer.value.health })
  })
).pipe(Command.withDescription("Print a plan as the JSON file plans create and plans edit take"))

export const describeSteps = (steps: ReadonlyArray<{ readonly percentage: number; readonly waitSeconds: number }>) =>
  steps.map((step) => `${step.percentage}% ${step.waitSeconds}s`).join(" → ")

export const planCommands = [createPlan, editPlan, showPlan] as const

const printChannels = Effect.gen(function*() {
    const api = yield* connect
    const answer = yield* api.channels()
    if (yield* wantsJson) return yield* Output.json(answer.json)
    yield* Output.table(
      ["ID", "NAME", "KIND", "EVENTS", "ENABLED"],
      answer.value.map((channel) => [channel.id, channel.name, channel.kind, channel.events.join(","), channel.enabled ? "yes" : "no"]),
      "No notification channels: canaryroll channels add --file channel.json"
    )
  })

const listChannels = Command.make("list", {}, () => printChannels).pipe(Command.withDescription("The team's notification channels"))

const addChannel = Command.make(
  "add",
  { file: fileFlag("channel: { name, events, config: { kind, … } } — its URL is a secret: keep the file private") },
  Effect.fn(function*(input) {
    const channel = yield* readJsonFile(input.file, Api.ChannelRequest)
    const api = yield* connect
    const answer = yield* api.createChannel(channel)
    if (yield* wantsJson) return yield* Output.json(answer.json)
    yield* Output.lines(
      `Added the ${answer.value.kind} channel ${answer.value.name} (${answer.value.id}) for ${answer.value.events.join(", ")}.`,
      ...(answer.value.signingSecret === null
        ? []
        : [``, `Its signing secret, shown only this once:`, ``, `  ${answer.value.signingSecret}`, ``]),
      `Try it: canaryroll channels test ${answer.value.id}`
    )
  })
).pipe(Command.withDescription("Add a notification channel from a JSON file (admin)"))

const testChannel = Command.make(
  "test",
  { channel: Argument.String("channel").pipe(Argument.withDescription("The channel's id")) },
  Effect.fn(function*(input) {
    const api = yield* connect
    const answer = yield* api.testChannel(input.channel)
    if (yield* wantsJson) return yield* Output.json(answer.json)
    if (answer.value.status === "delivered") return yield* Output.lines(`Delivered a test message to channel ${input.channel}.`)
    return yield* new CommandFailed({
      exitCode: ExitCode.error,
      message: `The test message was not delivered: ${answer.value.lastError ?? answer.value.status}${
        answer.value.lastStatusCode === null ? "" : ` (HTTP ${answer.value.lastStatusCode})`
      }`
    })
  })
).pipe(Command.withDescription("Send a test message to a channel now; exit 1 when it is not delivered (deploy)"))

export const channels = Command.make("channels", {}, () => printChannels).pipe(
  Command.withDescription("The team's notification channels: lists them without a subcommand; add, test"),
  Command.withSubcommands([listChannels, addChannel, testChannel])
)
