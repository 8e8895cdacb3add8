/**
 * Every answer the simulator gives to our client (`WorkersApi`, the official SDK underneath) and
 * to a real wrangler (`versions upload/deploy/list/view`, `deployments list/status`) matches Cloudflare's
 * schemas (`support/openapi-2026-07-27-partial.json`): the simulator records its answers
 * (`onAnswer`), and each is validated against its operation's 200 schema or failure envelope.
 * Routes the document does not describe (the Worker as a service, GraphQL) are named, so that
 * what goes unchecked is said, not hidden.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer, Redacted } from "effect"
import { execFile } from "node:child_process"
import { mkdtemp, mkdir, rm, writeFile } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { promisify } from "node:util"
import { AccessCheck, ApiBudget, Credentials, WorkersApi } from "../src/index.ts"
import { type Answer, start } from "../src/simulator/index.ts"
import * as OpenApiSchemas from "./support/OpenApiSchemas.ts"

const t0 = Date.parse("2026-11-26T10:00:00Z")

const assertConforms = (answers: ReadonlyArray<Answer>) => assert.deepStrictEqual(OpenApiSchemas.nonConforming(answers), [])

const check = OpenApiSchemas.checkAnswer

const routesOf = (answers: ReadonlyArray<Answer>, filter: (answer: Answer) => boolean) =>
  [...new Set(answers.filter(filter).map((answer) => `${answer.method} ${answer.template} ${answer.status}`))].sort()

const recordingSimulator = async () => {
  const answers: Array<Answer> = []
  const sim = await start({ clock: () => t0, onAnswer: (answer) => answers.push(answer) })
  return { sim, answers }
}

describe("the simulator's answers match Cloudflare's schemas", () => {
  it.effect("for every call of our client, successes and refusals", () =>
    Effect.gen(function*() {
      const { sim, answers } = yield* Effect.acquireRelease(
        Effect.promise(recordingSimulator),
        ({ sim }) => Effect.promise(() => sim.close())
      )
      const account = sim.createAccount({ name: "Schemas" })
      const userToken = sim.createToken({ accountIds: [account.id] })
      const accountToken = sim.createToken({ accountIds: [account.id], owner: "account" })
      const stable = sim.createScript({ accountId: account.id, scriptName: "storefront", requestsPerMinute: 600 })
      const canary = sim.createVersion({ accountId: account.id, scriptName: "storefront", message: "canary", tag: "v2" })
      const target = { accountId: account.id, scriptName: "storefront" }
      const other = sim.createAccount({ name: "Other" })
      const stranger = sim.createToken({ accountIds: [other.id] })
      const credentials = (token: string) => ({ apiToken: Redacted.make(token), baseUrl: sim.baseUrl })

      yield* Effect.gen(function*() {
        const api = yield* WorkersApi.WorkersApi
        yield* api.listVersions(target)
        yield* api.listVersions(target, { deployable: true })
        yield* api.getVersion(target, canary.id)
        yield* api.activeDeployment(target)
        yield* api.createDeployment(target, [
          { versionId: canary.id, percentage: 10 },
          { versionId: stable.versionId, percentage: 90 }
        ], "CanaryRoll rel_1: step 1/2 (10%)")
        yield* api.activeDeployment(target)
        yield* api.listScripts(account.id)
        yield* api.verifyToken(credentials(userToken.value), account.id)
        yield* api.verifyToken(credentials(accountToken.value), account.id)
        yield* api.verifyAccountAccess(credentials(accountToken.value), account.id)
        // Refusals: an unknown version and Worker (404), a token of another account (403), an
        // unknown token (401, both verify endpoints), an invalid split (400).
        yield* Effect.flip(api.getVersion(target, "00000000-0000-4000-8000-000000000000"))
        yield* Effect.flip(api.listVersions({ ...target, scriptName: "nope" }))
        yield* Effect.flip(api.verifyAccountAccess(credentials(stranger.value), account.id))
        yield* Effect.flip(api.verifyToken(credentials("x".repeat(40)), account.id))
        yield* Effect.flip(api.createDeployment(target, [{ versionId: canary.id, percentage: 50 }], "half of nothing"))
        // What a token may do, asked by doing the smallest thing that needs it (an empty deployment: 400).
        const access = yield* AccessCheck.check(credentials(accountToken.value), account.id)
        assert.isTrue(access.checks.every((check) => check.passed), JSON.stringify(access))
      }).pipe(
        Effect.provide(WorkersApi.layer().pipe(
          Layer.provide(Credentials.layerStatic({ apiToken: userToken.value, baseUrl: sim.baseUrl })),
          Layer.provideMerge(ApiBudget.layer())
        ))
      )

      assertConforms(answers)
      // The check is not vacuous: the same answer with a field left out, or one invented, fails.
      const read = answers.find((answer) => answer.template?.endsWith("/versions/:version_id") && answer.status === 200)!
      const { resources, ...withoutResources } = (read.body as { result: Record<string, unknown> }).result
      const altered = (result: unknown) => OpenApiSchemas.nonConforming([{ ...read, body: { ...(read.body as object), result } }])
      assert.match(altered(withoutResources).join(), /must have required property 'resources'/)
      assert.match(altered({ ...withoutResources, resources, invented: true }).join(), /\/result\/invented: a field the schema does not name/)
      // What was checked: every operation our client calls, its successes and its refusals.
      assert.includeMembers(routesOf(answers, (answer) => check(answer) !== undefined), [
        "GET /user/tokens/verify 200",
        "GET /user/tokens/verify 401",
        "GET /accounts/:account_id/tokens/verify 200",
        "GET /accounts/:account_id/tokens/verify 401",
        "GET /accounts/:account_id/workers/scripts 200",
        "GET /accounts/:account_id/workers/scripts 403",
        "GET /accounts/:account_id/workers/scripts/:script_name/versions 200",
        "GET /accounts/:account_id/workers/scripts/:script_name/versions 404",
        "GET /accounts/:account_id/workers/scripts/:script_name/versions/:version_id 200",
        "GET /accounts/:account_id/workers/scripts/:script_name/versions/:version_id 404",
        "GET /accounts/:account_id/workers/scripts/:script_name/deployments 200",
        "POST /accounts/:account_id/workers/scripts/:script_name/deployments 200",
        "POST /accounts/:account_id/workers/scripts/:script_name/deployments 400"
      ])
    }).pipe(Effect.scoped))

  it("for every call of a real wrangler: versions upload, deploy, list and view, deployments list and status", async () => {
    const { sim, answers } = await recordingSimulator()
    const project = await mkdtemp(join(tmpdir(), "canaryroll-wrangler-"))
    try {
      const account = sim.createAccount({ name: "Wrangler" })
      const token = sim.createToken({ accountIds: [account.id] })
      const stable = sim.createScript({ accountId: account.id, scriptName: "storefront", requestsPerMinute: 600 })
      await mkdir(join(project, "src"))
      await writeFile(join(project, "wrangler.toml"), `name = "storefront"\nmain = "src/index.js"\ncompatibility_date = "2026-11-01"\n`)
      await writeFile(join(project, "src", "index.js"), `export default { fetch() { return new Response("v2") } }\n`)
      // The package's own bin script (its `exports` does not list it), run on the tests' Node.
      const wrangler = fileURLToPath(new URL("../node_modules/wrangler/bin/wrangler.js", import.meta.url))
      const run = (...args: ReadonlyArray<string>) =>
        promisify(execFile)(process.execPath, [wrangler, ...args], {
          cwd: project,
          env: {
            PATH: process.env.PATH ?? "",
            // wrangler writes its logs and caches under HOME: keep them in the scratch folder.
            HOME: project,
            CLOUDFLARE_API_BASE_URL: sim.baseUrl,
            CLOUDFLARE_ACCOUNT_ID: account.id,
            CLOUDFLARE_API_TOKEN: token.value,
            WRANGLER_SEND_METRICS: "false",
            CI: "true"
          }
        })
      const uploaded = await run("versions", "upload", "--message", "from wrangler", "--tag", "v2")
      const versionId = /Worker Version ID: ([0-9a-f-]{36})/.exec(uploaded.stdout)?.[1]
      assert.isDefined(versionId, uploaded.stdout + uploaded.stderr)
      await run("versions", "deploy", `${versionId}@10%`, `${stable.versionId}@90%`, "--yes", "--message", "10% canary")
      await run("deployments", "list")
      await run("deployments", "status")
      await run("versions", "list")
      await run("versions", "view", versionId!)

      assertConforms(answers)
      assert.includeMembers(routesOf(answers, (answer) => check(answer) !== undefined), [
        "POST /accounts/:account_id/workers/scripts/:script_name/versions 200",
        "POST /accounts/:account_id/workers/scripts/:script_name/deployments 200",
        "GET /accounts/:account_id/workers/scripts/:script_name/deployments 200",
        "GET /accounts/:account_id/workers/scripts/:script_name/versions 200",
        "GET /accounts/:account_id/workers/scripts/:script_name/versions/:version_id 200"
      ])
      // wrangler also reads the Worker as a service, which no published schema describes: its
      // shape is what wrangler reads (SimulatorWranglerRoutes.int.test.ts).
      assert.deepStrictEqual(
        routesOf(answers, (answer) => answer.template !== null && check(answer) === undefined),
        ["GET /accounts/:account_id/workers/services/:script_name 200"]
      )
      assert.deepStrictEqual(answers.filter((answer) => answer.status >= 400).map((answer) => answer.template), [])
    } finally {
      await sim.close()
      await rm(project, { recursive: true, force: true })
    }
  }, 120_000)
})
