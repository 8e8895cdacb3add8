/**
 * `POST .../versions`: a multipart/form-data body with a JSON `metadata` part and one part per
 * module, parsed with the web `Request.formData()`. A module is named by its part name, as
 * wrangler sends it; parts sent as `files` / `files[]` (the SDK's `files` array) are named by
 * their filename. Like the real API, a body without a JSON `metadata` part is refused with
 * "could not read content for part metadata": that is what cloudflare@7's default encoding
 * (`metadata[main_module]=...` fields) gets from Cloudflare.
 */
import * as Annotations from "./Annotations.ts"
import { Rejection } from "./ErrorCatalogue.ts"
import type { Module } from "./Platform.ts"

export interface Upload {
  readonly mainModule: string
  readonly modules: ReadonlyArray<Module>
  readonly annotations: Annotations.Annotations
  readonly compatibilityDate?: string
  readonly compatibilityFlags?: ReadonlyArray<string>
  readonly bindings?: ReadonlyArray<unknown>
  readonly usageModel?: string
}

const refuse = (detail: string): never => {
  throw new Rejection("invalidUpload", detail)
}

const readMetadata = async (part: FormDataEntryValue | null): Promise<Record<string, unknown>> => {
  if (part === null) throw new Rejection("unreadableMetadata")
  const text = typeof part === "string" ? part : await part.text()
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch {
    throw new Rejection("unreadableMetadata")
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw new Rejection("unreadableMetadata")
  return parsed as Record<string, unknown>
}

const stringList = (value: unknown, field: string): ReadonlyArray<string> | undefined => {
  if (value === undefined) return undefined
  if (!Array.isArray(value) || value.some((item) => typeof item !== "string")) refuse(`${field} must be a list of strings`)
  return value as ReadonlyArray<string>
}

export const parse = async (request: Request): Promise<Upload> => {
  const contentType = request.headers.get("content-type") ?? ""
  if (!contentType.toLowerCase().startsWith("multipart/form-data")) {
    refuse("a version upload must be multipart/form-data")
  }
  let form: FormData
  try {
    form = await request.formData()
  } catch {
    return refuse("the multipart body could not be parsed")
  }
  const metadata = await readMetadata(form.get("metadata"))

  const modules: Array<Module> = []
  for (const [key, value] of form.entries()) {
    if (key === "metadata" || typeof value === "string") continue
    const name = key === "files" || key === "files[]" ? value.name : key
    modules.push({
      name,
      contentType: value.type || "application/octet-stream",
      content: new Uint8Array(await value.arrayBuffer())
    })
  }

  const mainModule = metadata.main_module
  if (mainModule === undefined) {
    refuse("metadata.main_module is required: the Versions API only accepts module-syntax Workers")
  }
  if (typeof mainModule !== "string") return refuse("metadata.main_module must be a string")
  if (!modules.some((module) => module.name === mainModule)) {
    refuse(`the main module ${JSON.stringify(mainModule)} is not one of the uploaded parts`)
  }
  const compatibilityDate = metadata.compatibility_date
  if (compatibilityDate !== undefined && typeof compatibilityDate !== "string") {
    refuse("metadata.compatibility_date must be a string")
  }
  const compatibilityFlags = stringList(metadata.compatibility_flags, "metadata.compatibility_flags")
  const bindings = metadata.bindings
  if (bindings !== undefined && !Array.isArray(bindings)) refuse("metadata.bindings must be a list")
  const usageModel = metadata.usage_model
  if (usageModel !== undefined && usageModel !== "standard") refuse(`metadata.usage_model must be "standard"`)

  return {
    mainModule,
    modules,
    annotations: Annotations.read(metadata.annotations, "invalidUpload"),
    ...(typeof compatibilityDate === "string" ? { compatibilityDate } : {}),
    ...(compatibilityFlags === undefined ? {} : { compatibilityFlags }),
    ...(Array.isArray(bindings) ? { bindings } : {}),
    ...(usageModel === undefined ? {} : { usageModel: "standard" })
  }
}
