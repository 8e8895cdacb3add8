import type { Schemas } from "@canaryroll/api"
import { CanaryRollApi } from "@canaryroll/cli"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Redacted } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import * as ActionInputs from "../src/ActionInputs.ts"
import * as JobSummary from "../src/JobSummary.ts"
import * as WorkflowFiles from "../src/WorkflowFiles.ts"
import * as WranglerUpload from "../src/WranglerUpload.ts"

const inputs = (values: Record<string, string>) =>
  Object.fromEntries(Object.entries(values).map(([name, value]) => [ActionInputs.variable(name), value]))

const base = { "api-url": "https://canaryroll.example.com/", "api-token": "crt_x", "team-id": "demo", "worker-id": "wrk_1" }

describe("inputs", () => {
  it.effect("reads INPUT_* as the runner names them, with the public action's defaults", () =>
    Effect.gen(function*() {
      assert.strictEqual(ActionInputs.variable("api-url"), "INPUT_API-URL")
      const read = yield* ActionInputs.read(inputs({ ...base, "version-id": "v1", "auto-advance": "false", "poll-interval": "2.5" }))
      assert.strictEqual(read.apiUrl, "https://canaryroll.example.com")
      assert.strictEqual(Redacted.value(read.apiToken), "crt_x")
      assert.strictEqual(read.autoAdvance, false)
      assert.strictEqual(read.autoStart, false)
      assert.strictEqual(read.wait, false)
      assert.strictEqual(read.pollIntervalSeconds, 2.5)
      assert.strictEqual(read.waitTimeoutSeconds, 1800)
      assert.isUndefined(read.plan)
      assert.isUndefined(read.upload)
      assert.deepStrictEqual(read.warnings, [])
      // No api-url: canaryroll/action@v1's server; no auto-advance: not sent (the server's default, on).
      const { "api-url": _, ...noUrl } = base
      const defaults = yield* ActionInputs.read(inputs({ ...noUrl, "version-id": "v1" }))
      assert.strictEqual(defaults.apiUrl, "https://canaryroll.com")
      assert.isUndefined(defaults.autoAdvance)
    }))

  it.effect("reads switches as canaryroll/action@v1 does, warning about words that are neither true nor false", () =>
    Effect.gen(function*() {
      const read = (values: Record<string, string>) => ActionInputs.read(inputs({ ...base, "version-id": "v", ...values }))
      // [value, auto-start/wait/upload (on only for "true"), auto-advance (off only for "false"), warned]
      const table: ReadonlyArray<readonly [string, boolean, boolean, boolean]> = [
        ["true", true, true, false],
        ["false", false, false, false],
        ["True", false, true, true],
        ["FALSE", false, true, true],
        ["yes", false, true, true],
        ["0", false, true, true]
      ]
      for (const [value, on, advance, warned] of table) {
        const got = yield* read({ "auto-start": value, wait: value, upload: value, "auto-advance": value })
        assert.deepStrictEqual(
          [got.autoStart, got.wait, got.upload !== undefined, got.autoAdvance, got.warnings.length],
          [on, on, on, advance, warned ? 4 : 0],
          value
        )
        if (warned) assert.include(got.warnings.join("\n"), `Input wait is ${JSON.stringify(value)}: only "true" turns it on`)
      }
      const polled = yield* read({ "poll-interval": "0" })
      assert.strictEqual(polled.pollIntervalSeconds, 1)
      assert.include(polled.warnings[0], "poll-interval")
    }))

  it.effect("names the input that is wrong", () =>
    Effect.gen(function*() {
      const failure = (values: Record<string, string>) =>
        Effect.map(Effect.flip(ActionInputs.read(inputs(values))), (error) => error.message)
      assert.include(yield* failure(base), "version-id")
      assert.include(yield* failure({ ...base, "version-id": "v", "wait-timeout": "soon" }), "wait-timeout")
      assert.include(yield* failure({ ...base, "version-id": "v", "poll-interval": "-1" }), "poll-interval")
      assert.include(yield* failure({ ...base, "version-id": "v", "cf-access-client-id": "id" }), "cf-access-client-secret")
      assert.include(yield* failure({ ...base, "version-id": "v", "api-url": "canaryroll.example.com" }), "api-url")
      const { "api-token": _, ...noToken } = base
      assert.include(yield* failure({ ...noToken, "version-id": "v" }), "api-token")
      // upload: true needs no version-id.
      const upload = yield* ActionInputs.read(inputs({ ...base, upload: "true", tag: "t" }))
      assert.deepStrictEqual(upload.upload, { workingDirectory: ".", message: undefined, tag: "t" })
    }))
})

describe("secrets", () => {
  it("masks the token and the Cloudflare Access secret when given, as the public action does", () => {
    assert.deepStrictEqual(ActionInputs.secrets(inputs({ ...base, "cf-access-client-secret": " s3cret\n" })), ["crt_x", "s3cret"])
    assert.deepStrictEqual(ActionInputs.secrets(inputs({ "api-token": "", "cf-access-client-secret": "  " })), [])
  })
})

describe("workflow files", () => {
  it.effect("outputs survive any value, newlines included, and the last one wins", () =>
    Effect.gen(function*() {
      const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "canaryroll-outputs-")), "out")
      fs.writeFileSync(file, "")
      const env = { GITHUB_OUTPUT: file }
      yield* WorkflowFiles.setOutput(env, "status", "pending")
      yield* WorkflowFiles.setOutput(env, "note", "two\nlines = and <<")
      yield* WorkflowFiles.setOutput(env, "status", "completed")
      assert.deepStrictEqual(WorkflowFiles.parseOutputs(fs.readFileSync(file, "utf8")), {
        status: "completed",
        note: "two\nlines = and <<"
      })
    }))
})

describe("wrangler's output file", () => {
  it("finds the version-upload entry and ignores the rest", () => {
    const ndjson = [
      `{"type":"wrangler-session","version":1,"wrangler_version":"4.164.0"}`,
      `not json`,
      `{"type":"version-upload","version":1,"worker_name":"storefront","worker_tag":"abc","version_id":"528859d3-4c77-4fab-af42-794efedb147d"}`,
      ``
    ].join("\n")
    assert.deepStrictEqual(WranglerUpload.readVersionUpload(ndjson), {
      versionId: "528859d3-4c77-4fab-af42-794efedb147d",
      workerName: "storefront",
      previewUrl: undefined
    })
    assert.isUndefined(WranglerUpload.readVersionUpload(`{"type":"command-failed","code":7003}`))
  })

  it("runs wrangler without the action's inputs (the token among them) in its environment", () => {
    const step = {
      ...inputs({ ...base, "cf-access-client-secret": "access-secret", upload: "true" }),
      "input_lower-case": "x",
      CLOUDFLARE_API_TOKEN: "cf-token",
      CLOUDFLARE_ACCOUNT_ID: "acc",
      WRANGLER_SEND_METRICS: "false",
      PATH: "/usr/bin",
      HOME: "/home/runner",
      GITHUB_OUTPUT: "/tmp/out",
      UNSET: undefined
    }
    assert.deepStrictEqual(WranglerUpload.childEnvironment(step, "/tmp/wrangler.ndjson"), {
      CLOUDFLARE_API_TOKEN: "cf-token",
      CLOUDFLARE_ACCOUNT_ID: "acc",
      WRANGLER_SEND_METRICS: "false",
      PATH: "/usr/bin",
      HOME: "/home/runner",
      GITHUB_OUTPUT: "/tmp/out",
      WRANGLER_OUTPUT_FILE_PATH: "/tmp/wrangler.ndjson"
    })
  })

  it("prefers the project's own wrangler, then PATH, then npx", () => {
    const project = fs.mkdtempSync(path.join(os.tmpdir(), "canaryroll-project-"))
    const nested = path.join(project, "workers", "api")
    fs.mkdirSync(nested, { recursive: true })
    assert.deepStrictEqual(WranglerUpload.locate(nested, { PATH: "" }), ["npx", "--yes", "wrangler"])
    fs.mkdirSync(path.join(project, "node_modules", ".bin"), { recursive: true })
    fs.writeFileSync(path.join(project, "node_modules", ".bin", "wrangler"), "#!/bin/sh\n", { mode: 0o755 })
    assert.deepStrictEqual(WranglerUpload.locate(nested, { PATH: "" }), [path.join(project, "node_modules", ".bin", "wrangler")])
  })
})

describe("job summary", () => {
  it("links the release and marks the current step", () => {
    const release: Schemas.PublicDeployment = {
      id: "dep_1", workerId: "wrk_1", teamId: "team_1", planId: "plan_1", cfVersionId: "v2", cfPreviousVersionId: "v1",
      status: "in_progress", currentStep: 1, autoAdvance: true, name: "abc123", ticketUrl: null,
      stepsSnapshot: [{ percentage: 10, waitSeconds: 20 }, { percentage: 50, waitSeconds: 20 }, { percentage: 100, waitSeconds: 20 }],
      startedAt: null, completedAt: null, createdAt: "2026-11-26T10:00:00.000Z"
    }
    const markdown = JobSummary.render({
      release,
      releaseUrl: CanaryRollApi.releaseUrl("https://cr.example.com", "demo", "dep_1"),
      progress: undefined,
      uploadedVersion: true,
      note: undefined
    })
    assert.include(markdown, "[Open release dep_1](https://cr.example.com/teams/demo/deployments/dep_1)")
    assert.include(markdown, "| 1 | 10% | 20s | done |")
    assert.include(markdown, "| 2 | 50% | 20s | **current** |")
    assert.include(markdown, "(uploaded by this step)")
    assert.include(markdown, "| Name | abc123 |")
  })
})
