/**
 * `@canaryroll/notifier/testing`: the NotificationStore contract suite, for every adapter.
 *
 * @since 0.1.0
 */
export * as NotificationStoreContract from "./NotificationStoreContract.ts"
