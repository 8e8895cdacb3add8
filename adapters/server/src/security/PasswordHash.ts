/**
 * Moved to `@canaryroll/app` (packages/app/src/security/PasswordHash.ts, over a pure-JavaScript
 * scrypt so that it runs on every runtime); re-exported here so that the server's imports keep
 * working while they move over.
 *
 * @since 0.1.0
 */
export * from "@canaryroll/app/PasswordHash"
