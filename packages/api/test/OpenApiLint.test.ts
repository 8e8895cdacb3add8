/**
 * The OpenAPI document (`/api/openapi.json`: the server answers `OpenApi.fromApi(Api)`, built here
 * the same way) lints clean with Redocly's recommended rules, run by the real `@redocly/cli`; and
 * what Redocly does not check, people and client generators still need: a summary and a
 * description on every operation, the bounds of every request string and array (the same bounds
 * the schemas enforce), the statuses each operation can answer, `Retry-After` where it is sent.
 */
import { assert, describe, it } from "@effect/vitest"
import { Result, Schema } from "effect"
import { OpenApi } from "effect/http-api"
import { execFile } from "node:child_process"
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { createRequire } from "node:module"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { promisify } from "node:util"
import { Api, Schemas as S } from "../src/index.ts"

type Json = any

const document: Json = OpenApi.fromApi(Api.Api)
const schemas: Record<string, Json> = document.components.schemas

const operations = Object.entries(document.paths as Record<string, Record<string, Json>>).flatMap(([path, item]) =>
  Object.entries(item).map(([method, operation]) => ({ name: `${method.toUpperCase()} ${path}`, method, path, operation }))
)

const resolve = (schema: Json): Json => schema.$ref === undefined ? schema : schemas[schema.$ref.split("/").at(-1)]

/** Where a request string or array says no bound: `body.steps`, `path:team`. */
const unbounded = (schema: Json, at: string, seen: ReadonlySet<string> = new Set()): Array<string> => {
  const ref: string | undefined = schema.$ref
  if (ref !== undefined && seen.has(ref)) return []
  const next = ref === undefined ? seen : new Set([...seen, ref])
  const node = resolve(schema)
  const found: Array<string> = []
  if (node.type === "string" && node.maxLength === undefined && node.enum === undefined && node.const === undefined) {
    found.push(`${at}: string without maxLength`)
  }
  if (node.type === "array") {
    if (node.maxItems === undefined) found.push(`${at}: array without maxItems`)
    if (node.items !== undefined) found.push(...unbounded(node.items, `${at}[]`, next))
  }
  for (const [key, value] of Object.entries(node.properties ?? {})) found.push(...unbounded(value, `${at}.${key}`, next))
  for (const branches of [node.anyOf, node.oneOf, node.allOf]) {
    for (const branch of branches ?? []) found.push(...unbounded(branch, at, next))
  }
  return found
}

describe("the OpenAPI document", () => {
  it("lints clean with @redocly/cli's recommended rules: no error, no warning", async () => {
    const directory = mkdtempSync(join(tmpdir(), "canaryroll-openapi-"))
    try {
      const file = join(directory, "openapi.json")
      writeFileSync(file, JSON.stringify(document))
      // The CLI itself (its bin script, on the Node running the tests), as a person or CI runs it.
      const cli = createRequire(import.meta.url).resolve("@redocly/cli/bin/cli.js")
      const run = await promisify(execFile)(
        process.execPath,
        [cli, "lint", "--extends", "recommended", "--format", "json", file],
        { env: { ...process.env, REDOCLY_TELEMETRY: "off", REDOCLY_SUPPRESS_UPDATE_NOTICE: "true" }, maxBuffer: 64 * 1024 * 1024 }
      ).catch((failed: { stdout?: string; stderr?: string }) => ({ stdout: failed.stdout ?? "", stderr: failed.stderr ?? "" }))
      const report = JSON.parse(run.stdout) as {
        totals: { errors: number; warnings: number }
        problems: Array<{ ruleId: string; message: string; location: Array<{ pointer: string }> }>
      }
      const problems = report.problems.map((problem) => `${problem.ruleId} at ${problem.location[0]?.pointer}: ${problem.message}`)
      assert.deepStrictEqual(problems, [], "Redocly's findings")
      assert.deepStrictEqual(report.totals, { ...report.totals, errors: 0, warnings: 0 })
    } finally {
      rmSync(directory, { recursive: true, force: true })
    }
  }, 60_000)

  it("gives every operation a summary and a description, and every tag a description", () => {
    for (const { name, operation } of operations) {
      assert.isString(operation.summary, name)
      assert.isAbove(operation.description?.length ?? 0, 20, `${name}: description`)
    }
    for (const tag of document.tags) assert.isString(tag.description, `tag ${tag.name}`)
    assert.isAbove(document.servers.length, 0)
  })

  it("bounds every request string and array (path, query and body)", () => {
    const found = operations.flatMap(({ name, operation }) => [
      ...(operation.parameters ?? []).flatMap((parameter: Json) =>
        unbounded(parameter.schema, `${parameter.in}:${parameter.name}`)
      ),
      ...Object.values(operation.requestBody?.content ?? {}).flatMap((media: Json) => unbounded(media.schema, "body"))
    ].map((problem) => `${name} ${problem}`))
    assert.deepStrictEqual(found, [])
  })

  it("declares the statuses operations answer: 401, 403 and 404 under a team, 503 everywhere, Retry-After on 429", () => {
    for (const { name, path, method, operation } of operations) {
      const statuses = Object.keys(operation.responses)
      assert.include(statuses, "503", name)
      assert.include(statuses, "400", name)
      if (path.startsWith("/api/teams/{team}")) assert.includeMembers(statuses, ["401", "403", "404"], name)
      if (method !== "get") assert.includeMembers(statuses, ["403", "409"], name)
      if (operation.requestBody !== undefined) assert.includeMembers(statuses, ["413", "415"], name)
      if (statuses.includes("429")) assert.isDefined(operation.responses["429"].headers?.["retry-after"], name)
    }
    const unavailable = document.paths["/api/teams/{team}/deployments/{id}"].get.responses["503"]
    assert.isDefined(unavailable.headers?.["retry-after"])
    for (const throttled of ["/api/auth/login", "/api/auth/signup", "/api/me/password"]) {
      assert.property(document.paths[throttled].post.responses, "429", throttled)
    }
  })

  it("declares the Idempotency-Key header on the release changes, with the server's bound, and not on reads", () => {
    const keyOf = (operation: Json) => (operation.parameters ?? []).find((parameter: Json) => parameter.name === "Idempotency-Key")
    const base = "/api/teams/{team}/deployments"
    for (const path of [`${base}/workers/{workerId}/deployments`, `${base}/{id}/start`, `${base}/{id}/rollback`]) {
      const key = keyOf(document.paths[path].post)
      assert.deepInclude(key, { in: "header", required: false }, path)
      assert.strictEqual(key.schema.maxLength, 255, path)
    }
    assert.isUndefined(keyOf(document.paths[`${base}/{id}`].get))
  })
})

describe("the declared bounds are the enforced ones", () => {
  const maxLengthOf = (schema: Schema.Top): number => {
    const declared: Json = Schema.toJsonSchemaDocument(schema).schema
    assert.isNumber(declared.maxLength)
    return declared.maxLength
  }
  const accepts = (schema: Schema.Top, value: string) => Result.isSuccess(Schema.decodeUnknownResult(schema as Schema.Codec<unknown>)(value))

  const cases: ReadonlyArray<readonly [string, Schema.Top, (length: number) => string]> = [
    ["Text(200)", S.Text(200), (length) => "x".repeat(length)],
    ["Reference", S.Reference, (length) => "w".repeat(length)],
    ["Password", S.Password, (length) => "p".repeat(length)],
    ["Name", S.Name, (length) => "n".repeat(length)],
    ["Slug", S.Slug, (length) => "s".repeat(length)],
    ["Email", S.Email, (length) => `${"a".repeat(length - 5)}@b.co`],
    ["HttpUrl(2000)", S.HttpUrl(2000), (length) => `https://e.co/${"a".repeat(length - 13)}`],
    ["ScriptName", S.ScriptName, (length) => "a".repeat(length)],
    ["AccountId", S.AccountId, (length) => "0".repeat(length)]
  ]
  for (const [name, schema, valueOfLength] of cases) {
    it(`${name}: a value of the declared maxLength is accepted, one character more is refused`, () => {
      const max = maxLengthOf(schema)
      assert.isTrue(accepts(schema, valueOfLength(max)), `${name} at ${max}`)
      assert.isFalse(accepts(schema, valueOfLength(max + 1)), `${name} at ${max + 1}`)
    })
  }

  it("a plan's steps and a channel's recipients declare the counts the schemas refuse beyond", () => {
    const body = (path: string, method: string) =>
      resolve(document.paths[path][method].requestBody.content["application/json"].schema)
    const plan = body("/api/teams/{team}/plans", "post")
    assert.strictEqual(resolve(plan.properties.steps).maxItems, 20)
    const channel = JSON.stringify(body("/api/teams/{team}/notifications/channels", "post"))
    assert.include(channel, "\"maxItems\":50")
  })
})
