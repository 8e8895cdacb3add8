/**
 * Who a request comes from (the socket's peer, or `X-Forwarded-For` from a trusted proxy): the
 * application's `ClientAddress` (`@canaryroll/app/http/ClientAddress`), re-exported where
 * `main.ts` and the server's tests import it.
 *
 * @since 0.1.0
 */
export * from "@canaryroll/app/http/ClientAddress"
