/**
 * The server composes storage, it does not write it: `adapters/server/src` holds no SQL, and only
 * the modules that compose layers import `@canaryroll/postgres`. SQL in a handler or a free
 * function welds the product to one database; every read and write goes through a port with
 * memory and Postgres layers (see docs/architecture.md, "Ports and layers").
 *
 * The checks read the source as text. Each detector is also run on a file that does hold SQL
 * (`adapters/postgres/src`), so a detector that stopped matching anything would fail here rather
 * than pass silently.
 */
import { assert, describe, it } from "@effect/vitest"
import * as fs from "node:fs"
import * as path from "node:path"
import { fileURLToPath } from "node:url"

const serverSource = fileURLToPath(new URL("../src", import.meta.url))
const postgresSource = fileURLToPath(new URL("../../postgres/src", import.meta.url))

/**
 * The composition roots: where the Node runtime picks its storage and wires the Postgres layers
 * of the ports. Each entry says why it may name `@canaryroll/postgres`.
 */
const compositionModules: ReadonlyMap<string, string> = new Map([
  ["Server.ts", "layerServices: the ports' Postgres layers, migrations and the client"],
  ["main.ts", "the process: the database client, migrations and the scheduler loop"],
  ["Readiness.ts", "layerPostgres: the readiness store over PgReadiness"],
  ["AdminAccount.ts", "layerPostgres: the directory's Postgres layers for `canaryroll admin create`"]
])

const sourceFiles = (directory: string): ReadonlyArray<string> =>
  fs.readdirSync(directory, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && /\.(ts|tsx|js|mjs)$/.test(entry.name))
    .map((entry) => path.join(entry.parentPath, entry.name))

/** What marks SQL in TypeScript source: a query template or statement keywords. */
const sqlMarkers: ReadonlyArray<readonly [string, RegExp]> = [
  ["a sql`…` template", /\bsql\s*`/],
  ["sql.unsafe / sql.literal / sql.in", /\bsql\.(unsafe|literal|in|insert|update|onDialect)\b/],
  ["a SELECT … FROM", /\bSELECT\b[\s\S]{0,400}?\bFROM\b/],
  ["an INSERT INTO", /\bINSERT\s+INTO\b/],
  ["an UPDATE … SET", /\bUPDATE\s+\w+\s+SET\b/],
  ["a DELETE FROM", /\bDELETE\s+FROM\b/],
  ["DDL", /\b(CREATE|ALTER|DROP)\s+(TABLE|INDEX|FUNCTION|TRIGGER)\b/],
  ["an advisory lock", /\bpg_(try_)?advisory_/]
]

const sqlIn = (text: string): ReadonlyArray<string> =>
  sqlMarkers.filter(([, pattern]) => pattern.test(text)).map(([name]) => name)

const importsPostgres = (text: string): boolean =>
  /(from|import)\s*\(?\s*["']@canaryroll\/postgres(\/[^"']*)?["']/.test(text)

describe("adapters/server/src", () => {
  it("holds no SQL", () => {
    const offenders = sourceFiles(serverSource).flatMap((file) => {
      const found = sqlIn(fs.readFileSync(file, "utf8"))
      return found.length === 0 ? [] : [`${path.relative(serverSource, file)}: ${found.join(", ")}`]
    })
    assert.deepStrictEqual(offenders, [])
  })

  it("imports @canaryroll/postgres only in the modules that compose layers", () => {
    const importing = sourceFiles(serverSource)
      .filter((file) => importsPostgres(fs.readFileSync(file, "utf8")))
      .map((file) => path.relative(serverSource, file))
    const outside = importing.filter((file) => !compositionModules.has(file))
    assert.deepStrictEqual(outside, [], "a module that is not a composition root imports @canaryroll/postgres")
    // Server.ts composes the Postgres storage: if it no longer imports the adapter, the check reads the wrong tree.
    assert.include(importing, "Server.ts")
  })

  it("the detectors find the SQL and the imports they look for", () => {
    const withSql = sourceFiles(postgresSource).filter((file) => sqlIn(fs.readFileSync(file, "utf8")).length > 0)
    assert.isAbove(withSql.length, 5)
    assert.deepStrictEqual(sqlIn("const rows = yield* sql`SELECT id FROM releases WHERE team_id = ${teamId}`"), [
      "a sql`…` template",
      "a SELECT … FROM"
    ])
    assert.deepStrictEqual(sqlIn(`const text = "DELETE FROM sessions WHERE expires_at < now()"`), ["a DELETE FROM"])
    assert.deepStrictEqual(sqlIn(`yield* Effect.log("selected the release from the list")`), [])
    assert.isTrue(importsPostgres(`import { PgAuditLog } from "@canaryroll/postgres"`))
    assert.isTrue(importsPostgres(`const pg = await import("@canaryroll/postgres")`))
    assert.isFalse(importsPostgres(`import * as Storage from "@canaryroll/app/Storage"`))
  })
})
