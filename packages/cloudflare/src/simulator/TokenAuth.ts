/**
 * Bearer-token authentication and per-token account access. Only API tokens are simulated
 * (`Authorization: Bearer <token>`); global API keys are refused as malformed headers. No
 * credentials → 400 (9106); a header that is not `Bearer <token>` → 400 (6003 with 6111 in the
 * error chain), as observed from the real API; an unknown token → 401 (10000), as the reference
 * recommends; a token without access to the account → 403 (10000, "Authentication error").
 */
import { Rejection } from "./ErrorCatalogue.ts"
import type { ApiToken, Platform } from "./Platform.ts"

type Headers = Readonly<Record<string, string | ReadonlyArray<string> | undefined>>

const single = (value: string | ReadonlyArray<string> | undefined) =>
  typeof value === "string" ? value : value?.[0]

/** The token the caller presented, for counting calls even when it is refused. */
export const presented = (headers: Headers): string => {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(single(headers.authorization) ?? "")
  return match?.[1] ?? ""
}

/** The caller's token, or a Rejection. `unknown` picks the error for a token nobody issued. */
export const authenticate = (
  headers: Headers,
  platform: Platform,
  unknown: "unknownToken" | "invalidApiToken" = "unknownToken"
): ApiToken => {
  const authorization = single(headers.authorization)
  if (authorization === undefined) {
    if (single(headers["x-auth-key"]) !== undefined || single(headers["x-auth-email"]) !== undefined) {
      throw new Rejection("unsupportedCredentials")
    }
    throw new Rejection("missingCredentials")
  }
  const match = /^Bearer ([A-Za-z0-9_-]+)$/.exec(authorization.trim())
  if (match === null) throw new Rejection("invalidAuthorizationHeader")
  const token = platform.tokenByValue(match[1]!)
  if (token === undefined) throw new Rejection(unknown)
  return token
}

export const requireAccountAccess = (token: ApiToken, accountId: string): void => {
  if (!token.accountIds.has(accountId)) throw new Rejection("accountAccessDenied")
}
