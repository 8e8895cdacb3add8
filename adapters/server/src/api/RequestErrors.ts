/**
 * Moved to `@canaryroll/api` (packages/api/src/RequestErrors.ts): the 400s every endpoint may
 * answer, their message format and the NUL guard are part of the contract every server runtime
 * shares. Re-exported here so that the server's imports keep working while they move over.
 *
 * @since 0.1.0
 */
export * from "@canaryroll/api/RequestErrors"
