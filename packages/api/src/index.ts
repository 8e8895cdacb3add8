/**
 * @canaryroll/api: the HTTP contract of CanaryRoll, browser- and workerd-safe (no Node built-in,
 * no database, no notifier runtime). Served by every server runtime; called by the dashboard, the
 * CLI and the GitHub Action through Effect's `HttpApiClient`.
 *
 * @since 0.2.0
 */
export {}
