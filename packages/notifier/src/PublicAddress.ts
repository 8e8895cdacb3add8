/**
 * Channel URLs are typed in by people: a webhook pointed at `http://169.254.169.254/…` or at a
 * service inside the network would make CanaryRoll a way in (server-side request forgery). Before
 * each HTTP attempt the URL's host is resolved and every address must be public; redirects are
 * not followed (see `ChannelSender`). Email is not checked: an internal SMTP relay is a normal
 * setup.
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

/** Why `url` may not be sent to (its host is, or resolves to, a private address); `undefined` if it may. */
export const refusal = (url: string): Effect.Effect<string | undefined> =>
  Effect.promise(async () => {
    let host: string
    try {
      host = new URL(url).hostname.replace(/^\[|\]$/g, "")
    } catch {
      return "the URL is not valid"
    }
    const addresses = isIP(host) !== 0
      ? [host]
      : await lookup(host, { all: true }).then((found) => found.map((entry) => entry.address), () => [])
    if (addresses.length === 0) return `${host} does not resolve`
    const blocked = addresses.find((address) => !isPublic(address))
    return blocked === undefined
      ? undefined
      : `${host} resolves to ${blocked}, a private or reserved address; CanaryRoll sends only to public addresses`
  })
