/**
 * The storage failing under a request is the API's one storage failure, over HTTP on the real
 * server: `503 { error: "unavailable", message }` with `Retry-After` (as packages/api declares
 * it), and a client built from packages/api with `HttpApiClient` reads it as the typed
 * `StorageUnavailable`.
 */
import { Api, ApiError } from "@canaryroll/api"
import * as TestDatabase from "@canaryroll/postgres/test-database"
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { FetchHttpClient, HttpClient, HttpClientRequest } from "effect/http"
import { HttpApiClient } from "effect/http-api"
import { SqlClient } from "effect/sql"
import * as TestServer from "./support/TestServer.ts"
import * as TestTeam from "./support/TestTeam.ts"

const database = TestDatabase.forFile()

describe("the storage failing under a request", () => {
  it.effect("is 503 unavailable with Retry-After, read by the typed client as StorageUnavailable", () =>
    Effect.gen(function*() {
      const server = yield* TestServer.start(database)
      const team = yield* TestTeam.create(server)
      const token = team.tokens.read_only
      const sql = yield* SqlClient.SqlClient.pipe(Effect.provideContext(server.context))
      // The release list's table goes away under the server.
      yield* sql`ALTER TABLE release_summaries RENAME TO release_summaries_away`
      const response = yield* server.client.request("GET", "/api/teams/acme/deployments", { token })
      TestTeam.expectStatus(response, 503, "storage down")
      assert.deepStrictEqual(Object.keys(response.body).sort(), ["error", "message"])
      assert.strictEqual(response.body.error, "unavailable")
      assert.strictEqual(response.headers.get("retry-after"), String(ApiError.storageRetryAfterSeconds))

      const client = yield* HttpApiClient.make(Api.Api, {
        baseUrl: server.url,
        transformClient: HttpClient.mapRequest(HttpClientRequest.bearerToken(token))
      })
      const tag = yield* client.deployments.listDeployments({ params: { team: "acme" }, query: {} }).pipe(
        Effect.map(() => "answered"),
        Effect.catchTag("StorageUnavailable", (error) => Effect.succeed(`${error._tag}: ${error.message}`))
      )
      assert.strictEqual(tag, "StorageUnavailable: the database is unavailable; try again shortly")
      yield* sql`ALTER TABLE release_summaries_away RENAME TO release_summaries`
      TestTeam.expectStatus(yield* server.client.request("GET", "/api/teams/acme/deployments", { token }), 200, "back")
    }).pipe(Effect.provide(FetchHttpClient.layer), Effect.scoped))
})
