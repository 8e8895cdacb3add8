/**
 * The server's own outgoing mail (invitations), as opposed to a team's email notification
 * channels: one SMTP server the operator sets (`CANARYROLL_SMTP_URL`, `CANARYROLL_MAIL_FROM`, see
 * docs/operations.md), sent through the notifier's `Mailer` (nodemailer, one connection per
 * message, every timeout set), behind the application's `InvitationMail` port.
 *
 * The URL's password is a secret: it is held `Redacted` from the environment on, never in a
 * message (a URL that does not parse is named by its variable, not repeated), and a failure's
 * reason goes through the notifier's `Redaction` with the password and user name scrubbed, so a
 * mail server that repeats the credentials it refused repeats them to no one.
 *
 * Unlike a channel's SMTP host (typed in by team admins, so held to public addresses), this one
 * is the operator's: a relay on localhost or the private network is the usual setup, so it is
 * not checked, only resolved once per message and connected to as resolved.
 *
 * @since 0.2.0
 */
import { InvitationMail } from "@canaryroll/app"
import { Mailer, Redaction } from "@canaryroll/notifier"
import { Effect, Layer, Redacted, Result } from "effect"
import { Base64 } from "effect/encoding"
import { lookup } from "node:dns/promises"
import { isIP } from "node:net"

export interface Settings {
  readonly host: string
  readonly port: number
  /** `tls`: TLS from the first byte (`smtps://`); `starttls`: upgrade required; `none`: plain (a local relay). */
  readonly security: "tls" | "starttls" | "none"
  readonly username: string | null
  readonly password: Redacted.Redacted<string> | null
  /** The `From` of every message: `CanaryRoll <canaryroll@example.com>`. */
  readonly from: string
}

/** How long each phase of a send (connect, greeting, each reply) may take before the send fails. */
export const timeoutMs = 10_000

/**
 * How long a whole send may take: a server that answers each phase just in time must not hold the
 * admin's request (and a connection) for minutes.
 */
export const sendTimeout = "30 seconds"

const securities = ["tls", "starttls", "none"] as const

/**
 * `CANARYROLL_SMTP_URL` and `CANARYROLL_MAIL_FROM` as settings, or what is wrong with them (never
 * repeating the URL, which holds the password). `smtps://user:pass@host:465` is TLS from the
 * first byte; `smtp://user:pass@host:587` requires STARTTLS; `?security=none` on `smtp://`
 * sends in clear (a relay on the same machine or network only).
 */
export const parse = (url: Redacted.Redacted<string>, from: string | undefined): Result.Result<Settings, string> => {
  let parsed: URL
  try {
    parsed = new URL(Redacted.value(url).trim())
  } catch {
    return Result.fail("CANARYROLL_SMTP_URL: not a URL; expected smtp://user:password@host:587 or smtps://user:password@host:465")
  }
  if (parsed.protocol !== "smtp:" && parsed.protocol !== "smtps:") {
    return Result.fail(`CANARYROLL_SMTP_URL: the scheme must be smtp: or smtps:, not ${JSON.stringify(parsed.protocol.slice(0, 12))}`)
  }
  if (parsed.hostname === "") return Result.fail("CANARYROLL_SMTP_URL: no host")
  const asked = parsed.searchParams.get("security")
  if (asked !== null && !(securities as ReadonlyArray<string>).includes(asked)) {
    return Result.fail(`CANARYROLL_SMTP_URL: security must be one of ${securities.join(", ")}, not ${JSON.stringify(asked.slice(0, 20))}`)
  }
  const security = parsed.protocol === "smtps:" ? "tls" : (asked as Settings["security"] | null) ?? "starttls"
  if (parsed.protocol === "smtps:" && asked !== null && asked !== "tls") {
    return Result.fail("CANARYROLL_SMTP_URL: smtps: is TLS from the first byte; use smtp: for starttls or none")
  }
  const port = parsed.port === "" ? (security === "tls" ? 465 : 587) : Number(parsed.port)
  const sender = (from ?? "").trim()
  if (sender === "") return Result.fail("CANARYROLL_MAIL_FROM: required with CANARYROLL_SMTP_URL, e.g. CanaryRoll <canaryroll@example.com>")
  if (/[\u0000-\u001f\u007f]/.test(sender) || !/^[^@\s<>]+@[^@\s<>]+$|<[^@\s<>]+@[^@\s<>]+>$/.test(sender)) {
    return Result.fail(`CANARYROLL_MAIL_FROM: expected an address or Name <address> on one line, got ${JSON.stringify(sender.slice(0, 80))}`)
  }
  let username: string | null
  let password: string | null
  try {
    username = parsed.username === "" ? null : decodeURIComponent(parsed.username)
    password = parsed.password === "" ? null : decodeURIComponent(parsed.password)
  } catch {
    return Result.fail("CANARYROLL_SMTP_URL: the user name or password is not valid percent-encoding")
  }
  return Result.succeed({
    host: parsed.hostname.replace(/^\[(.*)\]$/, "$1"),
    port,
    security,
    username,
    password: password === null ? null : Redacted.make(password),
    from: sender
  })
}

/** The address to connect to: the host itself when it is one, else its first address as resolved now. */
const resolve = (host: string) =>
  isIP(host) !== 0
    ? Effect.succeed(host)
    : Effect.tryPromise({ try: () => lookup(host), catch: (cause) => cause }).pipe(Effect.map(({ address }) => address))

/**
 * What a failure's reason may say: nothing of the password, whatever the server repeated, as typed
 * or as SMTP sent it (AUTH LOGIN the password alone, AUTH PLAIN with the user name, in base64).
 */
const scrub = (settings: Settings, text: string) => {
  if (settings.password === null) return Redaction.text(text)
  const plain = Redacted.value(settings.password)
  return Redaction.text(text, [plain, Base64.encode(plain), Base64.encode(`\u0000${settings.username ?? ""}\u0000${plain}`)])
}

/** `InvitationMail` over `Mailer` with `settings`. */
export const make = (settings: Settings) =>
  Effect.gen(function*() {
    const mailer = yield* Mailer.Mailer
    const where = `${settings.host}:${settings.port}`
    const notSent = (reason: string) =>
      Effect.gen(function*() {
        const said = scrub(settings, reason)
        yield* Effect.logWarning(`invitation email not sent: ${said}`)
        return yield* new InvitationMail.NotSent({ reason: `${said}; the invitation is saved: pass the link on yourself, or send it again later` })
      })
    return InvitationMail.InvitationMail.of({
      send: (message) =>
        Effect.gen(function*() {
          const address = yield* resolve(settings.host).pipe(
            Effect.catch((cause) => notSent(`the mail server's name ${settings.host} could not be resolved (${codeOf(cause)})`))
          )
          yield* mailer.send(
            {
              settings: { host: settings.host, port: settings.port, security: settings.security, username: settings.username },
              password: settings.password,
              address
            },
            { from: settings.from, to: [message.to], subject: message.subject, text: message.text, html: message.html },
            { timeoutMs }
          ).pipe(
            Effect.catchTag("MailFailed", (failed) =>
              notSent(
                failed.responseCode === null
                  ? `the mail server at ${where} could not be reached (${failed.message})`
                  : `the mail server at ${where} refused the message (${failed.message})`
              ))
          )
        }).pipe(
          Effect.timeoutOrElse({
            duration: sendTimeout,
            orElse: () => notSent(`the mail server at ${where} did not finish taking the message within ${sendTimeout}`)
          })
        )
    })
  })

const codeOf = (cause: unknown): string => {
  const code = (cause as { readonly code?: unknown } | null)?.code
  return typeof code === "string" ? code : String(cause)
}

/** `InvitationMail` through the notifier's SMTP `Mailer`, with the server's settings. */
export const layer = (settings: Settings): Layer.Layer<InvitationMail.InvitationMail> =>
  Layer.effect(InvitationMail.InvitationMail, make(settings)).pipe(Layer.provide(Mailer.layerSmtp))
