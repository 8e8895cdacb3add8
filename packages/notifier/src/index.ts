/**
 * @canaryroll/notifier: tells a team what its releases do, on Slack, Discord, Google Chat, email
 * (SMTP) and signed webhooks. Channels choose their events; deliveries are recorded from the
 * core's outbox, sent at least once with retries and backoff, and never hold up a release.
 * The HTTP API uses `Channels`; a server process runs `Notifier.layer`.
 *
 * @since 0.1.0
 */
export * as Channel from "./Channel.ts"
export * as ChannelKind from "./ChannelKind.ts"
export * as ChannelKinds from "./ChannelKinds.ts"
export * as Channels from "./Channels.ts"
export * as ChannelSender from "./ChannelSender.ts"
export * as DeliveryRecorder from "./DeliveryRecorder.ts"
export * as DeliveryWorker from "./DeliveryWorker.ts"
export * as Mailer from "./Mailer.ts"
export * as Notification from "./Notification.ts"
export * as NotificationEvent from "./NotificationEvent.ts"
export * as NotificationStore from "./NotificationStore.ts"
export * as Notifier from "./Notifier.ts"
export * as PublicAddress from "./PublicAddress.ts"
export * as Redaction from "./Redaction.ts"
export * as RetryPolicy from "./RetryPolicy.ts"
export * as SecretSealer from "./SecretSealer.ts"
export * as TextLimit from "./TextLimit.ts"
export * as WebhookSignature from "./WebhookSignature.ts"
// The channel kinds, one module each (their messages, config and sending).
export * as Discord from "./kinds/Discord.ts"
export * as Email from "./kinds/Email.ts"
export * as GoogleChat from "./kinds/GoogleChat.ts"
export * as Slack from "./kinds/Slack.ts"
export * as Webhook from "./kinds/Webhook.ts"
