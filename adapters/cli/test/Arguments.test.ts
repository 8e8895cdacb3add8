import { assert, describe, it } from "@effect/vitest"
import { Option } from "effect"
import * as CanaryRollApi from "../src/CanaryRollApi.ts"
import * as ExitCode from "../src/ExitCode.ts"
import { parseDuration } from "../src/ReleaseCommands.ts"

describe("durations", () => {
  it("reads seconds and h/m/s combinations, and nothing else", () => {
    assert.deepStrictEqual(parseDuration("90"), Option.some(90))
    assert.deepStrictEqual(parseDuration("1.5"), Option.some(1.5))
    assert.deepStrictEqual(parseDuration("15m"), Option.some(900))
    assert.deepStrictEqual(parseDuration("1h30m"), Option.some(5400))
    assert.deepStrictEqual(parseDuration("2h5s"), Option.some(7205))
    for (const bad of ["", "m", "10x", "1h 30m", "-5", "5mm"]) assert.isTrue(Option.isNone(parseDuration(bad)), bad)
  })
})

describe("exit codes", () => {
  it("are distinct and map every final status", () => {
    const codes = Object.values(ExitCode.ExitCode)
    assert.strictEqual(new Set(codes).size, codes.length)
    assert.strictEqual(ExitCode.ofStatus("completed"), 0)
    assert.strictEqual(ExitCode.ofStatus("rolled_back"), ExitCode.ExitCode.rolledBack)
    assert.strictEqual(ExitCode.ofStatus("failed"), ExitCode.ExitCode.failed)
    assert.strictEqual(ExitCode.ofStatus("cancelled"), ExitCode.ExitCode.cancelled)
  })

  it("say what to do next: a 401 how to get a token, a 403 keeps the role the server names", () => {
    const refused = (status: number, message: string) =>
      new CanaryRollApi.ApiRefused({ method: "GET", path: "/x", status, code: "c", message })
    assert.strictEqual(ExitCode.ofApiError(refused(401, "bad token")), ExitCode.ExitCode.auth)
    assert.strictEqual(ExitCode.ofApiError(refused(403, "this needs the admin role")), ExitCode.ExitCode.auth)
    assert.strictEqual(ExitCode.ofApiError(refused(409, "finished")), ExitCode.ExitCode.error)
    assert.include(ExitCode.explain(refused(401, "bad token")), "canaryroll tokens create")
    assert.include(ExitCode.explain(refused(403, "this needs the admin role in team demo")), "admin role")
    const unreachable = new CanaryRollApi.ServerUnreachable({ url: "http://x", message: "refused" })
    assert.strictEqual(ExitCode.ofApiError(unreachable), ExitCode.ExitCode.error)
    assert.include(ExitCode.explain(unreachable), "--api-url")
  })
})
