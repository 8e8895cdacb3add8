/**
 * A server-sent-events reader over `fetch`, as a browser's `EventSource` reads a stream: each
 * message's `id`, `event` (`message` when absent) and `data`, in order. `lastEventId` is what an
 * `EventSource` would send on a reconnect (the last `id` seen). Not Effect's client: the tests see
 * exactly the bytes a browser would get.
 */

export interface Message {
  /** The message's own `id` line, if it had one. */
  readonly id: string | undefined
  readonly event: string
  readonly data: string
}

export interface EventStream {
  readonly status: number
  readonly contentType: string
  readonly headers: Headers
  /** The JSON error body, when the stream did not open. */
  readonly error: any
  /** Every message so far, in order. */
  readonly messages: ReadonlyArray<Message>
  /** The last `id` received: what `Last-Event-ID` carries on a reconnect. */
  readonly lastEventId: () => string | undefined
  /** The first message after the `from`-th (0: any) that satisfies `accept`; fails after `timeoutMs`. */
  readonly next: (accept: (message: Message) => boolean, options?: { readonly from?: number; readonly timeoutMs?: number }) => Promise<Message>
  /** Cuts the connection, as a network failure would. */
  readonly close: () => void
  /** Settles when the response ends: `complete` when the server ended it, `cut` when it broke or was closed. */
  readonly ended: Promise<"complete" | "cut">
}

const parse = (block: string): Message | undefined => {
  let id: string | undefined
  let event = "message"
  const data: Array<string> = []
  for (const line of block.split("\n")) {
    if (line === "" || line.startsWith(":")) continue
    const colon = line.indexOf(":")
    const field = colon === -1 ? line : line.slice(0, colon)
    const value = colon === -1 ? "" : line.slice(colon + 1).replace(/^ /, "")
    if (field === "id") id = value
    else if (field === "event") event = value
    else if (field === "data") data.push(value)
  }
  return data.length === 0 ? undefined : { id, event, data: data.join("\n") }
}

export const open = async (url: string, headers: Record<string, string> = {}): Promise<EventStream> => {
  const controller = new AbortController()
  const response = await fetch(url, { headers: { accept: "text/event-stream", ...headers }, signal: controller.signal })
  const contentType = response.headers.get("content-type") ?? ""
  const messages: Array<Message> = []
  let lastEventId: string | undefined
  let waiters: Array<() => void> = []
  const wake = () => {
    const woken = waiters
    waiters = []
    for (const waiter of woken) waiter()
  }
  let error: any = undefined
  let markEnded: (how: "complete" | "cut") => void = () => {}
  const ended = new Promise<"complete" | "cut">((resolve) => (markEnded = resolve))
  if (!contentType.startsWith("text/event-stream")) {
    markEnded("complete")
    const text = await response.text()
    try {
      error = JSON.parse(text)
    } catch {
      error = text
    }
  } else {
    void (async () => {
      const decoder = new TextDecoder()
      let buffer = ""
      try {
        for await (const chunk of response.body! as AsyncIterable<Uint8Array>) {
          buffer += decoder.decode(chunk, { stream: true }).replace(/\r\n?/g, "\n")
          let end: number
          while ((end = buffer.indexOf("\n\n")) !== -1) {
            const message = parse(buffer.slice(0, end))
            buffer = buffer.slice(end + 2)
            if (message === undefined) continue
            if (message.id !== undefined) lastEventId = message.id
            messages.push(message)
          }
          wake()
        }
        markEnded("complete")
      } catch {
        // Closed by the test, or the connection broken.
        markEnded("cut")
      }
      wake()
    })()
  }
  const next: EventStream["next"] = (accept, options = {}) =>
    new Promise<Message>((resolve, reject) => {
      const deadline = setTimeout(
        () => reject(new Error(`no matching message within ${options.timeoutMs ?? 20_000} ms; got ${JSON.stringify(messages)}`)),
        options.timeoutMs ?? 20_000
      )
      const look = () => {
        const found = messages.slice(options.from ?? 0).find(accept)
        if (found !== undefined) {
          clearTimeout(deadline)
          resolve(found)
        } else waiters.push(look)
      }
      look()
    })
  return {
    status: response.status,
    contentType,
    headers: response.headers,
    error,
    messages,
    lastEventId: () => lastEventId,
    next,
    close: () => controller.abort(),
    ended
  }
}

/** The release events among the messages (not heartbeats), their data parsed. */
export const releaseEvents = (messages: ReadonlyArray<Message>): Array<any> =>
  messages.filter((message) => message.event === "message").map((message) => JSON.parse(message.data))
