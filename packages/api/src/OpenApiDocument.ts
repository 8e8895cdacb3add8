/**
 * What the OpenAPI document says beyond the endpoints' own schemas: where the API is served, its
 * licence, and the answers a server gives to any request before (or around) its handler, which no
 * endpoint schema carries:
 *
 * - 403 `cross_origin` to a request that changes something, made without a bearer token, from a
 *   web page of another origin (the server's request-origin check);
 * - 409 `conflict` to a change that raced another request changing the same thing;
 * - 413 `payload_too_large` to a body over the server's limit, 415 `unsupported_media_type` to a
 *   body that is not JSON;
 * - `Retry-After` (whole seconds) on every 429: throttled log-ins, sign-ups and password changes
 *   say when to try again.
 *
 * Every server runtime of `@canaryroll/api` answers them (packages/app's error middleware), so they
 * are declared once here, not on each endpoint.
 *
 * @since 0.1.0
 */
import type { OpenApi } from "effect/http-api"

/**
 * A self-hosted server has no fixed address: the document's one server is relative (`/`), which
 * OpenAPI resolves against the URL the document was fetched from (`https://canaryroll.example.com/api/openapi.json`
 * → `https://canaryroll.example.com`); every path already starts with `/api`.
 */
export const servers: ReadonlyArray<OpenApi.OpenAPISpecServer> = [
  { url: "/", description: "The CanaryRoll server this document was fetched from" }
]

export const license: OpenApi.OpenAPISpecLicense = { name: "Apache-2.0", url: "https://www.apache.org/licenses/LICENSE-2.0" }

const errorBody = (description: string) => ({
  description,
  content: { "application/json": { schema: { $ref: "#/components/schemas/ErrorBody" } } }
})

/** `{ error, message }`, the body of every error answer. */
const ErrorBody = {
  type: "object",
  description: "An error: `error` a stable code a program can switch on, `message` a sentence naming the field or the reason.",
  required: ["error", "message"],
  properties: { error: { type: "string" }, message: { type: "string" } },
  additionalProperties: false
}

const retryAfter = {
  description: "Seconds to wait before trying again.",
  required: true,
  schema: { type: "string", pattern: "^[0-9]+$", maxLength: 10 }
}

const changes = new Set(["post", "put", "patch", "delete"])

type Operation = {
  responses: Record<string, { description: string; headers?: Record<string, unknown>; content?: unknown }>
  requestBody?: unknown
}

/**
 * An optional nullable field (`Schema.optional(Schema.NullOr(X))`) is rendered `anyOf: [X, null,
 * null]`, since JSON has no `undefined` and it becomes `null` too: the repeated branch goes.
 */
const withoutRepeatedBranches = (node: unknown): void => {
  if (Array.isArray(node)) {
    node.forEach(withoutRepeatedBranches)
    return
  }
  if (node === null || typeof node !== "object") return
  const object = node as Record<string, unknown>
  const anyOf = object.anyOf
  if (Array.isArray(anyOf)) {
    const seen = new Set<string>()
    object.anyOf = anyOf.filter((branch) => {
      const key = JSON.stringify(branch)
      return seen.has(key) ? false : (seen.add(key), true)
    })
  }
  Object.values(object).forEach(withoutRepeatedBranches)
}

/**
 * The API's `transform` annotation: the server-wide answers added to every operation they apply
 * to, and repeated `anyOf` branches removed.
 */
export const declareServerAnswers = (spec: Record<string, any>): Record<string, any> => {
  withoutRepeatedBranches(spec)
  spec.components.schemas.ErrorBody ??= ErrorBody
  for (const pathItem of Object.values(spec.paths as Record<string, Record<string, Operation>>)) {
    for (const [method, operation] of Object.entries(pathItem)) {
      const responses = operation.responses
      if (changes.has(method)) {
        responses["403"] ??= errorBody(
          "Forbidden: `cross_origin` when a request made without a bearer token comes from a web page of another origin"
        )
        responses["409"] ??= errorBody("Conflict: another request changed the same thing at the same time; reload and try again")
      }
      if (operation.requestBody !== undefined) {
        responses["413"] ??= errorBody("Payload Too Large: the body is over the server's limit")
        responses["415"] ??= errorBody("Unsupported Media Type: send the body as JSON (`Content-Type: application/json`)")
      }
      const tooMany = responses["429"]
      if (tooMany !== undefined) tooMany.headers = { ...tooMany.headers, "retry-after": retryAfter }
    }
  }
  return spec
}
