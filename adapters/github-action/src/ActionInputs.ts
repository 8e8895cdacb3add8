/**
 * The action's inputs, read the way the runner passes them: `INPUT_<NAME>` environment variables
 * (name upper-cased, spaces as underscores, dashes kept), empty meaning "not given". The names
 * and meanings are the public `canaryroll/action@v1`'s, plus `upload`, `working-directory`,
 * `message` and `tag`. Invalid input fails before anything is created, naming the input.
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
}

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
    // The YAML 1.2 core schema's booleans, as @actions/core's getBooleanInput reads them.
    const boolean = (name: string, fallback: boolean | undefined) => {
      const value = optional(name)
      if (value === undefined) return Effect.succeed(fallback)
      if (["true", "True", "TRUE"].includes(value)) return Effect.succeed(true)
      if (["false", "False", "FALSE"].includes(value)) return Effect.succeed(false)
      return Effect.fail(new InvalidInput({ message: `Input ${name} must be true or false, got ${JSON.stringify(value)}` }))
    }
    const seconds = (name: string, fallback: number) => {
      const value = optional(name)
      if (value === undefined) return Effect.succeed(fallback)
      const parsed = Number(value)
      return Number.isFinite(parsed) && parsed > 0
        ? Effect.succeed(parsed)
        : Effect.fail(new InvalidInput({ message: `Input ${name} must be a positive number of seconds, got ${JSON.stringify(value)}` }))
    }

    const apiUrl = yield* required("api-url")
    if (!/^https?:\/\//.test(apiUrl)) {
      return yield* new InvalidInput({ message: `Input api-url must be an http(s) URL, got ${JSON.stringify(apiUrl)}` })
    }
    const upload = (yield* boolean("upload", false)) === true
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
      autoAdvance: yield* boolean("auto-advance", undefined),
      name: optional("name"),
      ticketUrl: optional("ticket-url"),
      autoStart: (yield* boolean("auto-start", false)) === true,
      wait: (yield* boolean("wait", false)) === true,
      waitTimeoutSeconds: yield* seconds("wait-timeout", 3600),
      pollIntervalSeconds: yield* seconds("poll-interval", 15),
      cfAccess: clientId === undefined || clientSecret === undefined ? undefined : { clientId, clientSecret },
      upload: upload
        ? { workingDirectory: optional("working-directory") ?? ".", message: optional("message"), tag: optional("tag") }
        : undefined
    } satisfies ActionInputs
  })
