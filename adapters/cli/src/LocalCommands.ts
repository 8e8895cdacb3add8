/**
 * The commands that run something here rather than call a server: `serve` (the reference server,
 * exactly what `pnpm start` runs), `migrate` (the database migrations, then exit) and `sim` (the
 * Cloudflare API simulator). All settings come from the environment, as for `pnpm start`
 * (docs/operations.md). The server's modules load only when one of these runs.
 *
 * @since 0.1.0
 */
import { Console, Effect, Layer } from "effect"
import { Command, Flag } from "effect/cli"
import * as path from "node:path"
import { CommandFailed, ExitCode } from "./ExitCode.ts"

export const serve = Command.make(
  "serve",
  {},
  () =>
    Effect.flatMap(
      // The server's own entry point, resolved through the dependency on @canaryroll/server.
      Effect.promise((): Promise<typeof import("../../server/src/main.ts")> =>
        import(new URL("./main.ts", import.meta.resolve("@canaryroll/server")).href)
      ),
      // A server that cannot start is a defect here: runMain reports its cause, the exit code is 1.
      (server) => Effect.orDie(server.main)
    )
).pipe(Command.withDescription("Run the CanaryRoll server (same as `pnpm start`; sandbox without Cloudflare credentials)"))

export const migrate = Command.make(
  "migrate",
  {},
  () =>
    Effect.gen(function*() {
      const Postgres = yield* Effect.promise(() => import("@canaryroll/postgres"))
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
        new CommandFailed({ exitCode: ExitCode.error, message: `The migrations did not run: ${error.message}` })
      )
    )
).pipe(Command.withDescription("Apply the database migrations (DATABASE_URL, or the embedded Postgres) and exit"))

export const sim = Command.make(
  "sim",
  {
    port: Flag.Int("port").pipe(Flag.withDescription("Port to listen on (0: any free port)"), Flag.withDefault(0)),
    host: Flag.String("host").pipe(Flag.withDefault("127.0.0.1")),
    seed: Flag.Boolean("seed").pipe(Flag.withDescription("Create demo Workers with traffic"), Flag.withDefault(false))
  },
  ({ host, port, seed }) =>
    Effect.gen(function*() {
      const Simulator = yield* Effect.promise(() => import("@canaryroll/cloudflare/simulator"))
      const simulator = yield* Effect.acquireRelease(
        Effect.promise(() => Simulator.start({ port, host })),
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
