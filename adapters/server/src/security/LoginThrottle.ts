/**
 * The LoginThrottle port moved to `@canaryroll/app` (packages/app/src/directory/LoginThrottle.ts,
 * runtime-neutral: its counter keys are hashed with WebCrypto); its Postgres layer is
 * `PgLoginThrottle.layer` in `@canaryroll/postgres`. Re-exported here so that the server's
 * imports keep working while they move over.
 *
 * @since 0.1.0
 */
export * from "@canaryroll/app/LoginThrottle"
