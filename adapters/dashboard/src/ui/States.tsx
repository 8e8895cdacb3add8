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

export const Empty = ({ title, children }: { readonly title: string; readonly children: ReactNode }) => (
  <section className="empty" aria-label={title}>
    <h2>{title}</h2>
    {children}
  </section>
)
