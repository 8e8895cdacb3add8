/**
 * Requests that do not decode (a malformed JSON body, a missing or invalid field, a bad path or
 * query parameter) get `400 { error: "invalid_request" | "invalid_json", message }`, the message
 * naming each offending field as `versionId: …` or `steps[1].percentage: …`.
 *
 * `nulField` finds the first string of a request holding U+0000 (which Postgres cannot store):
 * the server's outer middleware answers it with the same 400, naming the field, before any handler
 * runs, whatever the endpoint's schemas say.
 *
 * @since 0.1.0
 */
import { Effect, SchemaIssue } from "effect"
import { HttpApiMiddleware } from "effect/http-api"
import { BadRequest } from "./ApiError.ts"
import { nulMessage } from "./Schemas.ts"

export class RequestErrors extends HttpApiMiddleware.Service<RequestErrors>()("@canaryroll/api/RequestErrors", {
  error: BadRequest
}) {}

const formatIssues = SchemaIssue.makeFormatterStandardSchemaV1()

const pathText = (path: ReadonlyArray<PropertyKey | { readonly key: PropertyKey }>) =>
  path.reduce<string>((text, segment) => {
    const key = typeof segment === "object" ? segment.key : segment
    return typeof key === "number" ? `${text}[${key}]` : text === "" ? String(key) : `${text}.${String(key)}`
  }, "")

const slotName = { Params: "path", Query: "query", Payload: "body", Headers: "headers" } as const

export const layer = HttpApiMiddleware.layerSchemaErrorTransform(RequestErrors, (error) => {
  if (error.kind === "Body" || error.kind === "ResponseHeaders") return Effect.die(error)
  const issues = formatIssues(error.cause.issue).issues
  const slot = slotName[error.kind as keyof typeof slotName] ?? "request"
  const malformedJson = issues.some((issue) => issue.message === "Expected a valid JSON body")
  if (malformedJson) {
    return Effect.fail(new BadRequest({ error: "invalid_json", message: "body: is not valid JSON" }))
  }
  const message = issues
    .slice(0, 10)
    .map((issue) => `${pathText(issue.path ?? []) || slot}: ${issue.message}`)
    .join("; ")
  return Effect.fail(new BadRequest({ error: "invalid_request", message: message || `${slot}: is invalid` }))
})

const nul = "\u0000"

/** The path (`steps[1].name`, `""` for the value itself) of the first string or key in `value` holding NUL. */
const nulPath = (value: unknown, path: string): string | undefined => {
  if (typeof value === "string") return value.includes(nul) ? path : undefined
  if (Array.isArray(value)) {
    for (let index = 0; index < value.length; index++) {
      const found = nulPath(value[index], `${path}[${index}]`)
      if (found !== undefined) return found
    }
    return undefined
  }
  if (typeof value === "object" && value !== null) {
    for (const [key, item] of Object.entries(value)) {
      const field = path === "" ? key : `${path}.${key}`
      if (key.includes(nul)) return path === "" ? "body" : path
      const found = nulPath(item, field)
      if (found !== undefined) return found
    }
  }
  return undefined
}

/**
 * The request's first field holding NUL, as the 400 to answer: a path parameter (by its name), a
 * query parameter, or a field of the JSON body (`body` when the body itself is that string).
 */
export const nulField = (request: {
  readonly params: Readonly<Record<string, string | undefined>>
  readonly query: URLSearchParams
  readonly body: unknown
}): BadRequest | undefined => {
  const invalid = (field: string) => new BadRequest({ error: "invalid_request", message: `${field}: ${nulMessage}` })
  for (const [name, value] of Object.entries(request.params)) {
    if (value !== undefined && value.includes(nul)) return invalid(name)
  }
  for (const [name, value] of request.query) {
    if (name.includes(nul) || value.includes(nul)) return invalid(name.replaceAll(nul, "\\u0000"))
  }
  const found = nulPath(request.body, "")
  return found === undefined ? undefined : invalid(found === "" ? "body" : found)
}
