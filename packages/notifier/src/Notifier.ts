/**
 * Notifier: the notifications of a server process, wired. `layer` gives the `Channels` service
 * (what the HTTP API calls) and runs, for the layer's lifetime, the outbox consumer
 * (`DeliveryRecorder`) and the senders (`DeliveryWorker`) in the background. Several processes
 * may run it against one Postgres: the outbox checkpoint, the delivery key and the claims'
 * leases keep each message delivered (at least) once.
 *
 * It needs the core's `Outbox` and `EventStore`, a `NotificationStore` (memory, or
 * `PgNotifications` from `@canaryroll/postgres`) and a `SecretSealer` (the server's `SecretBox`
 * fits). HTTP goes out through Node's `http`/`https` (each attempt connects only to the addresses
 * it checked, see `ChannelSender`); email through nodemailer (`Mailer.layerSmtp`) unless a
 * `Mailer` is given with `layerWith`.
 *
 * @since 0.1.0
 */
import type { EventStore, Outbox } from "@canaryroll/core"
import { Effect, Layer } from "effect"
import * as Channels from "./Channels.ts"
import * as ChannelSender from "./ChannelSender.ts"
import * as DeliveryRecorder from "./DeliveryRecorder.ts"
import * as DeliveryWorker from "./DeliveryWorker.ts"
import * as Mailer from "./Mailer.ts"
import type * as NotificationStore from "./NotificationStore.ts"
import type * as SecretSealer from "./SecretSealer.ts"

export interface Options {
  /** The server's public URL, for links to release pages (`{baseUrl}/teams/{team}/deployments/{id}`). */
  readonly baseUrl: string
  readonly recorder?: Omit<DeliveryRecorder.Options, "baseUrl"> | undefined
  readonly worker?: DeliveryWorker.Options | undefined
  readonly sender?: ChannelSender.Options | undefined
  /** `false`: only the `Channels` service, no background delivery (e.g. an API-only process). Default `true`. */
  readonly deliver?: boolean | undefined
}

/** The recorder and the worker, running until the layer is released. */
export const layerDelivery = (
  options: Options
): Layer.Layer<
  never,
  never,
  Outbox.Outbox | EventStore.EventStore | NotificationStore.NotificationStore | ChannelSender.ChannelSender
> =>
  Layer.effectDiscard(Effect.gen(function*() {
    const recorder = yield* DeliveryRecorder.make({ ...options.recorder, baseUrl: options.baseUrl })
    const worker = yield* DeliveryWorker.make(options.worker)
    yield* Effect.forkScoped(recorder.run)
    yield* Effect.forkScoped(worker.run)
  }))

/** `Channels`, and delivery in the background unless `deliver: false`; email through `Mailer` in context. */
export const layerWith = (
  options: Options
): Layer.Layer<
  Channels.Channels,
  never,
  | Outbox.Outbox
  | EventStore.EventStore
  | NotificationStore.NotificationStore
  | SecretSealer.SecretSealer
  | Mailer.Mailer
> => {
  const channels = Channels.layer({ baseUrl: options.baseUrl })
  const both = options.deliver === false ? channels : Layer.merge(channels, layerDelivery(options))
  return both.pipe(Layer.provide(ChannelSender.layer(options.sender)))
}

/** `layerWith`, sending email over SMTP with nodemailer. */
export const layer = (
  options: Options
): Layer.Layer<
  Channels.Channels,
  never,
  | Outbox.Outbox
  | EventStore.EventStore
  | NotificationStore.NotificationStore
  | SecretSealer.SecretSealer
> => layerWith(options).pipe(Layer.provide(Mailer.layerSmtp))
