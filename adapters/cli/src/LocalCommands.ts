/**
 * The commands that run something here rather than call a server: `serve` (the reference server,
 * exactly what `pnpm start` runs), `migrate` (the database migrations, then exit), `admin create`
 * (a person and a team they administer, straight into the database: the first admin of a server
 * whose sign-up is invite-only) and `sim` (the Cloudflare API simulator). All settings come from
 * the environment, as for `pnpm start` (docs/operations.md). The server's modules load only when
 * one of these runs.
 *
 * @since 0.1.0
 */
import { Console, Effect, Layer, Option, Redacted } from "effect"
import { Command, Flag } from "effect/cli"
import type { SqlClient } from "effect/sql"
import * as path from "node:path"
import { CommandFailed, ExitCode } from "./ExitCode.ts"
import * as SecretInput from "./SecretInput.ts"
import * as ServerPackage from "./ServerPackage.ts"

export const serve = Command.make(
  "serve",
  {},
  () =>
    Effect.flatMap(
      // The server's own entry point, resolved through @canaryroll/server where it is installed.
      ServerPackage.serverMain("serve"),
      // A server that cannot start is a defect here: runMain reports its cause, the exit code is 1.
      (server) => Effect.orDie(server.main)
    )
).pipe(Command.withDescription("Run the CanaryRoll server (same as `pnpm start`; sandbox without Cloudflare credentials)"))

export const migrate = Command.make(
  "migrate",
  {},
  () =>
    Effect.gen(function*() {
      const Postgres = yield* ServerPackage.postgres("migrate")
      const dataDirectory = path.resolve(process.env.CANARYROLL_DATA_DIR ?? ".canaryroll")
      yield* Layer.build(
        Postgres.Migrations.layer.pipe(
          Layer.provide(Postgres.layerClient({ embedded: { dataDirectory: path.join(dataDirectory, "postgres") } }))
        )
      )
      yield* Console.log("The database is migrated.")
    }).pipe(
      Effect.scoped,
      Effect.mapError((error) =>
        error instanceof CommandFailed
          ? error
          : new CommandFailed({ exitCode: ExitCode.error, message: `The migrations did not run: ${error.message}` })
      )
    )
).pipe(Command.withDescription("Apply the database migrations (DATABASE_URL, or the embedded Postgres) and exit"))

/** The database `pnpm start` would use: `DATABASE_URL`, or the embedded server in `CANARYROLL_DATA_DIR`. */
const localDatabase = ServerPackage.postgres("admin create").pipe(
  Effect.map((Postgres) => {
    const dataDirectory = path.resolve(process.env.CANARYROLL_DATA_DIR ?? ".canaryroll")
    return Postgres.Migrations.layer.pipe(
      Layer.provideMerge(Postgres.layerClient({ embedded: { dataDirectory: path.join(dataDirectory, "postgres") } }))
    )
  })
)

/**
 * The new admin's password: `CANARYROLL_ADMIN_PASSWORD`, else standard input (piped: all of it,
 * less one final line break; a terminal: asked for, hidden). Never a flag: arguments show in
 * `ps` and in shell history.
 */
export const readAdminPassword = SecretInput.read({
  variable: "CANARYROLL_ADMIN_PASSWORD",
  prompt: "Password for the new admin (at least 12 characters)",
  what: "password"
})

export interface AdminDetails {
  readonly email: string
  readonly name: string
  readonly teamSlug: string
  readonly teamName: string
  readonly password: Redacted.Redacted<string>
}

/** Migrates the database in context, creates the admin and their team, and says what it did. */
export const createAdmin = (details: AdminDetails) =>
  Effect.gen(function*() {
    const Postgres = yield* ServerPackage.postgres("admin create")
    const Server = yield* ServerPackage.server("admin create")
    yield* Postgres.Migrations.run
    const created = yield* Server.AdminAccount.create(details)
    yield* Console.log(
      [
        `Created ${created.user.email} (${created.user.name}), admin of the team ${created.team.name} (${created.team.slug}).`,
        `Log in with that email and the password you gave, then invite the others from the team's settings.`
      ].join("\n")
    )
    return created
  }).pipe(
    Effect.catchTags({
      AdminNotCreated: (refused) => Effect.fail(new CommandFailed({ exitCode: ExitCode.usage, message: `Nothing was created: ${refused.message}` })),
      SqlError: (error) => Effect.fail(new CommandFailed({ exitCode: ExitCode.error, message: `The database failed: ${error.message}` })),
      MigrationError: (error) => Effect.fail(new CommandFailed({ exitCode: ExitCode.error, message: `The migrations did not run: ${error.message}` }))
    })
  )

const adminCreate = Command.make(
  "create",
  {
    email: Flag.String("email").pipe(Flag.withDescription("The admin's email: what they log in with")),
    name: Flag.String("name").pipe(Flag.withDescription("Their name (default: the email's local part)"), Flag.optional),
    teamSlug: Flag.String("team-slug").pipe(Flag.withDescription("The slug of the team they administer (lowercase, digits, dashes)")),
    teamName: Flag.String("team-name").pipe(Flag.withDescription("The team's name (default: the slug)"), Flag.optional)
  },
  ({ email, name, teamName, teamSlug }) =>
    Effect.gen(function*() {
      const password = yield* readAdminPassword
      const database = yield* localDatabase
      yield* createAdmin({
        email,
        name: Option.getOrElse(name, () => email.split("@")[0] ?? email),
        teamSlug,
        teamName: Option.getOrElse(teamName, () => teamSlug),
        password
      }).pipe(
        Effect.provide(database),
        Effect.catch((error) =>
          error instanceof CommandFailed
            ? Effect.fail(error)
            : Effect.fail(new CommandFailed({ exitCode: ExitCode.error, message: `The database is unavailable: ${error.message}` }))
        )
      )
    })
).pipe(
  Command.withDescription(
    "Create a person and a team they administer, in the database (DATABASE_URL, or the embedded Postgres); the password comes from standard input or CANARYROLL_ADMIN_PASSWORD"
  )
)

export const admin = Command.make("admin").pipe(
  Command.withSubcommands([adminCreate]),
  Command.withDescription("Administer the local server's database directly (the first admin of an invite-only server)")
)

export const sim = Command.make(
  "sim",
  {
    port: Flag.Int("port").pipe(Flag.withDescription("Port to listen on (0: any free port)"), Flag.withDefault(0)),
    host: Flag.String("host").pipe(Flag.withDefault("127.0.0.1")),
    seed: Flag.Boolean("seed").pipe(Flag.withDescription("Create demo Workers with traffic"), Flag.withDefault(false)),
    analyticsDelay: Flag.Int("analytics-delay").pipe(
      Flag.withDescription("Seconds before traffic shows in analytics (Cloudflare: about 60)"),
      Flag.withDefault(60)
    )
  },
  ({ analyticsDelay, host, port, seed }) =>
    Effect.gen(function*() {
      const Simulator = yield* Effect.promise(() => import("@canaryroll/cloudflare/simulator"))
      const simulator = yield* Effect.acquireRelease(
        Effect.promise(() => Simulator.start({ port, host, analyticsDelayMs: Math.max(0, analyticsDelay) * 1000 })),
        (simulator) => Effect.promise(() => simulator.close())
      )
      const demo = seed ? Simulator.seed(simulator) : (() => {
        const account = simulator.createAccount({ name: "CanaryRoll" })
        return { accountId: account.id, apiToken: simulator.createToken({ accountIds: [account.id] }).value, scripts: [] }
      })()
      // One JSON line, as `pnpm sim` prints.
      yield* Console.log(JSON.stringify({ baseUrl: simulator.baseUrl, controlUrl: simulator.controlUrl, ...demo }))
      return yield* Effect.never
    }).pipe(Effect.scoped)
).pipe(Command.withDescription("Run the Cloudflare API simulator (prints its URL, account and token as JSON)"))
