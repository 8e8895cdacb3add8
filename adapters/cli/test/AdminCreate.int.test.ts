/**
 * `canaryroll admin create` against a real database (this file's test database, as
 * `DATABASE_URL`): the command as a person runs it, the password on standard input or in
 * `CANARYROLL_ADMIN_PASSWORD` and never an argument; then the reference server on the same
 * database lets the new admin log in, and they administer their team.
 */
import * as TestDatabase from "@canaryroll/postgres/test-database"
import { SecretBox, Server } from "@canaryroll/server"
import { NodeServices } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { ConfigProvider, Console, Context, Effect, Layer, Redacted, Stdio, Stream } from "effect"
import { HttpServer } from "effect/http"
import * as Cli from "../src/Cli.ts"
import { ExitCode } from "../src/ExitCode.ts"

const database = TestDatabase.forFile()

const password = "correct horse battery staple"

/** Runs `canaryroll <args>` with this environment and standard input; its exit code and what it printed. */
const run = (args: ReadonlyArray<string>, options: { readonly env?: Record<string, string>; readonly stdin?: string } = {}) =>
  Effect.gen(function*() {
    const printed: Array<string> = []
    const console = yield* Console.Console
    const capture = (...parts: ReadonlyArray<unknown>) => void printed.push(parts.map(String).join(" "))
    // Refusals are written to stderr directly (Output.note): read them there too.
    const stderrWrite = process.stderr.write
    const exitCode = yield* Effect.acquireUseRelease(
      Effect.sync(() => {
        process.stderr.write = ((chunk: string | Uint8Array) => (capture(String(chunk).trimEnd()), true)) as typeof process.stderr.write
      }),
      () => Cli.run(args),
      () => Effect.sync(() => void (process.stderr.write = stderrWrite))
    ).pipe(
      Effect.provideService(Console.Console, { ...console, log: capture, error: capture }),
      Effect.provideService(
        ConfigProvider.ConfigProvider,
        ConfigProvider.fromEnvRecord({ DATABASE_URL: Redacted.value(database.url()), ...options.env })
      ),
      Effect.provide(Stdio.layerTest({
        stdinIsTerminal: Effect.succeed(false),
        stdin: Stream.make(new TextEncoder().encode(options.stdin ?? ""))
      })),
      Effect.provide(NodeServices.layer)
    )
    return { exitCode, printed: printed.join("\n") }
  })

/** The reference server on the same database, for the scope; its URL. */
const serverOnTheSameDatabase = Effect.map(
  Layer.build(
    Server.layerHttp(0, "127.0.0.1").pipe(
      Layer.provideMerge(Server.layerServices({
        client: database.schema("public"),
        secrets: SecretBox.layerFromKey(new Uint8Array(32).fill(7)),
        notifications: { deliver: false }
      }))
    )
  ),
  (context) => HttpServer.formatAddress(Context.get(context, HttpServer.HttpServer).address)
)

const post = (url: string, body: unknown) =>
  Effect.promise(() =>
    fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) })
  )

describe("canaryroll admin create", () => {
  it.live("creates a person and their team; the server lets them in as its admin", () =>
    Effect.gen(function*() {
      const created = yield* run(
        ["admin", "create", "--email", "root@example.com", "--name", "Root", "--team-slug", "ops", "--team-name", "Operations"],
        { stdin: `${password}\n` }
      )
      assert.strictEqual(created.exitCode, ExitCode.success, created.printed)
      assert.include(created.printed, "Created root@example.com (Root), admin of the team Operations (ops).")
      assert.notInclude(created.printed, password)

      const url = yield* serverOnTheSameDatabase
      const login = yield* post(`${url}/api/auth/login`, { email: "root@example.com", password })
      assert.strictEqual(login.status, 200, "the new admin logs in with the password from standard input")
      const cookie = (login.headers.get("set-cookie") ?? "").split(";")[0]!
      const teams = yield* Effect.promise(() => fetch(`${url}/api/teams`, { headers: { cookie } }).then((response) => response.json()))
      assert.deepStrictEqual(teams.map((team: any) => [team.slug, team.name, team.role]), [["ops", "Operations", "admin"]])
      const plans = yield* Effect.promise(() => fetch(`${url}/api/teams/ops/plans`, { headers: { cookie } }).then((response) => response.json()))
      assert.isAbove(plans.length, 0, "the team starts with the standard plan")
    }).pipe(Effect.scoped))

  it.live("takes the password from CANARYROLL_ADMIN_PASSWORD, never from an argument, and refuses what it cannot create", () =>
    Effect.gen(function*() {
      const asArgument = yield* run(["admin", "create", "--email", "a@example.com", "--team-slug", "a", "--password", password])
      assert.strictEqual(asArgument.exitCode, ExitCode.usage, "no --password flag")

      const noPassword = yield* run(["admin", "create", "--email", "b@example.com", "--team-slug", "b"])
      assert.strictEqual(noPassword.exitCode, ExitCode.usage, noPassword.printed)
      assert.include(noPassword.printed, "No password: pipe it on standard input or set CANARYROLL_ADMIN_PASSWORD")

      const weak = yield* run(["admin", "create", "--email", "c@example.com", "--team-slug", "c"], { stdin: "short\n" })
      assert.strictEqual(weak.exitCode, ExitCode.usage, weak.printed)
      assert.include(weak.printed, "must be at least 12 characters")

      const fromEnv = yield* run(["admin", "create", "--email", "d@example.com", "--team-slug", "dev"], {
        env: { CANARYROLL_ADMIN_PASSWORD: password }
      })
      assert.strictEqual(fromEnv.exitCode, ExitCode.success, fromEnv.printed)
      assert.include(fromEnv.printed, "Created d@example.com (d), admin of the team dev (dev).")

      const again = yield* run(["admin", "create", "--email", "D@example.com", "--team-slug", "dev2"], {
        env: { CANARYROLL_ADMIN_PASSWORD: password }
      })
      assert.strictEqual(again.exitCode, ExitCode.usage, again.printed)
      assert.include(again.printed, "email: an account for D@example.com already exists")
      const slugTaken = yield* run(["admin", "create", "--email", "e@example.com", "--team-slug", "dev"], {
        env: { CANARYROLL_ADMIN_PASSWORD: password }
      })
      assert.include(slugTaken.printed, `the team slug "dev" is taken`)
      // Both or neither: e@example.com was not created without its team.
      const retry = yield* run(["admin", "create", "--email", "e@example.com", "--team-slug", "eng"], {
        env: { CANARYROLL_ADMIN_PASSWORD: password }
      })
      assert.strictEqual(retry.exitCode, ExitCode.success, retry.printed)
    }))
})
