/**
 * An SMTP server on loopback for tests (`smtp-server`, no TLS): it accepts the user `mailer` with
 * the password `s3cret` (or the credentials given), parses each message with `mailparser`, and
 * counts connections, so a test can tell "refused before connecting" from "connected and failed".
 * `reject` answers DATA with an SMTP error instead of accepting; `echoCredentials` repeats refused
 * credentials in its reply. Tests wait with `next`.
 */
import { Effect, Queue } from "effect"
import { type ParsedMail, simpleParser } from "mailparser"
import type { AddressInfo } from "node:net"
import { SMTPServer } from "smtp-server"

export interface Received {
  readonly from: string
  readonly to: ReadonlyArray<string>
  readonly user: string | null
  readonly mail: ParsedMail
}

export interface Options {
  readonly reject?: { readonly code: number; readonly message: string } | undefined
  readonly credentials?: { readonly username: string; readonly password: string } | undefined
  /**
   * A careless server: a refused log-in is answered with the credentials it was given, as typed
   * and as AUTH PLAIN sends them (base64), so a test can check they are not recorded.
   */
  readonly echoCredentials?: boolean | undefined
}

export interface SmtpServer {
  readonly port: number
  /** Connections opened so far. */
  readonly connections: () => number
  /** The next message accepted, waiting for it if need be. */
  readonly next: Effect.Effect<Received>
}

/** An SMTP server for the scope. */
export const make = (options: Options = {}) =>
  Effect.gen(function*() {
    const queue = yield* Queue.unbounded<Received>()
    const credentials = options.credentials ?? { username: "mailer", password: "s3cret" }
    let connections = 0
    const server = yield* Effect.acquireRelease(
      Effect.callback<SMTPServer>((resume) => {
        const server = new SMTPServer({
          authOptional: true,
          allowInsecureAuth: true,
          disabledCommands: ["STARTTLS"],
          logger: false,
          onConnect: (_session, callback) => {
            connections++
            callback()
          },
          onAuth: (auth, _session, callback) => {
            if (auth.username === credentials.username && auth.password === credentials.password) {
              return callback(null, { user: auth.username })
            }
            const plain = Buffer.from(`\u0000${auth.username}\u0000${auth.password}`).toString("base64")
            callback(
              new Error(
                options.echoCredentials === true
                  ? `Invalid username or password: ${auth.username} / ${auth.password} (AUTH PLAIN ${plain})`
                  : "Invalid username or password"
              )
            )
          },
          onData: (stream, session, callback) => {
            simpleParser(stream).then((mail) => {
              if (options.reject !== undefined) {
                const error = new Error(options.reject.message) as Error & { responseCode: number }
                error.responseCode = options.reject.code
                return callback(error)
              }
              Queue.offerUnsafe(queue, {
                from: session.envelope.mailFrom === false ? "" : session.envelope.mailFrom.address,
                to: session.envelope.rcptTo.map((rcpt) => rcpt.address),
                user: typeof session.user === "string" ? session.user : null,
                mail
              })
              callback()
            }, callback)
          }
        })
        server.listen(0, "127.0.0.1", () => resume(Effect.succeed(server)))
      }),
      (server) => Effect.callback<void>((resume) => server.close(() => resume(Effect.void)))
    )
    const { port } = server.server.address() as AddressInfo
    return { port, connections: () => connections, next: Queue.take(queue) } satisfies SmtpServer as SmtpServer
  })
