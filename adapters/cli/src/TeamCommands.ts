/**
 * The team's resources, read and managed from the command line: `plans` (list; create, edit and
 * show in SetupCommands), `workers` (list; add), `tokens` (list, create, revoke; admin) and `audit`. Text tables for people, the
 * server's JSON with `--json`.
 *
 * @since 0.1.0
 */
import { Schemas } from "@canaryroll/api"
import { Effect, Option, Schema } from "effect"
import { Argument, Command, Flag } from "effect/cli"
import * as Output from "./Output.ts"
import * as SetupCommands from "./SetupCommands.ts"
import { connect, wantsJson } from "./RootCommand.ts"

const printPlans = Effect.gen(function*() {
    const api = yield* connect
    const answer = yield* api.plans()
    if (yield* wantsJson) return yield* Output.json(answer.json)
    yield* Output.table(
      ["ID", "SLUG", "NAME", "STEPS"],
      answer.value.map((plan) => [
        plan.id,
        plan.slug,
        plan.name,
        SetupCommands.describeSteps(plan.steps)
      ]),
      "No plans."
    )
  })

export const plans = Command.make("plans", {}, () => printPlans).pipe(
  Command.withDescription("The team's release plans (a slug is what --plan takes): lists them without a subcommand"),
  Command.withSubcommands([
    Command.make("list", {}, () => printPlans).pipe(Command.withDescription("List the team's release plans")),
    ...SetupCommands.planCommands
  ])
)

const printWorkers = Effect.gen(function*() {
    const api = yield* connect
    const answer = yield* api.workers()
    if (yield* wantsJson) return yield* Output.json(answer.json)
    const plans = new Map((yield* api.plans()).value.map((plan) => [plan.id, plan.slug]))
    yield* Output.table(
      ["NAME", "ID", "ACCOUNT", "DEFAULT PLAN"],
      answer.value.map((worker) => [worker.scriptName, worker.id, worker.accountId, plans.get(worker.defaultPlanId) ?? worker.defaultPlanId]),
      "No Workers registered: canaryroll workers add --account <id> --script <name>"
    )
  })

export const workers = Command.make("workers", {}, () => printWorkers).pipe(
  Command.withDescription("The team's Workers (a name or an id is what --worker takes): lists them without a subcommand"),
  Command.withSubcommands([
    Command.make("list", {}, () => printWorkers).pipe(Command.withDescription("List the team's Workers")),
    SetupCommands.addWorker
  ])
)

const printTokens = Effect.gen(function*() {
    const api = yield* connect
    const answer = yield* api.tokens()
    if (yield* wantsJson) return yield* Output.json(answer.json)
    yield* Output.table(
      ["ID", "NAME", "ROLE", "TOKEN", "LAST USED", "REVOKED"],
      answer.value.map((token) => [
        token.id,
        token.name,
        token.role,
        token.display,
        Output.time(token.lastUsedAt),
        Output.time(token.revokedAt)
      ]),
      "No team tokens."
    )
  })

const listTokens = Command.make("list", {}, () => printTokens).pipe(
  Command.withDescription("List the team's API tokens (admin)")
)

const createToken = Command.make(
  "create",
  {
    name: Flag.String("name").pipe(Flag.withDescription("What the token is for, e.g. github-actions")),
    role: Flag.Literals("role", ["read_only", "deploy", "admin"]).pipe(
      Flag.withDescription("What it may do"),
      Flag.withDefault("deploy")
    )
  },
  Effect.fn(function*({ name, role }) {
    const api = yield* connect
    const answer = yield* api.createToken(name, role)
    if (yield* wantsJson) return yield* Output.json(answer.json)
    yield* Output.lines(
      `Created the ${answer.value.role} token ${answer.value.name} (${answer.value.id}):`,
      ``,
      `  ${answer.value.token}`,
      ``,
      `It is shown only this once: store it now (e.g. as the GitHub secret CANARYROLL_TOKEN).`
    )
  })
).pipe(Command.withDescription("Create a team token (admin); it is shown once"))

const revokeToken = Command.make(
  "revoke",
  { id: Argument.String("id").pipe(Argument.withDescription("The token's id")) },
  Effect.fn(function*({ id }) {
    const api = yield* connect
    yield* api.revokeToken(id)
    if (yield* wantsJson) return yield* Output.json({ revoked: id })
    yield* Output.lines(`Revoked token ${id}.`)
  })
).pipe(Command.withDescription("Revoke a team token (admin)"))

export const tokens = Command.make("tokens", {}, () => printTokens).pipe(
  Command.withDescription("The team's API tokens (admin): lists them without a subcommand"),
  Command.withSubcommands([listTokens, createToken, revokeToken])
)

export const audit = Command.make(
  "audit",
  {
    release: Flag.String("release").pipe(Flag.withDescription("Only this release's entries"), Flag.optional),
    type: Flag.String("type").pipe(
      Flag.withDescription("Only these types, comma-separated"),
      Flag.map(Schema.decodeSync(Schemas.CommaSeparated)),
      Flag.optional
    ),
    limit: Flag.Int("limit").pipe(Flag.withDescription("At most this many"), Flag.withDefault(50)),
    cursor: Flag.String("cursor").pipe(Flag.withDescription("The page after this cursor"), Flag.optional)
  },
  Effect.fn(function*(input) {
    const api = yield* connect
    const answer = yield* api.audit({
      deploymentId: Option.getOrUndefined(input.release),
      type: Option.getOrUndefined(input.type),
      limit: input.limit,
      cursor: Option.getOrUndefined(input.cursor)
    })
    if (yield* wantsJson) return yield* Output.json(answer.json)
    yield* Output.table(
      ["AT", "TYPE", "WHAT HAPPENED"],
      answer.value.entries.map((entry) => [Output.time(entry.at), entry.type, entry.message]),
      "No audit entries."
    )
    if (answer.value.nextCursor !== null) yield* Output.lines(``, `More: canaryroll audit --cursor ${answer.value.nextCursor}`)
  })
).pipe(Command.withDescription("The team's audit log: who did what and when, newest first"))
