/**
 * Where CanaryRoll may connect. Channel destinations are typed in by people: a webhook pointed at
 * `http://169.254.169.254/…`, or an SMTP host at a service inside the network, would make
 * CanaryRoll a way in (server-side request forgery). So every attempt, HTTP or SMTP, first
 * resolves its host once (`resolve`), refuses it when any address is not public (`classify`), and
 * then connects to exactly the addresses it checked: the sender never asks DNS again, so a name
 * that answers a public address to the check and a private one to the connection (DNS
 * rebinding) gets nowhere. Redirects are not followed (see `ChannelSender`).
 *
 * Not public: loopback, private (RFC 1918, unique local), carrier-grade NAT, link-local (cloud
 * metadata), "this network", benchmarking, multicast, reserved and IETF ranges, and IPv6 outside
 * global unicast. Addresses are read in every notation a resolver or a URL parser accepts:
 * `2130706433`, `0177.0.0.1`, `0x7f.1` and `127.1` are 127.0.0.1; an IPv6 address that carries an
 * IPv4 one is judged by the IPv4 one it carries (IPv4-mapped `::ffff:127.0.0.1` or `::ffff:7f00:1`,
 * IPv4-translated, NAT64 `64:ff9b::/96`, 6to4 `2002::/16`, both addresses of Teredo `2001::/32`);
 * IPv4-compatible `::a.b.c.d` (deprecated), local-use NAT64 `64:ff9b:1::/48` and a zone id are
 * refused outright. Documentation ranges (TEST-NET, `2001:db8::/32`) are not refused: no network
 * has them inside, and nothing answers there.
 *
 * A lookup that fails is not a refusal: resolvers fail for a while (EAI_AGAIN, timeouts), so the
 * attempt is temporary and tried again, like a connection that failed.
 *
 * @since 0.1.0
 */
import { Effect } from "effect"
import { lookup } from "node:dns/promises"
import { isIP } from "node:net"

/** IPv4 ranges that are not public, with what each is, in words a reason can use. */
const ipv4Ranges: ReadonlyArray<readonly [string, number, string]> = [
  ["0.0.0.0", 8, "a \"this network\" address"],
  ["10.0.0.0", 8, "a private address"],
  ["100.64.0.0", 10, "a carrier-grade NAT address"],
  ["127.0.0.0", 8, "a loopback address"],
  ["169.254.0.0", 16, "a link-local address (cloud metadata)"],
  ["172.16.0.0", 12, "a private address"],
  ["192.0.0.0", 24, "an IETF protocol address"],
  ["192.88.99.0", 24, "a 6to4 relay address"],
  ["192.168.0.0", 16, "a private address"],
  ["198.18.0.0", 15, "a benchmarking address"],
  ["224.0.0.0", 4, "a multicast address"],
  ["240.0.0.0", 4, "a reserved address"]
]

const ipv4Number = (dotted: string): number =>
  dotted.split(".").reduce((value, part) => value * 256 + Number(part), 0)

const ipv4Blocked = ipv4Ranges.map(([base, prefix, kind]) => {
  const size = 2 ** (32 - prefix)
  const start = Math.floor(ipv4Number(base) / size) * size
  return { start, end: start + size - 1, kind }
})

const classifyIpv4 = (dotted: string): string | null => {
  const value = ipv4Number(dotted)
  return ipv4Blocked.find((range) => value >= range.start && value <= range.end)?.kind ?? null
}

/**
 * A host as a URL parser reads it: IPv4 in any notation as dotted decimal, IPv6 compressed and
 * without brackets, a name in lower case (IDN as punycode). `undefined`: not a host.
 */
export const canonicalHost = (host: string): string | undefined => {
  const trimmed = host.trim()
  if (trimmed === "" || /[\s/\\@?#%]/.test(trimmed)) return undefined
  try {
    if (trimmed.includes(":")) {
      const bare = trimmed.replace(/^\[(.*)\]$/, "$1")
      return new URL(`http://[${bare}]/`).hostname.slice(1, -1)
    }
    return new URL(`http://${trimmed}/`).hostname
  } catch {
    return undefined
  }
}

/** The eight 16-bit groups of a canonical IPv6 address (what `canonicalHost` gives). */
const hextets = (address: string): ReadonlyArray<number> => {
  const [head = "", tail] = address.split("::")
  const groups = (part: string) => part === "" ? [] : part.split(":").map((group) => parseInt(group, 16))
  const left = groups(head)
  const right = tail === undefined ? [] : groups(tail)
  return [...left, ...Array<number>(8 - left.length - right.length).fill(0), ...right]
}

const dottedOf = (high: number, low: number) => `${high >> 8}.${high & 0xff}.${low >> 8}.${low & 0xff}`

/** An IPv6 address carrying an IPv4 one is what the IPv4 one is. */
const carried = (dotted: string, what: string): string | null => {
  const kind = classifyIpv4(dotted)
  return kind === null ? null : `${what} address carrying ${dotted}, ${kind}`
}

const classifyIpv6 = (address: string): string | null => {
  const h = hextets(address)
  const zeros = (from: number, to: number) => h.slice(from, to).every((group) => group === 0)
  if (zeros(0, 8)) return "the unspecified address"
  if (zeros(0, 7) && h[7] === 1) return "a loopback address"
  if (zeros(0, 5) && h[5] === 0xffff) return carried(dottedOf(h[6]!, h[7]!), "an IPv4-mapped")
  if (zeros(0, 4) && h[4] === 0xffff && h[5] === 0) return carried(dottedOf(h[6]!, h[7]!), "an IPv4-translated")
  if (zeros(0, 6)) return "an IPv4-compatible address (deprecated)"
  if (h[0] === 0x64 && h[1] === 0xff9b && zeros(2, 6)) return carried(dottedOf(h[6]!, h[7]!), "a NAT64")
  if (h[0] === 0x64 && h[1] === 0xff9b && h[2] === 1) return "a local-use NAT64 address"
  if (h[0] === 0x2002) return carried(dottedOf(h[1]!, h[2]!), "a 6to4")
  if (h[0] === 0x2001 && h[1] === 0) {
    return carried(dottedOf(h[2]!, h[3]!), "a Teredo") ??
      carried(dottedOf(h[6]! ^ 0xffff, h[7]! ^ 0xffff), "a Teredo")
  }
  if (h[0] === 0x100 && zeros(1, 4)) return "a discard-only address"
  if ((h[0]! & 0xfe00) === 0xfc00) return "a unique local (private) address"
  if ((h[0]! & 0xffc0) === 0xfe80) return "a link-local address"
  if ((h[0]! & 0xffc0) === 0xfec0) return "a site-local address (deprecated)"
  if ((h[0]! & 0xff00) === 0xff00) return "a multicast address"
  if ((h[0]! & 0xe000) !== 0x2000) return "a reserved address (outside global unicast)"
  return null
}

/**
 * What `address` is when CanaryRoll may not send to it ("a loopback address", "an IPv6 address
 * carrying a private address 10.0.0.1 (NAT64)" …); `null` when it is public. Any notation;
 * something that is not an IP address is "not an IP address".
 */
export const classify = (address: string): string | null => {
  if (address.includes("%")) return "an address with a zone id"
  const canonical = canonicalHost(address)
  if (canonical === undefined) return "not an IP address"
  switch (isIP(canonical)) {
    case 4:
      return classifyIpv4(canonical)
    case 6:
      return classifyIpv6(canonical)
    default:
      return "not an IP address"
  }
}

/** Whether an IP address (any notation) is one CanaryRoll may send to. */
export const isPublic = (address: string): boolean => classify(address) === null

/**
 * What resolving a host came to: `Allowed` (connect to these addresses, and to no other: they are
 * what was checked); `Refused` (the host is, or resolves to, an address CanaryRoll does not send
 * to, or is not a host: the same answer every time, so the delivery fails); `Unresolved` (the
 * lookup failed, as resolvers do for a while: EAI_AGAIN, a timeout, SERVFAIL; tried again later,
 * like a connection that failed).
 */
export type Verdict =
  | { readonly _tag: "Allowed"; readonly addresses: readonly [string, ...Array<string>] }
  | { readonly _tag: "Refused"; readonly reason: string }
  | { readonly _tag: "Unresolved"; readonly reason: string }

/** A host's addresses; rejects when the lookup fails. */
export type Lookup = (host: string) => Promise<ReadonlyArray<string>>

export const systemLookup: Lookup = (host) =>
  lookup(host, { all: true }).then((found) => found.map((entry) => entry.address))

const lookupError = (error: unknown): string =>
  typeof error === "object" && error !== null && "code" in error && typeof error.code === "string"
    ? error.code
    : error instanceof Error
    ? error.message
    : String(error)

export interface ResolveOptions {
  /** How names resolve. Default: the system resolver (`dns.lookup`); tests give another. */
  readonly lookup?: Lookup | undefined
  /** Allow private addresses (tests, a local sandbox): resolved all the same, not refused. */
  readonly allowPrivate?: boolean | undefined
}

const publicOnly = "CanaryRoll sends only to public addresses"

/**
 * Resolves `host` (a name, or an address in any notation) once, and checks every address it
 * resolves to. Connect to the `Allowed` addresses only.
 */
export const resolve = (host: string, options: ResolveOptions = {}): Effect.Effect<Verdict> =>
  Effect.promise(async (): Promise<Verdict> => {
    const canonical = canonicalHost(host)
    if (canonical === undefined) {
      return { _tag: "Refused", reason: `${JSON.stringify(host)} is not a host name or address` }
    }
    const literal = isIP(canonical) !== 0
    const found = literal
      ? { addresses: [canonical] as ReadonlyArray<string> }
      // A resolver that throws instead of rejecting fails the lookup all the same.
      : await Promise.resolve(canonical).then(options.lookup ?? systemLookup).then(
        (addresses) => ({ addresses }),
        (error: unknown) => ({ error: lookupError(error) })
      )
    if ("error" in found) return { _tag: "Unresolved", reason: `${host} could not be resolved: ${found.error}` }
    const addresses: Array<string> = []
    for (const address of found.addresses) {
      const normal = address.includes("%") ? undefined : canonicalHost(address)
      if (normal === undefined || isIP(normal) === 0) {
        return { _tag: "Refused", reason: `${host} resolves to ${JSON.stringify(address)}, which is not an IP address` }
      }
      addresses.push(normal)
    }
    const [first, ...rest] = addresses
    if (first === undefined) return { _tag: "Unresolved", reason: `${host} resolved to no address` }
    if (options.allowPrivate !== true) {
      for (const address of addresses) {
        const kind = classify(address)
        if (kind === null) continue
        const subject = !literal ? `${host} resolves to ${address}, ` : host === address ? `${host} is ` : `${host} is ${address}, `
        return { _tag: "Refused", reason: `${subject}${kind}; ${publicOnly}` }
      }
    }
    return { _tag: "Allowed", addresses: [first, ...rest] }
  })

/** `resolve` for a URL's host; a URL that does not parse is refused. */
export const check = (url: string, options: ResolveOptions = {}): Effect.Effect<Verdict> => {
  let host: string
  try {
    host = new URL(url).hostname.replace(/^\[(.*)\]$/, "$1")
  } catch {
    return Effect.succeed({ _tag: "Refused", reason: "the URL is not valid" })
  }
  return resolve(host, options)
}
