/**
 * Ids are made one way: `Id` in `@canaryroll/core` (prefix, `_`, random hex). This test reads the
 * source of every package and adapter and fails where an id is made some other way (a
 * `randomUUID`, or a prefix glued to random bytes), so that a new kind of id is added to the
 * table in `Id.ts` rather than invented where it is needed.
 */
import { assert, describe, it } from "@effect/vitest"
import * as fs from "node:fs"
import * as path from "node:path"
import { fileURLToPath } from "node:url"

const root = fileURLToPath(new URL("../../..", import.meta.url))

/** Random values made outside `Id` on purpose: secrets and request keys, not ids of CanaryRoll's. */
const allowed: ReadonlyMap<string, string> = new Map([
  ["packages/core/src/Id.ts", "the one place ids are made"],
  ["packages/cloudflare/src/simulator/Platform.ts", "the simulator makes Cloudflare's ids, in Cloudflare's formats"],
  ["packages/cloudflare/src/simulator/ApiServer.ts", "the simulator's ray ids"],
  ["adapters/cli/src/CanaryRollApi.ts", "an Idempotency-Key header per command, a request key"],
  ["adapters/dashboard/src/api/Client.ts", "an Idempotency-Key header per change, a request key"],
  ["packages/app/src/http/Teams.ts", "an invitation's secret (`cri_…`), shown once and stored as a hash"],
  ["packages/notifier/src/WebhookSignature.ts", "a webhook signing secret (`whsec_…`)"],
  ["adapters/github-action/src/WorkflowFiles.ts", "a heredoc delimiter for GitHub's workflow files"],
  ["adapters/server/src/observability/HttpObservation.ts", "a request's correlation id (X-Request-Id): a UUID, as proxies and tracing tools expect"],
  ["adapters/postgres/src/SchedulerLoop.ts", "the scheduler's lease owner name (host, pid, random)"]
])

const sourceFiles = (directory: string): ReadonlyArray<string> =>
  fs.readdirSync(directory, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && /\.tsx?$/.test(entry.name) && !entry.parentPath.includes("node_modules"))
    .map((entry) => path.join(entry.parentPath, entry.name))

const idMaking = [/\brandomUUID\s*\(/, /`[a-z]{2,5}_\$\{[^}]*(random|crypto)/]

describe("ids", () => {
  it("are made only by Id (packages/*/src, adapters/*/src)", () => {
    const sources = ["packages", "adapters"].flatMap((group) =>
      fs.readdirSync(path.join(root, group)).map((name) => path.join(root, group, name, "src")).filter(fs.existsSync)
    )
    const offenders = sources.flatMap(sourceFiles).flatMap((file) => {
      const relative = path.relative(root, file)
      if (allowed.has(relative)) return []
      const text = fs.readFileSync(file, "utf8")
      return idMaking.some((pattern) => pattern.test(text)) ? [relative] : []
    })
    assert.deepStrictEqual(offenders, [])
    assert.isTrue(idMaking.some((pattern) => pattern.test("const id = `dlv_${crypto.randomUUID()}`")))
    assert.isTrue(idMaking.some((pattern) => pattern.test("export const newId = (prefix: string) => `${prefix}_${crypto.randomUUID()}`")))
  })
})
