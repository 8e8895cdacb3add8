/**
 * `@canaryroll/notifier/testing`: the NotificationStore contract suite, for every adapter, and
 * the test doubles adapters need to run the notifier (a sealer, a webhook receiver, releases).
 *
 * @since 0.1.0
 */
export * as NotificationStoreContract from "./NotificationStoreContract.ts"
/** A SecretSealer on AES-256-GCM with a random key, for tests. */
export * as AesGcmSealer from "../support/AesGcmSealer.ts"
/** A webhook receiver on loopback that records requests and answers as scripted. */
export * as Receiver from "../support/Receiver.ts"
/** Release histories (a rollback, a completed release) as the orchestrator appends them. */
export * as Releases from "../support/Releases.ts"
