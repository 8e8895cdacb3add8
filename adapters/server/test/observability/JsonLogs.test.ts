/**
 * `CANARYROLL_LOG_FORMAT=json`: what one log call becomes. Each line is one JSON object with
 * `time`, `level` and `message`, the log annotations as fields (request id, team, release),
 * further arguments in `details` and a failure's trace in `cause`, their URLs cut to scheme and host;
 * and the logger writes exactly one line per call to standard output.
 */
import { assert, describe, it } from "@effect/vitest"
import { Cause, Effect, Logger } from "effect"
import * as JsonLogs from "../../src/observability/JsonLogs.ts"

const date = new Date("2026-12-06T07:00:00.000Z")

describe("JSON logs", () => {
  it("a line has time, level, message, the annotations as fields, details and cause", () => {
    const line = JsonLogs.formatLine({
      date,
      logLevel: "Warn",
      message: ["release rel_1: step failed\nretried", { attempt: 2 }],
      annotations: { requestId: "req-1", team: "acme", releaseId: "rel_1", level: "spoofed" },
      cause: Cause.fail(new Error("boom"))
    })
    assert.notInclude(line, "\n")
    const parsed = JSON.parse(line)
    assert.strictEqual(parsed.time, "2026-12-06T07:00:00.000Z")
    assert.strictEqual(parsed.level, "warning", "an annotation cannot replace the line's own fields")
    assert.strictEqual(parsed.message, "release rel_1: step failed\nretried")
    assert.strictEqual(parsed.requestId, "req-1")
    assert.strictEqual(parsed.team, "acme")
    assert.strictEqual(parsed.releaseId, "rel_1")
    assert.deepStrictEqual(parsed.details, [{ attempt: 2 }])
    assert.include(parsed.cause, "boom")
  })

  it("URLs in the details and the cause keep only their scheme and host; the message is the caller's", () => {
    const secretUrl = "https://hooks.slack.com/services/T000/B000/credential-in-the-path"
    const line = JsonLogs.formatLine({
      date,
      logLevel: "Error",
      message: ["metrics at http://127.0.0.1:9464/metrics", { url: secretUrl }],
      annotations: {},
      cause: Cause.fail(new Error(`POST ${secretUrl}: 500`))
    })
    assert.notInclude(line, "credential-in-the-path")
    assert.include(line, "hooks.slack.com")
    assert.strictEqual(JSON.parse(line).message, "metrics at http://127.0.0.1:9464/metrics")
  })

  it("the logger writes one JSON line per call to standard output, with Effect's annotations", async () => {
    const written: Array<string> = []
    const original = process.stdout.write.bind(process.stdout)
    process.stdout.write = ((chunk: string | Uint8Array) => {
      written.push(String(chunk))
      return true
    }) as typeof process.stdout.write
    try {
      await Effect.runPromise(
        Effect.logInfo("claimed").pipe(
          Effect.annotateLogs({ releaseId: "rel_9", requestId: "req-9" }),
          Effect.provide(Logger.layer([JsonLogs.logger]))
        )
      )
    } finally {
      process.stdout.write = original
    }
    assert.strictEqual(written.length, 1)
    assert.isTrue(written[0]!.endsWith("\n"))
    const parsed = JSON.parse(written[0]!)
    assert.deepInclude(parsed, { level: "info", message: "claimed", releaseId: "rel_9", requestId: "req-9" })
  })
})
