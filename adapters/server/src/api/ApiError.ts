/**
 * Moved to `@canaryroll/api` (packages/api/src/ApiError.ts); re-exported here so that the handlers'
 * imports keep working while they move over.
 *
 * @since 0.1.0
 */
export * from "@canaryroll/api/ApiError"
