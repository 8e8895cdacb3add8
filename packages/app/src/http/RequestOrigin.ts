/**
 * Cross-site request forgery, beyond `SameSite`. The session cookie is `SameSite=Strict`, but a
 * page on another port of the same host (`http://localhost:5173` next to the server on `:8787`)
 * is the same *site*, so the browser still sends the cookie with its requests. What such a page
 * cannot forge is where the request comes from (`Origin`, or `Referer`) and a JSON body (a
 * cross-origin `Content-Type: application/json` needs a CORS preflight, which this server never
 * approves). So a request that changes something (`POST`, `PUT`, `PATCH`, `DELETE`) and is not
 * made with a bearer token:
 *
 * - is refused (403 `cross_origin`) when its `Origin`, or without one its `Referer`, is not the
 *   server's public URL (`CANARYROLL_PUBLIC_URL`). This covers log-in and sign-up too (no session
 *   yet: a forged log-in would sign the victim into the attacker's account).
 * - with the session cookie, must send its body (if any) as `application/json` (415 otherwise).
 *
 * A request with neither header is not a browser's (every browser sends `Origin` with these
 * methods): curl or a script holding a cookie is not forged, and is let through. Bearer tokens
 * are never sent by a browser on its own, so requests carrying one are not checked.
 *
 * @since 0.1.0
 */
import { sessionCookie } from "@canaryroll/api/Access"

const unsafeMethods: ReadonlySet<string> = new Set(["POST", "PUT", "PATCH", "DELETE"])

export interface Request {
  readonly method: string
  readonly headers: Readonly<Record<string, string | undefined>>
  readonly cookies: Readonly<Record<string, string | undefined>>
}

export type Refusal =
  | { readonly _tag: "CrossOrigin"; readonly origin: string; readonly expected: string }
  | { readonly _tag: "NotJson"; readonly contentType: string | undefined }

/** The origin of a URL (`https://host:port`), or `undefined` for one that does not parse (or is `null`). */
export const originOf = (url: string): string | undefined => {
  try {
    const origin = new URL(url).origin
    return origin === "null" ? undefined : origin
  } catch {
    return undefined
  }
}

const hasBearer = (headers: Request["headers"]) => /^bearer\s+\S/i.test(headers.authorization ?? "")

const hasBody = (headers: Request["headers"]) =>
  headers["content-type"] !== undefined ||
  headers["transfer-encoding"] !== undefined ||
  (headers["content-length"] !== undefined && headers["content-length"].trim() !== "0")

const isJson = (contentType: string) => contentType.split(";")[0]!.trim().toLowerCase() === "application/json"

const loopbackNames = ["localhost", "127.0.0.1", "[::1]"]

/**
 * The origins that are this server: the public URL's, and when that is a loopback name
 * (`http://localhost:8787`, the default) the same scheme and port under the other loopback names
 * (`127.0.0.1`, `[::1]`), which reach the same server, so a person who opens
 * `http://127.0.0.1:8787` is not refused. Another port is another origin, always.
 */
export const ownOrigins = (publicUrl: string): ReadonlyArray<string> => {
  try {
    const url = new URL(publicUrl)
    if (!loopbackNames.includes(url.hostname)) return [url.origin]
    return [url.origin, ...loopbackNames.map((name) => {
      const alias = new URL(url.origin)
      alias.hostname = name
      return alias.origin
    })].filter((origin, index, all) => all.indexOf(origin) === index)
  } catch {
    return [publicUrl]
  }
}

/** Why `request` must be refused, given the server's public URL; `undefined` when it may go on. */
export const check = (request: Request, publicUrl: string): Refusal | undefined => {
  if (!unsafeMethods.has(request.method.toUpperCase()) || hasBearer(request.headers)) return undefined
  const claimed = request.headers.origin ?? request.headers.referer
  if (claimed !== undefined) {
    const origin = originOf(claimed)
    // `Origin: null` (a sandboxed frame, a redirect, a `file:` page) is never ours.
    if (origin === undefined || !ownOrigins(publicUrl).includes(origin)) {
      return { _tag: "CrossOrigin", origin: origin ?? claimed, expected: originOf(publicUrl) ?? publicUrl }
    }
  }
  const withSession = (request.cookies[sessionCookie] ?? "") !== ""
  if (withSession && hasBody(request.headers)) {
    const contentType = request.headers["content-type"]
    if (contentType === undefined || !isJson(contentType)) return { _tag: "NotJson", contentType }
  }
  return undefined
}

/** The answer's `{ error, message }` for a refusal. */
export const describe = (refusal: Refusal): { readonly status: 403 | 415; readonly error: string; readonly message: string } =>
  refusal._tag === "CrossOrigin"
    ? {
      status: 403,
      error: "cross_origin",
      message: `this request comes from ${JSON.stringify(refusal.origin.slice(0, 200))}, not from ${refusal.expected} ` +
        "(the server's public URL, CANARYROLL_PUBLIC_URL): a request made with the session cookie, or a log-in, " +
        "must come from the server's own pages; a script should send an API token (Authorization: Bearer …)"
    }
    : {
      status: 415,
      error: "unsupported_media_type",
      message: `send the request body as JSON (Content-Type: application/json)${
        refusal.contentType === undefined ? "" : `, not ${JSON.stringify(refusal.contentType.slice(0, 100))}`
      }`
    }
