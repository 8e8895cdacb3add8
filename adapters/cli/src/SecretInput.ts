/**
 * Secrets a command needs (a password, a Cloudflare API token) are never arguments: arguments
 * show in `ps` to every local account and stay in shell history. A secret comes from its
 * environment variable, else from standard input: piped, all of it less one final line break
 * (`printf '%s\n' "$PASSWORD" | canaryroll login …`); on a terminal it is asked for, hidden.
 *
 * @since 0.1.0
 */
import { Config, Effect, Option, Redacted, Stdio, Stream } from "effect"
import { Prompt } from "effect/cli"
import { CommandFailed, ExitCode } from "./ExitCode.ts"

export interface SecretSource {
  /** The environment variable that holds it, e.g. `CANARYROLL_PASSWORD`. */
  readonly variable: string
  /** What a terminal asks, e.g. `Password`. */
  readonly prompt: string
  /** What it is, for the refusal: `password`, `Cloudflare API token`. */
  readonly what: string
}

export const read = (source: SecretSource) =>
  Effect.gen(function*() {
    const fromEnv = yield* Config.option(Config.Redacted(source.variable))
    if (Option.isSome(fromEnv) && Redacted.value(fromEnv.value) !== "") return fromEnv.value
    const stdio = yield* Stdio.Stdio
    if (yield* stdio.stdinIsTerminal) return yield* Prompt.run(Prompt.Password({ message: source.prompt }))
    const text = (yield* stdio.stdin.pipe(Stream.decodeText(), Stream.mkString)).replace(/\r?\n$/, "")
    if (text === "") return yield* Effect.fail("empty")
    return Redacted.make(text)
  }).pipe(
    Effect.mapError(() =>
      new CommandFailed({
        exitCode: ExitCode.usage,
        message: `No ${source.what}: pipe it on standard input or set ${source.variable} (never as an argument)`
      })
    )
  )
