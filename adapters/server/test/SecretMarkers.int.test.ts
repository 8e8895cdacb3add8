/**
 * Secrets never come back (issue 13, item 4). One marker is planted in every field that holds a
 * secret: webhook URLs' user info, path and query (Slack, Discord and Google Chat URLs, whose path
 * *is* the credential), webhook signing secrets (given, and replaced), SMTP passwords, and a
 * Cloudflare API token. Then everything is made to fail: receivers that answer 500 repeating the
 * URL they were called on and the Basic credentials they were sent, a receiver that cannot be
 * reached, an SMTP server (a real `smtp-server`) that refuses the log-in and repeats the
 * credentials (to a channel, and to the server's own outgoing mail sending an invitation, whose
 * `CANARYROLL_SMTP_URL` is also given unparseable), an SMTP port nobody listens on, Cloudflare refusing a token and answering 5xx,
 * storage failing under a channel update, bad input carrying the secrets. Deliveries are tried
 * by test messages and by the worker (a real release's events, retries included).
 *
 * Then the marker is searched for in every answer the test got (bodies and headers), every
 * column of every row of every table of the database (found in `pg_tables`), and every line the
 * server logged, at every level, as text and as the JSON lines `CANARYROLL_LOG_FORMAT=json` writes:
 * it is in none of them.
 */
import * as SmtpServer from "@canaryroll/notifier/test-smtp-server"
import * as TestDatabase from "@canaryroll/postgres/test-database"
import { assert, describe, it } from "@effect/vitest"
import { Cause, Effect, Logger, Redacted, References, Result } from "effect"
import { TestClock } from "effect/testing"
import * as crypto from "node:crypto"
import * as util from "node:util"
import * as OutgoingMail from "../src/mail/OutgoingMail.ts"
import * as JsonLogs from "../src/observability/JsonLogs.ts"
import * as Tables from "./support/Tables.ts"
import * as TestServer from "./support/TestServer.ts"
import * as TestTeam from "./support/TestTeam.ts"

const database = TestDatabase.forFile()

/** Letters and digits only: a Cloudflare token (and the simulator) takes nothing else. */
const marker = `mkr${crypto.randomBytes(10).toString("hex")}`

/**
 * Every log entry as text (message, cause, annotations and spans), and as the JSON line
 * `CANARYROLL_LOG_FORMAT=json` writes for it.
 */
const makeCapture = () => {
  const lines: Array<string> = []
  const jsonLines: Array<string> = []
  const logger = Logger.make((options) => {
    const annotations = options.fiber.getRef(References.CurrentLogAnnotations)
    lines.push(
      [
        options.logLevel,
        util.inspect(options.message, { depth: 20 }),
        Cause.pretty(options.cause),
        util.inspect(annotations, { depth: 20 }),
        util.inspect(options.fiber.getRef(References.CurrentLogSpans))
      ].join(" ")
    )
    jsonLines.push(JsonLogs.formatLine({ ...options, annotations }))
  })
  return { lines, jsonLines, logger }
}

interface Answer {
  readonly what: string
  readonly status: number
  readonly text: string
}

/** The running server with a client that keeps every answer it got, headers and body. */
const recording = (server: TestServer.PostgresRunning, answers: Array<Answer>): TestServer.PostgresRunning => ({
  ...server,
  client: {
    request: (method, path, options) =>
      Effect.tap(server.client.request(method, path, options), (response) =>
        Effect.sync(() =>
          answers.push({
            what: `${method} ${path}`,
            status: response.status,
            text: `${JSON.stringify([...response.headers])}\n${typeof response.body === "string" ? response.body : JSON.stringify(response.body)}`
          })
        ))
  }
})

/** A receiver that answers 500 with everything it was called with: the URL, the query, the Basic credentials. */
const echoing = () => {
  let origin = ""
  return Effect.map(
    TestServer.receiver((request) => {
      const authorization = request.headers.authorization ?? ""
      return {
        status: 500,
        body: JSON.stringify({
          error: "no such hook",
          url: `${origin}${request.path}`,
          path: decodeURIComponent(request.path),
          authorization,
          credentials: Buffer.from(authorization.replace(/^Basic /, ""), "base64").toString("utf8")
        })
      }
    }),
    (receiver) => {
      origin = receiver.origin
      return receiver
    }
  )
}

describe("secret markers", () => {
  it.effect("a marker planted in every secret is in no answer, no table and no log line", () => {
    const capture = makeCapture()
    return Effect.gen(function*() {
      const answers: Array<Answer> = []
      // The SMTP server refuses the log-in and repeats the credentials: the channels' (below) and
      // the server's own outgoing mail's (invitations, CANARYROLL_SMTP_URL).
      const smtp = yield* SmtpServer.make({ echoCredentials: true })
      const smtpUrl = Redacted.make(`smtp://mailer:${marker}-server-smtp@127.0.0.1:${smtp.port}?security=none`)
      const mail = Result.getOrThrow(OutgoingMail.parse(smtpUrl, "CanaryRoll <canaryroll@example.com>"))
      const server = recording(yield* TestServer.start(database, { mail }), answers)
      const { client, simulator } = server
      const team = yield* TestTeam.create(server)
      const channels = `/api/teams/${team.slug}/notifications/channels`
      const admin = { token: team.tokens.admin }
      const deploy = { token: team.tokens.deploy }
      const reader = { token: team.tokens.read_only }

      // ---- Receivers: one that repeats everything it is sent, with a 500; a port nobody listens on.
      const echo = yield* echoing()
      const echoHost = echo.origin.slice("http://".length)
      const events = ["release.created", "release.started", "release.completed"]

      const created: Array<{ readonly id: string; readonly name: string }> = []
      const create = (name: string, config: Record<string, unknown>) =>
        Effect.gen(function*() {
          const response = yield* client.request("POST", channels, { ...admin, body: { name, events, config } })
          TestTeam.expectStatus(response, 201, `create ${name}`)
          created.push({ id: response.body.id, name })
          return response.body.id as string
        })
      yield* create("slack", { kind: "slack", url: `${echo.origin}/services/T000/B000/${marker}slack` })
      yield* create("discord", { kind: "discord", url: `${echo.origin}/api/webhooks/123/${marker}discord` })
      yield* create("google chat", {
        kind: "google_chat",
        url: `${echo.origin}/v1/spaces/AAAA/messages?key=${marker}key&token=${marker}token`
      })
      const webhookUrl = `http://ops:${marker}pass@${echoHost}/hooks/${marker}path?token=${marker}query`
      const webhook = yield* create("webhook", { kind: "webhook", url: webhookUrl, secret: `${marker}-signing-secret-1` })
      yield* create("unreachable webhook", {
        kind: "webhook",
        url: `http://ops:${marker}pass@127.0.0.1:1/hooks/${marker}path?token=${marker}query`,
        secret: `${marker}-signing-secret-x`
      })
      const email = {
        kind: "email",
        host: "127.0.0.1",
        port: smtp.port,
        security: "none",
        from: "canaryroll@example.com",
        to: ["oncall@example.com"],
        username: "mailer",
        password: `${marker}-smtp-password`
      }
      yield* create("email, wrong password", email)
      yield* create("email, nobody listening", { ...email, port: 1 })

      // A replaced signing secret is kept (sealed) for a day beside the new one.
      const replaced = yield* client.request("PATCH", `${channels}/${webhook}`, {
        ...admin,
        body: { config: { kind: "webhook", url: webhookUrl, secret: `${marker}-signing-secret-2` } }
      })
      TestTeam.expectStatus(replaced, 200, "replace the signing secret")

      // ---- Bad input carrying the secrets: refused, and not repeated.
      for (
        const config of [
          { ...email, port: 70000 },
          { ...email, from: "nobody" },
          { kind: "webhook", url: webhookUrl, secret: marker.repeat(12) },
          { kind: "telegram", url: webhookUrl, password: `${marker}-smtp-password` },
          { kind: "slack", url: `ftp://ops:${marker}pass@example.com/${marker}path` }
        ]
      ) {
        const refused = yield* client.request("POST", channels, { ...admin, body: { name: "bad", events, config } })
        TestTeam.expectStatus(refused, 400, `bad input ${config.kind}`)
      }

      // ---- Test messages: every channel fails, answered at once.
      for (const channel of created) {
        const sent = yield* client.request("POST", `${channels}/${channel.id}/test`, deploy)
        TestTeam.expectStatus(sent, 200, `test message to ${channel.name}`)
        assert.strictEqual(sent.body.status, "failed", `${channel.name}: ${sent.body.lastError}`)
        assert.isString(sent.body.lastError)
      }
      assert.strictEqual(echo.received.length, 4, "the echoing receiver was reached by each of its channels")
      assert.isAtLeast(smtp.connections(), 1, "the SMTP server was reached")

      // ---- An invitation emailed through the server's mail, whose log-in is refused and echoed.
      const invited = yield* client.request("POST", `/api/teams/${team.slug}/invitations`, {
        ...admin,
        body: { email: "invitee@example.com", role: "deploy" }
      })
      TestTeam.expectStatus(invited, 201, "invite")
      assert.strictEqual(invited.body.emailed, false)
      assert.include(invited.body.notEmailedReason, "Invalid username or password", "the server's echo is reported, scrubbed")
      // A setting that does not parse is named, never repeated (the URL holds the password).
      for (const bad of [`smtp://mailer:${marker}@127.0.0.1:nope`, `http://mailer:${marker}@127.0.0.1`, `smtp://mailer:${marker}@127.0.0.1?security=${marker}`]) {
        const refused = OutgoingMail.parse(Redacted.make(bad), "canaryroll@example.com")
        assert.isTrue(Result.isFailure(refused), bad)
        if (Result.isFailure(refused)) assert.notInclude(refused.failure, marker)
      }

      // ---- A real release: the worker delivers its events, fails, retries, gives up.
      const worker = team.workers[0]!
      const release = yield* client.request("POST", `/api/teams/${team.slug}/deployments/workers/${worker.workerId}/deployments`, {
        ...deploy,
        body: { versionId: worker.goodVersionId }
      })
      TestTeam.expectStatus(release, 201, "create a release")
      assert.isAtLeast(yield* TestServer.deliverDue(server), created.length)
      for (let retry = 0; retry < 8; retry++) {
        yield* TestClock.adjust("15 minutes")
        yield* TestServer.deliverDue(server)
      }
      const deliveries = yield* client.request("GET", `/api/teams/${team.slug}/notifications/deliveries?limit=200`, reader)
      TestTeam.expectStatus(deliveries, 200, "deliveries, as a read-only member")
      const failed = deliveries.body.filter((delivery: any) => delivery.event === "release.created")
      assert.strictEqual(failed.length, created.length)
      for (const delivery of failed) {
        assert.strictEqual(delivery.status, "failed", JSON.stringify(delivery))
        assert.isString(delivery.lastError)
      }

      // ---- Cloudflare: a token Cloudflare refuses, and a saved one whose calls fail.
      const unknownToken = yield* client.request("PUT", `/api/teams/${team.slug}/cloudflare/accounts/${server.seeded.accountId}`, {
        ...admin,
        body: { apiToken: `${marker}unknowncf` }
      })
      // docs/api.md: a token Cloudflare refuses is a 400 naming the field.
      assert.strictEqual(unknownToken.status, 400, JSON.stringify(unknownToken.body))
      assert.strictEqual(unknownToken.body.error, "invalid_request")
      const account = simulator.createAccount({ name: "second" })
      simulator.createScript({ accountId: account.id, scriptName: "billing-api", requestsPerMinute: 600 })
      simulator.createToken({ accountIds: [account.id], value: `${marker}cf` })
      TestTeam.expectStatus(
        yield* client.request("PUT", `/api/teams/${team.slug}/cloudflare/accounts/${account.id}`, {
          ...admin,
          body: { apiToken: `${marker}cf` }
        }),
        200,
        "save the marked Cloudflare token"
      )
      const registered = yield* client.request("POST", `/api/teams/${team.slug}/workers`, {
        ...admin,
        body: { accountId: account.id, scriptName: "billing-api" }
      })
      TestTeam.expectStatus(registered, 201, "register a Worker of the second account")
      const versions = `/api/teams/${team.slug}/workers/${registered.body.id}/versions`
      for (const status of [500, 502, 503]) {
        simulator.injectFault({ kind: "status", status, times: 10, match: { path: `/accounts/${account.id}` } })
        const answered = yield* client.request("GET", versions, admin)
        // docs/api.md: Cloudflare unavailable for now (its 5xx) is 503 cloudflare_unavailable.
        assert.strictEqual(answered.status, 503, `Cloudflare answering ${status}: ${JSON.stringify(answered.body)}`)
        assert.strictEqual(answered.body.error, "cloudflare_unavailable")
        simulator.clearFaults()
      }
      simulator.injectFault({ kind: "status", status: 502, html: true, times: 10 })
      const htmlPage = yield* client.request("GET", versions, admin)
      assert.strictEqual(htmlPage.status, 503, JSON.stringify(htmlPage.body))
      assert.strictEqual(htmlPage.body.error, "cloudflare_unavailable")
      simulator.clearFaults()

      // ---- Storage failing while a secret is in flight: the 503's cause is logged.
      yield* Tables.query(server, "ALTER TABLE notification_channels RENAME TO notification_channels_unavailable")
      const unavailable = yield* client.request("PATCH", `${channels}/${webhook}`, {
        ...admin,
        body: { config: { kind: "webhook", url: webhookUrl, secret: `${marker}-signing-secret-3` } }
      })
      TestTeam.expectStatus(unavailable, 503, "a channel update while storage fails")
      yield* Tables.query(server, "ALTER TABLE notification_channels_unavailable RENAME TO notification_channels")

      // ---- Read everything back as every role would, then search.
      for (const path of [channels, `${channels}/${webhook}`, `/api/teams/${team.slug}/notifications/deliveries?limit=200`]) {
        for (const who of [reader, admin]) TestTeam.expectStatus(yield* client.request("GET", path, who), 200, path)
      }
      TestTeam.expectStatus(yield* client.request("GET", `/api/teams/${team.slug}/audit`, admin), 200, "audit log")
      TestTeam.expectStatus(yield* client.request("GET", `/api/teams/${team.slug}/cloudflare/accounts`, admin), 200, "accounts")

      for (const answer of answers) {
        assert.notInclude(answer.text, marker, `the answer to ${answer.what} (${answer.status}) gives a secret back`)
      }
      const tables = yield* Tables.dump(server)
      for (const table of ["notification_channels", "notification_deliveries", "cloudflare_credentials", "audit_log", "events"]) {
        assert.isNotEmpty(tables[table] ?? [], `${table} has rows (else the search proves little)`)
      }
      for (const [table, rows] of Object.entries(tables)) {
        for (const row of rows) assert.notInclude(row, marker, `a secret is in clear in ${table}: ${row}`)
      }
      assert.isTrue(
        capture.lines.some((line) => line.includes("storage unavailable")),
        "the 503 was logged with its cause (else the search below proves little)"
      )
      for (const line of capture.lines) assert.notInclude(line, marker, `a secret was logged: ${line}`)
      assert.strictEqual(capture.jsonLines.length, capture.lines.length)
      for (const line of capture.jsonLines) {
        assert.notInclude(line, "\n", "one JSON object per line")
        assert.doesNotThrow(() => JSON.parse(line), line)
        assert.notInclude(line, marker, `a secret was logged as JSON: ${line}`)
      }
    }).pipe(
      Effect.scoped,
      Effect.provide(Logger.layer([capture.logger])),
      Effect.provideService(References.MinimumLogLevel, "All")
    )
  })
})
