import { assert, describe, it } from "@effect/vitest"
import { WebhookSignature } from "../src/index.ts"

// A vector computed outside this code: printf '%s' "$timestamp.$body" | openssl dgst -sha256 -hmac "$secret"
const secret = "whsec_MfKQ9r2JxL3vYh7sT1cW8pZ0aN4eB6uD"
const timestamp = 1_767_225_600
const body = `{"event":{"id":"release-1:10"}}`
const expected = "v1=410b3fa9ac338eca74463b766c636804d78568dfa1b956972ecc68210259ace5"

describe("WebhookSignature", () => {
  it("signs HMAC-SHA256 over timestamp.body with the secret", () => {
    assert.strictEqual(WebhookSignature.sign(secret, timestamp, body), expected)
    assert.deepStrictEqual(WebhookSignature.headers({ secret, timestamp, body, deliveryId: "dlv_1" }), {
      "X-CanaryRoll-Signature": expected,
      "X-CanaryRoll-Timestamp": "1767225600",
      "X-CanaryRoll-Delivery": "dlv_1"
    })
  })

  it("verifies a signature made with the known secret", () => {
    assert.deepStrictEqual(
      WebhookSignature.verify({ secret, body, signature: expected, timestamp: "1767225600", nowSeconds: timestamp + 10 }),
      { valid: true }
    )
    // one good signature among several (a receiver during a secret rotation)
    assert.deepStrictEqual(
      WebhookSignature.verify({ secret, body, signature: `v1=${"0".repeat(64)}, ${expected}`, timestamp: "1767225600", nowSeconds: timestamp }),
      { valid: true }
    )
  })

  it("signs with every secret in force, current first, and each verifies", () => {
    const old = "whsec_the-secret-being-rotated-out"
    const header = WebhookSignature.headers({ secret: [secret, old], timestamp, body, deliveryId: "dlv_1" })["X-CanaryRoll-Signature"]!
    assert.strictEqual(header, `${expected},${WebhookSignature.sign(old, timestamp, body)}`)
    for (const key of [secret, old]) {
      assert.deepStrictEqual(
        WebhookSignature.verify({ secret: key, body, signature: header, timestamp: "1767225600", nowSeconds: timestamp }),
        { valid: true }
      )
    }
  })

  it("a tampered body, another secret or another timestamp fails", () => {
    const check = (overrides: Partial<Parameters<typeof WebhookSignature.verify>[0]>) =>
      WebhookSignature.verify({ secret, body, signature: expected, timestamp: "1767225600", nowSeconds: timestamp, ...overrides })
    assert.deepStrictEqual(check({ body: body.replace("10", "11") }), { valid: false, reason: "mismatch" })
    assert.deepStrictEqual(check({ body: `${body} ` }), { valid: false, reason: "mismatch" })
    assert.deepStrictEqual(check({ secret: "whsec_other-secret-of-some-length" }), { valid: false, reason: "mismatch" })
    assert.deepStrictEqual(check({ timestamp: "1767225601", nowSeconds: timestamp + 1 }), { valid: false, reason: "mismatch" })
  })

  it("a timestamp outside the tolerance is refused as stale, whatever the signature", () => {
    const check = (nowSeconds: number, toleranceSeconds?: number) =>
      WebhookSignature.verify({ secret, body, signature: expected, timestamp: "1767225600", nowSeconds, toleranceSeconds })
    assert.deepStrictEqual(check(timestamp + 300), { valid: true })
    assert.deepStrictEqual(check(timestamp + 301), { valid: false, reason: "stale" })
    assert.deepStrictEqual(check(timestamp - 301), { valid: false, reason: "stale" })
    assert.deepStrictEqual(check(timestamp + 50, 30), { valid: false, reason: "stale" })
  })

  it("missing or malformed headers are malformed", () => {
    const check = (signature: string | null, stamp: string | null) =>
      WebhookSignature.verify({ secret, body, signature, timestamp: stamp, nowSeconds: timestamp })
    assert.deepStrictEqual(check(null, "1767225600"), { valid: false, reason: "malformed" })
    assert.deepStrictEqual(check(expected, null), { valid: false, reason: "malformed" })
    assert.deepStrictEqual(check(expected, "soon"), { valid: false, reason: "malformed" })
    assert.deepStrictEqual(check("sha256=abc", "1767225600"), { valid: false, reason: "malformed" })
    assert.deepStrictEqual(check("v1=zz", "1767225600"), { valid: false, reason: "mismatch" })
  })

  it("generated secrets are distinct and long", () => {
    const a = WebhookSignature.generateSecret()
    assert.match(a, /^whsec_[A-Za-z0-9_-]{43}$/)
    assert.notStrictEqual(a, WebhookSignature.generateSecret())
  })
})
