/**
 * Requests that do not decode (a malformed JSON body, a missing or invalid field, a bad path or
 * query parameter) get `400 { error: "invalid_request" | "invalid_json", message }`, the message
 * naming each offending field as `versionId: …` or `steps[1].percentage: …`.
 *
 * @since 0.1.0
 */
import { Effect, SchemaIssue } from "effect"
import { HttpApiMiddleware } from "effect/http-api"
import { BadRequest } from "./ApiError.ts"

export class RequestErrors extends HttpApiMiddleware.Service<RequestErrors>()("@canaryroll/server/RequestErrors", {
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
