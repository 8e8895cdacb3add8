/**
 * What the handlers need to know about the server they run in: the application's
 * `CurrentServerConfig` (`@canaryroll/app/http/ServerConfig`), re-exported under the name the
 * server's modules and tests use. `main.ts` builds it from the environment (see
 * docs/operations.md); tests build it directly.
 *
 * @since 0.1.0
 */
export * from "@canaryroll/app/http/ServerConfig"
