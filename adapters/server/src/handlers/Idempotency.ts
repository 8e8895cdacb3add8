/**
 * The `Idempotency-Key` middleware: the application's (`@canaryroll/app/http/Idempotency`),
 * re-exported where the server's tests import it.
 *
 * @since 0.1.0
 */
export * from "@canaryroll/app/http/Idempotency"
