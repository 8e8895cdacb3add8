/**
 * The server's packages, for the commands that run a server or touch its database here (`serve`,
 * `migrate`, `admin create`): loaded when one of them runs, never before, so that the installed
 * `canaryroll` command is a client that carries no server and no database (scripts/build.ts
 * leaves them out of the bundle). Where they are not installed, the command says how to get
 * them instead of failing with a module error.
 *
 * @since 0.1.0
 */
import { Effect } from "effect"
import { CommandFailed, ExitCode } from "./ExitCode.ts"

/** What `@canaryroll/server`'s entry point gives `serve`: its program, run until interrupted. */
export interface ServerMain {
  readonly main: Effect.Effect<unknown, unknown>
}

const notInstalled = (command: string, name: string) =>
  new CommandFailed({
    exitCode: ExitCode.usage,
    message: `\`canaryroll ${command}\` runs the CanaryRoll server here, and ${name} is not installed with this command ` +
      "(the installed command is a client: it talks to a server with --api-url). " +
      "Run it from a checkout of CanaryRoll (`pnpm install && pnpm start`, or `pnpm canaryroll " + command + "`), " +
      "or install the server next to this command."
  })

const isMissing = (error: unknown, name: string) =>
  error instanceof Error && /ERR_MODULE_NOT_FOUND|Cannot find (module|package)/.test(`${(error as NodeJS.ErrnoException).code ?? ""} ${error.message}`) &&
  error.message.includes(name)

/** `import(name)`, or the message that says how to install it. */
const load = <A>(command: string, name: string, importer: () => Promise<A>) =>
  Effect.tryPromise({ try: importer, catch: (error) => error }).pipe(
    Effect.catch((error) => isMissing(error, name) ? Effect.fail(notInstalled(command, name)) : Effect.die(error))
  )

export const postgres = (command: string) =>
  load(command, "@canaryroll/postgres", () => import("@canaryroll/postgres"))

export const server = (command: string) =>
  load(command, "@canaryroll/server", () => import("@canaryroll/server"))

/** The server's own program (`pnpm start`), resolved through `@canaryroll/server`. */
export const serverMain = (command: string) =>
  load(command, "@canaryroll/server", (): Promise<ServerMain> =>
    Promise.resolve().then(() => import(new URL("./main.ts", import.meta.resolve("@canaryroll/server")).href)))
