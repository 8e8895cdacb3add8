/**
 * What each notification channel kind's form asks for, read from the API's own request schema
 * (`ChannelRequest`, which `@canaryroll/notifier`'s registry of kinds derives): its JSON Schema
 * lists each kind's fields, their types, which are required and the choices of an enum. A kind
 * added to the registry gets its form here with no dashboard change. The events a channel may
 * subscribe to come from the same schema.
 */
import { ChannelRequest } from "@canaryroll/api/Api"
import { Schema } from "effect"

export type FieldShape =
  | { readonly _tag: "Text"; readonly secret: boolean }
  | { readonly _tag: "Integer" }
  | { readonly _tag: "Choice"; readonly options: ReadonlyArray<string> }
  | { readonly _tag: "List" }

export interface KindField {
  readonly name: string
  readonly shape: FieldShape
  readonly required: boolean
  /** Whether `null` is accepted (an optional credential such as an SMTP user name). */
  readonly nullable: boolean
}

export interface KindForm {
  readonly kind: string
  readonly fields: ReadonlyArray<KindField>
}

interface JsonSchema {
  readonly type?: string
  readonly enum?: ReadonlyArray<string>
  readonly anyOf?: ReadonlyArray<JsonSchema>
  readonly items?: JsonSchema
  readonly properties?: Readonly<Record<string, JsonSchema>>
  readonly required?: ReadonlyArray<string>
}

const document = Schema.toJsonSchemaDocument(ChannelRequest).schema as JsonSchema

// Field names that hold a credential: typed into a password field, never echoed on screen.
const secretNames = /password|secret|token|url/i

const shapeOf = (name: string, schema: JsonSchema): { readonly shape: FieldShape; readonly nullable: boolean } => {
  const branches = schema.anyOf ?? [schema]
  const nullable = branches.some((branch) => branch.type === "null")
  const value = branches.find((branch) => branch.type !== "null") ?? schema
  if (value.enum !== undefined) return { shape: { _tag: "Choice", options: value.enum }, nullable }
  if (value.type === "integer" || value.type === "number") return { shape: { _tag: "Integer" }, nullable }
  if (value.type === "array") return { shape: { _tag: "List" }, nullable }
  return { shape: { _tag: "Text", secret: secretNames.test(name) }, nullable }
}

/** Each registered kind's form, in the registry's order. */
export const kindForms: ReadonlyArray<KindForm> = (document.properties?.["config"]?.anyOf ?? []).map((branch) => {
  const properties = branch.properties ?? {}
  const kind = properties["kind"]?.enum?.[0] ?? "unknown"
  const required = new Set(branch.required ?? [])
  return {
    kind,
    fields: Object.entries(properties).filter(([name]) => name !== "kind").map(([name, schema]) => ({ name, required: required.has(name), ...shapeOf(name, schema) }))
  }
})

/** The events a channel may subscribe to. */
export const eventNames: ReadonlyArray<string> = document.properties?.["events"]?.items?.enum ?? []

/** `release.step_advanced` → `Step advanced`; `rollback_started` → `Rollback started`; `smtpHost` → `Smtp host`. */
export const humanize = (name: string): string => {
  const words = name.replace(/^release\./, "").replace(/([a-z])([A-Z])/g, "$1 $2").replace(/[._]/g, " ").toLowerCase()
  return words.charAt(0).toUpperCase() + words.slice(1)
}

/** The config a form's text values make, as the API takes it (blank optional fields left out). */
export const configOf = (form: KindForm, values: Readonly<Record<string, string>>): Record<string, unknown> => {
  const config: Record<string, unknown> = { kind: form.kind }
  for (const field of form.fields) {
    const text = (values[field.name] ?? "").trim()
    if (text === "" && !field.required) continue
    switch (field.shape._tag) {
      case "Integer":
        config[field.name] = /^-?\d+$/.test(text) ? Number(text) : text
        break
      case "List":
        config[field.name] = text.split(/[\s,]+/).filter((item) => item !== "")
        break
      case "Choice":
      case "Text":
        config[field.name] = text
    }
  }
  return config
}
