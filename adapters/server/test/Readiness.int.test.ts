/**
 * Readiness that means something (issue 13, item 9): `/api/ready` answers 200 only when the
 * database answers, its migrations are current and the secret key opens the sealed secrets;
 * otherwise 503 `{ error, message, checks }` naming the check that failed. And a server started
 * with a key that cannot open the stored secrets says so at start-up, counting them.
 */
import * as Postgres from "@canaryroll/postgres"
import * as TestDatabase from "@canaryroll/postgres/test-database"
import { assert, describe, it } from "@effect/vitest"
import { PgClient } from "@effect/sql-pg"
import { Context, Effect, Layer, Logger } from "effect"
import { SqlClient } from "effect/sql"
import * as crypto from "node:crypto"
import * as SecretBox from "../src/security/SecretBox.ts"
import * as Tables from "./support/Tables.ts"
import * as TestServer from "./support/TestServer.ts"
import * as TestTeam from "./support/TestTeam.ts"

const database = TestDatabase.forFile()
/** A database of its own for the outage, so no other test sees it refuse connections. */
const outage = TestDatabase.forFile()

const ready = (server: TestServer.Running) => server.client.request("GET", "/api/ready")

/** The 503's failed check, after checking the answer's shape. */
const failedCheck = (response: TestServer.Response) => {
  TestTeam.expectStatus(response, 503, "not ready")
  assert.strictEqual(response.body.error, "not_ready")
  const failed = (response.body.checks as ReadonlyArray<any>).filter((check) => !check.ok)
  assert.lengthOf(failed, 1, JSON.stringify(response.body))
  assert.include(response.body.message, `${failed[0].name}: `, "the message names the check")
  return failed[0] as { readonly name: string; readonly message: string }
}

/** Log lines at every level, as text. */
const makeCapture = () => {
  const lines: Array<string> = []
  const logger = Logger.make((options) => {
    lines.push(`${options.logLevel} ${Array.isArray(options.message) ? options.message.join(" ") : String(options.message)}`)
  })
  return { lines, layer: Logger.layer([logger]) }
}

describe("readiness", () => {
  it.effect("is 200 when the database answers, the migrations are current and the key opens the secrets", () =>
    Effect.gen(function*() {
      const server = yield* TestServer.start(database)
      const empty = yield* ready(server)
      TestTeam.expectStatus(empty, 200, "ready with nothing sealed yet")
      assert.deepStrictEqual(empty.body.checks.map((check: any) => [check.name, check.ok]), [
        ["database", true],
        ["migrations", true],
        ["secrets", true]
      ])
      yield* TestTeam.create(server)
      const sealed = yield* ready(server)
      TestTeam.expectStatus(sealed, 200, "ready with a Cloudflare token sealed")
      assert.strictEqual(sealed.body.checks[2].message, "the secret key opens the sealed secrets")
      TestTeam.expectStatus(yield* server.client.request("GET", "/api/health"), 200, "health")
    }).pipe(Effect.scoped))

  it.effect("is 503 naming the migrations when the database lacks the newest one", () =>
    Effect.gen(function*() {
      const server = yield* TestServer.start(database)
      const known = yield* Postgres.Migrations.migrations
      const [newestId, newestName] = known[known.length - 1]!
      yield* Tables.query(server, `DELETE FROM ${Postgres.Migrations.table} WHERE migration_id = $1`, [newestId])
      const failed = failedCheck(yield* ready(server))
      assert.strictEqual(failed.name, "migrations")
      assert.include(failed.message, `${String(newestId).padStart(4, "0")}_${newestName}`)
      TestTeam.expectStatus(yield* server.client.request("GET", "/api/health"), 200, "alive all the same")
    }).pipe(Effect.scoped))

  it.effect("is 503 naming the secrets, and says so at start-up, when the key cannot open the stored secrets", () =>
    Effect.gen(function*() {
      const schema = "sealed_with_another_key"
      const first = yield* TestServer.start(database, { schema })
      const team = yield* TestTeam.create(first)
      const channel = yield* first.client.request("POST", `/api/teams/${team.slug}/notifications/channels`, {
        cookie: team.adminCookie,
        body: { name: "ops", events: ["release.completed"], config: { kind: "webhook", url: "https://hooks.example.com/ops" } }
      })
      TestTeam.expectStatus(channel, 201, "a webhook channel (its URL and signing secret are sealed)")
      const sealed = yield* Tables.query<{ count: number }>(
        first,
        `SELECT ((SELECT count(*) FROM cloudflare_credentials) +
          (SELECT count(*) FROM notification_channels, jsonb_object_keys(sealed_secrets)))::int AS count`
      )
      const count = sealed[0]?.count ?? 0
      assert.isAtLeast(count, 3, "a Cloudflare token and the channel's secrets")
      TestTeam.expectStatus(yield* ready(first), 200, "the key that sealed them opens them")

      // A second server on the same database, started with a new key and without the old one.
      const capture = makeCapture()
      const otherKey = Layer.effect(SecretBox.SecretBox, SecretBox.make({ current: crypto.randomBytes(32) }, SecretBox.keyVariable))
      const second = yield* TestServer.start(database, { schema, secrets: otherKey }).pipe(Effect.provide(capture.layer))
      const said = capture.lines.filter((line) => line.includes("cannot open"))
      assert.lengthOf(said, 1, capture.lines.join("\n"))
      assert.include(said[0], `this CANARYROLL_SECRET_KEY cannot open ${count} sealed secrets; start with the previous key`)
      assert.match(said[0]!, /^Error /, "said as an error")
      const failed = failedCheck(yield* ready(second))
      assert.strictEqual(failed.name, "secrets")
      assert.include(failed.message, "this CANARYROLL_SECRET_KEY (key ")
      assert.include(failed.message, "cannot open the sealed secrets")
      assert.include(failed.message, "start with the previous key")
      TestTeam.expectStatus(yield* ready(first), 200, "the first server is still ready")
    }).pipe(Effect.scoped))

  it.effect("is 503 naming the database when the database refuses connections", () =>
    Effect.gen(function*() {
      const server = yield* TestServer.start(outage)
      TestTeam.expectStatus(yield* ready(server), 200, "ready before the outage")
      const maintenance = yield* Layer.build(PgClient.layer({ url: TestDatabase.serverUrl(), maxConnections: 1 }))
      const sql = Context.get(maintenance, SqlClient.SqlClient)
      const name = sql(outage.name)
      yield* Effect.acquireRelease(
        Effect.gen(function*() {
          yield* sql`ALTER DATABASE ${name} ALLOW_CONNECTIONS false`
          yield* sql`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = ${outage.name}`
        }).pipe(Effect.orDie),
        () => Effect.orDie(sql`ALTER DATABASE ${name} ALLOW_CONNECTIONS true`)
      )
      const failed = failedCheck(yield* ready(server))
      assert.strictEqual(failed.name, "database")
      assert.match(failed.message, /^the database does not answer/)
      TestTeam.expectStatus(yield* server.client.request("GET", "/api/health"), 200, "alive all the same")
    }).pipe(Effect.scoped))
})
