/**
 * A test client whose requests leave from a chosen loopback address (127.0.0.2, 127.0.0.3, …):
 * to the server they are different clients, as two people on two networks are. Same shape as
 * `TestServer.Client`; node:http because fetch cannot choose its source address.
 */
import { Effect } from "effect"
import * as http from "node:http"
import type * as TestServer from "./TestServer.ts"

export const client = (server: TestServer.Running, localAddress: string): TestServer.Client => ({
  request: (method, path, options = {}) =>
    Effect.promise(() =>
      new Promise<TestServer.Response>((resolve, reject) => {
        const headers: Record<string, string> = { ...options.headers }
        if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`
        if (options.cookie !== undefined) headers.cookie = options.cookie
        const body = options.raw ?? (options.body === undefined ? undefined : JSON.stringify(options.body))
        if (body !== undefined) headers["content-type"] ??= "application/json"
        const request = http.request(
          { host: "127.0.0.1", port: new URL(server.url).port, path, method, headers, localAddress },
          (response) => {
            let text = ""
            response.setEncoding("utf8")
            response.on("data", (chunk: string) => (text += chunk))
            response.on("error", reject)
            response.on("end", () => {
              const received = new Headers()
              for (const [name, value] of Object.entries(response.headers)) {
                if (value !== undefined) received.set(name, Array.isArray(value) ? value.join(", ") : value)
              }
              let parsed: unknown = text
              try {
                parsed = text === "" ? null : JSON.parse(text)
              } catch {
                // Not JSON: the test sees the text.
              }
              resolve({ status: response.statusCode ?? 0, body: parsed, headers: received })
            })
          }
        )
        request.on("error", reject)
        request.end(body)
      })
    )
})
