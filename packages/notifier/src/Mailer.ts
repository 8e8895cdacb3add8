/**
 * Mailer port: sends one email through a channel's SMTP server, and says whether a failure is
 * worth retrying. `layerSmtp` is nodemailer: one connection per message (a channel sends a few
 * messages a day, and a pooled connection to a server that changed its mind is a worse problem
 * than a handshake), closed when the send ends or is interrupted, with every nodemailer timeout
 * set to the attempt's.
 *
 * It connects to the address it is given (`Server.address`: the one the sender resolved and
 * checked, see `PublicAddress`), never resolving the host itself, and keeps the host name for TLS
 * (SNI and the certificate check).
 *
 * Retrying follows SMTP's reply classes: a 4xx reply is temporary, a 5xx reply permanent (an
 * unknown recipient, a refused login, a rejected message), and a failure without a reply
 * (connection refused, TLS, a timeout) temporary.
 *
 * @since 0.1.0
 */
import { Context, Effect, Layer, Redacted, Schema } from "effect"
import { isIP } from "node:net"
import * as nodemailer from "nodemailer"
import type * as ChannelKind from "./ChannelKind.ts"
import * as PublicAddress from "./PublicAddress.ts"

export interface Email {
  readonly from: string
  readonly to: ReadonlyArray<string>
  readonly subject: string
  readonly text: string
  readonly html: string
  readonly headers?: { readonly [name: string]: string } | undefined
}

export interface Server {
  readonly settings: ChannelKind.MailServer
  readonly password: Redacted.Redacted<string> | null
  /** The IP address to connect to: `settings.host` as resolved and checked by the sender. */
  readonly address: string
}

export class MailFailed extends Schema.TaggedError<MailFailed>()("MailFailed", {
  message: Schema.String,
  /** The SMTP reply code, when the server replied. */
  responseCode: Schema.NullOr(Schema.Int),
  retryable: Schema.Boolean
}) {}

export class Mailer extends Context.Service<Mailer, {
  /** Sends `email`; resolves with the server's reply code to the message (250 usually). */
  readonly send: (
    server: Server,
    email: Email,
    options: { readonly timeoutMs: number }
  ) => Effect.Effect<{ readonly responseCode: number | null }, MailFailed>
}>()("@canaryroll/notifier/Mailer") {}

const replyCode = (response: unknown): number | null => {
  const match = typeof response === "string" ? /^(\d{3})/.exec(response) : null
  return match === null ? null : Number(match[1])
}

/** SMTP's reply classes decide; no reply at all is a transport failure, worth retrying. */
export const classify = (cause: unknown): MailFailed => {
  const error = cause as { readonly message?: unknown; readonly responseCode?: unknown; readonly code?: unknown }
  const responseCode = typeof error?.responseCode === "number" ? error.responseCode : null
  const message = [typeof error?.code === "string" ? error.code : undefined, typeof error?.message === "string" ? error.message : String(cause)]
    .filter((part) => part !== undefined)
    .join(": ")
  return new MailFailed({ message, responseCode, retryable: responseCode === null || (responseCode >= 400 && responseCode < 500) })
}

export const makeSmtp: Mailer["Service"] = Mailer.of({
  send: (server, email, { timeoutMs }) =>
    Effect.acquireUseRelease(
      Effect.sync(() => {
        // The certificate is checked against the name people gave, not the address connected to.
        const host = PublicAddress.canonicalHost(server.settings.host) ?? server.settings.host
        const servername = isIP(host) === 0 ? host : undefined
        return nodemailer.createTransport({
          host: server.address,
          ...(servername === undefined ? {} : { servername, tls: { servername } }),
          port: server.settings.port,
          secure: server.settings.security === "tls",
          requireTLS: server.settings.security === "starttls",
          ignoreTLS: server.settings.security === "none",
          ...(server.settings.username === null
            ? {}
            : { auth: { user: server.settings.username, pass: server.password === null ? "" : Redacted.value(server.password) } }),
          connectionTimeout: timeoutMs,
          greetingTimeout: timeoutMs,
          socketTimeout: timeoutMs
        })
      }),
      (transport) =>
        Effect.tryPromise({
          try: () =>
            transport.sendMail({
              from: email.from,
              to: [...email.to],
              subject: email.subject,
              text: email.text,
              html: email.html,
              ...(email.headers === undefined ? {} : { headers: { ...email.headers } })
            }),
          catch: classify
        }).pipe(Effect.map((info) => ({ responseCode: replyCode(info.response) }))),
      (transport) => Effect.sync(() => transport.close())
    )
})

export const layerSmtp: Layer.Layer<Mailer> = Layer.succeed(Mailer, makeSmtp)
