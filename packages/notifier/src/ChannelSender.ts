/**
 * ChannelSender: one attempt at telling one channel one notification. It opens the channel's
 * secrets, renders the notification for the channel's kind, sends it (an HTTP POST, or an email)
 * under a timeout, and reports how it went as a `RetryPolicy.AttemptResult`; it never fails,
 * because every failure is a fact the delivery records.
 *
 * A webhook attempt is signed with the time it is sent (`X-CanaryRoll-Timestamp`), so a retry an
 * hour later is still within a receiver's tolerance. The response body is read only for the
 * error message, and only its start.
 *
 * @since 0.1.0
 */
import { Clock, Context, Duration, Effect, Layer, Option, Redacted } from "effect"
import { FetchHttpClient, Headers, HttpClient, HttpClientRequest } from "effect/http"
import * as Channel from "./Channel.ts"
import * as DiscordMessage from "./DiscordMessage.ts"
import * as EmailMessage from "./EmailMessage.ts"
import * as GoogleChatMessage from "./GoogleChatMessage.ts"
import * as Mailer from "./Mailer.ts"
import type * as Notification from "./Notification.ts"
import type * as NotificationStore from "./NotificationStore.ts"
import * as PublicAddress from "./PublicAddress.ts"
import * as RetryPolicy from "./RetryPolicy.ts"
import type * as SecretSealer from "./SecretSealer.ts"
import * as SlackMessage from "./SlackMessage.ts"
import * as WebhookMessage from "./WebhookMessage.ts"
import * as WebhookSignature from "./WebhookSignature.ts"

export interface Options {
  /** How long one attempt may take, connection to answer. Default 10 seconds. */
  readonly timeout?: Duration.Input | undefined
  /** Sent as `User-Agent`. */
  readonly userAgent?: string | undefined
  /**
   * Send to URLs whose host is private (loopback, the local network, cloud metadata). Off by
   * default (see `PublicAddress`); tests and a local sandbox turn it on.
   */
  readonly allowPrivateAddresses?: boolean | undefined
  /** How hosts are resolved for that check. Default: the system resolver (`dns.lookup`); tests give another. */
  readonly lookup?: PublicAddress.Lookup | undefined
}

export const defaultTimeout: Duration.Input = "10 seconds"

export class ChannelSender extends Context.Service<ChannelSender, {
  /** How long one attempt may take at most: a claim on a delivery being sent must outlast it. */
  readonly timeout: Duration.Duration
  readonly send: (
    channel: NotificationStore.ChannelRecord,
    notification: Notification.Notification,
    deliveryId: string
  ) => Effect.Effect<RetryPolicy.AttemptResult>
}>()("@canaryroll/notifier/ChannelSender") {}

/** The body of an HTTP kind, as sent. */
export const httpBody = (kind: "slack" | "discord" | "google_chat" | "webhook", notification: Notification.Notification): string => {
  switch (kind) {
    case "slack":
      return JSON.stringify(SlackMessage.render(notification))
    case "discord":
      return JSON.stringify(DiscordMessage.render(notification))
    case "google_chat":
      return JSON.stringify(GoogleChatMessage.render(notification))
    case "webhook":
      return WebhookMessage.render(notification)
  }
}

const describe = (error: unknown): string => {
  if (typeof error === "object" && error !== null && "message" in error && typeof error.message === "string") {
    const cause = "cause" in error && error.cause instanceof Error ? `: ${error.cause.message}` : ""
    return `${error.message}${cause}`
  }
  return String(error)
}

export const make = (options: Options = {}): Effect.Effect<
  ChannelSender["Service"],
  never,
  HttpClient.HttpClient | Mailer.Mailer | SecretSealer.SecretSealer
> =>
  Effect.gen(function*() {
    const http = yield* HttpClient.HttpClient
    const mailer = yield* Mailer.Mailer
    const context = yield* Effect.context<SecretSealer.SecretSealer>()
    const timeout = Duration.fromInputUnsafe(options.timeout ?? defaultTimeout)
    const userAgent = options.userAgent ?? "CanaryRoll-Notifier/0.1"
    const timedOut = (): RetryPolicy.AttemptResult => ({
      _tag: "Temporary",
      error: `no answer within ${Duration.format(timeout)}`,
      statusCode: null,
      retryAfterMs: null
    })

    const post = (url: Redacted.Redacted<string>, body: string, headers: Record<string, string>) =>
      Effect.gen(function*() {
        if (options.allowPrivateAddresses !== true) {
          const verdict = yield* PublicAddress.check(Redacted.value(url), { lookup: options.lookup })
          switch (verdict._tag) {
            case "Private":
              return { _tag: "Permanent", error: verdict.reason, statusCode: null } satisfies RetryPolicy.AttemptResult as RetryPolicy.AttemptResult
            case "Unresolved":
              return {
                _tag: "Temporary",
                error: verdict.reason,
                statusCode: null,
                retryAfterMs: null
              } satisfies RetryPolicy.AttemptResult as RetryPolicy.AttemptResult
            case "Public":
              break
          }
        }
        const request = HttpClientRequest.post(Redacted.value(url)).pipe(
          HttpClientRequest.setHeaders({ "User-Agent": userAgent, ...headers }),
          HttpClientRequest.bodyText(body, "application/json")
        )
        // Never followed: a public URL answering with a redirect to an internal one would get round the check.
        const response = yield* http.execute(request).pipe(
          Effect.provideService(FetchHttpClient.RequestInit, { redirect: "manual" })
        )
        const excerpt = response.status >= 200 && response.status < 300
          ? ""
          : yield* response.text.pipe(Effect.orElseSucceed(() => ""))
        const now = yield* Clock.currentTimeMillis
        return RetryPolicy.fromHttpStatus(response.status, {
          retryAfter: Option.getOrNull(Headers.get(response.headers, "retry-after")),
          body: excerpt.slice(0, 1000),
          now
        })
      }).pipe(
        Effect.scoped,
        Effect.timeoutOrElse({ duration: timeout, orElse: () => Effect.succeed(timedOut()) }),
        // The URL is a credential: a transport error's message may repeat it, so only its kind is kept.
        Effect.catch((error) =>
          Effect.succeed<RetryPolicy.AttemptResult>({
            _tag: "Temporary",
            error: `request failed: ${describe(error).replaceAll(Redacted.value(url), Channel.redactUrl(Redacted.value(url)))}`,
            statusCode: null,
            retryAfterMs: null
          })
        )
      )

    const email = (target: Extract<Channel.Target, { kind: "email" }>, notification: Notification.Notification, deliveryId: string) => {
      const message = EmailMessage.render(notification)
      return mailer.send(
        { settings: target.settings, password: target.password },
        {
          from: target.settings.from,
          to: target.settings.to,
          subject: message.subject,
          text: message.text,
          html: message.html,
          headers: { [WebhookSignature.deliveryHeader]: deliveryId }
        },
        { timeoutMs: Duration.toMillis(timeout) }
      ).pipe(
        Effect.map((sent): RetryPolicy.AttemptResult => ({ _tag: "Sent", statusCode: sent.responseCode })),
        Effect.timeoutOrElse({ duration: timeout, orElse: () => Effect.succeed(timedOut()) }),
        Effect.catch((failure) =>
          Effect.succeed<RetryPolicy.AttemptResult>(
            failure.retryable
              ? { _tag: "Temporary", error: failure.message, statusCode: failure.responseCode, retryAfterMs: null }
              : { _tag: "Permanent", error: failure.message, statusCode: failure.responseCode }
          )
        )
      )
    }

    const send = (channel: NotificationStore.ChannelRecord, notification: Notification.Notification, deliveryId: string) =>
      Effect.gen(function*() {
        const target = yield* Channel.open(channel)
        switch (target.kind) {
          case "email":
            return yield* email(target, notification, deliveryId)
          case "webhook": {
            const body = httpBody("webhook", notification)
            const timestamp = Math.floor((yield* Clock.currentTimeMillis) / 1000)
            return yield* post(
              target.url,
              body,
              WebhookSignature.headers({ secret: target.secrets.map(Redacted.value), timestamp, body, deliveryId })
            )
          }
          default:
            return yield* post(target.url, httpBody(target.kind, notification), {
              [WebhookSignature.deliveryHeader]: deliveryId
            })
        }
      }).pipe(
        // Secrets that no longer open will not open on a retry either.
        Effect.catch((unsealable) =>
          Effect.succeed<RetryPolicy.AttemptResult>({
            _tag: "Permanent",
            error: `cannot open the channel's secrets: ${unsealable.message}`,
            statusCode: null
          })
        ),
        Effect.provide(context)
      )

    return ChannelSender.of({ timeout, send })
  })

/** Needs an `HttpClient` (e.g. `FetchHttpClient.layer`), a `Mailer` and a `SecretSealer`. */
export const layer = (
  options: Options = {}
): Layer.Layer<ChannelSender, never, HttpClient.HttpClient | Mailer.Mailer | SecretSealer.SecretSealer> =>
  Layer.effect(ChannelSender, make(options))
