/**
 * The reference server's HTTP API on loopback, beside a hand-written peer in the same run:
 *
 * - `server.get_deployment`: `GET /api/teams/{team}/deployments/{id}` with a team token, what the
 *   GitHub Action polls, through everything a request passes (routing, token check, team and
 *   role, the summary read, JSON encoding); one request at a time for latency, and 16 at once for
 *   requests per second.
 * - the peer, `node:http` + `pg` doing the least the same answer needs (hash the token, look it up
 *   with its team, read the summary row, send it): what the framework and the checks cost on top.
 * - `server.create_deployment`: a release created (pending) with its Cloudflare version check on
 *   the simulator; no peer.
 *
 * Method and figures: docs/benchmarks.md, "HTTP API".
 */
import * as Simulator from "@canaryroll/cloudflare/simulator"
import { SecretBox, Server } from "@canaryroll/server"
import { Context, Effect, Layer, Redacted } from "effect"
import { HttpServer } from "effect/http"
import { createHash, randomBytes } from "node:crypto"
import { createServer } from "node:http"
import { performance } from "node:perf_hooks"
import pg from "pg"
import { clientOn, database, postgresServer } from "./BenchDatabase.ts"
import { median, report } from "./Measure.ts"

const json = async (url: string, method: string, body?: unknown, headers: Record<string, string> = {}) => {
  const response = await fetch(url, {
    method,
    headers: { ...headers, ...(body === undefined ? {} : { "content-type": "application/json" }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) })
  })
  const text = await response.text()
  if (!response.ok) throw new Error(`${method} ${url}: ${response.status} ${text}`)
  return { body: text === "" ? null : JSON.parse(text), headers: response.headers }
}

/** `count` requests, `concurrency` at a time: requests per second. */
const throughput = async (count: number, concurrency: number, request: () => Promise<unknown>) => {
  let next = 0
  const start = performance.now()
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next++ < count) await request()
  }))
  return count / ((performance.now() - start) / 1000)
}

/** The peer: the same answer with nothing but node:http and pg. */
const startPeer = async (url: string) => {
  const pool = new pg.Pool({ connectionString: url, max: 10 })
  // An idle client's error (its connection ended by the server) is emitted on the pool and,
  // unhandled, ends the process: a full run died so once, after the measurements, as the run's
  // database was dropped. The peer's requests still fail loudly on their own query errors.
  pool.on("error", () => {})
  const server = createServer(async (request, response) => {
    const match = /^\/api\/teams\/([^/]+)\/deployments\/([^/?]+)$/.exec(request.url ?? "")
    const token = /^Bearer (.+)$/.exec(request.headers.authorization ?? "")?.[1]
    if (match === null || token === undefined) return response.writeHead(404).end()
    const hash = createHash("sha256").update(token).digest("hex")
    const { rows } = await pool.query(
      `SELECT release_summaries.summary FROM team_tokens
       JOIN teams ON teams.id = team_tokens.team_id AND (teams.id = $2 OR teams.slug = $2)
       JOIN release_summaries ON release_summaries.team_id = teams.id AND release_summaries.release_id = $3
       WHERE team_tokens.token_hash = $1 AND team_tokens.revoked_at IS NULL`,
      [hash, decodeURIComponent(match[1]!), decodeURIComponent(match[2]!)]
    )
    if (rows[0] === undefined) return response.writeHead(404).end()
    response.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(rows[0].summary))
  })
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  const address = server.address()
  const port = typeof address === "object" && address !== null ? address.port : 0
  return {
    url: `http://127.0.0.1:${port}`,
    close: async () => {
      await new Promise<void>((resolve) => server.close(() => resolve()))
      await pool.end()
    }
  }
}

export const run = async (samples: (full: number) => number) => {
  const program = Effect.gen(function*() {
    const serverUrl = yield* postgresServer("canaryroll-bench-postgres-")
    const serverClient = yield* Layer.build(clientOn(Redacted.value(serverUrl)))
    const url = yield* database(serverUrl, `canaryroll_server_bench_${randomBytes(4).toString("hex")}`).pipe(
      Effect.provideContext(serverClient)
    )
    const simulator = yield* Effect.acquireRelease(
      Effect.promise(() => Simulator.start({ analyticsDelayMs: 0 })),
      (simulator) => Effect.promise(() => simulator.close())
    )
    const seeded = Simulator.seed(simulator)
    const services = Server.layerServices({
      client: clientOn(url),
      secrets: SecretBox.layerFromKey(randomBytes(32)),
      config: { cloudflareBaseUrl: simulator.baseUrl },
      // The simulator is not Cloudflare: no reason to ration calls to it here.
      cloudflareLimits: {
        rest: { requests: 1_000_000, windowSeconds: 300 },
        graphql: { requests: 1_000_000, windowSeconds: 300 },
        share: 1
      },
      notifications: { deliver: false }
    })
    const running = yield* Layer.build(Server.layerHttp(0).pipe(Layer.provideMerge(services)))
    const api = HttpServer.formatAddress(Context.get(running, HttpServer.HttpServer).address)
    return yield* Effect.promise(async () => {
      const signup = await json(`${api}/api/auth/signup`, "POST", {
        email: "bench@example.com",
        name: "Bench",
        password: "correct horse battery staple"
      })
      const cookie = { cookie: signup.headers.get("set-cookie")!.split(";")[0]! }
      await json(`${api}/api/teams`, "POST", { name: "Bench", slug: "bench" }, cookie)
      await json(`${api}/api/teams/bench/cloudflare/accounts/${seeded.accountId}`, "PUT", { apiToken: seeded.apiToken }, cookie)
      const script = seeded.scripts[0]!
      const worker = await json(`${api}/api/teams/bench/workers`, "POST", { accountId: seeded.accountId, scriptName: script.name }, cookie)
      const token = (await json(`${api}/api/teams/bench/tokens`, "POST", { name: "ci", role: "deploy" }, cookie)).body.token
      const auth = { authorization: `Bearer ${token}` }
      const candidate = script.versions.at(-1)!.id
      const create = () =>
        json(`${api}/api/teams/bench/deployments/workers/${worker.body.id}/deployments`, "POST", { versionId: candidate }, auth)
      const release = (await create()).body.id
      const path = `/api/teams/bench/deployments/${release}`
      const peer = await startPeer(url)
      try {
        const ours = () => json(`${api}${path}`, "GET", undefined, auth)
        const theirs = () => json(`${peer.url}${path}`, "GET", undefined, auth)
        // Both answer the same summary.
        const [a, b] = await Promise.all([ours(), theirs()])
        if (a.body.id !== b.body.id || a.body.status !== b.body.status) throw new Error("the peer answers differently")
        // One request at a time, ours and the peer's alternating (which goes first swaps every
        // pair), so drift on this shared VM hits both alike, as the rounds below do.
        const n = samples(2_000)
        const latencies = { peer: [] as Array<number>, ours: [] as Array<number> }
        for (let i = 0; i < Math.ceil(n / 5); i++) await Promise.all([theirs(), ours()])
        for (let i = 0; i < n; i++) {
          for (const who of i % 2 === 0 ? (["peer", "ours"] as const) : (["ours", "peer"] as const)) {
            const start = performance.now()
            await (who === "peer" ? theirs() : ours())
            latencies[who].push(performance.now() - start)
          }
        }
        const peerLatency = report({
          name: "peer.node_http_pg_get_deployment",
          timings: latencies.peer,
          perSecond: 1000 / median(latencies.peer),
          peer: null
        })
        const oursLatency = report({
          name: "server.get_deployment",
          timings: latencies.ours,
          perSecond: 1000 / median(latencies.ours),
          peer: "peer.node_http_pg_get_deployment"
        }, { p50_vs_peer: Math.round((median(latencies.ours) / median(latencies.peer)) * 100) / 100 })
        // Rounds interleaved, the order swapped every round, so drift on this shared VM hits both
        // alike; a rate is requests over the summed time of its rounds.
        const count = samples(4_000)
        const rounds = 8
        const elapsed = { peer: 0, ours: 0 }
        for (let round = 0; round < rounds; round++) {
          const order = round % 2 === 0 ? (["peer", "ours"] as const) : (["ours", "peer"] as const)
          for (const who of order) {
            elapsed[who] += (count / rounds) / await throughput(count / rounds, 16, who === "peer" ? theirs : ours)
          }
        }
        const peerRate = count / elapsed.peer
        const oursRate = count / elapsed.ours
        console.log(JSON.stringify({
          name: "server.get_deployment_16_concurrent",
          per_s: Math.round(oursRate),
          peer: "peer.node_http_pg_get_deployment_16_concurrent",
          peer_per_s: Math.round(peerRate),
          ratio: Math.round((oursRate / peerRate) * 100) / 100,
          latency_ratio: Math.round((oursLatency.p50_ms / peerLatency.p50_ms) * 100) / 100,
          rounds
        }))
        const creates: Array<number> = []
        for (let i = 0; i < samples(300); i++) {
          const start = performance.now()
          await create()
          creates.push(performance.now() - start)
        }
        report({ name: "server.create_deployment", timings: creates, perSecond: 1000 / [...creates].sort((x, y) => x - y)[Math.floor(creates.length / 2)]!, peer: null })
      } finally {
        await peer.close()
      }
    })
  })
  await Effect.runPromise(Effect.scoped(program))
}
