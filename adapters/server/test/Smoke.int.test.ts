import { assert, describe, it } from "@effect/vitest"
import * as TestDatabase from "@canaryroll/postgres/test-database"
import { Effect } from "effect"
import * as TestServer from "./support/TestServer.ts"

const database = TestDatabase.forFile()

describe("smoke", () => {
  it.effect("serves", () =>
    Effect.gen(function*() {
      const { client } = yield* TestServer.start(database)
      const health = yield* client.request("GET", "/api/health")
      assert.strictEqual(health.status, 200)
      const nothing = yield* client.request("GET", "/api/nothing")
      console.log(nothing.status, nothing.body)
      const signup = yield* client.request("POST", "/api/auth/signup", { body: { email: "a@example.com", name: "A", password: "correct horse battery" } })
      console.log(signup.status, signup.body, signup.headers.get("set-cookie"))
      const bad = yield* client.request("POST", "/api/auth/signup", { raw: "{nope" })
      console.log(bad.status, bad.body)
      const bad2 = yield* client.request("POST", "/api/auth/signup", { body: { email: "x", name: "" } })
      console.log(bad2.status, bad2.body)
      const cookie = signup.headers.get("set-cookie")!.split(";")[0]!
      const team = yield* client.request("POST", "/api/teams", { cookie, body: { name: "Acme", slug: "acme" } })
      console.log(team.status, team.body)
      const me = yield* client.request("GET", "/api/me", { cookie })
      console.log(me.status, JSON.stringify(me.body))
      const noauth = yield* client.request("GET", "/api/teams/acme/plans")
      console.log(noauth.status, noauth.body)
      const plans = yield* client.request("GET", "/api/teams/acme/plans", { cookie })
      console.log(plans.status, JSON.stringify(plans.body))
      const big = yield* client.request("POST", "/api/teams", { cookie, raw: JSON.stringify({ name: "x".repeat(100_000), slug: "b" }) })
      console.log(big.status, big.body)
      const openapi = yield* client.request("GET", "/api/openapi.json")
      console.log(openapi.status, Object.keys(openapi.body?.paths ?? {}).length)
    }).pipe(Effect.scoped))
})
