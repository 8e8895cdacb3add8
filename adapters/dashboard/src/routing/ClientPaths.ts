/**
 * The paths the dashboard answers in the browser: the server gives `index.html` for these (and
 * only these), so `/api`, the application's own pages' files and unknown paths keep their own
 * answers. Plain data, no React: the Node server imports it.
 */
export const clientPaths: ReadonlyArray<string> = ["/", "/login", "/signup", "/new-team", "/invitations/accept", "/account"]

/** Every path under these prefixes is a client route. */
export const clientPathPrefixes: ReadonlyArray<string> = ["/teams/"]

/** Whether the dashboard answers `path` (no query) in the browser. */
export const isClientPath = (path: string): boolean =>
  clientPaths.includes(path) || clientPathPrefixes.some((prefix) => path.startsWith(prefix) && path.length > prefix.length)
