/**
 * What the server answers, as a table read from the definitions the routes are built from (the
 * HttpApi, the pages, the docs), matched with the same router (`FindMyWay`, default settings)
 * `HttpRouter` uses. The outer middleware asks it two things the router does not say:
 *
 * - which methods a path has, for `405 Method Not Allowed` with its `Allow` header (the router
 *   only says "no route");
 * - which route a request is for, with its path parameters by name, so that a refused parameter
 *   is named (`team: …`) before any handler runs.
 *
 * @since 0.1.0
 */
import { FindMyWay } from "effect/http"
import { HttpApi, type HttpApiGroup } from "effect/http-api"

export interface Route {
  readonly method: string
  readonly path: `/${string}`
}

/** Every endpoint of an HttpApi: its method and its full path (group prefix included). */
export const ofApi = <Id extends string, Groups extends HttpApiGroup.Constraint>(
  api: HttpApi.HttpApi<Id, Groups>
): ReadonlyArray<Route> => {
  const routes: Array<Route> = []
  HttpApi.reflect(api, {
    onGroup: () => {},
    onEndpoint: ({ endpoint }) => routes.push({ method: endpoint.method, path: endpoint.path as `/${string}` })
  })
  return routes
}

export interface Table {
  /** The methods `url` (a path, with or without a query) has, `HEAD` included with `GET`; empty for an unknown path. */
  readonly allowed: (url: string) => ReadonlyArray<string>
  /** The route `method url` is served by, and its path parameters (decoded), if any. */
  readonly match: (method: string, url: string) => { readonly route: Route; readonly params: Readonly<Record<string, string | undefined>> } | undefined
}

const order = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]

export const make = (routes: ReadonlyArray<Route>): Table => {
  const router = FindMyWay.make<Route>()
  for (const route of routes) router.on(route.method, route.path, route)
  const methods = Array.from(new Set(routes.map((route) => route.method)))
  const find = (method: string, url: string) => {
    // A request the router cannot read (a malformed escape) has no route here either.
    try {
      return router.find(method, url) ?? (method === "HEAD" ? router.find("GET", url) : undefined)
    } catch {
      return undefined
    }
  }
  return {
    allowed: (url) => {
      const found = new Set(methods.filter((method) => find(method, url) !== undefined))
      if (found.has("GET")) found.add("HEAD")
      return Array.from(found).sort((a, b) => order.indexOf(a) - order.indexOf(b))
    },
    match: (method, url) => {
      const result = find(method, url)
      return result === undefined ? undefined : { route: result.handler, params: result.params }
    }
  }
}
