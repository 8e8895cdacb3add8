/**
 * ChannelSender: one attempt at telling one channel one notification. It opens the channel's
 * secrets and hands them, with the notification, to the channel's kind (`ChannelKind.send`:
 * the kind renders its message and sends it over the `Transport` given here, an HTTP POST or an
 * email) under a timeout, and reports how it went as a `RetryPolicy.AttemptResult`; it never fails,
 * because every failure is a fact the delivery records.
 *
 * Every attempt resolves its destination's host once (`PublicAddress.resolve`: private addresses
 * refused unless allowed) and connects to exactly the addresses checked: the HTTP request's own
 * lookup answers with them (the URL's host still names the `Host` header and TLS), and the SMTP
 * connection goes to the checked address with the host name kept for TLS. Nothing asks DNS a
 * second time, so a name that changes its answer in between reaches nothing it was not checked
 * for. Redirects are not followed.
 *
 * Errors are redacted before anyone sees them (`Redaction`): every URL in them reduced to its
 * scheme and host, and the channel's own secrets (its URL's path, query and user info, a signing
 * secret, an SMTP password in the forms SMTP sends it) taken out wherever a transport error or a
 * receiver's answer repeats them.
 *
 * The response body is read only for the
 * error message, and only its start. A URL with `user:pass@` is sent with those credentials as
 * HTTP Basic authentication.
 *
 * @since 0.1.0
 */
import { Clock, Context, Duration, Effect, Layer, Redacted } from "effect"
import * as http from "node:http"
import * as https from "node:https"
import { isIP, type LookupFunction } from "node:net"
import * as Channel from "./Channel.ts"
import type * as ChannelKind from "./ChannelKind.ts"
import * as ChannelKinds from "./ChannelKinds.ts"
import * as Mailer from "./Mailer.ts"
import type * as Notification from "./Notification.ts"
import type * as NotificationStore from "./NotificationStore.ts"
import * as PublicAddress from "./PublicAddress.ts"
import * as Redaction from "./Redaction.ts"
import * as RetryPolicy from "./RetryPolicy.ts"
import type * as SecretSealer from "./SecretSealer.ts"

export interface Options {
  /** How long one attempt may take, lookup to answer. Default 10 seconds. */
  readonly timeout?: Duration.Input | undefined
  /** Sent as `User-Agent`. */
  readonly userAgent?: string | undefined
  /**
   * Send to hosts that are (or resolve to) private addresses (loopback, the local network, cloud
   * metadata), by HTTP and by SMTP alike. Off by default (see `PublicAddress`); tests and a local
   * sandbox turn it on.
   */
  readonly allowPrivateAddresses?: boolean | undefined
  /**
   * How hosts resolve, once per attempt: the addresses it answers are checked and are the only
   * ones connected to. Default: the system resolver (`dns.lookup`); tests give another.
   */
  readonly lookup?: PublicAddress.Lookup | undefined
  /** The channel kinds it sends for; `ChannelKinds.standard` by default (the `Channels` service must know the same). */
  readonly registry?: Channel.Registry | undefined
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

/** An attempt's error with every URL and every one of `secrets` taken out. */
export const redact = (result: RetryPolicy.AttemptResult, secrets: ReadonlyArray<string> = []): RetryPolicy.AttemptResult =>
  result._tag === "Sent" ? result : { ...result, error: Redaction.text(result.error, secrets) }

const describe = (error: unknown): string => {
  if (typeof error === "object" && error !== null && "message" in error && typeof error.message === "string") {
    const cause = "cause" in error && error.cause instanceof Error ? `: ${error.cause.message}` : ""
    return `${error.message}${cause}`
  }
  return String(error)
}

/** How much of a failure answer's body is read, for the error message. */
const maxErrorBodyBytes = 4096

interface Answer {
  readonly status: number
  readonly retryAfter: string | null
  /** The start of the body of an answer that is not 2xx; empty otherwise. */
  readonly body: string
}

/** A lookup that answers the checked addresses, whatever the name would resolve to now. */
const pinnedLookup = (addresses: readonly [string, ...Array<string>]): LookupFunction => (_hostname, options, callback) => {
  if (options.all === true) callback(null, addresses.map((address) => ({ address, family: isIP(address) })))
  else callback(null, addresses[0], isIP(addresses[0]))
}

/**
 * POSTs `body` to `url`, connecting only to `addresses`. No connection is reused (`agent: false`)
 * and no redirect followed; interrupting it (the attempt's timeout) destroys the request.
 */
const postTo = (url: URL, addresses: readonly [string, ...Array<string>], body: string, headers: Record<string, string>) =>
  Effect.callback<Answer, Error>((resume, signal) => {
    const request = (url.protocol === "https:" ? https : http).request(url, {
      method: "POST",
      headers: { ...headers, "content-length": String(Buffer.byteLength(body)) },
      lookup: pinnedLookup(addresses),
      agent: false,
      signal
    })
    request.on("error", (error) => resume(Effect.fail(error)))
    request.on("response", (response) => {
      const status = response.statusCode ?? 0
      const header = response.headers["retry-after"]
      const retryAfter = (Array.isArray(header) ? header[0] : header) ?? null
      if (status >= 200 && status < 300) {
        response.resume()
        return resume(Effect.succeed({ status, retryAfter, body: "" }))
      }
      const chunks: Array<Buffer> = []
      let size = 0
      // A body cut short (or too long to read whole) is still an answer: its start is enough.
      const done = () => resume(Effect.succeed({ status, retryAfter, body: Buffer.concat(chunks).toString("utf8") }))
      response.on("data", (chunk: Buffer) => {
        chunks.push(chunk)
        size += chunk.length
        if (size >= maxErrorBodyBytes) {
          response.destroy()
          done()
        }
      })
      response.on("end", done)
      response.on("error", done)
    })
    request.end(body)
  })

const fromVerdict = (
  verdict: Exclude<PublicAddress.Verdict, { readonly _tag: "Allowed" }>
): RetryPolicy.AttemptResult =>
  verdict._tag === "Refused"
    ? { _tag: "Permanent", error: verdict.reason, statusCode: null }
    : { _tag: "Temporary", error: verdict.reason, statusCode: null, retryAfterMs: null }

export const make = (options: Options = {}): Effect.Effect<
  ChannelSender["Service"],
  never,
  Mailer.Mailer | SecretSealer.SecretSealer
> =>
  Effect.gen(function*() {
    const mailer = yield* Mailer.Mailer
    const context = yield* Effect.context<SecretSealer.SecretSealer>()
    const timeout = Duration.fromInputUnsafe(options.timeout ?? defaultTimeout)
    const registry = options.registry ?? ChannelKinds.standard
    const userAgent = options.userAgent ?? "CanaryRoll-Notifier/0.1"
    const resolveOptions: PublicAddress.ResolveOptions = {
      lookup: options.lookup,
      allowPrivate: options.allowPrivateAddresses === true
    }
    const timedOut = (): RetryPolicy.AttemptResult => ({
      _tag: "Temporary",
      error: `no answer within ${Duration.format(timeout)}`,
      statusCode: null,
      retryAfterMs: null
    })
    const withTimeout = (attempt: Effect.Effect<RetryPolicy.AttemptResult>) =>
      attempt.pipe(Effect.timeoutOrElse({ duration: timeout, orElse: () => Effect.succeed(timedOut()) }))

    const post = (url: Redacted.Redacted<string>, body: string, headers: { readonly [name: string]: string }) =>
      Effect.gen(function*() {
        const target = yield* Effect.try({ try: () => new URL(Redacted.value(url)), catch: () => new Error("the URL is not valid") })
        const verdict = yield* PublicAddress.check(target.href, resolveOptions)
        if (verdict._tag !== "Allowed") return fromVerdict(verdict)
        const answer = yield* postTo(target, verdict.addresses, body, {
          "user-agent": userAgent,
          "content-type": "application/json",
          ...headers
        })
        const now = yield* Clock.currentTimeMillis
        return RetryPolicy.fromHttpStatus(answer.status, { retryAfter: answer.retryAfter, body: answer.body.slice(0, 1000), now })
      }).pipe(
        Effect.catch((error) =>
          Effect.succeed<RetryPolicy.AttemptResult>({
            _tag: "Temporary",
            error: `request failed: ${describe(error)}`,
            statusCode: null,
            retryAfterMs: null
          })
        ),
        withTimeout
      )

    const mail: ChannelKind.Transport["mail"] = ({ message, password, server }) =>
      Effect.gen(function*() {
        const verdict = yield* PublicAddress.resolve(server.host, resolveOptions)
        if (verdict._tag !== "Allowed") return fromVerdict(verdict)
        return yield* mailer.send({ settings: server, password, address: verdict.addresses[0] }, message, {
          timeoutMs: Duration.toMillis(timeout)
        }).pipe(
          Effect.map((sent): RetryPolicy.AttemptResult => ({ _tag: "Sent", statusCode: sent.responseCode })),
          Effect.catch((failure) =>
            Effect.succeed<RetryPolicy.AttemptResult>(
              failure.retryable
                ? { _tag: "Temporary", error: failure.message, statusCode: failure.responseCode, retryAfterMs: null }
                : { _tag: "Permanent", error: failure.message, statusCode: failure.responseCode }
            )
          )
        )
      }).pipe(withTimeout)

    const transport: ChannelKind.Transport = { post: ({ body, headers, url }) => post(url, body, headers), mail }

    const send = (channel: NotificationStore.ChannelRecord, notification: Notification.Notification, deliveryId: string) =>
      Effect.gen(function*() {
        const { kind, opened } = yield* Channel.open(channel, registry)
        const at = yield* Clock.currentTimeMillis
        const result = yield* kind.send(opened, notification, { deliveryId, at }, transport)
        return redact(result, kind.secretsOf(opened))
      }).pipe(
        // Secrets that no longer open will not open on a retry either.
        Effect.catch((unsealable) =>
          Effect.succeed(redact({
            _tag: "Permanent",
            error: `cannot open the channel's secrets: ${unsealable.message}`,
            statusCode: null
          }))
        ),
        Effect.provide(context)
      )

    return ChannelSender.of({ timeout, send })
  })

/** Needs a `Mailer` (`Mailer.layerSmtp`) and a `SecretSealer`. */
export const layer = (
  options: Options = {}
): Layer.Layer<ChannelSender, never, Mailer.Mailer | SecretSealer.SecretSealer> => Layer.effect(ChannelSender, make(options))
