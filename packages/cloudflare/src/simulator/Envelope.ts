/**
 * Cloudflare's v4 response envelope: `{ success, errors, messages, result, result_info? }`.
 * Failures carry `result: null` and at least one `{ code, message }` (OAS24
 * `workers_api-response-common-failure`).
 */
import { catalogue, type CodeOverrides, type ErrorName } from "./ErrorCatalogue.ts"

export interface ApiMessage {
  readonly code: number
  readonly message: string
  readonly error_chain?: ReadonlyArray<{ readonly code: number; readonly message: string }>
}

export interface ResultInfo {
  readonly page: number
  readonly per_page: number
  readonly count: number
  readonly total_count: number
  readonly total_pages: number
}

export const success = (result: unknown, resultInfo?: ResultInfo, messages: ReadonlyArray<unknown> = []) => ({
  success: true,
  errors: [],
  messages,
  result,
  ...(resultInfo === undefined ? {} : { result_info: resultInfo })
})

/** The body of `DELETE .../deployments/{id}`: the SDK types it without a `result`. */
export const successWithoutResult = () => ({ success: true, errors: [], messages: [] })

export const failure = (errors: ReadonlyArray<ApiMessage>) => ({
  success: false,
  errors,
  messages: [],
  result: null
})

/** The status and body for a catalogue error, with the simulator's code overrides applied. */
export const errorReply = (name: ErrorName, overrides: CodeOverrides, detail?: string) => {
  const entry = catalogue[name]
  const chain = "chain" in entry ? { error_chain: entry.chain } : {}
  return {
    status: entry.status,
    body: failure([{ code: overrides[name] ?? entry.code, message: detail ?? entry.message, ...chain }])
  }
}

/** Page `items` the way Cloudflare's page-numbered lists do, with `result_info`. */
export const paginate = <A>(items: ReadonlyArray<A>, page: number, perPage: number) => {
  const start = (page - 1) * perPage
  const pageItems = items.slice(start, start + perPage)
  const info: ResultInfo = {
    page,
    per_page: perPage,
    count: pageItems.length,
    total_count: items.length,
    total_pages: Math.ceil(items.length / perPage)
  }
  return { items: pageItems, info }
}
