/**
 * The OpenAPI document is served, generated from the same definition the server runs, and
 * describes the calls the public GitHub Action makes with their statuses and the error shape;
 * the docs page and the pages links point at (a release, an invitation) are served too.
 */
import * as TestDatabase from "@canaryroll/postgres/test-database"
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import * as TestServer from "./support/TestServer.ts"

const database = TestDatabase.forFile()

describe("the OpenAPI document", () => {
  it.effect("describes the action's calls, with bearer security and { error, message } errors", () =>
    Effect.gen(function*() {
      const server = yield* TestServer.start(database)
      const response = yield* server.client.request("GET", "/api/openapi.json")
      assert.strictEqual(response.status, 200)
      const document = response.body
      assert.match(document.openapi, /^3\.1/)
      const base = "/api/teams/{team}/deployments"
      const create = document.paths[`${base}/workers/{workerId}/deployments`]?.post
      assert.isDefined(create, "create deployment")
      assert.isDefined(create.responses["201"])
      const body = create.requestBody.content["application/json"].schema
      const resolved = body.$ref === undefined ? body : document.components.schemas[body.$ref.split("/").at(-1)]
      assert.includeMembers(Object.keys(resolved.properties), ["versionId", "planId", "autoAdvance", "name", "ticketUrl"])
      assert.deepStrictEqual(resolved.required, ["versionId"])
      assert.isDefined(document.paths[`${base}/{id}/preflight`]?.get, "preflight")
      assert.isDefined(document.paths[`${base}/{id}/start`]?.post, "start")
      assert.isDefined(document.paths[`${base}/{id}`]?.get, "get")
      assert.isDefined(document.paths[`${base}/{id}/events`]?.get, "events")
      assert.isDefined(document.components.securitySchemes.bearer)
      const notFound = JSON.stringify(create.responses["404"] ?? {})
      assert.include(notFound, "NotFound")
      const errorSchema = document.components.schemas.NotFoundEncoded
      assert.includeMembers(Object.keys(errorSchema.properties), ["error", "message"])
    }).pipe(Effect.scoped))

  it.effect("serves the docs page", () =>
    Effect.gen(function*() {
      const server = yield* TestServer.start(database)
      const page = yield* server.client.request("GET", "/api/docs")
      assert.strictEqual(page.status, 200)
      assert.include(page.headers.get("content-type") ?? "", "text/html")
      assert.include(String(page.body), "CanaryRoll API")
    }).pipe(Effect.scoped))

  it.effect("serves the pages links point at: a release's page and the invitation page", () =>
    Effect.gen(function*() {
      const server = yield* TestServer.start(database)
      for (const path of ["/teams/acme/deployments/dep_123", "/invitations/accept?token=cri_x"]) {
        const page = yield* server.client.request("GET", path)
        assert.strictEqual(page.status, 200, path)
        assert.include(page.headers.get("content-type") ?? "", "text/html")
        assert.include(page.headers.get("content-security-policy") ?? "", "default-src 'none'")
        // The page holds no data: its script (a file, see WebSecurity.int.test.ts) reads the API with the session cookie.
        const script = /<script src="(\/assets\/(?:release|invitation)\.js)"/.exec(String(page.body))?.[1]
        assert.isDefined(script, path)
        const code = yield* server.client.request("GET", script!)
        assert.strictEqual(code.status, 200, script)
        assert.include(String(code.body), path.startsWith("/teams") ? "/api/teams/" : "/api/invitations/accept")
      }
    }).pipe(Effect.scoped))
})
