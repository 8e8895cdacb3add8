/**
 * ApiToken: the token format (prefixes, length, alphabet, checksum) as secret scanners rely on
 * it, the stored hash and the display form.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Option, Redacted } from "effect"
import { Hex } from "effect/encoding"
import { ApiToken } from "../../src/index.ts"

/** The example in the module doc and README: a token issued by this format, pinned forever. */
const example = "crt_thgwWNiWl3S4XqgS60NfmQyL2XNEGw2aFPaU"

const alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

/**
 * The standard CRC-32, bit by bit as the specification states it: independent of the module's
 * table-driven one, so that a slip in either shows.
 */
const crc32 = (text: string): number => {
  let crc = 0xffffffff
  for (const byte of new TextEncoder().encode(text)) {
    crc ^= byte
    for (let bit = 0; bit < 8; bit++) crc = crc & 1 ? (crc >>> 1) ^ 0xedb88320 : crc >>> 1
  }
  return (crc ^ 0xffffffff) >>> 0
}

/** SHA-256 in hex by WebCrypto: independent of the module's pure-JavaScript digest. */
const sha256Hex = (text: string) =>
  Effect.promise(() => crypto.subtle.digest("SHA-256", new TextEncoder().encode(text))).pipe(
    Effect.map((digest) => Hex.encode(new Uint8Array(digest)))
  )

const issue = (kind: ApiToken.TokenKind) =>
  ApiToken.issue(kind).pipe(Effect.map((issued) => ({ ...issued, text: Redacted.value(issued.token) })))

describe("ApiToken", () => {
  describe("issue", () => {
    it.effect("gives team tokens crt_ and user tokens cru_, 40 characters of base62", () =>
      Effect.gen(function*() {
        const team = yield* issue("team")
        const user = yield* issue("user")
        assert.match(team.text, /^crt_[0-9A-Za-z]{36}$/)
        assert.match(user.text, /^cru_[0-9A-Za-z]{36}$/)
        assert.strictEqual(team.text.length, ApiToken.tokenLength)
        assert.strictEqual(ApiToken.tokenLength, 40)
        assert.strictEqual(team.kind, "team")
        assert.strictEqual(user.kind, "user")
        assert.deepStrictEqual(ApiToken.kindOf(team.token), Option.some("team"))
        assert.deepStrictEqual(ApiToken.kindOf(user.text), Option.some("user"))
        assert.isTrue(ApiToken.isWellFormed(team.token) && ApiToken.isWellFormed(user.token))
      }))

    it.effect("never repeats itself, and uses the whole alphabet", () =>
      Effect.gen(function*() {
        const tokens = yield* Effect.forEach(Array.from({ length: 500 }), () => issue("team"))
        assert.strictEqual(new Set(tokens.map((token) => token.text)).size, 500)
        const seen = new Set(tokens.flatMap((token) => [...token.text.slice(4, 4 + ApiToken.randomLength)]))
        assert.strictEqual(seen.size, 62)
      }))

    it.effect("draws every character equally often (no modulo bias towards 0-7)", () =>
      Effect.gen(function*() {
        const tokens = yield* Effect.forEach(Array.from({ length: 2_000 }), () => issue("user"))
        const counts = new Map<string, number>()
        for (const token of tokens) {
          for (const character of token.text.slice(4, 4 + ApiToken.randomLength)) {
            counts.set(character, (counts.get(character) ?? 0) + 1)
          }
        }
        const mean = (characters: string) =>
          [...characters].reduce((sum, character) => sum + (counts.get(character) ?? 0), 0) / characters.length
        // With `byte % 62` over every byte, 0-7 would come up 25% more often than the rest; chance
        // alone moves this ratio by about 1% here.
        const ratio = mean("01234567") / mean(alphabet.slice(8))
        assert.isBelow(Math.abs(ratio - 1), 0.08, `ratio ${ratio}`)
      }))

    it.effect("returns the token redacted, with its hash and display form", () =>
      Effect.gen(function*() {
        const issued = yield* issue("user")
        assert.notInclude(String(issued.token), issued.text)
        assert.notInclude(JSON.stringify(issued.token), issued.text)
        assert.strictEqual(issued.hash, ApiToken.hash(issued.text))
        assert.strictEqual(issued.display, ApiToken.display(issued.text))
      }))
  })

  describe("isWellFormed", () => {
    it("accepts the documented example", () => {
      assert.isTrue(ApiToken.isWellFormed(example))
      assert.deepStrictEqual(ApiToken.kindOf(example), Option.some("team"))
    })

    it("detects every change of one character, anywhere after the prefix", () => {
      for (let position = 4; position < example.length; position++) {
        for (const replacement of alphabet) {
          if (replacement === example[position]) continue
          const changed = example.slice(0, position) + replacement + example.slice(position + 1)
          assert.isFalse(ApiToken.isWellFormed(changed), `${changed} (position ${position}) passed`)
        }
      }
    })

    it("detects two neighbouring characters swapped", () => {
      for (let position = 4; position < example.length - 1; position++) {
        if (example[position] === example[position + 1]) continue
        const swapped = example.slice(0, position) + example[position + 1] + example[position] + example.slice(position + 2)
        assert.isFalse(ApiToken.isWellFormed(swapped), `swap at ${position} passed`)
      }
    })

    it("covers the prefix: a team token relabelled as a user token fails", () => {
      assert.isFalse(ApiToken.isWellFormed(`cru_${example.slice(4)}`))
    })

    it("checks the checksum as documented: CRC32 of the rest, base62, 6 digits", () => {
      // The standard CRC-32 (as in zip, PNG, Python's zlib.crc32), over the ASCII of prefix and random part.
      assert.strictEqual(crc32("123456789"), 0xcbf43926)
      let crc = crc32(example.slice(0, -6))
      let digits = ""
      for (let i = 0; i < 6; i++) {
        digits = alphabet[crc % 62] + digits
        crc = Math.floor(crc / 62)
      }
      assert.strictEqual(example.slice(-6), digits)
    })

    it("refuses anything that is not a token", () => {
      const refused = [
        "",
        "crt_",
        example.slice(0, -1),
        `${example}0`,
        ` ${example}`,
        `${example}\n`,
        `CRT_${example.slice(4)}`,
        `crx_${example.slice(4)}`,
        `ghp_${example.slice(4)}`,
        `crt-${example.slice(4)}`,
        example.slice(0, 20) + "-" + example.slice(21),
        example.slice(0, 20) + "é" + example.slice(21),
        "Bearer " + example
      ]
      for (const candidate of refused) {
        assert.isFalse(ApiToken.isWellFormed(candidate), JSON.stringify(candidate))
        assert.isTrue(Option.isNone(ApiToken.kindOf(candidate)))
      }
    })
  })

  describe("pattern", () => {
    it("finds tokens in text for secret scanners, and the checksum weeds out lookalikes", () => {
      const lookalike = `cru_${"a".repeat(36)}`
      const text = `deploy:\n  token: ${example}\n  other="${lookalike}"\nnot one: x${example}`
      const found = [...text.matchAll(new RegExp(ApiToken.pattern, "g"))].map((match) => match[0])
      assert.deepStrictEqual(found, [example, lookalike])
      assert.deepStrictEqual(found.filter((candidate) => ApiToken.isWellFormed(candidate)), [example])
      assert.strictEqual(ApiToken.pattern.source, String.raw`\bcr[tu]_[0-9A-Za-z]{36}\b`)
    })
  })

  describe("hash", () => {
    it.effect("is the SHA-256 of the token in hex, the same every time and for a redacted token", () =>
      Effect.gen(function*() {
        const expected = yield* sha256Hex(example)
        assert.strictEqual(ApiToken.hash(example), expected)
        assert.strictEqual(ApiToken.hash(example), ApiToken.hash(example))
        assert.strictEqual(ApiToken.hash(Redacted.make(example)), expected)
        assert.match(expected, /^[0-9a-f]{64}$/)
        // Beyond ASCII too (a token never is, but a candidate being checked may be).
        assert.strictEqual(ApiToken.hash("crt_é🔑"), yield* sha256Hex("crt_é🔑"))
      }))

    it.effect("differs between tokens and does not contain the token", () =>
      Effect.gen(function*() {
        const a = yield* issue("team")
        const b = yield* issue("team")
        assert.notStrictEqual(a.hash, b.hash)
        assert.notInclude(a.hash, a.text.slice(4, 12))
      }))
  })

  describe("display", () => {
    it("shows the prefix, the first 4 and the last 4 characters", () => {
      assert.strictEqual(ApiToken.display(example), "crt_thgw…FPaU")
    })

    it.effect("hides the rest: too little to use or to check", () =>
      Effect.gen(function*() {
        const issued = yield* issue("team")
        const hidden = issued.text.slice(8, -4)
        assert.notInclude(issued.display, hidden)
        assert.strictEqual(issued.display.replace("…", "").length, 12)
        assert.isFalse(ApiToken.isWellFormed(issued.display))
      }))
  })
})
