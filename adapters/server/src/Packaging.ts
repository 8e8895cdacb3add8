/**
 * What this build of the server carries. Run from the sources (`pnpm start`), it has everything;
 * the container image's bundle (`scripts/bundle.ts`) has no embedded PostgreSQL, and says so by
 * defining `CANARYROLL_EMBEDDED_POSTGRES` as `false` when it is built, so that a start without
 * `DATABASE_URL` names the missing setting instead of failing to find PostgreSQL's binaries.
 *
 * @since 0.1.0
 */

// Replaced by esbuild's `define` in the bundle; absent (undefined) when run from the sources.
declare const CANARYROLL_EMBEDDED_POSTGRES: boolean | undefined

/** Whether a start without `DATABASE_URL` can run the embedded PostgreSQL. */
export const embeddedPostgres: boolean = typeof CANARYROLL_EMBEDDED_POSTGRES === "undefined" ? true : CANARYROLL_EMBEDDED_POSTGRES
