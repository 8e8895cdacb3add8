/**
 * @canaryroll/api: the HTTP contract of CanaryRoll, browser- and workerd-safe (no Node built-in,
 * no database, no notifier runtime). Served by every server runtime; called by the dashboard, the
 * CLI and the GitHub Action through Effect's `HttpApiClient`.
 *
 * - `Api`: the HttpApi definition (groups, endpoints, middlewares); `ClientApi` is the part the
 *   CLI and the Action call, lenient toward other servers' releases.
 * - `Schemas`: what the endpoints send and receive.
 * - `ApiError`: the typed errors (`{ error, message }` bodies, a `_tag` each), and the API's one
 *   503 (`StorageUnavailable` with `Retry-After`, or `Unavailable`).
 * - `Access`, `Idempotency`, `RequestErrors`: the middlewares' declarations; servers implement
 *   `Access` and `Idempotency`, `RequestErrors.layer` turns undecodable requests into 400s.
 *
 * @since 0.2.0
 */
export * as Access from "./Access.ts"
export * as Api from "./Api.ts"
export * as ApiError from "./ApiError.ts"
export * as Idempotency from "./Idempotency.ts"
export * as Dashboard from "./Dashboard.ts"
export * as Live from "./Live.ts"
export * as RequestErrors from "./RequestErrors.ts"
export * as Schemas from "./Schemas.ts"
