/** The query keys of the settings screen's lists: one place, so a change refreshes what it touched. */
export const settingsKeys = {
  members: (team: string) => ["members", team] as const,
  invitations: (team: string) => ["invitations", team] as const,
  tokens: (team: string) => ["team-tokens", team] as const,
  // The same key the overview's "Add a Worker" reads, so connecting an account shows there too.
  cloudflareAccounts: (team: string) => ["cloudflare-accounts", team] as const,
  channels: (team: string) => ["channels", team] as const,
  deliveries: (team: string) => ["deliveries", team] as const
}

/** A time as people read it, in their own locale and zone. */
export const timeText = (iso: string | null): string => iso === null ? "never" : new Date(iso).toLocaleString()
