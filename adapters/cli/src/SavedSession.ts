/**
 * The session `canaryroll login` (or `signup`) keeps, so that the commands after it need no
 * token: the server's URL, the session secret, who signed in and the team they use by default.
 * It lives in `$XDG_CONFIG_HOME/canaryroll/session.json` (`~/.config/…` without it), a file only
 * its owner can read or write (0600, in a 0700 directory), replaced whole on each write so that it
 * is never half written nor, for a moment, readable by others. The session is the server's own:
 * it expires as the dashboard's do, shows in the account's list of sessions, and `canaryroll
 * logout` ends it there before removing the file.
 *
 * @since 0.1.0
 */
import { Effect, Option, Redacted, Schema } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { CommandFailed, ExitCode } from "./ExitCode.ts"

export interface SavedSession {
  readonly apiUrl: string
  readonly session: Redacted.Redacted<string>
  readonly email: string
  /** The team the commands use when neither `--team` nor `CANARYROLL_TEAM` names one. */
  readonly team: string | null
}

const Stored = Schema.Struct({
  apiUrl: Schema.String,
  session: Schema.String,
  email: Schema.String,
  team: Schema.NullOr(Schema.String)
})

/** The directory: `$XDG_CONFIG_HOME/canaryroll`, else `~/.config/canaryroll`. */
export const directory = (env: NodeJS.ProcessEnv = process.env) => {
  const base = env.XDG_CONFIG_HOME !== undefined && path.isAbsolute(env.XDG_CONFIG_HOME)
    ? env.XDG_CONFIG_HOME
    : path.join(env.HOME ?? os.homedir(), ".config")
  return path.join(base, "canaryroll")
}

export const file = (env: NodeJS.ProcessEnv = process.env) => path.join(directory(env), "session.json")

const unreadable = (where: string, error: unknown) =>
  new CommandFailed({
    exitCode: ExitCode.error,
    message: `The saved session in ${where} cannot be read (${error instanceof Error ? error.message : String(error)}): ` +
      "log in again with `canaryroll login`"
  })

/** The saved session, if there is one. */
export const read: Effect.Effect<Option.Option<SavedSession>, CommandFailed> = Effect.suspend(() => {
  const where = file()
  let text: string
  try {
    text = fs.readFileSync(where, "utf8")
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "ENOENT" ? Effect.succeedNone : Effect.fail(unreadable(where, error))
  }
  return Schema.decodeUnknownEffect(Schema.fromJsonString(Stored))(text).pipe(
    Effect.mapError((error) => unreadable(where, error)),
    Effect.map((stored) => Option.some({ ...stored, session: Redacted.make(stored.session) }))
  )
})

/** Writes the session: a new file (0600) renamed over the old one, in a 0700 directory. */
export const write = (saved: SavedSession): Effect.Effect<string, CommandFailed> =>
  Effect.try({
    try: () => {
      const where = file()
      fs.mkdirSync(path.dirname(where), { recursive: true, mode: 0o700 })
      const temporary = `${where}.${process.pid}.tmp`
      const body: typeof Stored.Type = {
        apiUrl: saved.apiUrl,
        session: Redacted.value(saved.session),
        email: saved.email,
        team: saved.team
      }
      // `wx`: a file that is already there (a link someone planted) is never written through; one
      // left by a run that died is removed (not followed: unlinking a link removes the link).
      fs.rmSync(temporary, { force: true })
      fs.writeFileSync(temporary, `${JSON.stringify(body, null, 2)}\n`, { mode: 0o600, flag: "wx" })
      fs.renameSync(temporary, where)
      return where
    },
    catch: (error) =>
      new CommandFailed({
        exitCode: ExitCode.error,
        message: `The session could not be saved in ${file()}: ${error instanceof Error ? error.message : String(error)}`
      })
  })

/** Removes the saved session; nothing to remove is fine. */
export const remove: Effect.Effect<void> = Effect.sync(() => fs.rmSync(file(), { force: true }))
