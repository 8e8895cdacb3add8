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
  const compiled = { validate: compile(schemaOf(spec.responses["200"]!)) }
  cache.set(operation, compiled)
  return compiled
}

/** The failure envelope of the Workers operations (`workers_api-response-common-failure`). */
export const failure: ValidateFunction = compile({ $ref: "#/components/schemas/workers_api-response-common-failure" })

/** The failure envelope of the token operations (`iam_api-response-common-failure`). */
export const iamFailure: ValidateFunction = compile({ $ref: "#/components/schemas/iam_api-response-common-failure" })

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
 * How one simulator answer fares against its schema: `undefined` when no schema applies (no
 * route, an injected fault, a route the document does not describe), else its findings
 * (`problems` is `undefined` when it matches, or departs from the schema only as listed above).
 */
export const checkAnswer = (answer: Answer): { readonly route: string; readonly problems: string | undefined } | undefined => {
  if (answer.template === null || answer.fault) return undefined
  const validate = answerSchema(answer.method, answer.template, answer.status)
  if (validate === undefined) return undefined
  const unexcused = problems(validate, answer.body)?.split("\n").filter((finding) =>
    !knownDepartures.some((known) => known.status === answer.status && known.finding.test(finding))
  )
  return {
    route: `${answer.method} ${answer.template} ${answer.status}`,
    problems: unexcused === undefined || unexcused.length === 0 ? undefined : unexcused.join("\n")
  }
}

/** The answers that do not match their schema, with ajv's findings: `[]` when all do. */
export const nonConforming = (answers: ReadonlyArray<Answer>): Array<string> =>
  answers.flatMap((answer) => {
    const checked = checkAnswer(answer)
    return checked?.problems === undefined ? [] : [`${checked.route}:\n${checked.problems}`]
  })
