/**
 * A webhook receiver on loopback for tests: a real HTTP server that records every request and
 * answers as the test scripts it (a status with headers and a body, or no answer at all). Tests
 * wait for requests with `next`, never by sleeping.
 */
import { Effect, Queue } from "effect"
import * as http from "node:http"
import type { AddressInfo } from "node:net"

export interface Received {
  readonly method: string
  readonly path: string
  readonly headers: http.IncomingHttpHeaders
  readonly body: string
}

/** An answer; `hang`: accept the request and never answer (a dead endpoint). */
export type Reply = { readonly status: number; readonly headers?: Record<string, string>; readonly body?: string } | "hang"

export interface Receiver {
  /** `http://127.0.0.1:{port}` */
  readonly origin: string
  readonly received: ReadonlyArray<Received>
  /** The next request not yet taken, waiting for it if need be. */
  readonly next: Effect.Effect<Received>
}

/** Starts a receiver for the scope; `reply` is asked for each request, with its index from 0. */
export const make = (reply: (request: Received, index: number) => Reply = () => ({ status: 200, body: "ok" })) =>
  Effect.gen(function*() {
    const queue = yield* Queue.unbounded<Received>()
    const received: Array<Received> = []
    const hanging = new Set<http.ServerResponse>()
    const server = yield* Effect.acquireRelease(
      Effect.callback<http.Server>((resume) => {
        const server = http.createServer((request, response) => {
          const chunks: Array<Buffer> = []
          request.on("data", (chunk: Buffer) => chunks.push(chunk))
          request.on("end", () => {
            const entry: Received = {
              method: request.method ?? "",
              path: request.url ?? "",
              headers: request.headers,
              body: Buffer.concat(chunks).toString("utf8")
            }
            const answer = reply(entry, received.length)
            received.push(entry)
            Queue.offerUnsafe(queue, entry)
            if (answer === "hang") {
              hanging.add(response)
              return
            }
            response.writeHead(answer.status, { "content-type": "text/plain", ...answer.headers })
            response.end(answer.body ?? "")
          })
        })
        server.listen(0, "127.0.0.1", () => resume(Effect.succeed(server)))
      }),
      (server) =>
        Effect.callback<void>((resume) => {
          for (const response of hanging) response.destroy()
          server.closeAllConnections()
          server.close(() => resume(Effect.void))
        })
    )
    const { port } = server.address() as AddressInfo
    return { origin: `http://127.0.0.1:${port}`, received, next: Queue.take(queue) } satisfies Receiver as Receiver
  })
