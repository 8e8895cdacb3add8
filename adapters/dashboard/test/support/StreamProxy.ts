/**
 * A reverse proxy on loopback in front of the server, as a load balancer would be, whose handling
 * of the live stream (`text/event-stream` answers) the test controls:
 *
 * - `pass`: everything is forwarded as it comes (a well-configured proxy);
 * - `cut()`: every open stream is dropped, and the reconnects wait (the network is down) until
 *   `pass()` or `buffer()` lets them through; each request's `Last-Event-ID` is recorded;
 * - `buffer()`: a buffering proxy: a stream's headers and first chunk get through, the rest is
 *   held back (never delivered), so the page hears one heartbeat and then silence.
 *
 * Everything else (the pages, the API) is forwarded untouched, with the original `Host`, so the
 * server sees the proxy's origin as its public URL (`CANARYROLL_PUBLIC_URL`).
 */
import * as http from "node:http"
import type { AddressInfo } from "node:net"

export type StreamMode = "pass" | "cut" | "buffer"

export interface StreamProxy {
  readonly url: string
  /** Where requests go: the server, once it is listening. */
  readonly target: (url: string) => void
  readonly pass: () => void
  readonly cut: () => void
  readonly buffer: () => void
  /** The `Last-Event-ID` of each stream request that reached the server, in order (undefined: none). */
  readonly streamRequests: () => ReadonlyArray<string | undefined>
  readonly close: () => Promise<void>
}

const isStream = (request: http.IncomingMessage) => /\/events\/stream(\?|$)/.test(request.url ?? "")

export const start = async (): Promise<StreamProxy> => {
  let target: URL | undefined
  let mode: StreamMode = "pass"
  const open = new Set<http.ServerResponse>()
  const waiting: Array<() => void> = []
  const lastEventIds: Array<string | undefined> = []

  const forward = (request: http.IncomingMessage, response: http.ServerResponse) => {
    const stream = isStream(request)
    if (stream) lastEventIds.push(request.headers["last-event-id"] as string | undefined)
    const upstream = http.request(
      { host: target!.hostname, port: target!.port, method: request.method, path: request.url, headers: request.headers },
      (answer) => {
        response.writeHead(answer.statusCode ?? 502, answer.headers)
        const eventStream = stream && (answer.headers["content-type"] ?? "").startsWith("text/event-stream")
        if (!eventStream) {
          answer.pipe(response)
          return
        }
        open.add(response)
        const buffering = mode === "buffer"
        let chunks = 0
        answer.on("data", (chunk: Buffer) => {
          chunks += 1
          if (!buffering || chunks === 1) response.write(chunk)
        })
        answer.on("end", () => response.end())
        response.on("close", () => {
          open.delete(response)
          answer.destroy()
        })
      }
    )
    upstream.on("error", () => response.destroy())
    request.pipe(upstream)
  }

  const server = http.createServer((request, response) => {
    if (isStream(request) && mode === "cut") waiting.push(() => forward(request, response))
    else forward(request, response)
  })
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  const { port } = server.address() as AddressInfo
  const release = (next: StreamMode) => {
    mode = next
    for (const go of waiting.splice(0)) go()
  }
  return {
    url: `http://127.0.0.1:${port}`,
    target: (url) => {
      target = new URL(url)
    },
    pass: () => release("pass"),
    buffer: () => release("buffer"),
    cut: () => {
      mode = "cut"
      for (const response of open) response.destroy()
    },
    streamRequests: () => [...lastEventIds],
    close: () => {
      for (const response of open) response.destroy()
      server.closeAllConnections()
      return new Promise((resolve) => server.close(() => resolve()))
    }
  }
}
