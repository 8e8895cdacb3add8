/**
 * Releases in words: status names, percentages, durations. Shared by the overview and the
 * release page, so both say the same thing.
 */
import type { Status } from "@canaryroll/api/Schemas"

export const statusNames: Record<Status, string> = {
  pending: "pending",
  in_progress: "in progress",
  paused: "paused",
  completed: "completed",
  rolled_back: "rolled back",
  failed: "failed",
  cancelled: "cancelled"
}

export const isOver = (status: Status) => status === "completed" || status === "rolled_back" || status === "failed" || status === "cancelled"

export const percent = (value: number) => `${Number.isInteger(value) ? value : value.toFixed(2)}%`

export const shortId = (id: string) => id.length > 12 ? `${id.slice(0, 8)}…` : id

export const durationText = (seconds: number) => {
  const s = Math.max(0, Math.round(seconds))
  if (s < 60) return `${s} s`
  const m = Math.floor(s / 60)
  if (m < 60) return s % 60 === 0 ? `${m} min` : `${m} min ${s % 60} s`
  const h = Math.floor(m / 60)
  return m % 60 === 0 ? `${h} h` : `${h} h ${m % 60} min`
}

export const timeText = (iso: string | null) => iso === null ? "—" : new Date(iso).toLocaleString()
