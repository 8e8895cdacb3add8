/**
 * Response schemas from Cloudflare's OpenAPI document, for validating what the simulator answers.
 * `openapi-workers-subset.json` (copied from the shared reference) holds two partial snapshots:
 * the 2026-07-27 one has all seven operations but lacks some components, the 2024-08-06 one has
 * every component its three operations reach. Operations come from 2026; a `$ref` resolves to the
 * 2026 component when it exists and to the 2024 one otherwise. A `$ref` found in neither becomes
 * `{}` (accept anything) and is listed in `unresolved`, so a test can say what went unchecked.
 */
import { Ajv, type ValidateFunction } from "ajv"
import addFormatsModule from "ajv-formats"
import { readFileSync } from "node:fs"
import { join } from "node:path"

type Json = null | boolean | number | string | ReadonlyArray<Json> | { readonly [key: string]: Json }
type JsonObject = { readonly [key: string]: Json }

interface Subset {
  readonly openapi_2024_08_06: {
    readonly paths: Record<string, Record<string, JsonObject>>
    readonly components: { readonly schemas: Record<string, Json>; readonly requestBodies: Record<string, Json> }
  }
  readonly openapi_2026_07_27_partial: {
    readonly operations: Record<string, JsonObject>
    readonly components: { readonly schemas: Record<string, Json> }
  }
}

const subset = JSON.parse(
  readFileSync(join(import.meta.dirname, "openapi-workers-subset.json"), "utf8")
) as Subset

const recent = subset.openapi_2026_07_27_partial
const older = subset.openapi_2024_08_06

/** `$ref`s that neither snapshot defines. */
export const unresolved = new Set<string>()

const component = (ref: string): { schema: Json; source: "2026" | "2024" } | undefined => {
  const name = ref.split("/").at(-1)!
  const fromRecent = recent.components.schemas[name]
  if (fromRecent !== undefined) return { schema: fromRecent, source: "2026" }
  const fromOlder = older.components.schemas[name] ?? older.components.requestBodies[name]
  return fromOlder === undefined ? undefined : { schema: fromOlder, source: "2024" }
}

/** Inline every `$ref`, recording where each component came from. */
const inline = (node: Json, sources: Map<string, "2026" | "2024">): Json => {
  if (Array.isArray(node)) return node.map((item) => inline(item, sources))
  if (node === null || typeof node !== "object") return node
  const object = node as JsonObject
  const ref = object.$ref
  if (typeof ref === "string") {
    const found = component(ref)
    if (found === undefined) {
      unresolved.add(ref)
      return {}
    }
    sources.set(ref.split("/").at(-1)!, found.source)
    return inline(found.schema, sources)
  }
  return Object.fromEntries(Object.entries(object).map(([key, value]) => [key, inline(value, sources)]))
}

// ajv-formats is CommonJS: under NodeNext its default import is the module object, whose
// `default` is the plugin.
const addFormats = addFormatsModule.default

// OpenAPI 3.0 keywords (nullable, example, x-*) are not JSON Schema: not strict, and ajv's
// built-in `nullable` support handles the failure envelope's `result`.
const ajv = new Ajv({ strict: false, allErrors: true })
addFormats(ajv)

export interface ResponseSchema {
  readonly validate: ValidateFunction
  /** Which snapshot each component came from, by name. */
  readonly sources: ReadonlyMap<string, "2026" | "2024">
}

const cache = new Map<string, ResponseSchema>()

/** The 200 response schema of an operation, e.g. "GET /accounts/{account_id}/workers/scripts/{script_name}/versions". */
export const response = (operation: string): ResponseSchema => {
  const cached = cache.get(operation)
  if (cached !== undefined) return cached
  const spec = recent.operations[operation]
  if (spec === undefined) throw new Error(`no operation ${operation} in the 2026 snapshot`)
  const responses = spec.responses as JsonObject
  const ok = responses["200"] as JsonObject
  const content = ok.content as JsonObject
  const schema = (content["application/json"] as JsonObject).schema!
  const sources = new Map<string, "2026" | "2024">()
  const compiled = { validate: ajv.compile(inline(schema, sources) as object), sources }
  cache.set(operation, compiled)
  return compiled
}

/** The failure envelope every 4XX and 5XX answer must match (`workers_api-response-common-failure`). */
export const failure: ValidateFunction = ajv.compile(
  inline({ $ref: "#/components/schemas/workers_api-response-common-failure" }, new Map()) as object
)

/** The common success envelope, for answers no snapshot describes (token verification). */
export const commonSuccess: ValidateFunction = ajv.compile(
  inline({ $ref: "#/components/schemas/workers_api-response-common" }, new Map()) as object
)

/** Throw with ajv's findings unless `body` matches. */
export const assertMatches = (validate: ValidateFunction, body: unknown, what: string): void => {
  if (!validate(body)) {
    throw new Error(`${what} does not match its schema:\n${ajv.errorsText(validate.errors, { separator: "\n" })}\n${JSON.stringify(body, null, 2)}`)
  }
}
