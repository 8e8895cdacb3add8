/**
 * What the server sees of each HTTP request, around the whole application (outside its own
 * middlewares, so that 404s, 413s and refused origins count too):
 *
 * - a request id: the caller's `X-Request-Id` when it is a plain token (letters, digits, `-_.:`,
 *   at most 64), else a new one; answered in `X-Request-Id` and attached to every log line the
 *   request writes (`requestId`), with the team and release the path names (`team`, `releaseId`);
 * - the metrics `canaryroll_http_requests_total{method, route, status}` and the duration
 *   histogram, where `route` is the route's template (`/api/teams/:team/deployments/:id`), never
 *   the path itself: paths hold team slugs and ids, and a stranger could make up any number of
 *   them; requests for no route count as `unmatched`;
 * - `GET /metrics`, when the metrics are served on the API's port (see `Options.serveMetrics`).
 *
 * @since 0.1.0
 */
import * as Application from "@canaryroll/app/Application"
import { Clock, Context, Effect, Exit } from "effect"
import { HttpEffect, HttpServerRequest, HttpServerResponse } from "effect/http"
import { randomUUID } from "node:crypto"
import * as MetricRegistry from "./MetricRegistry.ts"
import * as ServerMetrics from "./ServerMetrics.ts"

export const metricsPath = "/metrics"

const knownMethods = new Set(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"])
const plainRequestId = /^[A-Za-z0-9._:-]{1,64}$/

/** The caller's request id if it is safe to log and echo, else a new one. */
export const requestIdOf = (header: string | undefined): string =>
  header !== undefined && plainRequestId.test(header) ? header : randomUUID()

/** The answer to `GET /metrics`: the registry in Prometheus' text format. */
export const metricsResponse = (metrics: ServerMetrics.Instruments) =>
  Effect.map(
    metrics.registry.render,
    (text) =>
      HttpServerResponse.text(text, {
        contentType: MetricRegistry.contentType,
        headers: { "cache-control": "no-store" }
      })
  )

export interface Options {
  /** Answer `GET /metrics` on this listener (default true; false when the metrics have a port of their own). */
  readonly serveMetrics?: boolean | undefined
}

/** The serve middleware (`HttpRouter.serve(…, { middleware })`). */
export const middleware = (options: Options = {}) =>
<E, R>(
  httpApp: Effect.Effect<HttpServerResponse.HttpServerResponse, E, R>
): Effect.Effect<
  HttpServerResponse.HttpServerResponse,
  E,
  R | HttpServerRequest.HttpServerRequest | ServerMetrics.ServerMetrics
> =>
  // Read synchronously off the fiber (one effect around the application, not one per step):
  // this runs on every request, the polled GET of a release included.
  Effect.withFiber((fiber) => {
    const request = Context.getUnsafe(fiber.context, HttpServerRequest.HttpServerRequest)
    const metrics = Context.getUnsafe(fiber.context, ServerMetrics.ServerMetrics)
    const requestId = requestIdOf(request.headers["x-request-id"])
    const method = knownMethods.has(request.method) ? request.method : "OTHER"
    const query = request.url.indexOf("?")
    const path = query < 0 ? request.url : request.url.slice(0, query)
    if ((options.serveMetrics ?? true) && path === metricsPath && (method === "GET" || method === "HEAD")) {
      metrics.httpRequests.inc({ method, route: metricsPath, status: "200" })
      return metricsResponse(metrics)
    }
    const matched = Application.routeTable.match(request.method, request.url)
    const route = matched?.route.path ?? "unmatched"
    const annotations: Record<string, string> = { requestId }
    const team = matched?.params["team"]
    if (team !== undefined) annotations["team"] = team
    const releaseId = matched?.route.path.includes("/deployments/:id") === true ? matched.params["id"] : undefined
    if (releaseId !== undefined) annotations["releaseId"] = releaseId
    // Set as the response leaves: the router sends what the application answered itself, so a
    // header added to the value it returns would be too late.
    HttpEffect.appendPreResponseHandlerUnsafe(fiber.context, (_, response) =>
      Effect.succeed(HttpServerResponse.setHeader(response, "x-request-id", requestId)))
    const clock = fiber.getRef(Clock.Clock)
    const startedAt = clock.currentTimeMillisUnsafe()
    return httpApp.pipe(
      // A failure that escapes the application is answered 500 by the listener; an interruption
      // (the client went away) answers nothing, and is counted as nginx does, 499.
      Effect.onExit((exit) =>
        Effect.sync(() => {
          const status = Exit.isSuccess(exit) ? exit.value.status : Exit.hasInterrupts(exit) ? 499 : 500
          metrics.httpRequests.inc({ method, route, status: String(status) })
          metrics.httpDuration.observe({ method, route }, Math.max(0, clock.currentTimeMillisUnsafe() - startedAt) / 1000)
        })
      ),
      Effect.annotateLogs(annotations)
    )
  })

export const metricsOnly = (metrics: ServerMetrics.Instruments) =>
  Effect.flatMap(HttpServerRequest.HttpServerRequest, (request) =>
    request.url.split("?")[0] === metricsPath && (request.method === "GET" || request.method === "HEAD")
      ? metricsResponse(metrics)
      : Effect.succeed(HttpServerResponse.text("only /metrics here\n", { status: 404 })))
