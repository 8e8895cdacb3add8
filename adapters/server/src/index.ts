/**
 * @canaryroll/server: the reference CanaryRoll HTTP server. `Server` assembles it (routes,
 * storage, Cloudflare, notifications), `Api` is its HttpApi definition (the OpenAPI document is
 * generated from it), `Sandbox` seeds the demo team; `main.ts` is the process (`pnpm start`).
 * The security primitives it is built on: password hashes, API tokens, secrets at rest.
 *
 * @since 0.1.0
 */
export * as AdminAccount from "./AdminAccount.ts"
export { Api } from "./api/Api.ts"
export * as ApiToken from "./security/ApiToken.ts"
export * as PasswordHash from "./security/PasswordHash.ts"
export * as Sandbox from "./Sandbox.ts"
export * as SecretBox from "./security/SecretBox.ts"
export * as Server from "./Server.ts"
export * as ServerConfig from "./ServerConfig.ts"
