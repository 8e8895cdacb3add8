/**
 * Cloudflare's response schemas, for validating what the simulator answers.
 * `openapi-2026-07-27-partial.json` (copied from the shared reference) holds the eleven
 * operations CanaryRoll and wrangler call, verbatim from Cloudflare's 2026-07-27 OpenAPI document,
 * and every component they reach (the 2026 form where the export had it, else the 2024 one; its
 * `_about.provenance` says which). A `$ref` it lacks becomes `{}` (accept anything) and is listed
 * in `unresolved`, so a test can say what went unchecked.
 *
 * `answerSchema(method, template)` finds the schema of one simulator answer by the route that made
 * it: an operation's 200 schema for a success, its failure envelope for a 4XX or a 5XX (the
 * document types failures only as 4XX; Cloudflare's 5XX bodies are the same envelope). The
 * document's 4XX of some operations is `allOf [<success response>, failure]`, which no body can
 * match (`success` is `true` in one and `false` in the other): the failure part is what applies.
 */
import { Ajv, type ValidateFunction } from "ajv"
import Ajv2019Module from "ajv/dist/2019.js"
import addFormatsModule from "ajv-formats"
import { readFileSync } from "node:fs"
import { join } from "node:path"
import type { Answer } from "../../src/simulator/index.ts"

type Json = null | boolean | number | string | ReadonlyArray<Json> | { readonly [key: string]: Json }
type JsonObject = { readonly [key: string]: Json }

interface Reference {
  readonly operations: Record<string, { readonly responses: Record<string, JsonObject> }>
  readonly components: { readonly schemas: Record<string, Json> }
}

const reference = JSON.parse(
  readFileSync(join(import.meta.dirname, "openapi-2026-07-27-partial.json"), "utf8")
) as Reference

/** `$ref`s that the document does not define. */
export const unresolved = new Set<string>()

/** Inline every `$ref`. */
const inline = (node: Json, trail: ReadonlySet<string> = new Set()): Json => {
  if (Array.isArray(node)) return node.map((item) => inline(item, trail))
  if (node === null || typeof node !== "object") return node
  const object = node as JsonObject
  const ref = object.$ref
  if (typeof ref === "string") {
    const name = ref.split("/").at(-1)!
    const found = reference.components.schemas[name]
    if (found === undefined || trail.has(name)) {
      if (found === undefined) unresolved.add(ref)
      return {}
    }
    return inline(found, new Set([...trail, name]))
  }
  return Object.fromEntries(Object.entries(object).map(([key, value]) => [key, inline(value, trail)]))
}

// ajv-formats is CommonJS: under NodeNext its default import is the module object, whose
// `default` is the plugin.
const addFormats = addFormatsModule.default

// OpenAPI 3.0 keywords (nullable, example, x-*) are not JSON Schema: not strict, and ajv's
// built-in `nullable` support handles them.
const ajv = new Ajv({ strict: false, allErrors: true })
addFormats(ajv)

const compile = (schema: Json): ValidateFunction => ajv.compile(inline(schema) as object)

/**
 * The same schemas closed: `unevaluatedProperties: false` on every object that lists its
 * properties (not on the branches of an `allOf`/`anyOf`/`oneOf`, whose parent sees what they
 * evaluate), so a field the schema does not name is found: the simulator answers field by field.
 */
const closed = (node: Json, branch = false): Json => {
  if (Array.isArray(node)) return node.map((item) => closed(item, branch))
  if (node === null || typeof node !== "object") return node
  const object = node as JsonObject
  const result: Record<string, Json> = {}
  for (const [key, value] of Object.entries(object)) {
    result[key] = key === "allOf" || key === "anyOf" || key === "oneOf"
      ? (value as ReadonlyArray<Json>).map((item) => closed(item, true))
      : key === "properties"
      ? Object.fromEntries(Object.entries(value as JsonObject).map(([name, schema]) => [name, closed(schema)]))
      : key === "items"
      ? closed(value)
      : value
  }
  if (!branch && (object.properties !== undefined || object.allOf !== undefined) && object.additionalProperties === undefined) {
    result.unevaluatedProperties = false
  }
  return result
}

// `unevaluatedProperties` is JSON Schema 2019-09: ajv's 2019 build. CommonJS, as ajv-formats.
const Ajv2019 = (Ajv2019Module as unknown as { default: typeof Ajv }).default
const closedAjv = new Ajv2019({ strict: false, allErrors: true })
addFormats(closedAjv)

const closedCache = new Map<ValidateFunction, ValidateFunction>()
const openSchemas = new Map<ValidateFunction, Json>()

/** The fields of `body` that `validate`'s schema does not name, as JSON pointers (`/result/annotations`). */
export const undeclaredFields = (validate: ValidateFunction, body: unknown): Array<string> => {
  const schema = openSchemas.get(validate)
  if (schema === undefined) return []
  let strict = closedCache.get(validate)
  if (strict === undefined) {
    strict = closedAjv.compile(closed(inline(schema)) as object)
    closedCache.set(validate, strict)
  }
  if (strict(body)) return []
  return (strict.errors ?? []).flatMap((error) =>
    error.keyword === "unevaluatedProperties"
      ? [`${error.instancePath}/${String((error.params as { unevaluatedProperty: string }).unevaluatedProperty)}`]
      : []
  )
}

/** Compiles a schema and keeps it, so that `undeclaredFields` can close it. */
const compileKept = (schema: Json): ValidateFunction => {
  const validate = compile(schema)
  openSchemas.set(validate, schema)
  return validate
}

export interface ResponseSchema {
  readonly validate: ValidateFunction
}

const cache = new Map<string, ResponseSchema>()

/** A response as the document gives it: a schema, or (OpenAPI's form) `{ content: { application/json: { schema } } }`. */
const schemaOf = (response: JsonObject): Json => {
  const content = response.content as JsonObject | undefined
  return content === undefined ? response : (content["application/json"] as JsonObject).schema!
}

/** The 200 response schema of an operation, e.g. "GET /accounts/{account_id}/workers/scripts/{script_name}/versions". */
export const response = (operation: string): ResponseSchema => {
  const cached = cache.get(operation)
  if (cached !== undefined) return cached
  const spec = reference.operations[operation]
  if (spec === undefined) throw new Error(`no operation ${operation} in the 2026 document`)
  const compiled = { validate: compileKept(schemaOf(spec.responses["200"]!)) }
  cache.set(operation, compiled)
  return compiled
}

/** The failure envelope of the Workers operations (`workers_api-response-common-failure`). */
export const failure: ValidateFunction = compileKept({ $ref: "#/components/schemas/workers_api-response-common-failure" })

/** The failure envelope of the token operations (`iam_api-response-common-failure`). */
export const iamFailure: ValidateFunction = compileKept({ $ref: "#/components/schemas/iam_api-response-common-failure" })

/** The common success envelope. */
export const commonSuccess: ValidateFunction = compile({ $ref: "#/components/schemas/workers_api-response-common" })

/** The operations the document describes, as "GET /accounts/{account_id}/tokens/verify". */
export const operations: ReadonlyArray<string> = Object.keys(reference.operations)

/** "/accounts/:account_id/tokens/verify" → "/accounts/{account_id}/tokens/verify". */
const openApiPath = (template: string) => template.replace(/:([a-z_]+)/g, "{$1}")

/**
 * The schema an answer of `method template` with `status` must match, or `undefined` when the
 * document does not describe that route (the simulator's answer is then checked by its own tests).
 */
export const answerSchema = (method: string, template: string, status: number): ValidateFunction | undefined => {
  const operation = `${method.toUpperCase()} ${openApiPath(template)}`
  if (!operations.includes(operation)) return undefined
  if (status < 400) return response(operation).validate
  return operation.includes("/tokens/verify") ? iamFailure : failure
}

/** ajv's findings, one per line, or `undefined` when `body` matches. */
export const problems = (validate: ValidateFunction, body: unknown): string | undefined =>
  validate(body) ? undefined : ajv.errorsText(validate.errors, { separator: "\n" })

/** Throw with ajv's findings unless `body` matches. */
export const assertMatches = (validate: ValidateFunction, body: unknown, what: string): void => {
  const found = problems(validate, body)
  if (found !== undefined) {
    throw new Error(`${what} does not match its schema:\n${found}\n${JSON.stringify(body, null, 2)}`)
  }
}

/**
 * Where the simulator departs from the schema on purpose, because Cloudflare itself does: each
 * finding (one line of ajv's) is excused only for its status, with its reason.
 */
export const knownDepartures: ReadonlyArray<{ readonly status: number; readonly finding: RegExp; readonly why: string }> = [
  {
    status: 429,
    finding: /^data\/errors\/0\/code must be >= 1000$/,
    why: "real 429 answers carry code 971, below the schema's minimum of 1000"
  },
  {
    status: 200,
    finding: /^data\/result(\/deployments\/\d+)?\/versions\/\d+\/percentage must be >= 0.01$/,
    why: "Cloudflare's docs (version overrides) deploy a new version at 0% beside 100% for smoke tests, " +
      "which the schema's minimum of 0.01 does not allow; the deployment answers with the 0% share"
  }
]

/**
 * Fields real answers carry that the schemas leave out, each with its evidence: the simulator
 * sends them because Cloudflare does, and clients read some of them.
 */
export const knownUndeclared: ReadonlyArray<{ readonly field: RegExp; readonly why: string }> = [
  {
    field: /^\/result_info$/,
    why: "paginated lists carry result_info { count, page, per_page, total_count, total_pages } (reference §0, the API reference's example)"
  },
  {
    field: /^\/result(\/items\/\d+)?\/annotations$/,
    why: "versions carry top-level annotations (workers/message, workers/tag, workers/triggered_by); wrangler reads them (reference §1.2)"
  },
  {
    field: /^\/errors\/\d+\/error_chain$/,
    why: "observed: 6003 \"Invalid request headers\" carries error_chain [{ code: 6111 or 6103, message }] naming the header"
  },
  {
    field: /^\/(messages|errors)\/\d+\/type$/,
    why: "messages carry type: null, as the verify endpoints answer (\"This API Token is valid and active\", type null)"
  }
]

/**
 * How one simulator answer fares against its schema: `undefined` when no schema applies (no
 * route, an injected fault, a route the document does not describe), else its findings
 * (`problems` is `undefined` when it matches, or departs from the schema only as listed above).
 */
export const checkAnswer = (answer: Answer): { readonly route: string; readonly problems: string | undefined } | undefined => {
  if (answer.template === null || answer.fault) return undefined
  const validate = answerSchema(answer.method, answer.template, answer.status)
  if (validate === undefined) return undefined
  const unexcused = [
    ...(problems(validate, answer.body)?.split("\n") ?? []).filter((finding) =>
      !knownDepartures.some((known) => known.status === answer.status && known.finding.test(finding))
    ),
    ...undeclaredFields(validate, answer.body)
      .filter((field) => !knownUndeclared.some((known) => known.field.test(field)))
      .map((field) => `${field}: a field the schema does not name`)
  ]
  return {
    route: `${answer.method} ${answer.template} ${answer.status}`,
    problems: unexcused.length === 0 ? undefined : unexcused.join("\n")
  }
}

/** The answers that do not match their schema, with ajv's findings: `[]` when all do. */
export const nonConforming = (answers: ReadonlyArray<Answer>): Array<string> =>
  answers.flatMap((answer) => {
    const checked = checkAnswer(answer)
    return checked?.problems === undefined ? [] : [`${checked.route}:\n${checked.problems}`]
  })
