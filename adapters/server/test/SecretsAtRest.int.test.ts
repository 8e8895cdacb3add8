/**
 * The database holds no secret in clear, and the server logs none (design: "HTTP API": tokens are
 * stored only as a hash, Cloudflare API tokens encrypted at rest).
 *
 * Over real HTTP, people sign up and log in (one with a wrong password), create user tokens,
 * team tokens and invitations (accepted, pending, revoked), two teams save Cloudflare API tokens
 * (and one save is refused), a release is created and started. Then every table of the schema,
 * found in `pg_tables` (audit_log and events included), is read row by row as text and searched
 * for every secret the test saw: passwords, `crt_`/`cru_` token values, invitation tokens,
 * session cookie values, Cloudflare API tokens and the encryption key. The stored forms are
 * checked too: `scrypt$…` hashes that verify, SHA-256 hex of each token and session, sealed
 * Cloudflare tokens that open only with their own row's associated data, so one copied into
 * another team's row does not decrypt (and that team's Cloudflare calls are refused, not made
 * with the other team's token). Every log line the server wrote, at every level, is searched
 * for the same secrets.
 */
import { assert, describe, it } from "@effect/vitest"
import * as TestDatabase from "@canaryroll/postgres/test-database"
import { Cause, Context, Effect, Logger, Redacted, References } from "effect"
import * as crypto from "node:crypto"
import * as util from "node:util"
import * as ApiToken from "../src/security/ApiToken.ts"
import * as PasswordHash from "../src/security/PasswordHash.ts"
import { SecretBox } from "../src/security/SecretBox.ts"
import * as Tables from "./support/Tables.ts"
import * as TestServer from "./support/TestServer.ts"
import * as TestTeam from "./support/TestTeam.ts"

const database = TestDatabase.forFile()

const randomText = (bytes: number) => crypto.randomBytes(bytes).toString("base64url")
const sha256 = (text: string) => crypto.createHash("sha256").update(text, "utf8").digest("hex")
const hex64 = /^[0-9a-f]{64}$/

/** The session secret in a `Set-Cookie` header. */
const sessionOf = (response: TestServer.Response) => {
  const cookie = TestTeam.cookieOf(response)
  return { cookie, secret: cookie.slice(cookie.indexOf("=") + 1) }
}

/** Every log entry as text: message, cause, annotations and spans. */
const makeCapture = () => {
  const lines: Array<string> = []
  const logger = Logger.make((options) => {
    lines.push(
      [
        options.logLevel,
        util.inspect(options.message, { depth: 20 }),
        Cause.pretty(options.cause),
        util.inspect(options.fiber.getRef(References.CurrentLogAnnotations), { depth: 20 }),
        util.inspect(options.fiber.getRef(References.CurrentLogSpans))
      ].join(" ")
    )
  })
  return { lines, logger }
}

describe("secrets at rest", () => {
  it.effect("no password, token, cookie or Cloudflare token is stored or logged in clear", () =>
    Effect.gen(function*() {
      const capture = makeCapture()
      const server = yield* TestServer.start(database).pipe(
        Effect.provide(Logger.layer([capture.logger])),
        Effect.provideService(References.MinimumLogLevel, "All")
      )
      const { client, seeded, simulator } = server
      /** Every secret the test saw, by what it is. */
      const secrets: Array<{ readonly what: string; readonly value: string }> = []
      const secret = (what: string, value: string) => {
        assert.isAtLeast(value.length, 12, `${what} is long enough to search for`)
        secrets.push({ what, value })
        return value
      }

      // Team A, the way TestTeam sets it up: admin (password, session), Cloudflare token, 3 team tokens.
      const team = yield* TestTeam.create(server, "acme")
      secret("the TestTeam admin's password", "correct horse battery staple")
      secret("team A's admin session", team.adminCookie.slice(team.adminCookie.indexOf("=") + 1))
      secret("the seeded Cloudflare API token", seeded.apiToken)
      for (const role of ["read_only", "deploy", "admin"] as const) secret(`team A's ${role} token`, team.tokens[role])
      const base = `/api/teams/${team.slug}`
      const asAdmin = { cookie: team.adminCookie }

      // A second person: sign-up, a wrong password, a second log-in, a log-out.
      const devPassword = secret("dev's password", `dev ${randomText(18)}`)
      const signup = yield* client.request("POST", "/api/auth/signup", {
        body: { email: "dev@acme.example", name: "Dev", password: devPassword }
      })
      TestTeam.expectStatus(signup, 201, "sign up dev")
      const devSession = sessionOf(signup)
      secret("dev's sign-up session", devSession.secret)
      const wrongPassword = secret("a wrong password", `wrong ${randomText(18)}`)
      const wrong = yield* client.request("POST", "/api/auth/login", { body: { email: "dev@acme.example", password: wrongPassword } })
      TestTeam.expectStatus(wrong, 401, "log in with a wrong password")
      const login = yield* client.request("POST", "/api/auth/login", { body: { email: "dev@acme.example", password: devPassword } })
      TestTeam.expectStatus(login, 200, "log in")
      const loggedOut = sessionOf(login)
      secret("dev's logged-out session", loggedOut.secret)
      TestTeam.expectStatus(yield* client.request("POST", "/api/auth/logout", { cookie: loggedOut.cookie }), 204, "log out")

      // User tokens: one used, one revoked.
      const userTokens: Array<{ readonly id: string; readonly token: string }> = []
      for (const name of ["laptop", "old laptop"]) {
        const issued = yield* client.request("POST", "/api/me/tokens", { cookie: devSession.cookie, body: { name } })
        TestTeam.expectStatus(issued, 201, `user token ${name}`)
        assert.match(issued.body.token, /^cru_/)
        userTokens.push({ id: issued.body.id, token: secret(`user token ${name}`, issued.body.token) })
      }
      TestTeam.expectStatus(yield* client.request("GET", "/api/me", { token: userTokens[0]!.token }), 200, "use a user token")
      TestTeam.expectStatus(
        yield* client.request("DELETE", `/api/me/tokens/${userTokens[1]!.id}`, { cookie: devSession.cookie }),
        204,
        "revoke a user token"
      )

      // Invitations: accepted, pending, revoked.
      const invitations: Array<string> = []
      for (const email of ["dev@acme.example", "later@acme.example", "gone@acme.example"]) {
        const invited = yield* client.request("POST", `${base}/invitations`, { ...asAdmin, body: { email, role: "deploy" } })
        TestTeam.expectStatus(invited, 201, `invite ${email}`)
        invitations.push(secret(`the invitation of ${email}`, invited.body.token))
        assert.include(invited.body.acceptUrl, invited.body.token)
        if (email === "gone@acme.example") {
          TestTeam.expectStatus(yield* client.request("DELETE", `${base}/invitations/${invited.body.id}`, asAdmin), 204, "revoke")
        }
      }
      const accepted = yield* client.request("POST", "/api/invitations/accept", { cookie: devSession.cookie, body: { token: invitations[0] } })
      TestTeam.expectStatus(accepted, 200, "accept the invitation")

      // Team tokens used (last use stamped) and one revoked.
      TestTeam.expectStatus(yield* client.request("GET", base, { token: team.tokens.read_only }), 200, "use a team token")
      TestTeam.expectStatus(yield* client.request("DELETE", `${base}/tokens/${team.tokenIds.admin}`, asAdmin), 204, "revoke a team token")

      // A refused Cloudflare token is neither stored nor echoed.
      const refusedToken = secret("a Cloudflare token Cloudflare refuses", randomText(30))
      const refused = yield* client.request("PUT", `${base}/cloudflare/accounts/${seeded.accountId}`, {
        ...asAdmin,
        body: { apiToken: refusedToken }
      })
      // docs/api.md: a Cloudflare token that is refused is a 400 naming the field.
      assert.strictEqual(refused.status, 400, JSON.stringify(refused.body))
      assert.strictEqual(refused.body.error, "invalid_request")
      assert.match(refused.body.message, /^apiToken: Cloudflare refuses the token/)
      assert.notInclude(JSON.stringify(refused.body), refusedToken)

      // Team B, created by dev, with its own Cloudflare account, token and Worker. Team A's account
      // is taken: even a token that reaches it cannot connect it to a second team.
      const teamB = yield* client.request("POST", "/api/teams", { cookie: devSession.cookie, body: { name: "Beta", slug: "beta" } })
      TestTeam.expectStatus(teamB, 201, "create team B")
      const sharedToken = secret("a second token for team A's account", simulator.createToken({ accountIds: [seeded.accountId] }).value)
      const taken = yield* client.request("PUT", `/api/teams/beta/cloudflare/accounts/${seeded.accountId}`, {
        cookie: devSession.cookie,
        body: { apiToken: sharedToken }
      })
      TestTeam.expectStatus(taken, 409, "connect team A's account to team B")
      assert.strictEqual(taken.body.error, "cloudflare_account_taken")
      const betaAccount = simulator.createAccount({ name: "Beta" }).id
      simulator.createScript({ accountId: betaAccount, scriptName: seeded.scripts[0]!.name, requestsPerMinute: 600 })
      const betaToken = secret("team B's Cloudflare API token", simulator.createToken({ accountIds: [betaAccount] }).value)
      const saved = yield* client.request("PUT", `/api/teams/beta/cloudflare/accounts/${betaAccount}`, {
        cookie: devSession.cookie,
        body: { apiToken: betaToken }
      })
      TestTeam.expectStatus(saved, 200, "save team B's Cloudflare token")
      assert.notInclude(JSON.stringify(saved.body), betaToken)
      const betaWorker = yield* client.request("POST", "/api/teams/beta/workers", {
        cookie: devSession.cookie,
        body: { accountId: betaAccount, scriptName: seeded.scripts[0]!.name }
      })
      TestTeam.expectStatus(betaWorker, 201, "register team B's Worker")
      const betaTeamToken = yield* client.request("POST", "/api/teams/beta/tokens", {
        cookie: devSession.cookie,
        body: { name: "beta-ci", role: "deploy" }
      })
      TestTeam.expectStatus(betaTeamToken, 201, "team B's token")
      secret("team B's deploy token", betaTeamToken.body.token)

      // A release, so that the events and the audit log hold a token's actor.
      const worker = team.workers[0]!
      const release = yield* client.request("POST", `${base}/deployments/workers/${worker.workerId}/deployments`, {
        token: team.tokens.deploy,
        body: { versionId: worker.goodVersionId }
      })
      TestTeam.expectStatus(release, 201, "create a release")
      TestTeam.expectStatus(
        yield* client.request("POST", `${base}/deployments/${release.body.id}/start`, { token: team.tokens.deploy }),
        200,
        "start it"
      )
      yield* TestServer.runDue(server)

      // Listings show what identifies a secret, never the secret.
      for (const path of [`${base}/tokens`, `${base}/invitations`, `${base}/cloudflare/accounts`, `${base}/audit`]) {
        const listed = yield* client.request("GET", path, asAdmin)
        TestTeam.expectStatus(listed, 200, path)
        for (const { value, what } of secrets) assert.notInclude(JSON.stringify(listed.body), value, `${path} shows ${what}`)
      }
      const listedUserTokens = yield* client.request("GET", "/api/me/tokens", { cookie: devSession.cookie })
      for (const { value, what } of secrets) assert.notInclude(JSON.stringify(listedUserTokens.body), value, `/api/me/tokens shows ${what}`)

      // The encryption key itself, in the forms it is configured in.
      secret("the secret key (hex)", Buffer.from(TestServer.secretKey).toString("hex"))
      secret("the secret key (base64)", Buffer.from(TestServer.secretKey).toString("base64"))

      // ---- Every table, every row, as text.
      const tables = yield* Tables.dump(server)
      for (const table of ["users", "sessions", "user_tokens", "team_tokens", "invitations", "cloudflare_credentials", "events", "audit_log"]) {
        assert.property(tables, table)
        assert.isNotEmpty(tables[table]!, `${table} has rows`)
      }
      for (const [table, rows] of Object.entries(tables)) {
        for (const row of rows) {
          for (const { what, value } of secrets) {
            assert.notInclude(row, value, `${what} is in clear in ${table}: ${row}`)
            // A token without its prefix is still the token.
            if (/^cr[tui]_/.test(value)) assert.notInclude(row, value.slice(4), `${what} (without prefix) is in ${table}`)
          }
        }
      }

      // ---- Stored forms.
      const users = yield* Tables.query<{ email: string; password_hash: string }>(server, "SELECT email, password_hash FROM users")
      assert.strictEqual(users.length, 2)
      for (const user of users) assert.match(user.password_hash, /^scrypt\$\d+\$\d+\$\d+\$[A-Za-z0-9_-]+\$[A-Za-z0-9_-]+$/)
      const dev = users.find((user) => user.email === "dev@acme.example")!
      assert.isTrue(yield* PasswordHash.verify(Redacted.make(devPassword), dev.password_hash).pipe(Effect.orDie))
      assert.isFalse(yield* PasswordHash.verify(Redacted.make(wrongPassword), dev.password_hash).pipe(Effect.orDie))

      const sessions = (yield* Tables.query<{ id_hash: string }>(server, "SELECT id_hash FROM sessions")).map((row) => row.id_hash)
      for (const hash of sessions) assert.match(hash, hex64)
      assert.include(sessions, sha256(devSession.secret))
      assert.include(sessions, sha256(team.adminCookie.slice(team.adminCookie.indexOf("=") + 1)))
      assert.notInclude(sessions, sha256(loggedOut.secret), "a logged-out session is gone")

      const tokenHashes = (table: string) =>
        Effect.map(Tables.query<{ token_hash: string }>(server, `SELECT token_hash FROM ${table}`), (rows) => rows.map((row) => row.token_hash).sort())
      const userTokenHashes = yield* tokenHashes("user_tokens")
      assert.deepStrictEqual(userTokenHashes, userTokens.map(({ token }) => ApiToken.hash(token)).sort())
      const teamTokenHashes = yield* tokenHashes("team_tokens")
      assert.deepStrictEqual(
        teamTokenHashes,
        [...Object.values(team.tokens), betaTeamToken.body.token as string].map((token) => ApiToken.hash(token)).sort()
      )
      assert.deepStrictEqual(yield* tokenHashes("invitations"), invitations.map(sha256).sort())
      for (const hash of [...userTokenHashes, ...teamTokenHashes]) assert.match(hash, hex64)

      const box = Context.get(server.context, SecretBox)
      const credentials = yield* Tables.query<{ id: string; team_id: string; sealed_api_token: string; token_display: string }>(
        server,
        "SELECT id, team_id, sealed_api_token, token_display FROM cloudflare_credentials"
      )
      assert.strictEqual(credentials.length, 2)
      const rowA = credentials.find((row) => row.team_id === team.teamId)!
      const rowB = credentials.find((row) => row.team_id === teamB.body.id)!
      for (const [row, token] of [[rowA, seeded.apiToken], [rowB, betaToken]] as const) {
        assert.match(row.sealed_api_token, /^[A-Za-z0-9_-]+$/, "sealed: base64url")
        assert.strictEqual(Buffer.from(row.sealed_api_token, "base64url")[0], 1, "sealed: format version 1")
        assert.isTrue(box.isEncryptedWithCurrentKey(row.sealed_api_token))
        const opened = yield* box.decrypt(row.sealed_api_token, `cloudflare_credentials:${row.id}`).pipe(Effect.orDie)
        assert.strictEqual(Redacted.value(opened), token)
        assert.strictEqual(row.token_display, `${token.slice(0, 4)}…${token.slice(-4)}`)
      }

      // ---- Team A's sealed token copied into team B's row does not open there.
      const copied = yield* box.decrypt(rowA.sealed_api_token, `cloudflare_credentials:${rowB.id}`).pipe(Effect.flip)
      assert.strictEqual(copied.reason, "authenticationFailed")
      yield* Tables.query(server, "UPDATE cloudflare_credentials SET sealed_api_token = $1 WHERE id = $2", [rowA.sealed_api_token, rowB.id])
      const versions = yield* client.request("GET", `/api/teams/beta/workers/${betaWorker.body.id}/versions`, { cookie: devSession.cookie })
      assert.strictEqual(versions.status, 502, `team B's Cloudflare call with team A's sealed token: ${JSON.stringify(versions.body)}`)
      assert.strictEqual(versions.body.error, "cloudflare_credentials")
      assert.notInclude(JSON.stringify(versions.body), seeded.apiToken)
      // Team A's own row still opens.
      const versionsA = yield* client.request("GET", `${base}/workers/${worker.workerId}/versions`, asAdmin)
      TestTeam.expectStatus(versionsA, 200, "team A's own token still works")

      // ---- Storage failing while a secret is in flight: the server logs the cause of each 503,
      // and no secret may be in it. Renaming the tables makes every statement on them fail.
      for (const table of ["sessions", "team_tokens", "cloudflare_credentials"]) {
        yield* Tables.query(server, `ALTER TABLE ${table} RENAME TO ${table}_unavailable`)
      }
      const latePassword = secret("a password sent while storage fails", `late ${randomText(18)}`)
      const failing = [
        yield* client.request("POST", "/api/auth/signup", { body: { email: "late@acme.example", name: "Late", password: latePassword } }),
        yield* client.request("POST", "/api/auth/login", { body: { email: "dev@acme.example", password: devPassword } }),
        yield* client.request("GET", base, { token: team.tokens.deploy }),
        yield* client.request("GET", "/api/me", { cookie: devSession.cookie }),
        yield* client.request("PUT", `/api/teams/beta/cloudflare/accounts/${betaAccount}`, {
          token: userTokens[0]!.token,
          body: { apiToken: betaToken }
        })
      ]
      for (const response of failing) {
        assert.strictEqual(response.status, 503, JSON.stringify(response.body))
        for (const { value, what } of secrets) assert.notInclude(JSON.stringify(response.body), value, `a 503 shows ${what}`)
      }

      // ---- Logs: the capture worked, and no secret is in any line at any level.
      assert.isAtLeast(
        capture.lines.filter((line) => line.includes("storage unavailable")).length,
        failing.length,
        "each 503 was logged with its cause (else the check below proves little)"
      )
      const logText = capture.lines.join("\n")
      for (const { what, value } of secrets) assert.notInclude(logText, value, `${what} was logged`)
    }).pipe(Effect.scoped))
})
