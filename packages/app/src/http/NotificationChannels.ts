/**
 * The notification channels the `notifications` handlers manage, as a service interface only:
 * the notifier's `Channels` (sealing secrets, sending a test message over HTTP or SMTP) runs on
 * Node built-ins, so the application names what it needs here and each runtime provides it
 * (the Node runtime: `layerFromChannels`, over the notifier's own service). The types come from
 * the notifier by `import type`, which leaves nothing of it in a bundle.
 *
 * @since 0.1.0
 */
import type { Channel, Channels, NotificationStore } from "@canaryroll/notifier"
import { Context, Layer } from "effect"

export class NotificationChannels extends Context.Service<NotificationChannels, Channels.Channels["Service"]>()(
  "@canaryroll/app/NotificationChannels"
) {}

/** Provides the port from a runtime's `Channels` service (given as its tag, so this module does not import it). */
export const layerFrom = <I>(channels: Context.Key<I, Channels.Channels["Service"]>): Layer.Layer<NotificationChannels, never, I> =>
  Layer.effect(NotificationChannels, channels)
