/**
 * The `google_chat` channel kind: a Google Chat space's incoming webhook URL (sealed whole;
 * shown as its scheme and host), and the Google Chat message of a notification: one card
 * (`cardsV2`) with a header, the sentence, the facts as `decoratedText` widgets and a button
 * that opens the release, plus `fallbackText` for notifications that cannot show cards. Google
 * Chat refuses a message over 32,000 bytes (text and cards together), so the message is rendered
 * with every piece of text cut to a length that halves until the JSON fits. Card text is a small
 * HTML subset, so user-provided text is escaped.
 *
 * @since 0.1.0
 */
import * as ChannelKind from "../ChannelKind.ts"
import * as Notification from "../Notification.ts"
import * as TextLimit from "../TextLimit.ts"

export const limits = {
  /** The whole message, text and cards, as sent. */
  messageBytes: 32_000
} as const

export type Widget =
  | { readonly textParagraph: { readonly text: string } }
  | { readonly decoratedText: { readonly topLabel: string; readonly text: string; readonly wrapText: boolean } }
  | {
    readonly buttonList: {
      readonly buttons: ReadonlyArray<{ readonly text: string; readonly onClick: { readonly openLink: { readonly url: string } } }>
    }
  }

export interface GoogleChatMessage {
  readonly fallbackText: string
  readonly cardsV2: ReadonlyArray<{
    readonly cardId: string
    readonly card: {
      readonly header: { readonly title: string; readonly subtitle: string }
      readonly sections: ReadonlyArray<{ readonly widgets: ReadonlyArray<Widget> }>
    }
  }>
}

/** The HTML subset's control characters, shown as typed. */
export const escape = (text: string): string => text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;")

const outcomeLabel: { readonly [outcome in Notification.Outcome]: string } = {
  info: "Update",
  success: "Completed",
  warning: "Needs attention",
  danger: "Rolled back or failed"
}

const renderWithin = (notification: Notification.Notification, max: number): GoogleChatMessage => {
  const within = (raw: string) => TextLimit.truncateEscaped(raw, max, escape)
  const widgets: Array<Widget> = [
    { textParagraph: { text: within(notification.sentence) } },
    ...Notification.facts(notification).map(({ label, value }): Widget => ({
      decoratedText: { topLabel: label, text: within(value), wrapText: true }
    })),
    { buttonList: { buttons: [{ text: "Open the release", onClick: { openLink: { url: notification.releaseUrl } } }] } }
  ]
  return {
    fallbackText: TextLimit.truncate(`${notification.title}: ${notification.sentence}`, max),
    cardsV2: [{
      cardId: `canaryroll-${notification.eventId}`.slice(0, 64),
      card: {
        header: {
          title: TextLimit.truncate(notification.title, Math.min(max, 200)),
          subtitle: `${notification.test ? "Test message · " : ""}${outcomeLabel[notification.outcome]}`
        },
        sections: [{ widgets }]
      }
    }]
  }
}

/** The message as sent; its JSON is at most `limits.messageBytes` bytes. */
export const render = (notification: Notification.Notification): GoogleChatMessage => {
  let max = 8000
  let message = renderWithin(notification, max)
  while (TextLimit.byteLength(JSON.stringify(message)) > limits.messageBytes && max > 16) {
    max = Math.floor(max / 2)
    message = renderWithin(notification, max)
  }
  return message
}

/** The `google_chat` kind: the message above, POSTed as JSON to the channel's incoming webhook URL. */
export const kind = ChannelKind.incomingWebhook({ kind: "google_chat", label: "Google Chat", render })
