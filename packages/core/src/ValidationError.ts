/**
 * Turns Schema failures into field-level messages a person can act on:
 * `steps[2].percentage: must be greater than the previous step's 10`.
 *
 * @since 0.1.0
 */
import { Schema, SchemaIssue } from "effect"

export const FieldIssue = Schema.Struct({
  field: Schema.String,
  message: Schema.String
})
export type FieldIssue = typeof FieldIssue.Type

const formatter = SchemaIssue.makeFormatterStandardSchemaV1()

/** `["steps", 2, "percentage"]` → `steps[2].percentage` */
export const fieldPath = (path: ReadonlyArray<PropertyKey | { readonly key: PropertyKey }>): string =>
  path.reduce<string>((acc, segment) => {
    const key = typeof segment === "object" ? segment.key : segment
    if (typeof key === "number") return `${acc}[${key}]`
    const name = String(key)
    return /^\d+$/.test(name) ? `${acc}[${name}]` : acc === "" ? name : `${acc}.${name}`
  }, "")

export const fieldIssues = (error: Schema.SchemaError): ReadonlyArray<FieldIssue> =>
  formatter(error.issue).issues.map((issue) => ({
    field: fieldPath(issue.path ?? []) || "(root)",
    message: issue.message
  }))

/** One sentence listing every issue, for `{ message }` error bodies. */
export const describe = (subject: string, issues: ReadonlyArray<FieldIssue>): string =>
  `Invalid ${subject}: ${issues.map((issue) => `${issue.field}: ${issue.message}`).join("; ")}`
