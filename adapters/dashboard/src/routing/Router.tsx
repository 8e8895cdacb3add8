/**
 * Client-side routes over the History API: a path is matched against `routes` (first match
 * wins), its screen is loaded on demand (`React.lazy`: each screen is its own file in the
 * build, so the first load carries only the one asked for). The server answers `index.html` for
 * every path listed in `clientPathPrefixes` (adapters/server's Dashboard module reads it).
 */
import { useSyncExternalStore } from "react"

export type Params = Readonly<Record<string, string>>

export interface Location {
  readonly path: string
  readonly search: URLSearchParams
}

const listeners = new Set<() => void>()
const notify = () => listeners.forEach((listener) => listener())
globalThis.addEventListener?.("popstate", notify)

let snapshot = { href: "", value: { path: "/", search: new URLSearchParams() } as Location }
const read = (): Location => {
  const href = location.pathname + location.search
  if (snapshot.href !== href) snapshot = { href, value: { path: location.pathname, search: new URLSearchParams(location.search) } }
  return snapshot.value
}

export const useLocation = (): Location =>
  useSyncExternalStore((listener) => {
    listeners.add(listener)
    return () => listeners.delete(listener)
  }, read)

export const navigate = (to: string, options: { readonly replace?: boolean } = {}) => {
  if (options.replace === true) history.replaceState(null, "", to)
  else history.pushState(null, "", to)
  window.scrollTo(0, 0)
  notify()
}

/** `pattern` like `/teams/:team/deployments/:id` against `path`: its parameters, decoded, or undefined. */
export const match = (pattern: string, path: string): Params | undefined => {
  const want = pattern.split("/")
  const got = path.replace(/\/+$/, "").split("/")
  if (path === "/") got.splice(1)
  if (want.length !== got.length && !(pattern === "/" && path === "/")) return undefined
  const params: Record<string, string> = {}
  for (let i = 0; i < want.length; i++) {
    const part = want[i]!
    const value = got[i] ?? ""
    if (part.startsWith(":")) {
      if (value === "") return undefined
      try {
        params[part.slice(1)] = decodeURIComponent(value)
      } catch {
        return undefined
      }
    } else if (part !== value) return undefined
  }
  return params
}

/** Builds a path from segments, encoding each. */
export const pathOf = (...segments: ReadonlyArray<string>) => "/" + segments.map(encodeURIComponent).join("/")

export const teamPath = (team: string) => pathOf("teams", team)
export const releasePath = (team: string, id: string) => pathOf("teams", team, "deployments", id)
export const newReleasePath = (team: string, workerId?: string) =>
  pathOf("teams", team, "deployments", "new") + (workerId === undefined ? "" : `?worker=${encodeURIComponent(workerId)}`)
