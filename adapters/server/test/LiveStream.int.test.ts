/**
 * A release's live stream (`GET deployments/{id}/events/stream`, server-sent events) over real
 * HTTP, on the real clock, on each storage: the events as they are appended, with their versions
 * as SSE ids and the same entries as the events list; heartbeats; a cut connection resumed from
 * `Last-Event-ID` with nothing missed or doubled; who may read it (as a GET of the release), bad
 * versions refused naming the field, and a foreign page's request with the session cookie refused.
 * Two server processes on one database: `processes/LiveTwoServers.int.test.ts`.
 */
import * as TestDatabase from "@canaryroll/postgres/test-database"
import { assert, describe, it } from "@effect/vitest"
import { Api } from "@canaryroll/api/Api"
import { Effect, Stream } from "effect"
import { FetchHttpClient, HttpClient, HttpClientRequest } from "effect/http"
import { HttpApiClient } from "effect/http-api"
import * as EventStream from "./support/EventStream.ts"
import * as TestServer from "./support/TestServer.ts"
import * as TestTeam from "./support/TestTeam.ts"

const database = TestDatabase.forFile()

const heartbeatMs = 200

const opened = (url: string, headers: Record<string, string> = {}) =>
  Effect.acquireRelease(Effect.promise(() => EventStream.open(url, headers)), (stream) => Effect.sync(stream.close))

for (const storage of TestServer.storages(database)) {
  describe(`a release's live stream (${storage.name})`, () => {
    const setUp = Effect.gen(function*() {
      const server = yield* storage.start({ clock: "live", config: { liveHeartbeatMs: heartbeatMs } })
      const team = yield* TestTeam.create(server)
      const worker = team.workers[0]!
      const base = `/api/teams/${team.slug}/deployments`
      const created = yield* server.client.request("POST", `${base}/workers/${worker.workerId}/deployments`, {
        token: team.tokens.deploy,
        body: { versionId: worker.goodVersionId, autoAdvance: false }
      })
      TestTeam.expectStatus(created, 201, "create")
      const id: string = created.body.id
      const streamUrl = `${server.url}${base}/${id}/events/stream`
      const listed = (token: string) =>
        Effect.map(server.client.request("GET", `${base}/${id}/events`, { token }), (response) => response.body as Array<any>)
      return { server, team, base, id, streamUrl, listed }
    })

    it.live("streams each event as it is appended, its version as the SSE id, as the events list shows it; heartbeats beside", () =>
      Effect.gen(function*() {
        const { base, id, listed, server, streamUrl, team } = yield* setUp
        const stream = yield* opened(streamUrl, { authorization: `Bearer ${team.tokens.read_only}` })
        assert.strictEqual(stream.status, 200, JSON.stringify(stream.error))
        assert.match(stream.contentType, /^text\/event-stream/)
        // Neither cached nor buffered by a proxy (nginx reads X-Accel-Buffering).
        assert.include(stream.headers.get("cache-control"), "no-cache")
        assert.strictEqual(stream.headers.get("x-accel-buffering"), "no")
        const createdEvent = yield* Effect.promise(() => stream.next((message) => message.event === "message"))
        assert.strictEqual(createdEvent.id, "1")
        assert.strictEqual(JSON.parse(createdEvent.data).eventType, "ReleaseCreated")

        // Appended after the stream opened: the start, then the scheduler's first steps.
        TestTeam.expectStatus(yield* server.client.request("POST", `${base}/${id}/start`, { token: team.tokens.deploy }), 200, "start")
        yield* TestServer.runDue(server)
        const expected = yield* listed(team.tokens.read_only)
        assert.isAbove(expected.length, 2, "the start appended events")
        yield* Effect.promise(() => stream.next((message) => message.id === String(expected.length)))
        const received = EventStream.releaseEvents(stream.messages)
        assert.deepStrictEqual(received.map(({ version: _version, ...event }) => event), expected, "the events list's entries, in order")
        assert.deepStrictEqual(received.map((event) => event.version), expected.map((_, index) => index + 1))
        assert.deepStrictEqual(
          stream.messages.filter((message) => message.event === "message").map((message) => message.id),
          expected.map((_, index) => String(index + 1))
        )

        // Heartbeats: one when the stream opens, then one every interval, with no id of their own.
        const heartbeats = stream.messages.filter((message) => message.event === "heartbeat").length
        const later = yield* Effect.promise(() =>
          stream.next((message) => message.event === "heartbeat", { from: stream.messages.length })
        )
        assert.isUndefined(later.id)
        assert.isString(JSON.parse(later.data).at)
        assert.isAtLeast(heartbeats, 1)
      }).pipe(Effect.scoped))

    it.live("Effect's typed client (what the dashboard calls) reads the stream as the API declares it", () =>
      Effect.gen(function*() {
        const { id, server, team } = yield* setUp
        const client = yield* HttpApiClient.make(Api, {
          baseUrl: server.url,
          transformClient: HttpClient.mapRequest(HttpClientRequest.bearerToken(team.tokens.read_only))
        })
        const stream = yield* client.live.deploymentEventStream({ params: { team: team.slug, id }, query: {}, headers: {} })
        const messages = yield* stream.pipe(Stream.take(2), Stream.runCollect)
        const created = messages.find((message) => message.event === "message")
        assert.strictEqual(created?.event === "message" ? created.data.eventType : undefined, "ReleaseCreated")
        assert.strictEqual(created?.id, "1")
        assert.isDefined(messages.find((message) => message.event === "heartbeat"))
      }).pipe(Effect.provide(FetchHttpClient.layer), Effect.scoped))

    it.live("a cut stream resumed from Last-Event-ID (or ?after=) misses nothing and repeats nothing", () =>
      Effect.gen(function*() {
        const { base, id, listed, server, streamUrl, team } = yield* setUp
        const auth = { authorization: `Bearer ${team.tokens.read_only}` }
        const first = yield* opened(streamUrl, auth)
        TestTeam.expectStatus(yield* server.client.request("POST", `${base}/${id}/start`, { token: team.tokens.deploy }), 200, "start")
        const afterStart = (yield* listed(team.tokens.read_only)).length
        yield* Effect.promise(() => first.next((message) => message.id === String(afterStart)))
        first.close()
        const lastEventId = first.lastEventId()!
        assert.strictEqual(lastEventId, String(afterStart))

        // While no one listens: the scheduler steps and a person pauses.
        yield* TestServer.runDue(server)
        TestTeam.expectStatus(
          yield* server.client.request("POST", `${base}/${id}/pause`, { token: team.tokens.deploy, body: { reason: "lunch" } }),
          200,
          "pause"
        )
        const all = yield* listed(team.tokens.read_only)
        assert.isAbove(all.length, afterStart)

        const resumed = yield* opened(streamUrl, { ...auth, "last-event-id": lastEventId })
        yield* Effect.promise(() => resumed.next((message) => message.id === String(all.length)))
        const seen = [...EventStream.releaseEvents(first.messages), ...EventStream.releaseEvents(resumed.messages)]
        assert.deepStrictEqual(seen.map((event) => event.id), all.map((event) => event.id), "every event once, in order")
        assert.strictEqual(seen.at(-1).eventType, "Paused")

        // `after` does the same for a page that already shows some events; Last-Event-ID wins.
        const fromQuery = yield* opened(`${streamUrl}?after=${all.length - 1}`, auth)
        yield* Effect.promise(() => fromQuery.next((message) => message.event === "heartbeat"))
        const onlyLast = yield* Effect.promise(() => fromQuery.next((message) => message.event === "message"))
        assert.strictEqual(onlyLast.id, String(all.length))
        const both = yield* opened(`${streamUrl}?after=0`, { ...auth, "last-event-id": String(all.length - 1) })
        const firstOfBoth = yield* Effect.promise(() => both.next((message) => message.event === "message"))
        assert.strictEqual(firstOfBoth.id, String(all.length))
      }).pipe(Effect.scoped))

    it.live("read as the release is: any role of its team, by token or session; another team's is 404; bad versions are 400", () =>
      Effect.gen(function*() {
        const { base, id, server, streamUrl, team } = yield* setUp
        const other = yield* TestTeam.create(server, "other", { account: "own" })
        const status = (url: string, headers: Record<string, string>) =>
          Effect.promise(async () => {
            const stream = await EventStream.open(url, headers)
            stream.close()
            return stream
          })
        for (const role of ["read_only", "deploy", "admin"] as const) {
          assert.strictEqual((yield* status(streamUrl, { authorization: `Bearer ${team.tokens[role]}` })).status, 200, role)
        }
        assert.strictEqual((yield* status(streamUrl, { cookie: team.adminCookie })).status, 200, "the session cookie")
        const anonymous = yield* status(streamUrl, {})
        assert.strictEqual(anonymous.status, 401)
        const foreign = yield* status(streamUrl, { authorization: `Bearer ${other.tokens.admin}` })
        assert.strictEqual(foreign.status, 404, "another team's token: the team is not theirs")
        const guessed = yield* status(`${server.url}/api/teams/${other.slug}/deployments/${id}/events/stream`, {
          authorization: `Bearer ${other.tokens.admin}`
        })
        assert.strictEqual(guessed.status, 404, "another team's release through one's own team")
        assert.strictEqual(guessed.error.error, "not_found")
        const missing = yield* status(`${server.url}${base}/dep_missing/events/stream`, { authorization: `Bearer ${team.tokens.read_only}` })
        assert.strictEqual(missing.status, 404)

        const badHeader = yield* status(streamUrl, { authorization: `Bearer ${team.tokens.read_only}`, "last-event-id": "abc" })
        assert.strictEqual(badHeader.status, 400)
        assert.match(badHeader.error.message, /last-event-id/)
        const badQuery = yield* status(`${streamUrl}?after=-1`, { authorization: `Bearer ${team.tokens.read_only}` })
        assert.strictEqual(badQuery.status, 400)
        assert.match(badQuery.error.message, /after/)
      }).pipe(Effect.scoped))

    it.live("the server ends a stream after its lifetime; the reconnect passes the access checks again (a revoked token stops receiving)", () =>
      Effect.gen(function*() {
        const server = yield* storage.start({ clock: "live", config: { liveHeartbeatMs: heartbeatMs, liveStreamMaxMs: 1_000 } })
        const team = yield* TestTeam.create(server)
        const worker = team.workers[0]!
        const base = `/api/teams/${team.slug}/deployments`
        const created = yield* server.client.request("POST", `${base}/workers/${worker.workerId}/deployments`, {
          token: team.tokens.deploy,
          body: { versionId: worker.goodVersionId }
        })
        const issued = yield* server.client.request("POST", `/api/teams/${team.slug}/tokens`, {
          cookie: team.adminCookie,
          body: { name: "dashboard screen", role: "read_only" }
        })
        TestTeam.expectStatus(issued, 201, "a token")
        const streamUrl = `${server.url}${base}/${created.body.id}/events/stream`
        const stream = yield* opened(streamUrl, { authorization: `Bearer ${issued.body.token}` })
        assert.strictEqual(stream.status, 200)
        TestTeam.expectStatus(
          yield* server.client.request("DELETE", `/api/teams/${team.slug}/tokens/${issued.body.id}`, { cookie: team.adminCookie }),
          204,
          "revoke"
        )
        assert.strictEqual(yield* Effect.promise(() => stream.ended), "complete", "the server ended the stream")
        assert.strictEqual(EventStream.releaseEvents(stream.messages).length, 1, "what the stream had, it sent")
        const reconnect = yield* opened(streamUrl, { authorization: `Bearer ${issued.body.token}`, "last-event-id": stream.lastEventId()! })
        assert.strictEqual(reconnect.status, 401, "the revoked token reconnects no more")
      }).pipe(Effect.scoped))

    it.live("at most 16 streams per caller: the next is 429 until one closes; another caller is not affected", () =>
      Effect.gen(function*() {
        const { streamUrl, team } = yield* setUp
        const as = (token: string) => ({ authorization: `Bearer ${token}` })
        const streams: Array<EventStream.EventStream> = []
        for (let n = 0; n < 16; n++) {
          const stream = yield* opened(streamUrl, as(team.tokens.read_only))
          assert.strictEqual(stream.status, 200, `stream ${n + 1}`)
          streams.push(stream)
        }
        const refused = yield* opened(streamUrl, as(team.tokens.read_only))
        assert.strictEqual(refused.status, 429)
        assert.strictEqual(refused.error.error, "too_many_streams")
        assert.strictEqual((yield* opened(streamUrl, as(team.tokens.deploy))).status, 200, "another caller")
        // One closes: once the server has seen it go (paced by another stream's heartbeats, not a
        // sleep), a new one opens.
        streams.pop()!.close()
        const pacer = streams[0]!
        let status = 429
        for (let beat = 0; beat < 50 && status === 429; beat++) {
          yield* Effect.promise(() => pacer.next((message) => message.event === "heartbeat", { from: pacer.messages.length }))
          const next = yield* Effect.promise(() => EventStream.open(streamUrl, as(team.tokens.read_only)))
          status = next.status
          if (status === 200) streams.push(next)
          else next.close()
        }
        assert.strictEqual(status, 200, "a closed stream frees its place")
        for (const stream of streams) stream.close()
      }).pipe(Effect.scoped))

    it.live("a page of another origin reading with the person's session cookie is refused; the server's own page is not", () =>
      Effect.gen(function*() {
        const { server, streamUrl, team } = yield* setUp
        const status = (headers: Record<string, string>) =>
          Effect.promise(async () => {
            const stream = await EventStream.open(streamUrl, headers)
            stream.close()
            return stream
          })
        const forged = yield* status({ cookie: team.adminCookie, origin: "http://localhost:5173" })
        assert.strictEqual(forged.status, 403)
        assert.strictEqual(forged.error.error, "cross_origin")
        assert.strictEqual((yield* status({ cookie: team.adminCookie, origin: "null" })).status, 403, "Origin: null is never ours")
        // The test server's public URL is http://canaryroll.test.
        assert.strictEqual((yield* status({ cookie: team.adminCookie, origin: "http://canaryroll.test" })).status, 200)
        // A token is never sent by a browser on its own: a script's request is not a forgery.
        assert.strictEqual(
          (yield* status({ authorization: `Bearer ${team.tokens.read_only}`, origin: "http://localhost:5173" })).status,
          200
        )
        assert.isDefined(server)
      }).pipe(Effect.scoped))
  })
}
