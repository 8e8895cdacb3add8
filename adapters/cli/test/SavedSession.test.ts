/**
 * Where `canaryroll login` keeps its session and how: `$XDG_CONFIG_HOME/canaryroll/session.json`
 * (`~/.config/…` without it, or with a relative one), 0600 in a 0700 directory, replaced whole,
 * a damaged file a usage hint rather than a crash.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit, Option, Redacted } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import * as SavedSession from "../src/SavedSession.ts"

const withEnv = <A, E>(env: Record<string, string | undefined>, effect: Effect.Effect<A, E>) =>
  Effect.acquireUseRelease(
    Effect.sync(() => {
      const before = Object.fromEntries(Object.keys(env).map((key) => [key, process.env[key]]))
      for (const [key, value] of Object.entries(env)) value === undefined ? delete process.env[key] : (process.env[key] = value)
      return before
    }),
    () => effect,
    (before) =>
      Effect.sync(() => {
        for (const [key, value] of Object.entries(before)) value === undefined ? delete process.env[key] : (process.env[key] = value)
      })
  )

describe("SavedSession", () => {
  it("follows XDG_CONFIG_HOME when it is absolute, else ~/.config", () => {
    assert.strictEqual(SavedSession.file({ XDG_CONFIG_HOME: "/x/config", HOME: "/home/ada" }), "/x/config/canaryroll/session.json")
    assert.strictEqual(SavedSession.file({ XDG_CONFIG_HOME: "relative", HOME: "/home/ada" }), "/home/ada/.config/canaryroll/session.json")
    assert.strictEqual(SavedSession.file({ HOME: "/home/ada" }), "/home/ada/.config/canaryroll/session.json")
  })

  it.effect("writes the owner's only file, reads it back, replaces it, removes it", () => {
    const config = fs.mkdtempSync(path.join(os.tmpdir(), "canaryroll-session-"))
    return withEnv({ XDG_CONFIG_HOME: config }, Effect.gen(function*() {
      assert.isTrue(Option.isNone(yield* SavedSession.read))
      const saved = { apiUrl: "http://localhost:8787", session: Redacted.make("secret-1"), email: "ada@example.com", team: null }
      const where = yield* SavedSession.write(saved)
      assert.strictEqual(where, path.join(config, "canaryroll", "session.json"))
      assert.strictEqual(fs.statSync(where).mode & 0o777, 0o600)
      assert.strictEqual(fs.statSync(path.dirname(where)).mode & 0o777, 0o700)
      yield* SavedSession.write({ ...saved, session: Redacted.make("secret-2"), team: "shop" })
      const read = Option.getOrThrow(yield* SavedSession.read)
      assert.strictEqual(Redacted.value(read.session), "secret-2")
      assert.strictEqual(read.team, "shop")
      // No temporary file left beside it.
      assert.deepStrictEqual(fs.readdirSync(path.dirname(where)), ["session.json"])

      fs.writeFileSync(where, "{ damaged")
      const damaged = yield* Effect.exit(SavedSession.read)
      assert.isTrue(Exit.isFailure(damaged))
      assert.include(String(damaged), "canaryroll login")

      yield* SavedSession.remove
      assert.isFalse(fs.existsSync(where))
    })).pipe(Effect.ensuring(Effect.sync(() => fs.rmSync(config, { recursive: true, force: true }))))
  })
})
