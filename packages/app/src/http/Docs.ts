/**
 * The API reference page at `/api/docs`: Effect's Swagger UI page for the HttpApi, under a strict
 * Content-Security-Policy. The page inlines Swagger UI's stylesheet, its bundle and the call that
 * starts it (the OpenAPI document rides in a JSON data block, which never runs), so its policy
 * allows exactly those by hash: the page is rendered once when the server starts, the SHA-256 of
 * each inline script and style computed from it, and the same bytes served with
 * `script-src 'sha256-…'; style-src 'self' 'sha256-…'`. No `'unsafe-inline'` anywhere: a script or
 * style that is not one of those does not apply.
 *
 * Not Effect's Scalar page: Scalar adds `<style>` elements while it renders, whose text is only
 * known in the browser, so under a policy without `'unsafe-inline'` it shows unstyled (checked in
 * Chromium: every one of its style elements refused). Swagger UI sets styles only through the
 * DOM (allowed) and renders complete under this policy.
 *
 * @since 0.1.0
 */
import { Effect } from "effect"
import { HttpRouter, HttpServerResponse } from "effect/http"
import { type HttpApi, type HttpApiGroup, HttpApiSwagger } from "effect/http-api"
import { sha256 } from "@noble/hashes/sha2.js"
import { Base64 } from "effect/encoding"
import { htmlHeaders } from "./Pages.ts"

export const path = "/api/docs"

/**
 * The text of every inline script of an HTML document that a browser runs: a `<script>` without
 * `src` whose `type` is absent or JavaScript (a `type="application/json"` data block never runs).
 */
export const inlineScripts = (html: string): ReadonlyArray<string> =>
  Array.from(html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script\s*>/gi))
    .filter((match) => {
      const attributes = match[1] ?? ""
      if (/\bsrc\s*=/i.test(attributes)) return false
      const type = /\btype\s*=\s*["']?([^"'\s>]+)/i.exec(attributes)?.[1]?.toLowerCase()
      return type === undefined || type === "module" || type.includes("javascript") || type.includes("ecmascript")
    })
    .map((match) => match[2] ?? "")

/** The text of every inline `<style>` element of an HTML document. */
export const inlineStyles = (html: string): ReadonlyArray<string> =>
  Array.from(html.matchAll(/<style\b[^>]*>([\s\S]*?)<\/style\s*>/gi)).map((match) => match[1] ?? "")

/** The CSP source of an inline script or style: `'sha256-<base64>'` of its UTF-8 text. */
export const hashSource = (text: string) => `'sha256-${Base64.encode(sha256(new TextEncoder().encode(text)))}'`

/** The policy for the docs page: its own inline scripts and styles by hash, requests to this server only. */
export const policyFor = (html: string) =>
  [
    "default-src 'none'",
    `script-src ${inlineScripts(html).map(hashSource).join(" ") || "'none'"}`,
    `style-src 'self' ${inlineStyles(html).map(hashSource).join(" ")}`.trim(),
    "img-src 'self' data:",
    "font-src 'self'",
    "connect-src 'self'",
    "form-action 'self'",
    "base-uri 'none'",
    "frame-ancestors 'none'"
  ].join("; ")

/** Effect's Scalar page for `api`, rendered once (it holds no request data). */
const render = <Id extends string, Groups extends HttpApiGroup.Constraint>(api: HttpApi.HttpApi<Id, Groups>) =>
  Effect.promise(async () => {
    const web = HttpRouter.toWebHandler(HttpApiSwagger.layer(api, { path }), {
      disableLogger: true
    })
    try {
      const response = await web.handler(new Request(`http://localhost${path}`))
      return await response.text()
    } finally {
      await web.dispose()
    }
  })

/** `GET /api/docs`: the page, with the hashes of its scripts computed at start-up. */
export const layer = <Id extends string, Groups extends HttpApiGroup.Constraint>(api: HttpApi.HttpApi<Id, Groups>) =>
  HttpRouter.use(Effect.fnUntraced(function*(router) {
    const html = yield* render(api)
    const response = HttpServerResponse.text(html, {
      contentType: "text/html; charset=utf-8",
      headers: htmlHeaders(policyFor(html))
    })
    yield* router.add("GET", path, Effect.succeed(response))
  }))
