/**
 * The IdempotencyKeys port moved to `@canaryroll/app` (packages/app/src/directory/IdempotencyKeys.ts);
 * its Postgres layer is `PgIdempotencyKeys.layer` in `@canaryroll/postgres`. Re-exported here so
 * that the server's imports keep working while they move over.
 *
 * @since 0.1.0
 */
export * from "@canaryroll/app/IdempotencyKeys"
