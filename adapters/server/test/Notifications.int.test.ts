/**
 * Notifications over real HTTP (issue 6's server part): channels created, read, changed and
 * deleted through the API, with bad input refused naming its fields and changing nothing; secrets
 * shown once, sealed at rest and kept out of the audit log; a signed webhook on a loopback
 * receiver told about a real release run through the API (the events it chose, no others); test
 * messages; the deliveries list with each status. Releases run on the TestClock, and the test
 * sends notifications when it chooses (`TestServer.deliverDue`); the last test runs a server as
 * `pnpm start` does, delivering in the background on the real clock.
 */
import { WebhookSignature } from "@canaryroll/notifier"
import * as TestDatabase from "@canaryroll/postgres/test-database"
import { assert, describe, it } from "@effect/vitest"
import { Clock, Effect } from "effect"
import { TestClock } from "effect/testing"
import * as Tables from "./support/Tables.ts"
import * as TestServer from "./support/TestServer.ts"
import * as TestTeam from "./support/TestTeam.ts"

const database = TestDatabase.forFile()

const slackUrl = "https://hooks.slack.com/services/T000/B000/slack-credential-123"
const opsUrl = "https://ops.example.com/hooks/canaryroll?key=ops-credential-456"
const smtpPassword = "smtp-password-789"

const terminal = new Set(["completed", "rolled_back", "failed", "cancelled"])

const channelsPath = (team: TestTeam.Team) => `/api/teams/${team.slug}/notifications/channels`
const deliveriesPath = (team: TestTeam.Team, query: Record<string, string> = {}) => {
  const search = new URLSearchParams(query).toString()
  return `/api/teams/${team.slug}/notifications/deliveries${search === "" ? "" : `?${search}`}`
}

/** Creates a channel as the team's admin token; returns the response body (with `signingSecret`). */
const createChannel = (server: TestServer.Running, team: TestTeam.Team, body: unknown) =>
  Effect.map(server.client.request("POST", channelsPath(team), { token: team.tokens.admin, body }), (response) => {
    TestTeam.expectStatus(response, 201, "create channel")
    return response.body
  })

const verifies = (secret: string, request: TestServer.Received, nowSeconds: number) =>
  WebhookSignature.verify({
    secret,
    body: request.body,
    signature: request.headers["x-canaryroll-signature"] as string | undefined,
    timestamp: request.headers["x-canaryroll-timestamp"] as string | undefined,
    nowSeconds
  })

/** Runs a release of `versionId` through the API to its end, as the GitHub Action and the scheduler would. */
const release = (server: TestServer.Running, team: TestTeam.Team, workerId: string, versionId: string) =>
  Effect.gen(function*() {
    const base = `/api/teams/${team.slug}/deployments`
    const token = team.tokens.deploy
    const created = yield* server.client.request("POST", `${base}/workers/${workerId}/deployments`, { token, body: { versionId } })
    TestTeam.expectStatus(created, 201, "create deployment")
    TestTeam.expectStatus(yield* server.client.request("POST", `${base}/${created.body.id}/start`, { token }), 200, "start")
    for (let poll = 0; poll < 200; poll++) {
      const current = yield* server.client.request("GET", `${base}/${created.body.id}`, { token })
      if (terminal.has(current.body.status)) return current.body
      yield* TestServer.runDue(server)
      yield* TestClock.adjust("5 seconds")
    }
    return assert.fail("the release did not end")
  })

describe("notifications over HTTP", () => {
  it.effect("channels: create, read, update, delete; secrets shown once, sealed at rest, audited without them", () =>
    Effect.gen(function*() {
      const server = yield* TestServer.start(database)
      const team = yield* TestTeam.create(server)
      const { client } = server
      const admin = { token: team.tokens.admin }
      const reader = { token: team.tokens.read_only }

      const slack = yield* createChannel(server, team, {
        name: "#deploys",
        events: ["release.completed", "release.rolled_back"],
        config: { kind: "slack", url: slackUrl }
      })
      assert.match(slack.id, /^chn_/)
      assert.strictEqual(slack.teamId, team.teamId)
      assert.deepStrictEqual(slack.config, { kind: "slack", url: "https://hooks.slack.com/…" })
      assert.isTrue(slack.enabled)
      assert.isNull(slack.signingSecret)
      assert.strictEqual(slack.createdAt, new Date(TestServer.t0).toISOString())

      const ops = yield* createChannel(server, team, {
        name: "ops",
        events: ["release.failed"],
        config: { kind: "webhook", url: opsUrl }
      })
      const firstSecret: string = ops.signingSecret
      assert.match(firstSecret, /^whsec_/)
      assert.deepStrictEqual(ops.config, { kind: "webhook", url: "https://ops.example.com/…", signingSecretSet: true })

      const mail = yield* createChannel(server, team, {
        name: "on-call",
        events: ["release.drift_detected"],
        enabled: false,
        config: {
          kind: "email",
          host: "smtp.example.com",
          port: 587,
          security: "starttls",
          from: "canaryroll@example.com",
          to: ["oncall@example.com"],
          username: "canaryroll",
          password: smtpPassword
        }
      })
      assert.deepStrictEqual(mail.config, {
        kind: "email",
        host: "smtp.example.com",
        port: 587,
        security: "starttls",
        from: "canaryroll@example.com",
        to: ["oncall@example.com"],
        username: "canaryroll",
        passwordSet: true
      })
      assert.isFalse(mail.enabled)

      // Read by anyone in the team, without secrets.
      const listed = yield* client.request("GET", channelsPath(team), reader)
      TestTeam.expectStatus(listed, 200, "list channels")
      // Created at the same instant (the TestClock stands still): compared as a set.
      assert.sameMembers(listed.body.map((channel: any) => channel.id), [slack.id, ops.id, mail.id])
      const { signingSecret: _, ...opsView } = ops
      const got = yield* client.request("GET", `${channelsPath(team)}/${ops.id}`, reader)
      TestTeam.expectStatus(got, 200, "get channel")
      assert.deepStrictEqual(got.body, opsView)

      // Updates: only what changes; the signing secret kept, or rotated on request and shown once.
      yield* TestClock.adjust("1 minute")
      const renamed = yield* client.request("PATCH", `${channelsPath(team)}/${ops.id}`, { ...admin, body: { name: "ops-2", enabled: false } })
      TestTeam.expectStatus(renamed, 200, "rename")
      assert.strictEqual(renamed.body.name, "ops-2")
      assert.isFalse(renamed.body.enabled)
      assert.deepStrictEqual(renamed.body.events, ["release.failed"])
      assert.isNull(renamed.body.signingSecret)
      assert.strictEqual(renamed.body.updatedAt, new Date(TestServer.t0 + 60_000).toISOString())
      const rotated = yield* client.request("PATCH", `${channelsPath(team)}/${ops.id}`, { ...admin, body: { rotateSigningSecret: true } })
      TestTeam.expectStatus(rotated, 200, "rotate")
      const secondSecret: string = rotated.body.signingSecret
      assert.match(secondSecret, /^whsec_/)
      assert.notStrictEqual(secondSecret, firstSecret)
      const kindChange = yield* client.request("PATCH", `${channelsPath(team)}/${slack.id}`, {
        ...admin,
        body: { config: { kind: "discord", url: "https://discord.com/api/webhooks/1/x" } }
      })
      TestTeam.expectStatus(kindChange, 400, "change the kind")
      assert.strictEqual(kindChange.body.error, "invalid_request")
      assert.match(kindChange.body.message, /^config\.kind: must stay slack/)
      const removePassword = yield* client.request("PATCH", `${channelsPath(team)}/${mail.id}`, {
        ...admin,
        body: { config: { ...mail.config, passwordSet: undefined, password: null } }
      })
      TestTeam.expectStatus(removePassword, 200, "remove the SMTP password")
      assert.isFalse(removePassword.body.config.passwordSet)

      // Deleting: gone, and a second delete (or any other call naming it) is a 404.
      TestTeam.expectStatus(yield* client.request("DELETE", `${channelsPath(team)}/${slack.id}`, admin), 204, "delete")
      for (const [method, path] of [["GET", ""], ["PATCH", ""], ["DELETE", ""], ["POST", "/test"]] as const) {
        const gone = yield* client.request(method, `${channelsPath(team)}/${slack.id}${path}`, {
          ...admin,
          ...(method === "PATCH" ? { body: { name: "x" } } : {})
        })
        TestTeam.expectStatus(gone, 404, `${method} a deleted channel`)
        assert.deepStrictEqual(gone.body, { error: "not_found", message: `notification channel "${slack.id}" was not found in this team` })
      }

      // Each change is in the audit log, by whom, without a secret.
      const audit = yield* client.request("GET", `/api/teams/${team.slug}/audit?type=NotificationChannelCreated,NotificationChannelUpdated,NotificationChannelDeleted`, admin)
      TestTeam.expectStatus(audit, 200, "audit log")
      assert.deepStrictEqual(audit.body.entries.map((entry: any) => entry.type).reverse(), [
        "NotificationChannelCreated",
        "NotificationChannelCreated",
        "NotificationChannelCreated",
        "NotificationChannelUpdated",
        "NotificationChannelUpdated",
        "NotificationChannelUpdated",
        "NotificationChannelDeleted"
      ])
      const messages = audit.body.entries.map((entry: any) => entry.message).reverse()
      assert.match(messages[0], /created the Slack notification channel #deploys for release\.completed, release\.rolled_back/)
      assert.match(messages[3], /updated the notification channel ops-2: renamed it from ops to ops-2, disabled it/)
      assert.match(messages[4], /rotated its signing secret/)
      assert.match(messages[6], /deleted the Slack notification channel #deploys/)
      assert.strictEqual(audit.body.entries[0].actor.kind, "token")

      // Nothing secret anywhere: not in responses after creation, not in any table, not in the log.
      const secrets = [firstSecret, secondSecret, "slack-credential-123", "ops-credential-456", smtpPassword]
      const shown = JSON.stringify([
        (yield* client.request("GET", channelsPath(team), reader)).body,
        (yield* client.request("GET", `${channelsPath(team)}/${ops.id}`, reader)).body,
        audit.body
      ])
      const stored = JSON.stringify(yield* Tables.dump(server))
      for (const secret of secrets) {
        assert.notInclude(shown, secret)
        assert.notInclude(stored, secret)
      }
      assert.include(stored, ops.id, "the dump holds the channels (so the search means something)")
    }).pipe(Effect.scoped))

  it.effect("bad input gets a 400 naming each field and changes nothing", () =>
    Effect.gen(function*() {
      const server = yield* TestServer.start(database)
      const team = yield* TestTeam.create(server)
      const admin = { token: team.tokens.admin }
      const slack = yield* createChannel(server, team, { name: "#deploys", events: ["release.completed"], config: { kind: "slack", url: slackUrl } })
      const before = yield* Tables.dump(server)

      const cases: ReadonlyArray<readonly [string, string, unknown, ReadonlyArray<string>]> = [
        ["POST", channelsPath(team), { name: "", events: [], config: { kind: "slack", url: "ftp://hooks.example.com/x" } }, [
          "name:",
          "events:",
          "config.url:"
        ]],
        ["POST", channelsPath(team), { name: "x", events: ["release.exploded"], config: { kind: "telegram", url: slackUrl } }, [
          "events[0]:",
          // An unknown kind matches no member of the union: the message lists the kinds there are.
          "config: Expected { readonly \"kind\": \"slack\""
        ]],
        ["POST", channelsPath(team), {
          name: "mail",
          events: ["release.failed"],
          config: { kind: "email", host: "smtp.example.com", port: 70000, security: "tls", from: "nobody", to: [] }
        }, ["config.port:", "config.from:", "config.to:"]],
        ["POST", channelsPath(team), { name: "hook", events: ["release.failed"], config: { kind: "webhook", url: slackUrl, secret: "short" } }, [
          "config.secret:"
        ]],
        ["POST", channelsPath(team), { events: ["release.failed"], config: { kind: "slack", url: slackUrl } }, ["name:"]],
        ["PATCH", `${channelsPath(team)}/${slack.id}`, { events: ["release.completed", "release.completed"] }, ["events:"]],
        ["PATCH", `${channelsPath(team)}/${slack.id}`, { rotateSigningSecret: true }, ["rotateSigningSecret:"]],
        ["PATCH", `${channelsPath(team)}/${slack.id}`, { enabled: "yes" }, ["enabled:"]],
        ["GET", deliveriesPath(team, { status: "lost" }), undefined, ["status:"]],
        ["GET", deliveriesPath(team, { limit: "0" }), undefined, ["limit:"]]
      ]
      for (const [method, path, body, fields] of cases) {
        const response = yield* server.client.request(method, path, { ...admin, ...(body === undefined ? {} : { body }) })
        const what = `${method} ${path} ${JSON.stringify(body)}`
        TestTeam.expectStatus(response, 400, what)
        assert.strictEqual(response.body.error, "invalid_request", what)
        for (const field of fields) assert.include(response.body.message, field, what)
      }
      const malformed = yield* server.client.request("POST", channelsPath(team), { ...admin, raw: "{\"name\":" })
      TestTeam.expectStatus(malformed, 400, "malformed JSON")
      assert.strictEqual(malformed.body.error, "invalid_json")
      assert.deepStrictEqual(yield* Tables.dump(server), before, "every table after the bad requests")
    }).pipe(Effect.scoped))

  it.effect("a webhook channel gets, for a real release, the events it chose and no others, signed", () =>
    Effect.gen(function*() {
      const server = yield* TestServer.start(database)
      const team = yield* TestTeam.create(server)
      const hook = yield* TestServer.receiver()
      const elsewhere = yield* TestServer.receiver()
      const ops = yield* createChannel(server, team, {
        name: "ops",
        events: ["release.started", "release.step_advanced", "release.completed"],
        config: { kind: "webhook", url: `${hook.origin}/canaryroll?key=k1` }
      })
      const failures = yield* createChannel(server, team, {
        name: "failures",
        events: ["release.rolled_back", "release.failed", "release.health_check_failed"],
        config: { kind: "webhook", url: `${elsewhere.origin}/canaryroll` }
      })
      const worker = team.workers[0]!

      const finished = yield* release(server, team, worker.workerId, worker.goodVersionId)
      assert.strictEqual(finished.status, "completed")
      assert.strictEqual(hook.received.length, 0, "nothing is sent until the notifier runs")
      assert.strictEqual(yield* TestServer.deliverDue(server), 3)

      const nowSeconds = Math.floor((yield* Clock.currentTimeMillis) / 1000)
      const requests = [yield* hook.next, yield* hook.next, yield* hook.next]
      const bodies = requests.map((request) => JSON.parse(request.body))
      assert.deepStrictEqual(bodies.map((body) => body.event.name), ["release.started", "release.step_advanced", "release.completed"])
      assert.deepStrictEqual(bodies.map((body) => body.event.type), ["ReleaseStarted", "Promoted", "Completed"])
      for (const [index, request] of requests.entries()) {
        assert.strictEqual(request.method, "POST")
        assert.strictEqual(request.path, "/canaryroll?key=k1")
        assert.strictEqual(request.headers["content-type"], "application/json")
        assert.deepStrictEqual(verifies(ops.signingSecret, request, nowSeconds), { valid: true })
        assert.deepStrictEqual(verifies(ops.signingSecret, { ...request, body: `${request.body} ` }, nowSeconds), {
          valid: false,
          reason: "mismatch"
        })
        const body = bodies[index]
        assert.strictEqual(body.release.id, finished.id)
        assert.strictEqual(body.release.workerId, worker.workerId)
        assert.strictEqual(body.release.scriptName, worker.scriptName)
        assert.strictEqual(body.release.url, `http://canaryroll.test/teams/${team.teamId}/deployments/${finished.id}`)
        assert.match(body.event.id, new RegExp(`^${finished.id}:\\d+$`))
      }
      assert.strictEqual(new Set(requests.map((request) => request.headers["x-canaryroll-delivery"])).size, 3)
      assert.strictEqual(elsewhere.received.length, 0, "the other channel chose none of these events")

      // Delivered once: another pass sends nothing.
      assert.strictEqual(yield* TestServer.deliverDue(server), 0)
      assert.strictEqual(hook.received.length, 3)

      const deliveries = yield* server.client.request("GET", deliveriesPath(team, { channelId: ops.id }), { token: team.tokens.read_only })
      TestTeam.expectStatus(deliveries, 200, "deliveries")
      assert.deepStrictEqual(
        deliveries.body.map((delivery: any) => [delivery.event, delivery.status, delivery.attempts, delivery.lastStatusCode]).reverse(),
        [
          ["release.started", "delivered", 1, 200],
          ["release.step_advanced", "delivered", 1, 200],
          ["release.completed", "delivered", 1, 200]
        ]
      )
      for (const delivery of deliveries.body) {
        assert.strictEqual(delivery.channelId, ops.id)
        assert.strictEqual(delivery.releaseId, finished.id)
        assert.include(requests.map((request) => request.headers["x-canaryroll-delivery"]), delivery.id)
        assert.isNull(delivery.nextAttemptAt)
        assert.isString(delivery.completedAt)
      }
      const none = yield* server.client.request("GET", deliveriesPath(team, { channelId: failures.id }), { token: team.tokens.read_only })
      assert.deepStrictEqual(none.body, [])
    }).pipe(Effect.scoped))

  it.effect("a test message is sent at once, answered with its outcome, and listed among the deliveries by status", () =>
    Effect.gen(function*() {
      const server = yield* TestServer.start(database)
      const team = yield* TestTeam.create(server)
      const hook = yield* TestServer.receiver()
      const broken = yield* TestServer.receiver(() => ({ status: 500, body: "refused" }))
      const good = yield* createChannel(server, team, {
        name: "ops",
        events: ["release.completed"],
        config: { kind: "webhook", url: `${hook.origin}/hook` }
      })
      const bad = yield* createChannel(server, team, {
        name: "broken",
        events: ["release.completed"],
        config: { kind: "slack", url: `${broken.origin}/services/T/B/x` }
      })
      const deploy = { token: team.tokens.deploy }

      const sent = yield* server.client.request("POST", `${channelsPath(team)}/${good.id}/test`, deploy)
      TestTeam.expectStatus(sent, 200, "test message")
      assert.strictEqual(sent.body.status, "delivered")
      assert.strictEqual(sent.body.event, "test")
      assert.strictEqual(sent.body.attempts, 1)
      assert.strictEqual(sent.body.lastStatusCode, 200)
      assert.strictEqual(sent.body.channelId, good.id)
      const request = yield* hook.next
      const body = JSON.parse(request.body)
      assert.strictEqual(body.event.name, "test")
      assert.isTrue(body.test)
      assert.strictEqual(request.headers["x-canaryroll-delivery"], sent.body.id)
      const nowSeconds = Math.floor((yield* Clock.currentTimeMillis) / 1000)
      assert.deepStrictEqual(verifies(good.signingSecret, request, nowSeconds), { valid: true })

      yield* TestClock.adjust("1 second")
      const refused = yield* server.client.request("POST", `${channelsPath(team)}/${bad.id}/test`, deploy)
      TestTeam.expectStatus(refused, 200, "a test message the channel refuses is still answered")
      assert.strictEqual(refused.body.status, "failed")
      assert.strictEqual(refused.body.lastStatusCode, 500)
      assert.isString(refused.body.lastError)
      assert.notInclude(refused.body.lastError, "/services/T/B/x")
      assert.strictEqual((yield* broken.next).method, "POST")
      // One attempt: the person who pressed the button is told, and nothing retries behind them.
      yield* TestClock.adjust("1 hour")
      assert.strictEqual(yield* TestServer.deliverDue(server), 0)
      assert.strictEqual(broken.received.length, 1)

      const reader = { token: team.tokens.read_only }
      const all = yield* server.client.request("GET", deliveriesPath(team), reader)
      TestTeam.expectStatus(all, 200, "deliveries")
      assert.deepStrictEqual(all.body.map((delivery: any) => [delivery.id, delivery.status]), [
        [refused.body.id, "failed"],
        [sent.body.id, "delivered"]
      ])
      assert.deepStrictEqual(all.body[0], refused.body)
      const failed = yield* server.client.request("GET", deliveriesPath(team, { status: "failed" }), reader)
      assert.deepStrictEqual(failed.body.map((delivery: any) => delivery.id), [refused.body.id])
      const delivered = yield* server.client.request("GET", deliveriesPath(team, { status: "delivered", channelId: good.id }), reader)
      assert.deepStrictEqual(delivered.body.map((delivery: any) => delivery.id), [sent.body.id])
      const pending = yield* server.client.request("GET", deliveriesPath(team, { status: "pending" }), reader)
      assert.deepStrictEqual(pending.body, [])
      const limited = yield* server.client.request("GET", deliveriesPath(team, { limit: "1" }), reader)
      assert.deepStrictEqual(limited.body.map((delivery: any) => delivery.id), [refused.body.id])
    }).pipe(Effect.scoped))
})

describe("a server process", () => {
  it.live("delivers in the background as releases happen", () =>
    Effect.gen(function*() {
      const server = yield* TestServer.start(database, { clock: "live", deliveries: "background" })
      const team = yield* TestTeam.create(server)
      const hook = yield* TestServer.receiver()
      const channel = yield* createChannel(server, team, {
        name: "ops",
        events: ["release.created"],
        config: { kind: "webhook", url: `${hook.origin}/hook` }
      })
      const worker = team.workers[0]!
      const created = yield* server.client.request("POST", `/api/teams/${team.slug}/deployments/workers/${worker.workerId}/deployments`, {
        token: team.tokens.deploy,
        body: { versionId: worker.goodVersionId }
      })
      TestTeam.expectStatus(created, 201, "create deployment")
      const request = yield* hook.next
      const body = JSON.parse(request.body)
      assert.strictEqual(body.event.name, "release.created")
      assert.strictEqual(body.release.id, created.body.id)
      const nowSeconds = Math.floor((yield* Clock.currentTimeMillis) / 1000)
      assert.deepStrictEqual(verifies(channel.signingSecret, request, nowSeconds), { valid: true })
    }).pipe(Effect.scoped), { timeout: 30_000 })
})
