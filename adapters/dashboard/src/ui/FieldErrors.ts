/**
 * The API names the field of each problem in its 400 message (`steps[1].percentage: must be
 * greater than…; name: must be…`, see `@canaryroll/api/RequestErrors`). A form splits that
 * message by field, so each problem shows next to its field; what names no field stays a
 * message for the whole form.
 */
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
