/**
 * The API names the field of each problem in its 400 message (`steps[1].percentage: must be
 * greater than…; name: must be…`, see `@canaryroll/api/RequestErrors`). A form splits that
 * message by field, so each problem shows next to its field; what names no field stays a
 * message for the whole form.
 */
import { Schema, SchemaIssue } from "effect"
import { messageOf } from "../api/Client.ts"

export interface FieldErrors {
  /** Each field's problem, by the API's path (`steps[1].percentage`, `health.maxErrorRate`). */
  readonly byField: ReadonlyMap<string, string>
  /** What names no field. */
  readonly general: string | undefined
}

export const noFieldErrors: FieldErrors = { byField: new Map(), general: undefined }

const fieldPrefix = /^([A-Za-z_][\w]*(?:\[\d+\]|\.[A-Za-z_][\w]*)*): ([\s\S]*)$/

/** Splits a refusal into per-field problems; `known` says which paths the form shows a field for. */
export const fieldErrorsOf = (error: unknown, known: (path: string) => boolean): FieldErrors => {
  const byField = new Map<string, string>()
  const general: Array<string> = []
  // Problems are joined with "; " and each starts with its path.
  for (const part of messageOf(error).split(/; (?=[A-Za-z_][\w.[\]]*: )/)) {
    const match = fieldPrefix.exec(part)
    if (match !== null && known(match[1]!)) byField.set(match[1]!, [byField.get(match[1]!), match[2]!].filter(Boolean).join("; "))
    else general.push(part)
  }
  return { byField, general: general.length === 0 ? undefined : general.join("; ") }
}

const formatIssues = SchemaIssue.makeFormatterStandardSchemaV1()

const pathText = (path: ReadonlyArray<PropertyKey | { readonly key: PropertyKey }>) =>
  path.reduce<string>((text, segment) => {
    const key = typeof segment === "object" ? segment.key : segment
    return typeof key === "number" ? `${text}[${key}]` : text === "" ? String(key) : `${text}.${String(key)}`
  }, "")

/**
 * `input` checked by the API's own request schema, before it is sent: the typed client encodes
 * every request with that schema and would refuse a wrong one without a word, so the form finds
 * the problems first, named by field path exactly as the server's 400 names them
 * (`steps[1].percentage: …`, see `@canaryroll/api/RequestErrors`).
 */
export const checkedBy = <A, I>(schema: Schema.Codec<A, I>, input: unknown):
  | { readonly _tag: "Valid"; readonly value: A }
  | { readonly _tag: "Invalid"; readonly errors: FieldErrors } => {
  const result = Schema.decodeUnknownExit(schema)(input, { errors: "all" })
  if (result._tag === "Success") return { _tag: "Valid", value: result.value }
  const failure = result.cause.reasons.find((reason) => reason._tag === "Fail")
  const issue = failure?._tag === "Fail" && Schema.isSchemaError(failure.error) ? failure.error.issue : undefined
  if (issue === undefined) return { _tag: "Invalid", errors: { byField: new Map(), general: "The request is not valid." } }
  const byField = new Map<string, string>()
  for (const item of formatIssues(issue).issues) {
    const path = pathText(item.path ?? [])
    byField.set(path, [byField.get(path), item.message].filter(Boolean).join("; "))
  }
  return { _tag: "Invalid", errors: { byField, general: undefined } }
}
