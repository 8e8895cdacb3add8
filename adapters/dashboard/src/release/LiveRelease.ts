/**
 * A release's page stays current by itself. First choice: the live stream
 * (`GET …/deployments/{id}/events/stream`, server-sent events, see `@canaryroll/api/Live`): every
 * event arrives as it is committed, the release is re-read when one does, and the browser's
 * `EventSource` reconnects with `Last-Event-ID`, so nothing is missed or doubled. Fallback:
 * polling the release and its events every `pollMs`, when the stream cannot open (an older
 * server, a proxy refusing it) or stays silent past two heartbeats (a buffering proxy holds the
 * messages back): the page says which mode it is in, and tries the stream again later.
 */
import type { LiveDeploymentEvent } from "@canaryroll/api/Live"
import type { DeploymentEvent } from "@canaryroll/api/Schemas"
import { useQueryClient } from "@tanstack/react-query"
import { useEffect, useState } from "react"

/**
 * The server's heartbeat interval until its first heartbeat says what it is (`intervalMs`, from
 * `CANARYROLL_LIVE_HEARTBEAT_MS`): 15 s, the server's default.
 */
export const defaultHeartbeatMs = 15_000
/** Silent for two heartbeats (and a margin for a slow network): the stream is not getting through. */
export const silenceMs = (heartbeatMs: number) => 2 * heartbeatMs + 5_000

/** The interval a heartbeat's data names, when it names a sensible one. */
export const heartbeatInterval = (data: string): number | undefined => {
  try {
    const intervalMs = (JSON.parse(data) as { intervalMs?: unknown }).intervalMs
    return typeof intervalMs === "number" && Number.isInteger(intervalMs) && intervalMs > 0 ? intervalMs : undefined
  } catch {
    return undefined
  }
}
/** How often the page polls when it cannot stream. */
export const pollMs = 3_000
/** How long the page polls before it tries the stream again. */
export const retryStreamMs = 60_000

export type LiveMode =
  | { readonly _tag: "Connecting" }
  | { readonly _tag: "Live" }
  | { readonly _tag: "Polling"; readonly why: string }

export const streamUrl = (team: string, id: string) =>
  `/api/teams/${encodeURIComponent(team)}/deployments/${encodeURIComponent(id)}/events/stream`

export const releaseKey = (team: string, id: string) => ["release", team, id] as const
export const eventsKey = (team: string, id: string) => ["release-events", team, id] as const

/**
 * Follows the release while `enabled`: returns the mode and the events the stream delivered (in
 * version order; empty until the stream opens, when the page shows the listed events).
 */
export const useLiveRelease = (team: string, id: string, enabled: boolean) => {
  const queryClient = useQueryClient()
  const [mode, setMode] = useState<LiveMode>({ _tag: "Connecting" })
  const [streamed, setStreamed] = useState<ReadonlyArray<DeploymentEvent>>([])
  useEffect(() => {
    if (!enabled) return
    let source: EventSource | undefined
    let silence: ReturnType<typeof setTimeout> | undefined
    let retry: ReturnType<typeof setTimeout> | undefined
    let opened = false
    // Learnt from the first heartbeat that gets through; kept across reconnects.
    let heartbeatMs = defaultHeartbeatMs
    const byVersion = new Map<number, DeploymentEvent>()
    const refresh = () => queryClient.invalidateQueries({ queryKey: releaseKey(team, id) })
    const fallBack = (why: string) => {
      source?.close()
      source = undefined
      clearTimeout(silence)
      setMode({ _tag: "Polling", why })
      retry = setTimeout(open, retryStreamMs)
    }
    const heard = () => {
      clearTimeout(silence)
      silence = setTimeout(
        () => fallBack("the live stream has been silent for two heartbeats (a proxy may be holding it back)"),
        silenceMs(heartbeatMs)
      )
    }
    function open() {
      opened = false
      source = new EventSource(streamUrl(team, id))
      heard()
      source.onopen = () => {
        opened = true
      }
      source.addEventListener("heartbeat", (message: MessageEvent<string>) => {
        heartbeatMs = heartbeatInterval(message.data) ?? heartbeatMs
        heard()
        setMode({ _tag: "Live" })
      })
      source.onmessage = (message: MessageEvent<string>) => {
        heard()
        setMode({ _tag: "Live" })
        let event: LiveDeploymentEvent
        try {
          event = JSON.parse(message.data) as LiveDeploymentEvent
        } catch {
          return
        }
        if (byVersion.has(event.version)) return
        byVersion.set(event.version, event)
        setStreamed([...byVersion.entries()].sort(([a], [b]) => a - b).map(([, value]) => value))
        void refresh()
      }
      source.onerror = () => {
        // Closed: the server refused the stream (not 200 text/event-stream). Otherwise the
        // browser reconnects by itself with Last-Event-ID; silence detection covers a reconnect that never succeeds.
        if (source?.readyState === EventSource.CLOSED) {
          fallBack(opened ? "the live stream was closed" : "the live stream could not be opened")
        }
      }
    }
    open()
    return () => {
      source?.close()
      clearTimeout(silence)
      clearTimeout(retry)
    }
  }, [team, id, enabled, queryClient])
  return { mode, streamed }
}
