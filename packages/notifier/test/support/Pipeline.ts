/**
 * The notifier as a server process wires it, on memory ports, for tests: the event store and
 * outbox of the core, the memory NotificationStore, an AES-256-GCM sealer, real HTTP (node:http) and
 * real SMTP (nodemailer). Tests drive the recorder and the worker step by step (`runOnce`,
 * `runDue`) under `TestClock`, or run them for real.
 */
import { EventStore, Outbox, type ReleaseEvent } from "@canaryroll/core"
import { Effect, Layer } from "effect"
import {
  Channels,
  ChannelSender,
  DeliveryRecorder,
  DeliveryWorker,
  Mailer,
  NotificationStore,
  type RetryPolicy
} from "../../src/index.ts"
import * as AesGcmSealer from "./AesGcmSealer.ts"

export const baseUrl = "https://canaryroll.example"

export interface Options {
  readonly timeout?: ChannelSender.Options["timeout"]
  /** Default `true`: the tests' receivers listen on loopback. */
  readonly allowPrivateAddresses?: boolean
  /** How hosts resolve (once per attempt; the addresses it answers are the ones connected to). */
  readonly lookup?: ChannelSender.Options["lookup"]
}

/** The stores: the core's event store and outbox, the notification store, a sealer. */
export const storage = () =>
  Layer.mergeAll(
    Outbox.layerMemory.pipe(Layer.provideMerge(EventStore.layerMemory)),
    NotificationStore.layerMemory,
    AesGcmSealer.layer()
  )

/** Every service a notifier test needs, over fresh memory stores. */
export const layer = (options: Options = {}) => {
  const sender = ChannelSender.layer({
    timeout: options.timeout ?? "5 seconds",
    allowPrivateAddresses: options.allowPrivateAddresses ?? true,
    lookup: options.lookup
  }).pipe(
    Layer.provide(Mailer.layerSmtp)
  )
  return Channels.layer({ baseUrl }).pipe(Layer.provideMerge(sender), Layer.provideMerge(storage()))
}

export const recorder = (options: Partial<DeliveryRecorder.Options> = {}) => DeliveryRecorder.make({ baseUrl, ...options })

export const worker = (options: DeliveryWorker.Options & { readonly policy?: Partial<RetryPolicy.Policy> } = {}) =>
  DeliveryWorker.make(options)

/** Appends a release's events to its stream, as the orchestrator would. */
export const append = (releaseId: string, events: ReadonlyArray<ReleaseEvent.ReleaseEvent>) =>
  Effect.flatMap(EventStore.EventStore, (store) =>
    Effect.flatMap(store.readStream(releaseId), (stream) => store.append(releaseId, stream.length, events)))
