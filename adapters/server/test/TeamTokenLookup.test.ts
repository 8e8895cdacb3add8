/**
 * A request with a team token on a team's path is authenticated, its team found and, for `GET` of
 * a release (what the Action and the CLI poll), the release read, in one `TeamTokenAccess.find`
 * (one query on Postgres): the `TeamAccess` middleware and the handler ask neither `Teams` nor
 * `ReleaseSummaries` again. The application as a fetch handler over the memory storage, with the
 * three ports counted; what the answers say is tested on Postgres too (Authorization, ActionFlow).
 */
import { assert, describe, it } from "@effect/vitest"
import { ReleaseSummaries, TeamTokenAccess, Teams } from "@canaryroll/app"
import * as Application from "@canaryroll/app/Application"
import { Effect, Layer, Option } from "effect"
import { HttpRouter, HttpServer } from "effect/http"
import * as PasswordHash from "../src/security/PasswordHash.ts"
import * as SecretBox from "../src/security/SecretBox.ts"
import * as Server from "../src/Server.ts"

const origin = "http://localhost:8787"

const services = Server.layerServices({
  storage: "memory",
  config: { publicUrl: origin, passwordParameters: PasswordHash.testParameters },
  secrets: SecretBox.layerFromKey(new Uint8Array(32).fill(7)),
  notifications: { deliver: false }
})

describe("a team token on a team's path", () => {
  it.live("is looked up with its team and the release it reads, once, and nothing is asked again", () => {
    const lookups: Array<Omit<TeamTokenAccess.Lookup, "now" | "hash">> = []
    const asked = { byRef: 0, summaries: 0 }
    // The storage's ports, counted where the middlewares and the handler would ask them.
    const counted = Layer.mergeAll(
      Layer.effect(
        TeamTokenAccess.TeamTokenAccess,
        Effect.map(TeamTokenAccess.make, (access) => ({
          find: (lookup: TeamTokenAccess.Lookup) => {
            lookups.push({ teamRef: lookup.teamRef, releaseId: lookup.releaseId })
            return access.find(lookup)
          }
        }))
      ),
      Layer.effect(
        Teams.Teams,
        Effect.map(Teams.Teams, (teams) => ({ ...teams, byRef: (ref: string) => (asked.byRef++, teams.byRef(ref)) }))
      ),
      Layer.effect(
        ReleaseSummaries.ReleaseSummaries,
        Effect.map(ReleaseSummaries.ReleaseSummaries, (summaries) => ({
          ...summaries,
          get: (teamId: string, releaseId: string) => (asked.summaries++, summaries.get(teamId, releaseId))
        }))
      )
    ).pipe(Layer.provide(services))
    return Effect.acquireUseRelease(
      Effect.sync(() =>
        HttpRouter.toWebHandler(
          Application.layerRoutes.pipe(Layer.provideMerge(Layer.merge(services, counted)), Layer.provide(HttpServer.layerServices)),
          { disableLogger: true }
        )
      ),
      ({ handler }) =>
        Effect.promise(async () => {
          const post = (path: string, body: unknown, cookie?: string) =>
            handler(new Request(`${origin}${path}`, {
              method: "POST",
              headers: { "content-type": "application/json", origin, ...(cookie === undefined ? {} : { cookie }) },
              body: JSON.stringify(body)
            }))
          const signup = await post("/api/auth/signup", { email: "ada@example.com", name: "Ada", password: "correct horse battery staple" })
          assert.strictEqual(signup.status, 201)
          const cookie = signup.headers.getSetCookie().map((line) => line.split(";")[0]).join("; ")
          assert.strictEqual((await post("/api/teams", { name: "Acme", slug: "acme" }, cookie)).status, 201)
          const created = await post("/api/teams/acme/tokens", { name: "ci", role: "read_only" }, cookie)
          assert.strictEqual(created.status, 201)
          const { token } = await created.json() as { token: string }
          const get = (path: string, bearer = token) =>
            handler(new Request(`${origin}${path}`, { headers: { authorization: `Bearer ${bearer}` } }))
          lookups.length = 0
          asked.byRef = 0
          asked.summaries = 0

          const missing = await get("/api/teams/acme/deployments/dep_missing")
          assert.strictEqual(missing.status, 404)
          assert.match((await missing.json() as { message: string }).message, /dep_missing/)
          assert.deepStrictEqual(lookups, [{ teamRef: "acme", releaseId: "dep_missing" }])
          assert.deepStrictEqual(asked, { byRef: 0, summaries: 0 }, "neither the team nor the release asked again")

          const list = await get("/api/teams/acme/deployments")
          assert.strictEqual(list.status, 200)
          assert.deepStrictEqual(lookups.at(-1), { teamRef: "acme", releaseId: null }, "no release for other endpoints")
          assert.strictEqual(asked.byRef, 0)

          const elsewhere = await get("/api/teams/other/deployments/dep_missing")
          assert.strictEqual(elsewhere.status, 404, "a team it does not find is not found, as before")
          const wrong = await get("/api/teams/acme/deployments/dep_missing", `crt_${"A".repeat(36)}`)
          assert.strictEqual(wrong.status, 401)
        }),
      ({ dispose }) => Effect.promise(dispose)
    )
  }, 60_000)

  it.effect("the memory storage offers the same one-lookup port as Postgres", () =>
    Effect.gen(function*() {
      const access = yield* TeamTokenAccess.TeamTokenAccess
      const found = yield* access.find({ hash: "0".repeat(64), now: 0, teamRef: "acme", releaseId: "dep_missing" })
      assert.isTrue(Option.isNone(found.token))
      assert.isTrue(Option.isNone(found.team))
      assert.isTrue(Option.isNone(found.release))
    }).pipe(Effect.provide(services)))
})
