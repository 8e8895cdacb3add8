/**
 * Serves the built dashboard (`@canaryroll/dashboard`) from the Node server, on the API's origin
 * so the session cookie and the Origin check work as they do for the API:
 *
 * - its client routes (`/`, `/login`, `/teams/…`, `/invitations/accept`, …: the dashboard's
 *   `isClientPath`) get `index.html`, with the pages' strict Content-Security-Policy (scripts and
 *   styles only as files from `'self'`, nothing inline) and `no-store`. They replace the
 *   application's static release and invitation pages (`@canaryroll/app/http/Pages`), which stay
 *   for runtimes without the dashboard;
 * - its hashed files under `/static/` are cached for a year as `immutable` (a new build has new
 *   names), gzip-compressed when the browser accepts it;
 * - everything else, `/api` first of all, goes to the application's routes untouched.
 *
 * The files are read once, when the layer is built: a build made later is served after a
 * restart. The dashboard is the Node runtime's concern (the application is runtime-neutral).
 *
 * @since 0.2.0
 */
import * as Dashboard from "@canaryroll/dashboard"
import * as Pages from "@canaryroll/app/http/Pages"
import { Effect, Layer } from "effect"
import { HttpRouter, HttpServerRequest, HttpServerResponse } from "effect/http"
import * as fs from "node:fs/promises"
import * as path from "node:path"
import { gzipSync } from "node:zlib"

interface File {
  readonly body: Uint8Array
  readonly gzip: Uint8Array | undefined
  readonly contentType: string
}

const contentTypes: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".woff2": "font/woff2",
  ".json": "application/json",
  ".map": "application/json"
}

const compressible = (contentType: string) => /^(text\/|application\/json|image\/svg)/.test(contentType)

/** Every file under `directory`, by its URL path. */
const readFiles = async (directory: string): Promise<Map<string, File>> => {
  const files = new Map<string, File>()
  const walk = async (folder: string) => {
    for (const entry of await fs.readdir(folder, { withFileTypes: true })) {
      const full = path.join(folder, entry.name)
      if (entry.isDirectory()) await walk(full)
      else {
        const body = new Uint8Array(await fs.readFile(full))
        const contentType = contentTypes[path.extname(entry.name)] ?? "application/octet-stream"
        const urlPath = "/" + path.relative(directory, full).split(path.sep).join("/")
        files.set(urlPath, { body, contentType, gzip: compressible(contentType) && body.length > 1024 ? gzipSync(body) : undefined })
      }
    }
  }
  await walk(directory)
  return files
}

/** Hashed build output: its name changes with its content, so it may be cached for good. */
const immutablePrefix = "/static/"

const respond = (file: File, acceptsGzip: boolean, headers: Record<string, string>) => {
  const gzip = acceptsGzip && file.gzip !== undefined
  return HttpServerResponse.uint8Array(gzip ? file.gzip! : file.body, {
    contentType: file.contentType,
    headers: { ...headers, vary: "accept-encoding", ...(gzip ? { "content-encoding": "gzip" } : {}) }
  })
}

/**
 * The dashboard in `directory` (default: the package's `dist/`), served before the application's
 * routes. Fails to build when the directory has no `index.html` (run `ensureBuilt` first).
 */
export const layer = (directory: string = Dashboard.distDirectory) =>
  Layer.unwrap(Effect.map(
    Effect.tryPromise({
      try: () => readFiles(directory),
      catch: (cause) => new Error(`the dashboard's build in ${directory} could not be read; it is built by pnpm start`, { cause })
    }),
    (files) => {
      const index = files.get("/index.html")
      if (index === undefined) return Layer.effectDiscard(Effect.die(new Error(`no dashboard build in ${directory} (index.html is missing)`)))
      return HttpRouter.middleware((httpEffect) =>
        Effect.gen(function*() {
          const request = yield* HttpServerRequest.HttpServerRequest
          if (request.method !== "GET" && request.method !== "HEAD") return yield* httpEffect
          const urlPath = request.url.split("?")[0] ?? "/"
          const acceptsGzip = /\bgzip\b/.test(request.headers["accept-encoding"] ?? "")
          if (urlPath.startsWith(immutablePrefix)) {
            const file = files.get(urlPath)
            if (file !== undefined) {
              return respond(file, acceptsGzip, {
                "cache-control": "public, max-age=31536000, immutable",
                "x-content-type-options": "nosniff"
              })
            }
            return yield* httpEffect
          }
          if (Dashboard.isClientPath(urlPath)) return respond(index, acceptsGzip, Pages.htmlHeaders())
          return yield* httpEffect
        }), { global: true })
    }
  ))
