/** What every screen shows while loading, on failure and when there is nothing yet. */
import type { ReactNode } from "react"
import { messageOf } from "../api/Client.ts"

export const Loading = ({ what }: { readonly what: string }) => (
  <p className="muted" role="status" aria-live="polite">Loading {what}…</p>
)

export const Failed = ({ error, retry }: { readonly error: unknown; readonly retry?: () => void }) => (
  <div className="problem" role="alert">
    <p>{messageOf(error)}</p>
    {retry === undefined ? null : <button type="button" onClick={retry}>Try again</button>}
  </div>
)

/** `level` 1 when the empty state is the whole page (it then holds the page's heading). */
export const Empty = ({ title, children, level = 2 }: { readonly title: string; readonly children: ReactNode; readonly level?: 1 | 2 }) => (
  <section className="empty" aria-label={title}>
    {level === 1 ? <h1>{title}</h1> : <h2>{title}</h2>}
    {children}
  </section>
)
