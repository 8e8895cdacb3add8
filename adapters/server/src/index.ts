/**
 * @canaryroll/server: the reference CanaryRoll HTTP server (issue 5). So far, the security
 * primitives it is built on: password hashes, API tokens and the encryption of secrets at rest.
 *
 * @since 0.1.0
 */
export * as ApiToken from "./security/ApiToken.ts"
export * as PasswordHash from "./security/PasswordHash.ts"
export * as SecretBox from "./security/SecretBox.ts"
