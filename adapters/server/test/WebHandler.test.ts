/**
 * The application answers as a fetch handler (`Request` in, `Response` out), the way a Worker
 * serves it: `@canaryroll/app`'s routes through `HttpRouter.toWebHandler`, with no Node HTTP
 * listener, over the memory storage. The workerd bundle test (packages/app) proves it imports no
 * Node built-in; this one that it serves without one: a sign-up (password hashing, a session
 * cookie) and the session read back, JSON error bodies, the OpenAPI document.
 */
import { assert, describe, it } from "@effect/vitest"
import * as Application from "@canaryroll/app/Application"
import { Effect, Layer, Schema } from "effect"
import { HttpRouter, HttpServer } from "effect/http"
import * as PasswordHash from "../src/security/PasswordHash.ts"
import * as SecretBox from "../src/security/SecretBox.ts"
import * as Server from "../src/Server.ts"

const origin = "http://localhost:8787"

/** The fields the test reads, decoded as a client would. */
const Me = Schema.Struct({ user: Schema.Struct({ email: Schema.String }) })
const ErrorBody = Schema.Struct({ error: Schema.String })
const OpenApi = Schema.Struct({ paths: Schema.Record(Schema.String, Schema.Unknown) })
const read = async <S extends Schema.Decoder<unknown>>(schema: S, response: Response) =>
  Schema.decodeUnknownSync(schema)(await response.json())

const services = Server.layerServices({
  storage: "memory",
  config: { publicUrl: origin, passwordParameters: PasswordHash.testParameters },
  secrets: SecretBox.layerFromKey(new Uint8Array(32).fill(7)),
  notifications: { deliver: false }
})

describe("the application as a fetch handler", () => {
  it.live("signs up, reads the session back, and answers errors as JSON", () =>
    Effect.acquireUseRelease(
      Effect.sync(() =>
        HttpRouter.toWebHandler(
          // The services are merged, not only provided: the middlewares read them per request.
          Application.layerRoutes.pipe(Layer.provideMerge(services), Layer.provide(HttpServer.layerServices)),
          { disableLogger: true }
        )
      ),
      ({ handler }) =>
        Effect.promise(async () => {
          const signup = await handler(
            new Request(`${origin}/api/auth/signup`, {
              method: "POST",
              headers: { "content-type": "application/json" },
              body: JSON.stringify({ email: "ada@example.com", name: "Ada", password: "correct horse battery staple" })
            })
          )
          assert.strictEqual(signup.status, 201)
          const cookie = signup.headers.getSetCookie().map((line) => line.split(";")[0]).join("; ")
          assert.isNotEmpty(cookie)

          const me = await handler(new Request(`${origin}/api/me`, { headers: { cookie } }))
          assert.strictEqual(me.status, 200)
          assert.strictEqual((await read(Me, me)).user.email, "ada@example.com")

          const missing = await handler(new Request(`${origin}/api/nowhere`))
          assert.strictEqual(missing.status, 404)
          assert.strictEqual((await read(ErrorBody, missing)).error, "not_found")

          const openapi = await handler(new Request(`${origin}/api/openapi.json`))
          assert.strictEqual(openapi.status, 200)
          assert.property((await read(OpenApi, openapi)).paths, "/api/health")
        }),
      ({ dispose }) => Effect.promise(dispose)
    ), 60_000)
})
