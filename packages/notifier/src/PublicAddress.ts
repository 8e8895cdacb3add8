/**
 * Channel URLs are typed in by people: a webhook pointed at `http://169.254.169.254/…` or at a
 * service inside the network would make CanaryRoll a way in (server-side request forgery). Before
 * each HTTP attempt the URL's host is resolved and every address must be public; redirects are
 * not followed (see `ChannelSender`). Email is not checked: an internal SMTP relay is a normal
 * setup.
 *
 * A lookup that fails is not a refusal: resolvers fail for a while (EAI_AGAIN, timeouts), so the
 * attempt is temporary and tried again, like a connection that failed.
 *
 * What remains: a name that resolves to a public address here and to a private one a moment later
 * (DNS rebinding) is not caught; pinning the resolved address would need a custom HTTP agent.
 *
 * @since 0.1.0
 */
import { Effect } from "effect"
import { lookup } from "node:dns/promises"
import { BlockList, isIP } from "node:net"

const notPublic = new BlockList()
for (const [address, prefix] of [
  ["0.0.0.0", 8], // "this network"
  ["10.0.0.0", 8],
  ["100.64.0.0", 10], // carrier-grade NAT
  ["127.0.0.0", 8],
  ["169.254.0.0", 16], // link-local, cloud metadata
  ["172.16.0.0", 12],
  ["192.0.0.0", 24],
  ["192.168.0.0", 16],
  ["198.18.0.0", 15], // benchmarking
  ["224.0.0.0", 4], // multicast
  ["240.0.0.0", 4] // reserved, broadcast
] as const) notPublic.addSubnet(address, prefix, "ipv4")
for (const [address, prefix] of [
  ["::", 128],
  ["::1", 128],
  ["fc00::", 7], // unique local
  ["fe80::", 10], // link-local
  ["ff00::", 8] // multicast
] as const) notPublic.addSubnet(address, prefix, "ipv6")

/** Whether an IP address is one CanaryRoll may send to. */
export const isPublic = (address: string): boolean => {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)
  if (mapped !== null) return isPublic(mapped[1]!)
  const family = isIP(address)
  if (family === 0) return false
  return !notPublic.check(address, family === 4 ? "ipv4" : "ipv6")
}

/**
 * What the check found: `Public` (send); `Private` (the host is, or resolves to, an address
 * CanaryRoll does not send to, or the URL is unusable: the same answer every time, so the delivery
 * fails); `Unresolved` (the lookup failed, as resolvers do for a while: EAI_AGAIN, a timeout,
 * SERVFAIL; tried again later, like a connection that failed).
 */
export type Verdict =
  | { readonly _tag: "Public" }
  | { readonly _tag: "Private"; readonly reason: string }
  | { readonly _tag: "Unresolved"; readonly reason: string }

/** A host's addresses; rejects when the lookup fails. */
export type Lookup = (host: string) => Promise<ReadonlyArray<string>>

const systemLookup: Lookup = (host) => lookup(host, { all: true }).then((found) => found.map((entry) => entry.address))

const lookupError = (error: unknown): string =>
  typeof error === "object" && error !== null && "code" in error && typeof error.code === "string"
    ? error.code
    : error instanceof Error
    ? error.message
    : String(error)

/** Whether `url` may be sent to; `lookup` is the system resolver unless a test gives another. */
export const check = (url: string, options: { readonly lookup?: Lookup | undefined } = {}): Effect.Effect<Verdict> =>
  Effect.promise(async (): Promise<Verdict> => {
    let host: string
    try {
      host = new URL(url).hostname.replace(/^\[|\]$/g, "")
    } catch {
      return { _tag: "Private", reason: "the URL is not valid" }
    }
    const resolved = isIP(host) !== 0
      ? { addresses: [host] as ReadonlyArray<string> }
      : await (options.lookup ?? systemLookup)(host).then(
        (addresses) => ({ addresses }),
        (error: unknown) => ({ error: lookupError(error) })
      )
    if ("error" in resolved) return { _tag: "Unresolved", reason: `${host} could not be resolved: ${resolved.error}` }
    if (resolved.addresses.length === 0) return { _tag: "Unresolved", reason: `${host} resolved to no address` }
    const blocked = resolved.addresses.find((address) => !isPublic(address))
    return blocked === undefined
      ? { _tag: "Public" }
      : {
        _tag: "Private",
        reason: `${host} resolves to ${blocked}, a private or reserved address; CanaryRoll sends only to public addresses`
      }
  })
