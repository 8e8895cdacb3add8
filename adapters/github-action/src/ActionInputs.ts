/**
 * The action's inputs, read the way the runner passes them: `INPUT_<NAME>` environment variables
 * (name upper-cased, spaces as underscores, dashes kept), empty meaning "not given". The names,
 * meanings and defaults are the public `canaryroll/action@v1`'s (`api-url` defaults to
 * https://canaryroll.com, `wait-timeout` to 1800 s), plus `upload`, `working-directory`, `message`
 * and `tag`, and so is the way booleans are read, so that a workflow switches between the two by
 * its `uses:` line alone: a switch that is off by default is on only for exactly `true`, one that
 * is on by default (`auto-advance`) is off only for exactly `false`; anything else gets a warning,
 * never a failure. Other invalid input fails before anything is created, naming the input.
 *
 * @since 0.1.0
 */
import { Data, Effect, Redacted } from "effect"

export class InvalidInput extends Data.TaggedError("InvalidInput")<{ readonly message: string }> {}

export interface ActionInputs {
  readonly apiUrl: string
  readonly apiToken: Redacted.Redacted<string>
  readonly teamId: string
  readonly workerId: string
  /** Absent only with `upload`, which produces it. */
  readonly versionId: string | undefined
  readonly plan: string | undefined
  readonly autoAdvance: boolean | undefined
  readonly name: string | undefined
  readonly ticketUrl: string | undefined
  readonly autoStart: boolean
  readonly wait: boolean
  readonly waitTimeoutSeconds: number
  readonly pollIntervalSeconds: number
  readonly cfAccess: { readonly clientId: string; readonly clientSecret: string } | undefined
  readonly upload: { readonly workingDirectory: string; readonly message: string | undefined; readonly tag: string | undefined } | undefined
  /** What was read differently from how it was written, for warning annotations. */
  readonly warnings: ReadonlyArray<string>
}

/** `canaryroll/action@v1`'s default server. */
export const defaultApiUrl = "https://canaryroll.com"

export type Environment = Readonly<Record<string, string | undefined>>

/** `INPUT_API-URL` for `api-url`, as the runner names it. */
export const variable = (name: string) => `INPUT_${name.replace(/ /g, "_").toUpperCase()}`

/** The inputs that hold secrets, for `::add-mask::`: given, trimmed as the inputs are read. */
export const secrets = (env: Environment): ReadonlyArray<string> =>
  ["api-token", "cf-access-client-secret"].flatMap((name) => {
    const value = env[variable(name)]?.trim()
    return value === undefined || value === "" ? [] : [value]
  })

export const read = (env: Environment) =>
  Effect.gen(function*() {
    const optional = (name: string) => {
      const value = env[variable(name)]?.trim()
      return value === undefined || value === "" ? undefined : value
    }
    const required = (name: string) => {
      const value = optional(name)
      return value === undefined ? Effect.fail(new InvalidInput({ message: `Input required and not supplied: ${name}` })) : Effect.succeed(value)
    }
    const warnings: Array<string> = []
    // As canaryroll/action@v1 reads them (`getInput(name) === 'true'`, `!== 'false'`), so a value
    // means the same to both actions; one that is neither word is read that way too, with a warning.
    const switchedOn = (name: string) => {
      const value = optional(name)
      if (value !== undefined && value !== "true" && value !== "false") {
        warnings.push(`Input ${name} is ${JSON.stringify(value)}: only "true" turns it on, so it is off`)
      }
      return value === "true"
    }
    /** Absent when not given: the server's default, which is on. */
    const switchedOff = (name: string) => {
      const value = optional(name)
      if (value === undefined) return undefined
      if (value !== "true" && value !== "false") {
        warnings.push(`Input ${name} is ${JSON.stringify(value)}: only "false" turns it off, so it is on`)
      }
      return value !== "false"
    }
    const seconds = (name: string, fallback: number) => {
      const value = optional(name)
      if (value === undefined) return Effect.succeed(fallback)
      const parsed = Number(value)
      return Number.isFinite(parsed) && parsed > 0
        ? Effect.succeed(parsed)
        : Effect.fail(new InvalidInput({ message: `Input ${name} must be a positive number of seconds, got ${JSON.stringify(value)}` }))
    }

    // At least a second between polls: v1 takes 0 and then asks the server without a pause.
    const pollInterval = Effect.suspend(() => {
      const value = optional("poll-interval")
      if (value === undefined) return Effect.succeed(15)
      const parsed = Number(value)
      if (!Number.isFinite(parsed) || parsed < 0) {
        return Effect.fail(new InvalidInput({ message: `Input poll-interval must be a number of seconds, got ${JSON.stringify(value)}` }))
      }
      if (parsed < 1) warnings.push(`Input poll-interval is ${value}: asking every second instead, the shortest interval`)
      return Effect.succeed(Math.max(1, parsed))
    })

    const apiUrl = optional("api-url") ?? defaultApiUrl
    if (!/^https?:\/\//.test(apiUrl)) {
      return yield* new InvalidInput({ message: `Input api-url must be an http(s) URL, got ${JSON.stringify(apiUrl)}` })
    }
    const upload = switchedOn("upload")
    const versionId = optional("version-id")
    if (!upload && versionId === undefined) {
      return yield* new InvalidInput({
        message: "Input required and not supplied: version-id (or set upload: true to upload the version with wrangler)"
      })
    }
    const clientId = optional("cf-access-client-id")
    const clientSecret = optional("cf-access-client-secret")
    if ((clientId === undefined) !== (clientSecret === undefined)) {
      return yield* new InvalidInput({ message: "Inputs cf-access-client-id and cf-access-client-secret go together: set both or neither" })
    }
    return {
      apiUrl: apiUrl.replace(/\/+$/, ""),
      apiToken: Redacted.make(yield* required("api-token")),
      teamId: yield* required("team-id"),
      workerId: yield* required("worker-id"),
      versionId,
      plan: optional("plan"),
      autoAdvance: switchedOff("auto-advance"),
      name: optional("name"),
      ticketUrl: optional("ticket-url"),
      autoStart: switchedOn("auto-start"),
      wait: switchedOn("wait"),
      waitTimeoutSeconds: yield* seconds("wait-timeout", 1800),
      pollIntervalSeconds: yield* pollInterval,
      cfAccess: clientId === undefined || clientSecret === undefined ? undefined : { clientId, clientSecret },
      upload: upload
        ? { workingDirectory: optional("working-directory") ?? ".", message: optional("message"), tag: optional("tag") }
        : undefined,
      warnings
    } satisfies ActionInputs
  })
