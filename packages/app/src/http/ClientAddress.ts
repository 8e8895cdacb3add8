/**
 * ClientAddress: who is on the other end of a request, for the log-in throttle. It is the
 * socket's peer address, unless that peer is one of the operator's proxies
 * (`CANARYROLL_TRUSTED_PROXIES`): then `X-Forwarded-For` is read from the right, skipping the
 * trusted proxies, and the first address that is not one of them is the client. A header from
 * anyone else is ignored, or any client could name a fresh address for each guess. This is the
 * rule of Effect's `HttpMiddleware.xForwardedHeaders`, applied here only where it is needed,
 * without changing the request (its host and scheme) for the rest of the server.
 *
 * @since 0.1.0
 */
import { Option, Result } from "effect"
import type { HttpServerRequest } from "effect/http"
import { IpNetwork, NetAddress } from "effect/net"

/** The operator's proxies, as addresses and networks. */
export type TrustedProxies = ReadonlyArray<IpNetwork.IpNetwork>

/** A request that came through no socket we know (a Unix socket, a test without one). */
export const unknown = "unknown"

const parse = (input: string | undefined): NetAddress.IpAddress | undefined => {
  if (input === undefined) return undefined
  const trimmed = input.trim()
  const bare = trimmed.startsWith("[") && trimmed.endsWith("]") ? trimmed.slice(1, -1) : trimmed
  const ip = NetAddress.ipFromString(bare)
  if (Result.isSuccess(ip)) return NetAddress.toCanonical(ip.success)
  const inet = NetAddress.inetAddressFromString(trimmed)
  return Result.isSuccess(inet) ? NetAddress.toCanonical(inet.success.address) : undefined
}

/**
 * Reads `CANARYROLL_TRUSTED_PROXIES`: addresses or CIDR networks, separated by commas or spaces
 * (`10.0.0.0/8, 192.0.2.7`). Fails with a sentence naming the entry it cannot read.
 */
export const parseTrustedProxies = (text: string): Result.Result<TrustedProxies, string> => {
  const networks: Array<IpNetwork.IpNetwork> = []
  for (const entry of text.split(/[\s,]+/).filter((entry) => entry !== "")) {
    const network = entry.includes("/")
      ? Result.getSuccess(IpNetwork.fromString(entry))
      : Option.flatMap(Option.fromUndefinedOr(parse(entry)), (address) =>
        Result.getSuccess(IpNetwork.fromAddress(address, NetAddress.isIpv4Address(address) ? 32 : 128)))
    if (Option.isNone(network)) {
      return Result.fail(
        `CANARYROLL_TRUSTED_PROXIES: ${JSON.stringify(entry)} is not an IP address or a CIDR network such as 10.0.0.0/8`
      )
    }
    networks.push(network.value)
  }
  return Result.succeed(networks)
}

/** The client's address (canonical text), or `unknown`. */
export const of = (request: HttpServerRequest.HttpServerRequest, trustedProxies: TrustedProxies): string => {
  const isTrusted = (address: NetAddress.IpAddress) => trustedProxies.some((network) => IpNetwork.contains(network, address))
  // `peerAddress` is the socket's peer even if a middleware has already rewritten `remoteAddress`.
  const peer = parse(Option.getOrUndefined(Option.orElse(request.peerAddress, () => request.remoteAddress)))
  if (peer === undefined) return unknown
  const direct = NetAddress.formatIp(peer)
  if (!isTrusted(peer)) return direct
  const forwarded = request.headers["x-forwarded-for"]?.split(",")
  if (forwarded === undefined) return direct
  for (let index = forwarded.length - 1; index >= 0; index--) {
    const address = parse(forwarded[index])
    // Something that is not an address (`unknown`, garbage): the chain cannot be trusted past it.
    if (address === undefined) return direct
    if (index > 0 && isTrusted(address)) continue
    return NetAddress.formatIp(address)
  }
  return direct
}
