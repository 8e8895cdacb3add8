/**
 * Which addresses CanaryRoll may connect to, in every notation an address can be written in: a
 * resolver's answer, a URL's host or an SMTP host typed by a person. Every way of writing
 * loopback, a private network or cloud metadata is refused, IPv6 forms that carry an IPv4
 * address are judged by the address they carry, and public addresses stay public whatever the
 * notation.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import * as PublicAddress from "../src/PublicAddress.ts"

/** Each notation, and what it is: every one of them must be refused. */
const notPublic: ReadonlyArray<readonly [string, RegExp]> = [
  // IPv4, dotted
  ["127.0.0.1", /loopback/],
  ["127.255.255.254", /loopback/],
  ["10.1.2.3", /private/],
  ["172.16.0.1", /private/],
  ["172.31.255.255", /private/],
  ["192.168.1.1", /private/],
  ["169.254.169.254", /link-local address \(cloud metadata\)/],
  ["100.64.0.1", /carrier-grade NAT/],
  ["0.0.0.0", /this network/],
  ["192.0.0.170", /IETF/],
  ["198.18.0.1", /benchmarking/],
  ["224.0.0.1", /multicast/],
  ["255.255.255.255", /reserved/],
  // IPv4, other notations (what inet_aton and URL parsers accept)
  ["2130706433", /loopback/],
  ["0177.0.0.1", /loopback/],
  ["0x7f.1", /loopback/],
  ["0x7f000001", /loopback/],
  ["127.1", /loopback/],
  ["0177.1", /loopback/],
  ["017700000001", /loopback/],
  ["0xa9.0xfe.0xa9.0xfe", /link-local/],
  ["2852039166", /link-local/], // 169.254.169.254
  ["0xA.0", /private/], // 10.0.0.0
  ["3232235777", /private/], // 192.168.1.1
  // IPv6
  ["::1", /loopback/],
  ["0:0:0:0:0:0:0:1", /loopback/],
  ["[::1]", /loopback/],
  ["::", /unspecified/],
  ["fd00::1", /unique local/],
  ["fc00::1", /unique local/],
  ["fd00:ec2::254", /unique local/], // AWS metadata over IPv6
  ["fe80::1", /link-local/],
  ["fec0::1", /site-local/],
  ["ff02::1", /multicast/],
  ["100::1", /discard/],
  ["1::1", /reserved/],
  ["fe80::1%eth0", /zone id/],
  // IPv4-mapped, dotted or hex, compressed or not
  ["::ffff:127.0.0.1", /IPv4-mapped address carrying 127\.0\.0\.1, a loopback address/],
  ["::ffff:7f00:1", /IPv4-mapped address carrying 127\.0\.0\.1/],
  ["::FFFF:7F00:0001", /IPv4-mapped address carrying 127\.0\.0\.1/],
  ["0:0:0:0:0:ffff:7f00:1", /IPv4-mapped address carrying 127\.0\.0\.1/],
  ["[::ffff:169.254.169.254]", /IPv4-mapped address carrying 169\.254\.169\.254, a link-local/],
  ["::ffff:a9fe:a9fe", /carrying 169\.254\.169\.254/],
  ["::ffff:10.0.0.1", /carrying 10\.0\.0\.1, a private/],
  // IPv4-translated, IPv4-compatible
  ["::ffff:0:127.0.0.1", /IPv4-translated address carrying 127\.0\.0\.1/],
  ["::127.0.0.1", /IPv4-compatible/],
  ["::7f00:1", /IPv4-compatible/],
  ["::8.8.8.8", /IPv4-compatible/],
  // NAT64
  ["64:ff9b::127.0.0.1", /NAT64 address carrying 127\.0\.0\.1/],
  ["64:ff9b::7f00:1", /NAT64 address carrying 127\.0\.0\.1/],
  ["64:ff9b::a9fe:a9fe", /NAT64 address carrying 169\.254\.169\.254/],
  ["64:ff9b::c0a8:101", /NAT64 address carrying 192\.168\.1\.1/],
  ["64:ff9b:1::8.8.8.8", /local-use NAT64/],
  // 6to4
  ["2002:7f00:1::", /6to4 address carrying 127\.0\.0\.1/],
  ["2002:7f00:0001::1", /6to4 address carrying 127\.0\.0\.1/],
  ["2002:a9fe:a9fe::1", /6to4 address carrying 169\.254\.169\.254/],
  ["2002:c0a8:101::", /6to4 address carrying 192\.168\.1\.1/],
  // Teredo: the server's address, and the client's (stored inverted)
  ["2001:0:7f00:1::", /Teredo address carrying 127\.0\.0\.1/],
  ["2001:0:808:808::80ff:fffe", /Teredo address carrying 127\.0\.0\.1/],
  // not addresses at all
  ["not an address", /not an IP address/],
  ["", /not an IP address/],
  ["08.0.0.1", /not an IP address/],
  ["1.2.3.4.5", /not an IP address/]
]

const publicOnes = [
  "8.8.8.8",
  "1.1.1.1",
  "104.16.0.1",
  "134744072", // 8.8.8.8
  "0x8.0x8.0x8.0x8",
  "2606:4700:4700::1111",
  "[2606:4700:4700::1111]",
  "::ffff:8.8.8.8",
  "::ffff:808:808",
  "64:ff9b::808:808",
  "2002:808:808::1",
  "2001:0:808:808::f7f7:f7f7", // Teredo: server 8.8.8.8, client 8.8.8.8
  "172.32.0.1",
  "192.169.0.1",
  "100.128.0.1"
]

describe("public addresses", () => {
  it("refuses every notation of loopback, private, link-local, metadata and reserved addresses", () => {
    for (const [address, kind] of notPublic) {
      assert.isFalse(PublicAddress.isPublic(address), address)
      assert.match(PublicAddress.classify(address) ?? "public", kind, address)
    }
  })

  it("keeps public addresses public, in any notation", () => {
    for (const address of publicOnes) {
      assert.isTrue(PublicAddress.isPublic(address), `${address}: ${PublicAddress.classify(address)}`)
    }
  })

  it("reads a host as a URL parser does", () => {
    assert.strictEqual(PublicAddress.canonicalHost("2130706433"), "127.0.0.1")
    assert.strictEqual(PublicAddress.canonicalHost("0x7f.1"), "127.0.0.1")
    assert.strictEqual(PublicAddress.canonicalHost("[::FFFF:127.0.0.1]"), "::ffff:7f00:1")
    assert.strictEqual(PublicAddress.canonicalHost("Mail.Example.COM"), "mail.example.com")
    assert.strictEqual(PublicAddress.canonicalHost("bücher.example"), "xn--bcher-kva.example")
    for (const bad of ["", " ", "a b", "user@host", "host/path", "host?x", "host#x", "fe80::1%eth0", "[::1"]) {
      assert.isUndefined(PublicAddress.canonicalHost(bad), bad)
    }
  })

  it.effect("resolves once and refuses a host with any private address, in words a person reads", () =>
    Effect.gen(function*() {
      let lookups = 0
      const answering = (addresses: ReadonlyArray<string>): PublicAddress.Lookup => () => {
        lookups++
        return Promise.resolve(addresses)
      }
      assert.deepStrictEqual(yield* PublicAddress.resolve("hooks.example.com", { lookup: answering(["93.184.215.14"]) }), {
        _tag: "Allowed",
        addresses: ["93.184.215.14"]
      })
      assert.deepStrictEqual(yield* PublicAddress.resolve("hooks.example.com", { lookup: answering(["93.184.215.14", "::ffff:7f00:1"]) }), {
        _tag: "Refused",
        reason: "hooks.example.com resolves to ::ffff:7f00:1, an IPv4-mapped address carrying 127.0.0.1, a loopback address; " +
          "CanaryRoll sends only to public addresses"
      })
      // A resolver's answer in an odd notation is read as what it is.
      assert.strictEqual((yield* PublicAddress.resolve("hooks.example.com", { lookup: answering(["2130706433"]) }))._tag, "Refused")
      assert.strictEqual((yield* PublicAddress.resolve("hooks.example.com", { lookup: answering(["not-an-ip"]) }))._tag, "Refused")
      assert.strictEqual(lookups, 4)

      // Literals are not looked up.
      const never: PublicAddress.Lookup = () => Promise.reject(new Error("looked up"))
      assert.deepStrictEqual(yield* PublicAddress.resolve("127.0.0.1", { lookup: never }), {
        _tag: "Refused",
        reason: "127.0.0.1 is a loopback address; CanaryRoll sends only to public addresses"
      })
      assert.deepStrictEqual(yield* PublicAddress.resolve("2130706433", { lookup: never }), {
        _tag: "Refused",
        reason: "2130706433 is 127.0.0.1, a loopback address; CanaryRoll sends only to public addresses"
      })
      assert.deepStrictEqual(yield* PublicAddress.check("http://0x7f.1:8080/hook", { lookup: never }), {
        _tag: "Refused",
        reason: "127.0.0.1 is a loopback address; CanaryRoll sends only to public addresses"
      })
      assert.deepStrictEqual(yield* PublicAddress.check("http://[::ffff:127.0.0.1]/hook", { lookup: never }), {
        _tag: "Refused",
        reason: "::ffff:7f00:1 is an IPv4-mapped address carrying 127.0.0.1, a loopback address; CanaryRoll sends only to public addresses"
      })
      assert.strictEqual((yield* PublicAddress.resolve("user@host", { lookup: never }))._tag, "Refused")

      // Allowed private addresses are resolved all the same: the sender connects to what was resolved.
      assert.deepStrictEqual(yield* PublicAddress.resolve("mail.internal", { lookup: answering(["10.0.0.25"]), allowPrivate: true }), {
        _tag: "Allowed",
        addresses: ["10.0.0.25"]
      })
      assert.deepStrictEqual(yield* PublicAddress.resolve("0x7f.1", { allowPrivate: true }), { _tag: "Allowed", addresses: ["127.0.0.1"] })
    }))
})
